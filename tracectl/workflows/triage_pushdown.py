"""Fleet scale: when a window holds more traces than the fetch budget (``--max-traces``), triage asks Tempo's query
engine for what it would otherwise compute from every trace, and fetches only a sample.

1. The search asks for the budget. A full page is the hint that there may be more; Tempo then counts the window's
   requests per tenth of it: ``{ <the search's spanset> && kind = server } | count_over_time()``.
2. More than the budget: the sample is re-drawn across the window (a search per tenth, for its share of the budget
   in proportion to its count) because a search returns the first traces it finds, not a random draw; the sample
   feeds the critical paths, the split and the verdict as before.
3. The aggregation is pushed down over the traces rooted where the sample's traces are (``trace:rootService``):
   span latency per service, ``quantile_over_time(duration, .5, .99) by (resource.service.name)``, suspects against
   baseline (slow traces against the rest, or the window against the baseline window), and ``compare()`` for the
   attributes over-represented in the suspects. Its numbers are evidence beside the verdict.

Jaeger has no such engine: a full page there is drawn again across ten slices of the window, and the cut is
said with the flag that lifts it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracectl.errors import TracectlError

if TYPE_CHECKING:
    from tracectl.backends.query import SearchQuery
    from tracectl.backends.tempo import TempoClient
    from tracectl.backends.traceql_metrics import CompareRow
    from tracectl.model import Trace
    from tracectl.timerange import TimeRange
    from tracectl.workflows.session import Session
    from tracectl.workflows.sources import InputCounts
    from tracectl.workflows.triage import TriageOptions, TriageResult

SLICES = 10  # the sample is drawn from this many slices of the window
QUANTILES = (0.5, 0.99)
TOP_ATTRIBUTES = 5  # over-represented attribute values kept as evidence
MIN_SHARE_GAIN = 0.1  # … when their share among suspect spans exceeds the baseline's by at least this
MAX_RANGE_NS = 24 * 3600 * 10**9  # query_frontend.metrics.max_duration (Tempo 3.0)


@dataclass(slots=True)
class WindowCount:
    """A window that held more traces than the budget: how many Tempo counted, how many were fetched."""

    time: TimeRange
    counted: int
    fetched: int
    budget: int
    query: str


@dataclass(frozen=True, slots=True)
class ServiceLatency:
    """A service's span latency (ns) as Tempo computed it over every suspect and baseline span."""

    service: str
    suspect_p50_ns: int
    suspect_p99_ns: int
    baseline_p50_ns: int
    baseline_p99_ns: int

    @property
    def p50_ratio(self) -> float:
        return self.suspect_p50_ns / self.baseline_p50_ns if self.baseline_p50_ns else 0.0

    @property
    def p99_ratio(self) -> float:
        return self.suspect_p99_ns / self.baseline_p99_ns if self.baseline_p99_ns else 0.0

    def growth(self) -> tuple[str, int, int, float]:
        """The quantile that grew more (a fault on every request moves the p50; on a few, only the p99)."""
        if self.p99_ratio > self.p50_ratio:
            return "p99", self.suspect_p99_ns, self.baseline_p99_ns, self.p99_ratio
        return "p50", self.suspect_p50_ns, self.baseline_p50_ns, self.p50_ratio


