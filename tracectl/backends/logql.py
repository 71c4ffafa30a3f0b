"""LogQL that finds a trace's log lines (BACKENDS.md, "Loki"), in four strategies, every value escaped.

- ``line``: ``{sel} |= "<id>"``: works everywhere. The filter uses the zero-stripped ID, a substring of the
  32-character, 16-character (64-bit) and stripped forms alike, so every form a service may log is found;
  lines are then checked for the whole ID (``log_mentions_trace``) so a longer hex string cannot match.
- ``metadata``: ``{sel} | trace_id=~"0*<id>"``: OTLP structured metadata; the regex (fully anchored in LogQL)
  accepts the padded and stripped forms.
- ``json``: ``{sel} | json | <field>=~"0*<id>"``: the ID parsed out of a JSON body (field configurable).
- ``template``: the user's own query, with ``${__span.traceId}``, ``${__span.spanId}``, ``${__trace.traceId}``,
  ``${service}`` and ``${__tags}`` filled in (escaped for a double-quoted LogQL string), as Grafana's custom
  trace-to-logs query works.

The stream selector comes from the trace's resource attributes through a mapping to Loki labels (default
``service.name → service_name``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from tracectl.errors import InputError
from tracectl.ids import short_trace_id
from tracectl.model import Trace
from tracectl.quoting import go_escape, go_quote

_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REGEX_SPECIAL = re.compile(r"([\\.^$|?*+()\[\]{}])")


def logql_string(value: str) -> str:
    """A double-quoted LogQL string (Go escaping): backslash, quote and control characters escaped."""
    return go_quote(value)


def regex_literal(value: str) -> str:
    """``value`` as a literal inside an RE2 regular expression."""
    return _REGEX_SPECIAL.sub(r"\\\1", value)


def is_label_name(name: str) -> bool:
    return _LABEL.fullmatch(name) is not None


def label_name(name: str) -> str:
    if not _LABEL.fullmatch(name):
        raise InputError(f"log label map: {name!r} is not a valid Loki label name")
    return name


def stream_selector(trace: Trace, label_map: Mapping[str, str]) -> str:
    """``{service_name=~"a|b"}`` from the trace's resources: one matcher per mapped label present."""
    matchers = []
    for attr, label in label_map.items():
        values = sorted({str(v) for s in trace.spans if (v := s.resource.attributes.get(attr)) not in (None, "")})
        if not values:
            continue
        if len(values) == 1:
            matchers.append(f"{label_name(label)}={logql_string(values[0])}")
        else:
            alternation = "|".join(regex_literal(v) for v in values)
            matchers.append(f"{label_name(label)}=~{logql_string(alternation)}")
    if not matchers:
        raise InputError(
            "cannot build a Loki stream selector: no span has the mapped resource attributes "
            f"({', '.join(label_map)}); set log_label_map or use log_strategy 'template'"
        )
    return "{" + ", ".join(matchers) + "}"


def trace_log_query(
    trace: Trace,
    strategy: str = "line",
    label_map: Mapping[str, str] | None = None,
    trace_field: str = "trace_id",
    template: str | None = None,
    span_id: str = "",
) -> str:
    """The LogQL query for a trace's log lines under ``strategy``."""
    stripped = short_trace_id(trace.trace_id)
    if strategy == "template":
        if not template:
            raise InputError("the template strategy needs a query template")
        return fill_template(template, trace, span_id, label_map or {"service.name": "service_name"})
    selector = stream_selector(trace, label_map or {"service.name": "service_name"})
    id_regex = logql_string(f"0*{stripped}")
    if strategy == "line":
        return f"{selector} |= {logql_string(stripped)}"
    if strategy == "metadata":
        return f"{selector} | trace_id=~{id_regex}"
    if strategy == "json":
        return f"{selector} | json | {label_name(trace_field)}=~{id_regex}"
    raise InputError(f"unknown log strategy {strategy!r} (line, metadata, json, template)")


def fill_template(template: str, trace: Trace, span_id: str, label_map: Mapping[str, str]) -> str:
    root = min(trace.spans, key=lambda s: (bool(s.parent_span_id), s.start_ns))
    tags = ", ".join(
        f"{label_name(label)}={logql_string(str(root.resource.attributes[attr]))}"
        for attr, label in label_map.items()
        if attr in root.resource.attributes
    )
    values = {
        "${__span.traceId}": trace.trace_id,
        "${__trace.traceId}": trace.trace_id,
        "${__span.spanId}": span_id or root.span_id,
        "${service}": go_escape(root.service),
        "${__tags}": tags,
    }
    out = template
    for placeholder, value in values.items():
        out = out.replace(placeholder, value)
    return out


