"""The TraceQL subset the sandbox answers, as strict as Tempo: spansets joined by a spanset operator.

    { resource.service.name = "x" && name = "op" && .http.response.status_code = 200 && trace:duration >= 2s }
      && { status = error }

Supported: spanset filters ``{ c && c … }`` whose conditions are attributes (``resource.``, ``span.``, ``.``
unscoped, quoted names), intrinsics ``name``, ``status``, ``kind``, ``duration`` (span), ``trace:duration``/
``traceDuration``, ``trace:rootService``/``rootServiceName``, ``trace:rootName``/``rootName``, with ``= != > >=
< <= =~ !~`` (regexes fully anchored); spansets joined by ``&&`` (both match in the trace: their spans together)
or ``||`` (either), one kind per query. Anything else is a 400 ``invalid TraceQL query: parse error at line 1,
col N: …``, as Tempo answers.

Comparisons are typed as Tempo types them: strings only with strings, booleans with booleans, numbers and
durations with each other, ``status``/``kind`` with their keywords (Tempo also compares status with integers, in
its own numbering: the sandbox refuses that); a mismatch never matches, whatever the
operator (``.http.status_code = "200"`` finds nothing when the attribute is an integer). A missing attribute
matches no comparison (``!=`` included) except ``= nil``; ``!= nil`` means the attribute exists.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tracectl.model import AttrValue, Span, SpanKind, StatusCode, Trace
from tracectl.quoting import go_unquote, go_value_text
from tracectl.units import parse_duration

_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>&&|\|\||=~|!~|!=|>=|<=|=|>|<|\{|\}|\(|\))|(?P<word>[A-Za-z0-9_.:\-]+))"""
)
TRACE_INTRINSICS = {
    "trace:duration": "duration",
    "traceDuration": "duration",
    "trace:rootService": "root_service",
    "rootServiceName": "root_service",
    "trace:rootName": "root_name",
    "rootName": "root_name",
}
SPAN_INTRINSICS = {"name", "status", "kind", "duration", "span:duration", "span:name", "span:status", "span:kind"}
COMPARISONS = ("=", "!=", ">", ">=", "<", "<=", "=~", "!~")
NUMERIC = frozenset({"int", "float", "duration"})
_STATUSES = {"error": StatusCode.ERROR, "ok": StatusCode.OK, "unset": StatusCode.UNSET}
_KINDS = {k.label: k for k in SpanKind}


class TraceQLError(ValueError):
    """A query outside the subset; the message is Tempo's 400 text."""


@dataclass(frozen=True, slots=True)
class Typed:
    """A value with its TraceQL type: string, int, float, duration, bool, status, kind, nil, regex, or text
    (a tags-search value, compared with the attribute's text)."""

    kind: str
    value: Any


@dataclass(frozen=True, slots=True)
class Condition:
    target: str  # "trace:duration", "span:name", "attr:resource:service.name", …
    op: str
    value: Typed


@dataclass(frozen=True, slots=True)
class Spanset:
    trace_conds: tuple[Condition, ...]
    span_conds: tuple[Condition, ...]

    def matches(self, trace: Trace, summary: Any) -> list[Span]:
        """The spans that satisfy every condition (none when a trace condition fails)."""
        for c in self.trace_conds:
            field = TRACE_INTRINSICS[c.target]
            actual = Typed("duration" if field == "duration" else "string", getattr(summary, field))
            if not _compare(actual, c.op, c.value):
                return []
        return [s for s in trace.spans if all(_span_ok(s, c) for c in self.span_conds)]


@dataclass(frozen=True, slots=True)
class Query:
    spansets: tuple[Spanset, ...]
    operator: str = "&&"  # between spansets: "&&" (all match in the trace) or "||" (any)

    def matches(self, trace: Trace, summary: Any) -> list[Span] | None:
        """The matched spans (of every spanset, each once), or None when the trace does not match."""
        found = [ss.matches(trace, summary) for ss in self.spansets]
        if (self.operator == "&&" and not all(found)) or not any(found):
            return None
        return list({s.span_id: s for spans in found for s in spans}.values())

    def conditions_met(self, span: Span) -> list[Condition]:
        """The span conditions of every spanset this span satisfies (what Tempo shows of a matched span)."""
        return [c for ss in self.spansets if all(_span_ok(span, x) for x in ss.span_conds) for c in ss.span_conds]


def _fail(col: int, token: str) -> TraceQLError:
    return TraceQLError(f"invalid TraceQL query: parse error at line 1, col {col}: syntax error: unexpected {token}")


class _Tokens:
    def __init__(self, text: str) -> None:
        self.items: list[tuple[str, str, int]] = []
        pos = 0
        while text[pos:].strip():
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise _fail(pos + 1 + len(text[pos:]) - len(text[pos:].lstrip()), text[pos:].strip()[:1])
            kind = m.lastgroup or "word"
            self.items.append((kind, m.group(kind), m.start(kind) + 1))
            pos = m.end()
        self.i = 0
        self.end_col = len(text) + 1

    def peek(self) -> tuple[str, str, int] | None:
        return self.items[self.i] if self.i < len(self.items) else None

    def take(self) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            raise _fail(self.end_col, "$end")
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok[1] != text or tok[0] != "op":
            raise _unexpected(tok)


def _unexpected(tok: tuple[str, str, int]) -> TraceQLError:
    kind, text, col = tok
    return _fail(col, {"word": "IDENTIFIER", "str": "STRING"}.get(kind, text))


def parse(text: str) -> Query:
    toks = _Tokens(text)
    spansets = [_spanset(toks)]
    operator = ""
    while (tok := toks.peek()) is not None:
        if tok[1] not in ("&&", "||") or (operator and tok[1] != operator):
            raise _unexpected(tok)  # pipelines, structural operators and mixed && / || are outside the subset
        operator = toks.take()[1]
        spansets.append(_spanset(toks))
    return Query(tuple(spansets), operator or "&&")