@dataclass(slots=True)
class Pushdown:
    """What Tempo computed over the whole window(s) instead of tracectl downloading every trace."""

    windows: list[WindowCount]
    scope: str  # the spanset every pushed-down query starts from
    compared: str  # what suspects and baseline are, in words
    queries: list[str] = field(default_factory=list)
    services: list[ServiceLatency] = field(default_factory=list)  # the most grown first
    attributes: list[CompareRow] = field(default_factory=list)  # most over-represented first

    def document(self) -> dict[str, Any]:  # fmt: skip
        return {
            "engine": "Tempo TraceQL metrics",
            "windows": [
                {
                    "start_ns": w.time.start_ns,
                    "end_ns": w.time.end_ns,
                    "traces_counted": w.counted,
                    "traces_fetched": w.fetched,
                    "max_traces": w.budget,
                    "count_query": w.query,
                }
                for w in self.windows
            ],
            "scope": self.scope,
            "compared": self.compared,
            "queries": self.queries,
            "services": [
                dataclasses.asdict(s) | {"p50_ratio": round(s.p50_ratio, 3), "p99_ratio": round(s.p99_ratio, 3)}
                for s in self.services
            ],
            "attributes": [
                {
                    "attribute": a.attribute,
                    "value": a.value,
                    "suspect_share": round(a.selection_share, 4),
                    "baseline_share": round(a.baseline_share, 4),
                    "suspect_spans": a.selection,
                    "baseline_spans": a.baseline,
                }
                for a in self.attributes
            ],
        }

    def lines(self) -> list[str]:
        """The evidence in two sentences for the terminal and the report."""
        from tracectl.units import format_duration

        counted = sum(w.counted for w in self.windows)
        fetched = sum(w.fetched for w in self.windows)
        out = [f"Pushed down to Tempo: {counted:,} traces counted, {fetched:,} fetched; {self.compared}."]
        if self.services:
            grown = [(*s.growth(), s.service) for s in self.services[:3]]
            shown = ", ".join(f"{name} {q} {format_duration(a)} vs {format_duration(b)} (×{r:.1f})"
                              for q, a, b, r, name in grown)  # fmt: skip
            out.append(f"Span latency by service: {shown}.")
        if self.attributes:
            shown = ", ".join(f"{a.attribute}={a.value} {a.selection_share:.0%} vs {a.baseline_share:.0%}"
                              for a in self.attributes[:3])  # fmt: skip
            out.append(f"Over-represented in suspects (compare()): {shown}.")
        return out


def fetch_window(session: Session, query: SearchQuery, warnings: list[str], over: list[WindowCount],
                 counts: InputCounts | None = None) -> list[Trace]:  # fmt: skip
    """The window's traces within the budget (``query.limit``); a window Tempo counts above it is sampled across
    its length and recorded in ``over``; what was analysed and skipped is added to ``counts``."""
    from tracectl.workflows.search import search

    backend = session.backend()
    first = backend.search(query)
    full = len(first.traces) >= query.limit and query.traceql is None
    if full and backend.name == "Jaeger":
        return _jaeger_sample(session, query, warnings, counts)
    slices = _count(session, query) if full else None
    counted = sum(n for _, n in slices or ())
    if slices is None or counted <= query.limit:
        found = search(session, query, first)
        warnings.extend(found.warnings)
        return _fetch(session, found.trace_ids, warnings, counts)
    ids = _sample(session, query, slices)
    traces = _fetch(session, ids, warnings, counts)
    over.append(WindowCount(query.time, counted, len(traces), query.limit, _count_query(query)))
    return traces


