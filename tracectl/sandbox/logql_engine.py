"""The LogQL subset the sandbox's Loki answers: a stream selector and a pipeline of filters.

    {service_name="a", pod=~"a-.*"} |= "x" != "y" |~ "re" !~ "re" | json | trace_id=~"0*ab" | level="error"

Label matchers ``= != =~ !~`` (regexes fully anchored); line filters ``|= != |~ !~`` (a substring, or an RE2
regex found anywhere in the line, as Loki's ``pkg/logql/log/filter.go`` does); the ``json`` parser
(top-level string, number and boolean fields become parsed labels); label filters ``= != =~ !~`` on structured
metadata, parsed fields or stream labels. Strings are double-quoted (Go escapes) or back-quoted. Anything
else is a 400 ``parse error``; an empty selector is refused as Loki does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from tracectl.backends.logql import not_re2
from tracectl.model import LogRecord
from tracectl.quoting import go_unquote

_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|`[^`]*`)|(?P<op>\|=|\|~|!=|!~|=~|=|\||\{|\}|,)|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"""
)


class LogQLError(ValueError):
    """The message is Loki's 400 text."""


@dataclass(frozen=True, slots=True)
class LogQuery:
    matchers: tuple[tuple[str, str, str], ...]  # (label, op, value)
    stages: tuple[Callable[[LogRecord, dict[str, str]], bool], ...]

    def stream_matches(self, labels: dict[str, str]) -> bool:
        return all(_match(labels.get(k, ""), op, v) for k, op, v in self.matchers)

    def run(self, record: LogRecord) -> dict[str, str] | None:
        """Parsed fields when the line passes the pipeline, else None."""
        parsed: dict[str, str] = {}
        for stage in self.stages:
            if not stage(record, parsed):
                return None
        return parsed


def _match(actual: str, op: str, expected: str) -> bool:
    if op == "=":
        return actual == expected
    if op == "!=":
        return actual != expected
    hit = re.fullmatch(expected, actual, re.ASCII) is not None  # anchored, as Loki anchors label regexes
    return hit if op == "=~" else not hit


def _fail(col: int, msg: str) -> LogQLError:
    return LogQLError(f"parse error at line 1, col {col}: {msg}")


def parse(text: str) -> LogQuery:
    toks = []
    pos = 0
    while pos < len(text) and text[pos:].strip():
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise _fail(pos + 1, f"syntax error: unexpected {text[pos:].strip()[:1]!r}")
        kind = m.lastgroup or "word"
        toks.append((kind, m.group(kind), m.start(kind) + 1))
        pos = m.end()
    if not toks or toks[0][1] != "{":
        raise _fail(1, "syntax error: unexpected input, expecting {")
    i = 1
    matchers = []
    while i < len(toks) and toks[i][1] != "}":
        if (
            i + 2 >= len(toks)
            or toks[i][0] != "word"
            or toks[i + 1][1] not in ("=", "!=", "=~", "!~")
            or toks[i + 2][0] != "str"
        ):
            raise _fail(toks[min(i, len(toks) - 1)][2], "syntax error: unexpected input in the stream selector")
        matchers.append((toks[i][1], toks[i + 1][1], go_unquote(toks[i + 2][1])))
        i += 3
        if i < len(toks) and toks[i][1] == ",":
            i += 1
    if i >= len(toks):
        raise _fail(len(text), "syntax error: unexpected end of input, expecting }")
    if not any(op in ("=", "=~") and not _match("", op, v) for _, op, v in matchers):
        raise LogQLError(
            "parse error : queries require at least one regexp or equality matcher that does not have "
            'an empty-compatible value. For instance, app=~".*" does not meet this requirement, but '
            'app=~".+" will'
        )
    return LogQuery(tuple(matchers), tuple(_pipeline(toks[i + 1 :], text)))


def _pipeline(toks: list[tuple[str, str, int]], text: str) -> list[Callable[[LogRecord, dict[str, str]], bool]]:
    stages: list[Callable[[LogRecord, dict[str, str]], bool]] = []
    i = 0
    while i < len(toks):
        _kind, tok, col = toks[i]
        if tok in ("|=", "!=", "|~", "!~") and i + 1 < len(toks) and toks[i + 1][0] == "str":
            stages.append(_line_filter(tok, go_unquote(toks[i + 1][1]), toks[i + 1][2]))
            i += 2
        elif tok == "|" and i + 1 < len(toks) and toks[i + 1][1] == "json":
            stages.append(_json_stage)
            i += 2
        elif (
            tok == "|"
            and i + 3 < len(toks)
            and toks[i + 1][0] == "word"
            and toks[i + 3][0] == "str"
            and toks[i + 2][1] in ("=", "!=", "=~", "!~")
        ):
            stages.append(_label_filter(toks[i + 1][1], toks[i + 2][1], go_unquote(toks[i + 3][1]), toks[i + 3][2]))
            i += 4
        else:
            raise _fail(col, f"syntax error: unexpected {tok!r}")
    return stages


def _re2(value: str, col: int) -> re.Pattern[str]:
    """``value`` as Loki's RE2 reads it (Python's ``re`` for the shared syntax; RE2-only refusals kept)."""
    problem = not_re2(value)
    if problem is not None:
        raise _fail(col, f"error parsing regexp: invalid or unsupported Perl syntax: {problem}")
    try:
        return re.compile(value, re.ASCII)  # RE2's \d \w \s \b are ASCII
    except re.error as exc:
        raise _fail(col, f"error parsing regexp: {exc}") from None


def _line_filter(op: str, value: str, col: int) -> Callable[[LogRecord, dict[str, str]], bool]:
    """Loki's line filters: ``|=`` / ``!=`` a case-sensitive substring, ``|~`` / ``!~`` an RE2 regex found
    anywhere in the line (not anchored), each applied to the line as stored."""
    if op in ("|=", "!="):
        return lambda r, _p: (value in r.line) == (op == "|=")
    pattern = _re2(value, col)
    return lambda r, _p: (pattern.search(r.line) is not None) == (op == "|~")


def _json_stage(record: LogRecord, parsed: dict[str, str]) -> bool:
    try:
        doc = orjson.loads(record.line)
    except orjson.JSONDecodeError:
        parsed["__error__"] = "JSONParserErr"
        return True
    if isinstance(doc, dict):
        for k, v in doc.items():
            if isinstance(v, str | int | float | bool) and not isinstance(v, dict):
                parsed[re.sub(r"[^A-Za-z0-9_]", "_", k)] = str(v).lower() if isinstance(v, bool) else str(v)
    return True


def _label_filter(name: str, op: str, value: str, col: int) -> Callable[[LogRecord, dict[str, str]], bool]:
    if op in ("=~", "!~"):
        _re2(value, col)

    def stage(record: LogRecord, parsed: dict[str, str]) -> bool:
        actual = parsed.get(name) or record.metadata.get(name) or record.labels.get(name) or ""
        return _match(actual, op, value)

    return stage