def _spanset(toks: _Tokens) -> Spanset:
    toks.expect("{")
    trace_conds: list[Condition] = []
    span_conds: list[Condition] = []
    if (tok := toks.peek()) is not None and tok[1] == "}":
        toks.take()
        return Spanset((), ())
    while True:
        cond = _condition(toks)
        (trace_conds if cond.target in TRACE_INTRINSICS else span_conds).append(cond)
        tok = toks.take()
        if tok[1] == "}":
            return Spanset(tuple(trace_conds), tuple(span_conds))
        if tok[1] != "&&":
            raise _unexpected(tok)


def _condition(toks: _Tokens) -> Condition:
    kind, lhs, col = toks.take()
    if kind != "word":
        raise _unexpected((kind, lhs, col))
    nxt = toks.peek()
    if lhs.endswith(".") and nxt is not None and nxt[0] == "str":  # span."attr name"
        lhs += go_unquote(toks.take()[1])
    op_tok = toks.take()
    if op_tok[0] != "op" or op_tok[1] not in COMPARISONS:
        raise _unexpected(op_tok)
    value = _value(toks.take(), op_tok[1])
    return Condition(_target(lhs, col), op_tok[1], value)


def _target(lhs: str, col: int) -> str:
    if lhs in TRACE_INTRINSICS:
        return lhs
    if lhs in SPAN_INTRINSICS:
        return "span:" + lhs.removeprefix("span:")
    for scope in ("resource.", "span."):
        if lhs.startswith(scope) and len(lhs) > len(scope):
            return f"attr:{scope[:-1]}:{lhs[len(scope) :]}"
    if lhs.startswith(".") and len(lhs) > 1:
        return f"attr:any:{lhs[1:]}"
    raise _fail(col, "IDENTIFIER")


def _value(tok: tuple[str, str, int], op: str) -> Typed:
    kind, raw, col = tok
    if kind == "str":
        text = go_unquote(raw)
        if op in ("=~", "!~"):
            try:
                return Typed("regex", re.compile(text))
            except re.error as exc:
                raise TraceQLError(f"invalid TraceQL query: error parsing regexp: {exc}") from None
        return Typed("string", text)
    if kind != "word":
        raise _unexpected(tok)
    if raw == "nil":
        return Typed("nil", None)
    if raw in ("true", "false"):
        return Typed("bool", raw == "true")
    if raw in _STATUSES:
        return Typed("status", _STATUSES[raw])
    if raw in _KINDS:
        return Typed("kind", _KINDS[raw])
    if re.fullmatch(r"-?\d+", raw):
        return Typed("int", int(raw))
    if re.fullmatch(r"-?\d+\.\d+", raw):
        return Typed("float", float(raw))
    try:
        return Typed("duration", parse_duration(raw))
    except Exception:  # noqa: BLE001 - any failure is a parse error at this column
        raise _fail(col, "IDENTIFIER") from None


def _span_ok(span: Span, c: Condition) -> bool:
    kind, _, rest = c.target.partition(":")
    if kind == "span":
        actual = {
            "name": Typed("string", span.name),
            "status": Typed("status", span.status),
            "kind": Typed("kind", span.kind),
            "duration": Typed("duration", span.duration_ns),
        }[rest]
        return _compare(actual, c.op, c.value)
    scope, _, name = rest.partition(":")
    return _compare_attribute(attribute(span, scope, name), c.op, c.value)


def attribute(span: Span, scope: str, name: str) -> AttrValue | None:
    """An attribute of ``scope`` ``resource``, ``span`` or ``any`` (the span's, else its resource's)."""
    if scope != "resource" and name in span.attributes:
        return span.attributes[name]
    return span.resource.attributes.get(name) if scope != "span" else None


def _compare_attribute(found: AttrValue | None, op: str, expected: Typed) -> bool:
    if expected.kind == "nil":
        return (found is None) == (op == "=") if op in ("=", "!=") else False
    if found is None:
        return False  # Tempo: a missing attribute matches no comparison, != included
    if expected.kind == "text":  # tags search: the attribute's text
        return isinstance(found, str | bool | int | float) and go_value_text(found) == expected.value
    if isinstance(found, tuple):  # arrays: one element is enough
        return any(_compare_attribute(item, op, expected) for item in found)
    return _compare(_typed(found), op, expected)


def _typed(value: AttrValue) -> Typed:
    if isinstance(value, bool):
        return Typed("bool", value)
    if isinstance(value, int):
        return Typed("int", value)
    if isinstance(value, float):
        return Typed("float", value)
    if isinstance(value, str):
        return Typed("string", value)
    return Typed("opaque", value)  # bytes, key/value lists: comparable with nothing


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def _compare(actual: Typed, op: str, expected: Typed) -> bool:
    if expected.kind == "regex":
        return actual.kind == "string" and bool(expected.value.fullmatch(actual.value)) == (op == "=~")
    if expected.kind == "nil":
        return op == "!="  # an intrinsic always exists
    if not _comparable(actual.kind, expected.kind) or op in ("=~", "!~"):
        return False
    if actual.kind in ("bool", "status", "kind") and op not in ("=", "!="):
        return False
    if actual.kind != expected.kind and "float" in (actual.kind, expected.kind):  # Tempo: mixed numbers as float64
        return _OPS[op](float(actual.value), float(expected.value))
    return _OPS[op](actual.value, expected.value)


def _comparable(a: str, b: str) -> bool:
    return a == b or (a in NUMERIC and b in NUMERIC)
