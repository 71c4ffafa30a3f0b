"""The TraceQL subset the sandbox answers: one spanset filter joined by ``&&``.

    { resource.service.name = "x" && name = "op" && status = error && .ml.model.name =~ "bert.*"
      && span."attr name" != "v" && trace:duration >= 2s && duration > 100ms && kind = server }

Supported: attributes (``resource.``, ``span.``, ``.`` unscoped, quoted names), intrinsics ``name``,
``status``, ``kind``, ``duration`` (span), ``trace:duration``/``traceDuration``, ``trace:rootService``/
``rootServiceName``, ``trace:rootName``/``rootName``; operators ``= != > >= < <= =~ !~`` (regexes fully
anchored). Span conditions must hold on one span; trace conditions on the trace. Anything else is a 400
``invalid TraceQL query: parse error at line 1, col N: ...``, as Tempo answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tracectl.model import Span, SpanKind, StatusCode, Trace
from tracectl.quoting import go_unquote
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


class TraceQLError(ValueError):
    """A query outside the subset; the message is Tempo's 400 text."""


@dataclass(frozen=True, slots=True)
class Condition:
    target: str  # "trace:duration", "span:name", "attr:resource:service.name", …
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class Query:
    trace_conds: tuple[Condition, ...]
    span_conds: tuple[Condition, ...]

    def matches(self, trace: Trace, summary: Any) -> list[Span] | None:
        """The spans that match (all, when there are no span conditions), or None when the trace does not."""
        for c in self.trace_conds:
            if not _compare(getattr(summary, TRACE_INTRINSICS[c.target]), c.op, c.value):
                return None
        spans = [s for s in trace.spans if all(_span_ok(s, c) for c in self.span_conds)]
        return spans or None


def _fail(col: int, msg: str) -> TraceQLError:
    return TraceQLError(f"invalid TraceQL query: parse error at line 1, col {col}: {msg}")


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise _fail(pos + 1, f"syntax error: unexpected {text[pos:].strip()[:1]!r}")
        kind = m.lastgroup or "word"
        out.append((kind, m.group(kind), m.start(kind) + 1))
        pos = m.end()
    return out


def parse(text: str) -> Query:
    toks = _tokens(text)
    if not toks or toks[0][1] != "{":
        raise _fail(1, "syntax error: a query starts with {")
    if toks[-1][1] != "}":
        raise _fail(len(text), "syntax error: unexpected end of query, expecting }")
    body = _merge_quoted_names(toks[1:-1])
    trace_conds: list[Condition] = []
    span_conds: list[Condition] = []
    i = 0
    while i < len(body):
        if len(body) - i < 3:
            raise _fail(body[i][2], f"syntax error: unexpected {body[i][1]!r}")
        (lk, lhs, lcol), (ok, op, ocol), (vk, raw, vcol) = body[i], body[i + 1], body[i + 2]
        if lk not in ("word", "str") or ok != "op" or op not in ("=", "!=", ">", ">=", "<", "<=", "=~", "!~"):
            raise _fail(ocol, f"syntax error: unexpected {op!r}")
        cond = _condition(lhs, lcol, op, vk, raw, vcol, body, i)
        (trace_conds if cond.target in TRACE_INTRINSICS else span_conds).append(cond)
        i += 3
        if i < len(body):
            if body[i][1] != "&&":
                raise _fail(body[i][2], f"syntax error: unexpected {body[i][1]!r}, only && is supported here")
            i += 1
    return Query(tuple(trace_conds), tuple(span_conds))


def _merge_quoted_names(toks: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """``span."attr name"`` arrives as the word ``span.`` and a string: one attribute name."""
    out: list[tuple[str, str, int]] = []
    for tok in toks:
        if tok[0] == "str" and out and out[-1][0] == "word" and out[-1][1].endswith("."):
            prev = out.pop()
            out.append(("word", prev[1] + go_unquote(tok[1]), prev[2]))
        else:
            out.append(tok)
    return out


def _condition(lhs: str, lcol: int, op: str, vk: str, raw: str, vcol: int, body: list[Any], i: int) -> Condition:
    value = _value(vk, raw, vcol, op)
    if lhs in TRACE_INTRINSICS:
        return Condition(lhs, op, value)
    if lhs in SPAN_INTRINSICS:
        return Condition("span:" + lhs.removeprefix("span:"), op, value)
    for scope in ("resource.", "span."):
        if lhs.startswith(scope) and len(lhs) > len(scope):
            return Condition(f"attr:{scope[:-1]}:{lhs[len(scope) :]}", op, value)
    if lhs.startswith(".") and len(lhs) > 1:
        return Condition(f"attr:any:{lhs[1:]}", op, value)
    raise _fail(lcol, f"syntax error: unexpected IDENTIFIER {lhs!r}")


def _value(kind: str, raw: str, col: int, op: str) -> Any:
    if kind == "str":
        text = go_unquote(raw)
        if op in ("=~", "!~"):
            try:
                return re.compile(text)
            except re.error as exc:
                raise _fail(col, f"error parsing regexp: {exc}") from None
        return text
    if raw in ("error", "ok", "unset"):
        return StatusCode[raw.upper()]
    if raw in ("server", "client", "producer", "consumer", "internal", "unspecified"):
        return SpanKind[raw.upper()]
    if raw in ("true", "false"):
        return raw == "true"
    if re.fullmatch(r"-?\d+(\.\d+)?", raw):
        return float(raw) if "." in raw else int(raw)
    try:
        return parse_duration(raw)
    except Exception:  # noqa: BLE001 - any failure is a parse error at this column
        raise _fail(col, f"syntax error: unexpected {raw!r}") from None


def _span_ok(span: Span, c: Condition) -> bool:
    kind, _, rest = c.target.partition(":")
    if kind == "span":
        value: Any = {
            "name": span.name,
            "status": span.status,
            "kind": span.kind,
            "duration": span.duration_ns,
        }[rest]
        return _compare(value, c.op, c.value)
    scope, _, name = rest.partition(":")
    sources = {
        "resource": (span.resource.attributes,),
        "span": (span.attributes,),
        "any": (span.attributes, span.resource.attributes),
    }[scope]
    found = next((src[name] for src in sources if name in src), None)
    if found is None:
        return c.op in ("!=", "!~")
    return _compare(found, c.op, c.value)


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=~": lambda a, b: bool(b.fullmatch(str(a))),
    "!~": lambda a, b: not b.fullmatch(str(a)),
}


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return _OPS[op](actual, expected) if op in ("=", "!=") else False
    if isinstance(expected, str) and not isinstance(actual, str) and op in ("=", "!="):
        return _OPS[op](str(actual), expected)
    try:
        return _OPS[op](actual, expected)
    except TypeError:
        return False
