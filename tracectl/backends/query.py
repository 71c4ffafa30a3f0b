"""What a search asks for, what it returns, and the query languages it is written in (TraceQL, logfmt tags).

Values never reach a query unescaped: TraceQL strings are double-quoted with Go escaping, attribute names
outside ``[A-Za-z0-9_.-]`` are quoted, logfmt values are quoted when needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from tracectl.errors import InputError
from tracectl.model import Span, Trace
from tracectl.quoting import go_quote
from tracectl.timerange import TimeRange, go_duration

ROOT_NOT_RECEIVED = "<root span not yet received>"
_PLAIN_ATTR = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_SCOPES = ("resource.", "span.", "event.", "link.", "instrumentation.")


@dataclass(frozen=True, slots=True)
class SearchQuery:
    time: TimeRange
    service: str | None = None
    operation: str | None = None
    min_duration_ns: int | None = None
    max_duration_ns: int | None = None
    errors: bool = False
    attributes: tuple[tuple[str, str], ...] = ()
    traceql: str | None = None  # raw TraceQL (Tempo only); the flags above must then be absent
    limit: int = 20

    def __post_init__(self) -> None:
        flags = (self.service, self.operation, self.errors, self.attributes, self.min_duration_ns, self.max_duration_ns)
        if self.traceql is not None and any(f not in (None, False, ()) for f in flags):
            raise InputError("--traceql cannot be combined with --service/--operation/--errors/--attr/--*-duration")
        lo, hi = self.min_duration_ns, self.max_duration_ns
        if lo is not None and hi is not None and lo > hi:
            raise InputError("--min-duration is larger than --max-duration")
        if self.limit < 1:
            raise InputError("--limit must be at least 1")


@dataclass(frozen=True, slots=True)
class TraceSummary:
    """One search hit. Counts are None where the backend does not say."""

    trace_id: str
    root_service: str  # "" when the root span has not arrived
    root_name: str
    start_ns: int
    duration_ns: int
    span_count: int | None = None
    error_count: int | None = None
    services: tuple[str, ...] = ()
    matched: int | None = None  # spans that matched the query (Tempo)


@dataclass(slots=True)
class SearchResult:
    backend: str
    query: str  # the query as sent (TraceQL, tags, or URL parameters), for the record
    traces: list[TraceSummary]
    warnings: list[str] = field(default_factory=list)


def slowest_first(traces: Iterable[TraceSummary]) -> list[TraceSummary]:
    return sorted(traces, key=lambda t: (-t.duration_ns, t.trace_id))


def capped_result(backend: str, query: str, hits: Iterable[TraceSummary], limit: int) -> SearchResult:
    """At most ``limit`` hits, slowest first: a server that answers with more than it was asked for is cut to
    the slowest ``limit``, and the result says so."""
    ranked = slowest_first(hits)
    result = SearchResult(backend, query, ranked[:limit])
    if len(ranked) > limit:
        result.warnings.append(f"{backend} returned {len(ranked)} traces for --limit {limit}: kept the {limit} slowest")
    return result


def parse_attr_flags(values: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """``--attr k=v`` flags → pairs; the key must be non-empty."""
    out = []
    for raw in values:
        key, sep, value = raw.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--attr: {raw!r} is not KEY=VALUE")
        out.append((key.strip(), value))
    return tuple(out)


# --------------------------------------------------------------------------------------------- TraceQL


def traceql_string(value: str) -> str:
    """A TraceQL string literal: double quotes, Go escaping of backslash, quote and control characters."""
    return go_quote(value)


def traceql_attribute(name: str) -> str:
    """``service.name`` → ``.service.name`` (any scope); ``span.http.route`` kept; odd names quoted."""
    for scope in _SCOPES:
        if name.startswith(scope) and len(name) > len(scope):
            rest = name[len(scope) :]
            return name if _PLAIN_ATTR.fullmatch(rest) else f"{scope}{traceql_string(rest)}"
    return f".{name}" if _PLAIN_ATTR.fullmatch(name) else f"span.{traceql_string(name)}"


def build_traceql(q: SearchQuery, duration_intrinsic: str = "trace:duration") -> str:
    """TraceQL for the flag-based query. ``duration_intrinsic`` is ``trace:duration`` (Tempo ≥ 2.5) or
    ``traceDuration`` (2.2–2.4)."""
    conds = []
    if q.service:
        conds.append(f"resource.service.name = {traceql_string(q.service)}")
    if q.operation:
        conds.append(f"name = {traceql_string(q.operation)}")
    if q.errors:
        conds.append("status = error")
    for key, value in q.attributes:
        conds.append(f"{traceql_attribute(key)} = {traceql_string(value)}")
    if q.min_duration_ns is not None:
        conds.append(f"{duration_intrinsic} >= {go_duration(q.min_duration_ns)}")
    if q.max_duration_ns is not None:
        conds.append(f"{duration_intrinsic} <= {go_duration(q.max_duration_ns)}")
    return "{ " + " && ".join(conds) + " }" if conds else "{ }"


# ------------------------------------------------------------------------------------------ logfmt tags


def _logfmt_value(value: str) -> str:
    if value and not any(c in value for c in ' ="\\\t\n'):
        return value
    return traceql_string(value)  # logfmt quoting uses the same Go escaping


def build_tags(q: SearchQuery) -> str:
    """Tempo's ``tags`` search (logfmt), for servers without TraceQL trace-duration intrinsics (< 2.2)."""
    pairs = []
    if q.service:
        pairs.append(("service.name", q.service))
    if q.operation:
        pairs.append(("name", q.operation))
    if q.errors:
        pairs.append(("error", "true"))
    pairs.extend(q.attributes)
    for key, _ in pairs:
        if not key or any(c in '="' or c <= " " for c in key):
            raise InputError(
                f"--attr: the key {key!r} cannot be searched on Tempo before 2.2: its tags search cannot hold a key "
                "with spaces, '=', quotes or control characters"
            )
    return " ".join(f"{k}={_logfmt_value(v)}" for k, v in pairs)


# ------------------------------------------------------------------------------------------ summaries


def summarise(trace: Trace) -> TraceSummary:
    """A search hit computed from a whole trace (Jaeger returns whole traces)."""
    ids = {s.span_id for s in trace.spans}
    roots = [s for s in trace.spans if not s.parent_span_id or s.parent_span_id not in ids]
    root: Span | None = min(roots, key=lambda s: (bool(s.parent_span_id), s.start_ns)) if roots else None
    start = min(s.start_ns for s in trace.spans)
    end = max(s.end_ns for s in trace.spans)
    has_root = root is not None and not root.parent_span_id
    return TraceSummary(
        trace_id=trace.trace_id,
        root_service=root.service if has_root and root else "",
        root_name=root.name if has_root and root else "",
        start_ns=start,
        duration_ns=end - start,
        span_count=len(trace.spans),
        error_count=sum(s.is_error for s in trace.spans),
        services=tuple(sorted({s.service for s in trace.spans})),
    )


def matches_filters(trace: Trace, q: SearchQuery) -> bool:
    """Client-side filters for what a backend cannot filter itself (Jaeger v3: attributes, errors)."""
    if q.errors and not any(s.is_error for s in trace.spans):
        return False
    for key, value in q.attributes:
        if not any(str(s.attributes.get(key, s.resource.attributes.get(key))) == value for s in trace.spans):
            return False
    summary = summarise(trace)
    if q.min_duration_ns is not None and summary.duration_ns < q.min_duration_ns:
        return False
    return not (q.max_duration_ns is not None and summary.duration_ns > q.max_duration_ns)