def log_mentions_trace(line: str, trace_id: str) -> bool:
    """Whether ``line`` names the trace as a whole hex token (any case, padded, 64-bit or stripped form)."""
    stripped = short_trace_id(trace_id)
    pattern = re.compile(rf"(?<![0-9a-fA-F])0*{re.escape(stripped)}(?![0-9a-fA-F])", re.IGNORECASE)
    return bool(pattern.search(line))


def services_of(trace: Trace) -> Iterable[str]:
    return sorted({s.service for s in trace.spans})


# Constructs Python's ``re`` reads but RE2 (Go's regexp, which Loki uses) refuses or reads otherwise.
_NOT_RE2 = (
    (re.compile(r"\(\?<?[=!]"), "lookaround (?= (?! (?<= (?<!"),
    (re.compile(r"\(\?>"), "atomic group (?>"),
    (re.compile(r"\(\?\("), "conditional (?("),
    (re.compile(r"\(\?#"), "comment (?#"),
    (re.compile(r"\(\?P="), "named backreference (?P="),
    (re.compile(r"\\[1-9]"), "backreference \\1"),
    (re.compile(r"\\Z"), "\\Z (RE2 writes the end of the text \\z)"),
    (re.compile(r"[*+?}]\+"), "possessive quantifier"),
)
_OUTSIDE_CLASSES = re.compile(r"\\.|\[(?:\\.|[^\]\\])*\]?|[^\\\[]+|.", re.DOTALL)
_REPEAT = re.compile(r"\{(\d+)(?:,(\d*))?\}")
_PLAIN = re.compile(r"[^\\.^$|?*+()\[\]{}]*")


def not_re2(value: str) -> str | None:
    """The construct of ``value`` (a regex Python's ``re`` compiles) that RE2 refuses or reads otherwise."""
    # Escapes and character classes are set aside first: `[(?=]` and `\\(?=` are plain characters.
    kept = ("\\Z", *(f"\\{d}" for d in "123456789"))
    tokens = _OUTSIDE_CLASSES.findall(value)
    bare = "".join(t if not t.startswith(("\\", "[")) or t[:2] in kept else "_" for t in tokens)
    for construct, name in _NOT_RE2:
        if construct.search(bare):
            return name
    if any(int(low) > 1000 or (high and int(high) > 1000) for low, high in _REPEAT.findall(bare)):
        return "a repeat count above 1000"
    return None


def re2_regex(value: str, flag: str) -> re.Pattern[str]:
    """``value`` compiled, if it means the same in RE2 (Loki's line filters) and Python's ``re``; else an
    ``InputError`` naming ``flag`` and the construct. ``\\d \\w \\s \\b`` are ASCII in both."""
    try:
        pattern = re.compile(value, re.ASCII)
    except re.error as exc:
        raise InputError(f"{flag}: not a regular expression ({exc})") from None
    problem = not_re2(value)
    if problem is not None:
        raise InputError(f"{flag}: {problem} is not supported by Loki's regular expressions (RE2)")
    return pattern


def logql_literal(value: str) -> str:
    """A LogQL string holding ``value``: back-quoted (raw, readable for regexes) unless it holds a backquote."""
    return f"`{value}`" if "`" not in value else go_quote(value)


def grep_filter(grep: str) -> tuple[str, Callable[[str], bool]]:
    """``--grep`` as a LogQL line filter and the same test in Python: ``|=`` for plain text (no regex
    metacharacter), else ``|~`` with a regex checked for RE2 (found anywhere in the line, as Loki does)."""
    if _PLAIN.fullmatch(grep):
        return f" |= {logql_string(grep)}", lambda line: grep in line
    pattern = re2_regex(grep, "--grep")
    return f" |~ {logql_literal(grep)}", lambda line: pattern.search(line) is not None


def level_filter(field: str | None, spellings: Sequence[str], parser: str = "") -> str:
    """A LogQL stage keeping the lines whose level is one of ``spellings`` (any case): a label filter on
    ``field`` (a stream label, structured metadata such as Loki 3's ``detected_level``, or a field the ``parser``
    stage, e.g. ``json``, extracts), or, with no field, a line filter for any of the words (a superset of the
    lines whose level is in their text)."""
    words = "|".join(regex_literal(w) for w in spellings)
    if field is None:
        return f" |~ {logql_literal('(?i)' + words)}"
    stage = f" | {parser}" if parser else ""
    return f"{stage} | {label_name(field)}=~{logql_literal('(?i)' + words)}"
