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
from collections.abc import Iterable, Mapping

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