def _jaeger_sample(session: Session, query: SearchQuery, warnings: list[str],
                   counts: InputCounts | None) -> list[Trace]:  # fmt: skip
    """Jaeger can neither count nor aggregate: the budget, drawn evenly from ten slices of the window, and said."""
    from tracectl.timerange import TimeRange

    n, start, length = min(SLICES, query.limit), query.time.start_ns, query.time.duration_ns
    shares = [query.limit // n + (k < query.limit % n) for k in range(n)]
    parts = [(TimeRange(start + length * k // n, start + length * (k + 1) // n), shares[k]) for k in range(n)]
    ids = _draw(session, query, parts)
    traces = _fetch(session, ids, warnings, counts)
    _warn(session, warnings, f"Jaeger has no query engine to count or aggregate the window: it holds at least "
          f"{query.limit} traces, and the verdict rests on the {len(traces)} fetched, drawn across {n} slices "
          "of it; raise --max-traces to read more")  # fmt: skip
    return traces


def _ids(session: Session, query: SearchQuery, part: TimeRange, limit: int) -> list[str]:
    return [hit.trace_id for hit in session.backend().search(dataclasses.replace(query, time=part, limit=limit)).traces]


def _draw(session: Session, query: SearchQuery, parts: list[tuple[TimeRange, int]]) -> list[str]:
    """Up to ``query.limit`` trace IDs, each slice of the window giving its share. What some slices could not
    give (empty, partly outside the window, or traces found in two slices) is asked of the slices that gave their
    whole share, with one more search each."""
    found = [_ids(session, query, part, share) if share > 0 else [] for part, share in parts]

    def unique() -> list[str]:
        return list(dict.fromkeys(i for chunk in found for i in chunk))

    left = query.limit - len(unique())
    full = [k for k, (part, share) in enumerate(parts) if share > 0 and len(found[k]) >= share]
    for n, k in enumerate(full if left > 0 else ()):  # the shortfall, spread over the slices that had more
        extra = left * (n + 1) // len(full) - left * n // len(full)
        if extra:
            found[k] = _ids(session, query, parts[k][0], len(found[k]) + extra)
    return unique()[: query.limit]


def _warn(session: Session, warnings: list[str], message: str) -> None:
    warnings.append(message)
    session.warn(message)


def _fetch(session: Session, ids: list[str], warnings: list[str], counts: InputCounts | None) -> list[Trace]:
    from tracectl.workflows.sources import fetch_ids

    with session.progress(f"fetching {len(ids)} traces") as update:
        loaded = fetch_ids(session, ids, update)
    warnings.extend(loaded.warnings)
    if counts is not None:
        counts.add(loaded.counts)
    return loaded.traces


def _count_query(query: SearchQuery) -> str:
    from tracectl.backends.query import SearchQuery, build_traceql

    spanset = build_traceql(SearchQuery(query.time, query.service, query.operation, limit=query.limit))
    inner = spanset.removeprefix("{").removesuffix("}").strip()
    return f"{{ {inner + ' && ' if inner else ''}kind = server }} | count_over_time()"


def _count(session: Session, query: SearchQuery) -> list[tuple[TimeRange, int]] | None:
    """The window's requests (server spans of the search's spanset) per tenth of it, or None when the backend
    cannot count (Jaeger, Tempo before 2.6, an error: said)."""
    from tracectl.backends.tempo import TempoClient
    from tracectl.timerange import TimeRange

    client = session.backend()
    if not isinstance(client, TempoClient):
        return None
    version = client.version()
    if version is not None and version < (2, 6):  # no compare() either: fetch as before
        return None
    step = -(-query.time.duration_ns // (SLICES * 10**9)) * 10**9  # whole seconds
    # Tempo aligns the range to the step and a sample at T holds (T − step, T]: the end is taken up to a step's
    # boundary, else the last part of the window is not counted.
    aligned = TimeRange(query.time.start_ns, -(-query.time.end_ns // step) * step)
    try:
        result = client.metrics_query_range(_count_query(query), aligned, step)
    except TracectlError as exc:
        session.warn(f"Tempo could not count the window ({exc}): fetching the first {query.limit} traces")
        return None
    counts: dict[int, float] = {}
    for series in result.series:
        for end, value in series.samples:  # a sample at T holds (T − step, T]
            counts[end] = counts.get(end, 0.0) + value
    lo, hi = query.time.start_ns, query.time.end_ns
    inside = [(end, n) for end, n in sorted(counts.items()) if n > 0 and end - step < hi and end > lo]
    return [(TimeRange(max(end - step, lo), min(end, hi)), round(n)) for end, n in inside]


def _sample(session: Session, query: SearchQuery, slices: list[tuple[TimeRange, int]]) -> list[str]:
    """About ``query.limit`` trace IDs, each slice of the window giving its share of the budget (in proportion
    to its count) because a search returns the first traces it finds, not a random draw."""
    total = sum(n for _, n in slices)
    shares, taken = [], 0
    for part, n in slices:
        shares.append((part, query.limit * (taken + n) // total - query.limit * taken // total))
        taken += n
    return _draw(session, query, shares)


# -------------------------------------------------------------------------------------------- push-down


def push_down(session: Session, options: TriageOptions, query: SearchQuery, result: TriageResult,
              over: list[WindowCount]) -> Pushdown:  # fmt: skip
    """Ask Tempo for the span latency by service and the over-represented attributes over every trace in scope."""
    from collections import Counter

    from tracectl.backends.query import traceql_string
    from tracectl.timerange import go_duration

    client: TempoClient = session.backend()  # type: ignore[assignment]
    for w in over:
        _warn(session, result.warnings, f"the window holds about {w.counted:,} traces (Tempo's count), more than "
              f"--max-traces {w.budget}: fetched {w.fetched} of them, sampled across the window, for the critical "
              "paths and the verdict; pushed the span latency by service (quantile_over_time) and the attribute "
              "comparison (compare()) down to Tempo over all of them")  # fmt: skip
    roots = Counter(a.tree.spans[a.tree.roots[0]].service for a in result.analyses if a.tree.roots)
    scope = f"trace:rootService = {traceql_string(roots.most_common(1)[0][0])}" if roots else ""
    window = query.time
    if options.baseline_query is not None:  # the window against the baseline window
        suspect, baseline = (window, f"{{ {scope} }}"), (options.baseline_query.time, f"{{ {scope} }}")
        compared = "the window against the baseline window"
        selection = f"compare({{ }}, 10, {window.start_ns}, {window.end_ns})"
        compare_time = _span(options.baseline_query.time, window)
    else:
        threshold = options.slo_ns or _threshold(result, options.percentile)
        cut = go_duration(max(threshold // 10**6, 1) * 10**6)  # whole milliseconds: a readable query
        suspect = (window, f"{{ {scope} && trace:duration >= {cut} }}")
        baseline = (window, f"{{ {scope} && trace:duration < {cut} }}")
        compared = f"slow traces (≥ {cut}) against the rest"
        selection = f"compare({{ trace:duration >= {cut} }})"
        compare_time = window
        if result.mode == "errors":
            compared, selection = "failing spans against the rest", "compare({ status = error })"
    pushed = Pushdown(over, f"{{ {scope} }}", compared)
    if result.mode != "errors":
        pushed.services = _latency(client, pushed, suspect, baseline)
    pushed.attributes = _compare(session, client, pushed, f"{{ {scope} }} | {selection}", compare_time, result)
    return pushed


def _threshold(result: TriageResult, percentile: float) -> int:
    """The trace duration that made a trace a suspect in the sample (the fastest suspect)."""
    return min((a.tree.duration_ns for a in result.suspects), default=0) or round(
        sorted(a.tree.duration_ns for a in result.analyses)[int(len(result.analyses) * percentile / 100)]
    )


def _span(a: TimeRange, b: TimeRange) -> TimeRange:
    from tracectl.timerange import TimeRange

    return TimeRange(min(a.start_ns, b.start_ns), max(a.end_ns, b.end_ns))


def _quantiles(client: TempoClient, pushed: Pushdown, time: TimeRange, spanset: str) -> dict[str, dict[float, int]]:
    query = f"{spanset} | quantile_over_time(duration, .5, .99) by (resource.service.name)"
    pushed.queries.append(query)
    out: dict[str, dict[float, int]] = {}
    for s in client.metrics_query(query, time).series:
        service, p = s.labels.get("resource.service.name"), s.labels.get("p")
        if isinstance(service, str) and isinstance(p, float):
            out.setdefault(service, {})[p] = round(s.total() * 1e9)  # seconds on the wire
    return out


def _latency(client: TempoClient, pushed: Pushdown, suspect: tuple[TimeRange, str],
             baseline: tuple[TimeRange, str]) -> list[ServiceLatency]:  # fmt: skip
    slow, usual = _quantiles(client, pushed, *suspect), _quantiles(client, pushed, *baseline)
    rows = [
        ServiceLatency(name, q.get(0.5, 0), q.get(0.99, 0), usual.get(name, {}).get(0.5, 0),
                       usual.get(name, {}).get(0.99, 0))
        for name, q in slow.items()
    ]  # fmt: skip
    return sorted(rows, key=lambda r: (-r.growth()[3], r.service))


def _compare(session: Session, client: TempoClient, pushed: Pushdown, query: str, time: TimeRange,
             result: TriageResult) -> list[CompareRow]:  # fmt: skip
    from tracectl.backends.traceql_metrics import compare_rows

    if time.duration_ns > MAX_RANGE_NS:
        _warn(session, result.warnings, "compare() not pushed down: the windows span more than Tempo's 24 h limit")
        return []
    pushed.queries.append(query)
    try:
        rows, _ = compare_rows(client.metrics_query(query, time).series)
    except TracectlError as exc:  # e.g. an older Tempo's 400 in plain text: the latency evidence stands alone
        _warn(session, result.warnings, f"compare() not pushed down: {exc}")
        return []
    gained = [r for r in rows if r.value is not None and r.selection_share - r.baseline_share >= MIN_SHARE_GAIN]
    return gained[:TOP_ATTRIBUTES]
