"""What a search asks for, what it returns, and the query languages it is written in (TraceQL, logfmt tags).

Which conditions hold on one span, and which on the trace (the same meaning on every backend):

- ``--service``, ``--operation`` and every ``--attr`` describe **one span**: the span you are looking for
  (``-s nlp-model --attr ml.model.version=2024.12.0`` is an nlp-model span carrying that version; a resource
  attribute such as ``k8s.pod.name`` belongs to the service's spans anyway). This is also what Jaeger's servers
  do with service + tags, so they filter exactly.
- ``--errors`` and ``--min/--max-duration`` describe **the trace**: ``-s api-gateway --errors`` is a trace with
  an api-gateway span and an error span anywhere, so a request that failed three services down is found.

On Tempo the span conditions (and the trace-duration intrinsic) form one spanset and the error another, joined
by the spanset operator ``&&`` (both must match in the same trace)::

    { resource.service.name = "api-gateway" && trace:duration >= 2s } && { status = error }

Without span conditions the error condition joins the durations in a single spanset. On Jaeger the server
filters the span conditions; errors (any span) and trace durations are checked on the client.

Attribute values are typed as TraceQL compares them strictly (a string literal never equals an integer
attribute): ``200`` is an integer, ``0.5`` a float, ``true``/``false`` booleans, anything else a string, and a
value in double quotes (``'k="200"'``) is always a string. Integers with leading zeros (ZIP codes, ``007``)
stay strings. Jaeger's tag maps are strings on the wire: they get the value's text, and the client re-checks
the hits by the same typed rule.

Values never reach a query unescaped: TraceQL strings are double-quoted with Go escaping, attribute names
outside ``[A-Za-z0-9_.-]`` are quoted, logfmt values are quoted when needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from tracectl.errors import InputError
from tracectl.model import AttrValue, Span, Trace
from tracectl.quoting import go_float_text, go_quote, go_value_text
from tracectl.timerange import TimeRange, go_duration

ROOT_NOT_RECEIVED = "<root span not yet received>"
_PLAIN_ATTR = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_SCOPES = ("resource.", "span.", "event.", "link.", "instrumentation.")
_INT = re.compile(r"-?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"-?(0|[1-9][0-9]*)\.[0-9]+")
_INT64 = 2**63

# A typed attribute value in a search filter: what ``--attr KEY=VALUE`` means once its VALUE is read.
ScalarValue = str | bool | int | float


@dataclass(frozen=True, slots=True)
class SearchQuery:
    time: TimeRange
    service: str | None = None
    operation: str | None = None
    min_duration_ns: int | None = None
    max_duration_ns: int | None = None
    errors: bool = False
    attributes: tuple[tuple[str, ScalarValue], ...] = ()  # typed: see parse_attr_value
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
    duration_precision_ns: int = 1  # the server's resolution: Tempo's search gives whole ms (truncated), Jaeger v1 µs


@dataclass(slots=True)
class SearchResult:
    backend: str
    query: str  # the query as sent (TraceQL, tags, or URL parameters), for the record
    traces: list[TraceSummary]
    warnings: list[str] = field(default_factory=list)
    limit_said: bool = False  # a warning above already says the --limit cut the answer
    complete: bool = False  # the server sent every match of the window (its answer stayed below the limit)


def slowest_first(traces: Iterable[TraceSummary]) -> list[TraceSummary]:
    return sorted(traces, key=lambda t: (-t.duration_ns, t.trace_id))


def capped_result(backend: str, query: str, hits: Iterable[TraceSummary], limit: int) -> SearchResult:
    """At most ``limit`` hits, slowest first: a server that answers with more than it was asked for is cut to
    the slowest ``limit``, and the result says so."""
    ranked = slowest_first(hits)
    result = SearchResult(backend, query, ranked[:limit])
    if len(ranked) > limit:
        result.warnings.append(f"{backend} returned {len(ranked)} traces for --limit {limit}: kept the {limit} slowest")
        result.limit_said = True
    return result


def parse_attr_value(text: str) -> ScalarValue:
    """``200`` → 200, ``0.5`` → 0.5, ``true`` → True, ``"200"`` → "200" (quotes force a string), else the text."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    if _INT.fullmatch(text) and -_INT64 <= int(text) < _INT64:
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    return text


def parse_attr_flags(values: Iterable[str]) -> tuple[tuple[str, ScalarValue], ...]:
    """``--attr k=v`` flags → (key, typed value) pairs; the key must be non-empty."""
    out = []
    for raw in values:
        key, sep, value = raw.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--attr: {raw!r} is not KEY=VALUE")
        out.append((key.strip(), parse_attr_value(value)))
    return tuple(out)


def attr_text(value: ScalarValue) -> str:
    """The value as text, for the string maps of Jaeger's ``tags``/``query.attributes`` (Go's rendering)."""
    return go_value_text(value)


def attr_matches(actual: AttrValue | None, wanted: ScalarValue) -> bool:
    """Tempo's typed equality: strings equal strings, booleans booleans, numbers numbers (an int equals a float
    of the same value); an array matches when one of its elements does; a missing value matches nothing."""
    if isinstance(actual, tuple):
        return any(attr_matches(a, wanted) for a in actual)
    if isinstance(wanted, bool) or isinstance(actual, bool):
        return isinstance(wanted, bool) and isinstance(actual, bool) and actual == wanted
    if isinstance(wanted, str) or isinstance(actual, str):
        return isinstance(wanted, str) and isinstance(actual, str) and actual == wanted
    if isinstance(actual, int) and isinstance(wanted, int):
        return actual == wanted
    return isinstance(actual, int | float) and float(actual) == float(wanted)  # mixed: as float64, like Tempo


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


def traceql_value(value: ScalarValue) -> str:
    """A typed TraceQL literal: ``"text"``, ``200``, ``0.5``, ``true``."""
    if isinstance(value, str):
        return traceql_string(value)
    if isinstance(value, float):
        text = go_float_text(value)
        return text if "." in text else f"{text}.0"  # stays a float literal
    return go_value_text(value)


def build_traceql(q: SearchQuery, duration_intrinsic: str = "trace:duration") -> str:
    """TraceQL for the flag-based query (the module docstring gives the rule). ``duration_intrinsic`` is
    ``trace:duration`` (Tempo ≥ 2.5) or ``traceDuration`` (2.2–2.4)."""
    span = []
    if q.service:
        span.append(f"resource.service.name = {traceql_string(q.service)}")
    if q.operation:
        span.append(f"name = {traceql_string(q.operation)}")
    for key, value in q.attributes:
        span.append(f"{traceql_attribute(key)} = {traceql_value(value)}")
    trace = []
    if q.min_duration_ns is not None:
        trace.append(f"{duration_intrinsic} >= {go_duration(q.min_duration_ns)}")
    if q.max_duration_ns is not None:
        trace.append(f"{duration_intrinsic} <= {go_duration(q.max_duration_ns)}")
    if q.errors and span:  # the error may be on any span of the trace: a second spanset
        return f"{_spanset(span + trace)} && {{ status = error }}"
    return _spanset(span + trace + (["status = error"] if q.errors else []))


def _spanset(conds: list[str]) -> str:
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
    pairs.extend((k, attr_text(v)) for k, v in q.attributes)
    for key, _ in pairs:
        if not key or any(c in '="' or c <= " " for c in key):
            raise InputError(
                f"--attr: the key {key!r} cannot be searched on Tempo before 2.2: its tags search cannot hold a key "
                "with spaces, '=', quotes or control characters"
            )
    return " ".join(f"{k}={_logfmt_value(v)}" for k, v in pairs)


# ------------------------------------------------------------------------------------------ summaries


def summarise(trace: Trace, precision_ns: int = 1) -> TraceSummary:
    """A search hit computed from a whole trace (Jaeger returns whole traces, in µs from its v1 API)."""
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
        duration_precision_ns=precision_ns,
    )


def matches_filters(trace: Trace, q: SearchQuery) -> bool:
    """The search's meaning checked on a whole trace (the module docstring gives the rule), for what a backend
    cannot filter itself or filters differently (Jaeger: typed attributes, errors anywhere, trace durations)."""
    if q.errors and not any(s.is_error for s in trace.spans):
        return False
    # The server filtered service and operation; with attributes, their types (and that they sit on the
    # service's own span) are checked here, the way Tempo compares them.
    if q.attributes and not any(_span_matches(s, q) for s in trace.spans):
        return False
    summary = summarise(trace)
    if q.min_duration_ns is not None and summary.duration_ns < q.min_duration_ns:
        return False
    return not (q.max_duration_ns is not None and summary.duration_ns > q.max_duration_ns)


def _span_matches(span: Span, q: SearchQuery) -> bool:
    if (q.service and span.service != q.service) or (q.operation and span.name != q.operation):
        return False
    return all(attr_matches(_lookup(span, key), value) for key, value in q.attributes)


def _lookup(span: Span, key: str) -> AttrValue | None:
    scope, name = split_scope(key)
    if scope != "resource" and name in span.attributes:
        return span.attributes[name]
    return span.resource.attributes.get(name) if scope != "span" else None


def split_scope(key: str) -> tuple[str | None, str]:
    """``resource.k8s.pod.name`` → (``resource``, ``k8s.pod.name``); ``span.x`` → (``span``, ``x``); else
    (None, key): an unscoped name is looked up on the span, then its resource, as TraceQL's ``.name`` is."""
    for scope in ("resource", "span"):
        if key.startswith(scope + ".") and len(key) > len(scope) + 1:
            return scope, key[len(scope) + 1 :]
    return None, key
