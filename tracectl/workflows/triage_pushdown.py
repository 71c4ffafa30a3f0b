"""Fleet scale: when a window holds more traces than the fetch budget (``--max-traces``), triage asks Tempo's query
engine for what it would otherwise compute from every trace, and fetches only a sample.

1. The search asks for the budget. A full page is the hint that there may be more; Tempo then counts the window's
   requests per tenth of it: ``{ <the search's spanset> && kind = server } | count_over_time()`` over the whole
   steps inside the window, and an instant query each for the parts before the first and after the last step
   boundary (Tempo answers whole steps only, and trims a range's end to now − ``query_end_cutoff`` aligned to the
   left: the newest minutes would be neither counted nor sampled). The newest 30 s, which no metrics query
   answers, are searched directly.
2. More than the budget: the sample is re-drawn across the window (a search per tenth, for its share of the budget
   in proportion to its count) because a search returns the first traces it finds, not a random draw; the sample
   feeds the critical paths, the split and the verdict as before.
3. The aggregation is pushed down over the traces rooted where the sample's traces are (``trace:rootService``):
   span latency per service, ``quantile_over_time(duration, .5, .99) by (resource.service.name)``, suspects against
   baseline (slow traces against the rest, or the window against the baseline window), and ``compare()`` for the
   attributes over-represented in the suspects. Its numbers are evidence beside the verdict. Slow traces are those
   at least as long as Tempo's quantile of the window's request durations (``--percentile``), not the sample's.
   Tempo's quantiles are interpolated inside power-of-two buckets: services are ranked on the p50 ratio and the
   fetched sample's exact p99 ratio, and on Tempo's p99 ratio only when it clears the buckets' widths (×4).
   ``compare()`` keeps the topN values of each attribute and may cut the rest silently: a value absent from a side
   whose answer is not complete is unknown, and never reported as over-represented; topN is raised to 100 when a
   cut value could have been reported.

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
    from tracectl.backends.traceql_metrics import CompareAnswer, CompareRow
    from tracectl.model import Trace
    from tracectl.timerange import TimeRange
    from tracectl.workflows.session import Session
    from tracectl.workflows.sources import InputCounts
    from tracectl.workflows.triage import TriageOptions, TriageResult

SLICES = 10  # the sample is drawn from this many slices of the window
PIECES, PIECE_SHARE = 8, 3  # a slice whose share is above PIECE_SHARE traces is drawn from up to PIECES pieces
QUANTILES = (0.5, 0.99)
TOP_ATTRIBUTES = 5  # over-represented attribute values kept as evidence
MIN_SHARE_GAIN = 0.1  # … when their share among suspect spans exceeds the baseline's by at least this
MAX_RANGE_NS = 24 * 3600 * 10**9  # query_frontend.metrics.max_duration (Tempo 3.0)
QUERY_END_CUTOFF_NS = 30 * 10**9  # query_frontend.query_end_cutoff (Tempo 3.0's default): no query sees newer data
# Tempo's quantiles are interpolated inside power-of-two buckets: each may be off by up to the bucket's width (×2),
# so the ratio of two of them shows growth only beyond ×2 each way.
RESOLVED_RATIO = 4.0
COMPARE_TOP_N = (10, 100)  # compare()'s topN, then the topN asked again when a value it cut could be reported


@dataclass(frozen=True, slots=True)
class CountedPart:
    """A part of a window and the requests Tempo counted in it, and how: ``step`` (query_range per step),
    ``instant`` (the part before the first or after the last step boundary) or ``search`` (the newest part, past
    Tempo's query_end_cutoff: the search's hits)."""

    time: TimeRange
    count: int
    how: str


@dataclass(slots=True)
class WindowCount:
    """A window that held more traces than the budget: how many Tempo counted, how many were fetched."""

    time: TimeRange
    counted: int
    fetched: int
    budget: int
    query: str
    parts: list[CountedPart] = field(default_factory=list)

    def counted_by(self) -> dict[str, int]:
        """Requests counted per way of counting (step, instant, search)."""
        out: dict[str, int] = {}
        for p in self.parts:
            out[p.how] = out.get(p.how, 0) + p.count
        return out


@dataclass(frozen=True, slots=True)
class ServiceLatency:
    """A service's span latency (ns) as Tempo computed it over every suspect and baseline span (interpolated in
    power-of-two buckets), and the fetched sample's exact p99 ratio (None: too few spans on a side)."""

    service: str
    suspect_p50_ns: int
    suspect_p99_ns: int
    baseline_p50_ns: int
    baseline_p99_ns: int
    sample_p99_ratio: float | None = None

    @property
    def p50_ratio(self) -> float:
        return self.suspect_p50_ns / self.baseline_p50_ns if self.baseline_p50_ns else 0.0

    @property
    def p99_ratio(self) -> float:
        return self.suspect_p99_ns / self.baseline_p99_ns if self.baseline_p99_ns else 0.0

    @property
    def p99_resolved(self) -> bool:
        """Tempo's p99 ratio clears the buckets' widths: it is growth, not where the interpolation fell."""
        return self.p99_ratio > RESOLVED_RATIO

    def rank_ratio(self) -> float:
        """What the ranking rests on: the p50 ratio and the sample's exact p99 ratio. Tempo's p99 ratios of two
        services within a bucket's width of each other do not order them, so one counts only for a service the
        sample has too few spans of, and only when resolved."""
        tail = self.sample_p99_ratio
        if tail is None:
            tail = self.p99_ratio if self.p99_resolved else 0.0
        return max(self.p50_ratio, tail)

    def growth(self) -> tuple[str, int, int, float]:
        """The quantile that grew more (a fault on every request moves the p50; on a few, only the p99), the p99
        only when its growth is more than a bucket's width."""
        if self.p99_resolved and self.p99_ratio > self.p50_ratio:
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
    threshold: str | None = None  # how the slow threshold was set, in words
    unknown: list[str] = field(default_factory=list)  # compare() attributes whose answer Tempo cut at topN

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
                    "counted_by": w.counted_by(),
                    "parts": [
                        {"start_ns": p.time.start_ns, "end_ns": p.time.end_ns, "traces": p.count, "counted_by": p.how}
                        for p in w.parts
                    ],
                }
                for w in self.windows
            ],
            "scope": self.scope,
            "compared": self.compared,
            "threshold": self.threshold,
            "queries": self.queries,
            "quantiles": "Tempo's, interpolated in power-of-two buckets",
            "services": [
                dataclasses.asdict(s)
                | {
                    "p50_ratio": round(s.p50_ratio, 3),
                    "p99_ratio": round(s.p99_ratio, 3),
                    "p99_resolved": s.p99_resolved,
                    "rank_ratio": round(s.rank_ratio(), 3),
                }
                for s in self.services
            ],
            "attributes_unknown": self.unknown,
            "attributes": [
                {
                    "attribute": a.attribute,
                    "value": a.value,
                    "suspect_share": round(a.selection_share or 0.0, 4),
                    "baseline_share": round(a.baseline_share or 0.0, 4),
                    "suspect_spans": a.selection,
                    "baseline_spans": a.baseline,
                }
                for a in self.attributes
            ],
        }

    def lines(self) -> list[str]:
        """The evidence in a few sentences for the terminal and the report."""
        from tracectl.units import format_duration

        counted = sum(w.counted for w in self.windows)
        fetched = sum(w.fetched for w in self.windows)
        out = [f"Pushed down to Tempo: {counted:,} traces counted, {fetched:,} fetched; {self.compared}."]
        how: dict[str, int] = {}
        for w in self.windows:
            for k, n in w.counted_by().items():
                how[k] = how.get(k, 0) + n
        words = {
            "step": "per step (query_range)",
            "instant": "before the first and after the last step boundary (instant queries)",
            "search": "in the newest 30 s, past Tempo's query_end_cutoff (searched)",
        }
        if len(how) > 1 or "step" not in how:
            out.append("Counted: " + ", ".join(f"{n:,} {words[k]}" for k, n in how.items()) + ".")
        if self.threshold:
            out.append(f"Slow threshold: {self.threshold}.")
        if self.services:
            grown = [(*s.growth(), s.service) for s in self.services[:3]]
            shown = ", ".join(f"{name} {q} ≈ {format_duration(a)} vs ≈ {format_duration(b)} (×{r:.1f})"
                              for q, a, b, r, name in grown)  # fmt: skip
            out.append(f"Span latency by service (Tempo's quantiles, log2 buckets): {shown}.")
        if self.attributes:
            shown = ", ".join(f"{a.attribute}={a.value} {a.selection_share or 0:.0%} vs {a.baseline_share or 0:.0%}"
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
    parts = _count(session, query) if full else None
    counted = sum(p.count for p in parts or ())
    if parts is None or counted <= query.limit:
        found = search(session, query, first)
        warnings.extend(found.warnings)
        return _fetch(session, found.trace_ids, warnings, counts)
    ids = _sample(session, query, [(p.time, p.count) for p in parts if p.count > 0])
    traces = _fetch(session, ids, warnings, counts)
    over.append(WindowCount(query.time, counted, len(traces), query.limit, _count_query(query), parts))
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


def _requests(query: SearchQuery) -> str:
    """The window's requests: the server spans of the search's spanset."""
    from tracectl.backends.query import SearchQuery, build_traceql

    spanset = build_traceql(SearchQuery(query.time, query.service, query.operation, limit=query.limit))
    inner = spanset.removeprefix("{").removesuffix("}").strip()
    return f"{{ {inner + ' && ' if inner else ''}kind = server }}"


def _count_query(query: SearchQuery) -> str:
    return f"{_requests(query)} | count_over_time()"


def _count(session: Session, query: SearchQuery) -> list[CountedPart] | None:
    """The window's requests (server spans of the search's spanset) per tenth of it, clipped to the window, or None
    when the backend cannot count (Jaeger, Tempo before 2.6, an error: said).

    Tempo answers whole steps ``(T − step, T]`` from the start aligned down, and trims a range's end to now −
    ``query_end_cutoff`` aligned to the left (``metrics_query_range_handler.go``): asked of the whole window, the
    first and last buckets would be counted whole, or the newest not at all. So the range covers the whole steps
    within the window up to that horizon, an instant query each counts the parts before the first and after the
    last step boundary, and the newest 30 s (which no metrics query answers) are searched."""
    import time as clock

    from tracectl.backends.tempo import TempoClient
    from tracectl.timerange import TimeRange

    client = session.backend()
    if not isinstance(client, TempoClient):
        return None
    version = client.version()
    if version is not None and version < (2, 6):  # no compare() either: fetch as before
        return None
    step = -(-query.time.duration_ns // (SLICES * 10**9)) * 10**9  # whole seconds
    lo, hi = query.time.start_ns, query.time.end_ns
    horizon = max(lo, min(hi, (clock.time_ns() - QUERY_END_CUTOFF_NS) // 10**9 * 10**9))  # whole seconds
    q = _count_query(query)
    parts: list[CountedPart] = []
    try:
        first, last = -(-lo // step) * step, horizon // step * step
        if first < last:  # the steps first: a Tempo without TraceQL metrics fails there, as before
            steps = _step_counts(client, q, TimeRange(first, last), step)
            parts += _instant_count(client, q, TimeRange(lo, first)) + steps
            parts += _instant_count(client, q, TimeRange(last, horizon))
        else:
            parts += _instant_count(client, q, TimeRange(lo, horizon))
        if horizon < hi:
            newest = TimeRange(horizon, hi)
            hits = client.search(dataclasses.replace(query, time=newest)).traces
            parts.append(CountedPart(newest, sum(horizon <= h.start_ns <= hi for h in hits), "search"))
    except TracectlError as exc:
        session.warn(f"Tempo could not count the window ({exc}): fetching the first {query.limit} traces")
        return None
    return parts


def _instant_count(client: TempoClient, q: str, part: TimeRange) -> list[CountedPart]:
    if part.end_ns <= part.start_ns:
        return []
    n = sum(s.total() for s in client.metrics_query(q, part).series)
    return [CountedPart(part, round(n), "instant")]


def _step_counts(client: TempoClient, q: str, span: TimeRange, step: int) -> list[CountedPart]:
    """Whole steps from ``span.start`` to ``span.end`` (both on a step boundary); a step Tempo did not answer
    (a clock ahead of ours moved its cutoff) is counted with an instant query."""
    from tracectl.timerange import TimeRange

    counts: dict[int, float] = {}
    for series in client.metrics_query_range(q, span, step).series:
        for end, value in series.samples:  # a sample at T holds (T − step, T]
            if span.start_ns < end <= span.end_ns:
                counts[end] = counts.get(end, 0.0) + value
    parts = [CountedPart(TimeRange(end - step, end), round(n), "step") for end, n in sorted(counts.items())]
    answered = max(counts, default=span.end_ns)
    return parts + (_instant_count(client, q, TimeRange(answered, span.end_ns)) if answered < span.end_ns else [])


def _sample(session: Session, query: SearchQuery, slices: list[tuple[TimeRange, int]]) -> list[str]:
    """About ``query.limit`` trace IDs, each slice of the window giving its share of the budget (in proportion
    to its count) because a search returns the first traces it finds, not a random draw."""
    from tracectl.timerange import TimeRange

    total = sum(n for _, n in slices)
    shares, taken = [], 0
    for part, n in slices:
        share = query.limit * (taken + n) // total - query.limit * taken // total
        taken += n
        # a search returns a slice's first traces: a large share is drawn from pieces of it (a fault that began
        # late in a slice would otherwise be missed)
        k, start, length = max(1, min(PIECES, -(-share // PIECE_SHARE))), part.start_ns, part.duration_ns
        shares += [(TimeRange(start + length * i // k, start + length * (i + 1) // k),
                    share * (i + 1) // k - share * i // k) for i in range(k)]  # fmt: skip
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
    said = None
    if options.baseline_query is not None:  # the window against the baseline window
        suspect, baseline = (window, f"{{ {scope} }}"), (options.baseline_query.time, f"{{ {scope} }}")
        compared = "the window against the baseline window"
        selection, extra = "{ }", f", {window.start_ns}, {window.end_ns}"
        compare_time = _span(options.baseline_query.time, window)
        sample = (result.analyses, result.baseline)
    else:
        threshold, median, said = _threshold(session, client, query, result, options)
        slow_ns, fast_ns = (max(t // 10**6, 1) * 10**6 for t in (threshold, median))  # whole ms: a readable query
        cut, fast = go_duration(slow_ns), go_duration(fast_ns)
        suspect = (window, f"{{ {scope} && trace:duration >= {cut} }}")
        baseline = (window, f"{{ {scope} && trace:duration < {fast} }}")
        compared = f"slow traces (≥ {cut}) against " + (f"those under {fast}" if fast != cut else "the rest")
        selection, extra = f"{{ trace:duration >= {cut} }}", ""
        compare_time = window
        sample = ([a for a in result.analyses if a.tree.duration_ns >= slow_ns],
                  [a for a in result.analyses if a.tree.duration_ns < fast_ns])  # fmt: skip
        if result.mode == "errors":
            compared, selection, said = "failing spans against the rest", "{ status = error }", None
    pushed = Pushdown(over, f"{{ {scope} }}", compared, threshold=said)
    if result.mode != "errors":
        pushed.services = _latency(client, pushed, suspect, baseline, sample)
    pushed.attributes = _compare(session, client, pushed, (f"{{ {scope} }}", selection, extra), compare_time, result)
    return pushed


def _threshold(session: Session, client: TempoClient, query: SearchQuery, result: TriageResult,
               options: TriageOptions) -> tuple[int, int, str]:  # fmt: skip
    """From which trace duration a trace is slow, under which it is the baseline, and how they were set: --slo
    (both); else Tempo's quantiles (--percentile, the median) of the window's request durations, stable unlike
    the traces a search happens to return first (a baseline under the median keeps the slow-ish traces between
    the two out of it, as the verdict's split does); else the fetched sample's."""
    from tracectl.units import format_duration

    if options.slo_ns:
        return options.slo_ns, options.slo_ns, "--slo"
    qs = sorted({0.5, options.percentile / 100})
    q = f"{_requests(query)} | quantile_over_time(duration, {', '.join(f'{x:g}'.removeprefix('0') for x in qs)})"
    found: dict[float, float] = {}
    if result.mode != "errors":
        try:
            for s in client.metrics_query(q, query.time).series:
                p = s.labels.get("p")
                if isinstance(p, float) and s.total() > 0:
                    found[round(p, 6)] = s.total()
        except TracectlError as exc:
            _warn(session, result.warnings, f"Tempo could not give the window's p{options.percentile:g} ({exc}): "
                  "the slow threshold is the fetched sample's")  # fmt: skip
    slow, median = found.get(round(qs[-1], 6)), found.get(0.5)
    if slow is not None and median is not None:
        ns, mid = round(slow * 1e9), round(median * 1e9)
        return ns, mid, (f"Tempo's p{options.percentile:g} ≈ {format_duration(ns)} and p50 ≈ {format_duration(mid)} "
                         f"of the window's request durations (log2 buckets): {q}")  # fmt: skip
    ordered = sorted(a.tree.duration_ns for a in result.analyses)
    sampled = (
        min((a.tree.duration_ns for a in result.suspects), default=0)
        or ordered[int(len(ordered) * options.percentile / 100)]
    )
    return sampled, ordered[len(ordered) // 2], f"the fetched sample's p{options.percentile:g} and median"


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


def _sample_p99(analyses: list[Any]) -> dict[str, int]:
    """Each service's exact p99 span duration in the fetched traces (services with at least 5 spans)."""
    spans: dict[str, list[int]] = {}
    for a in analyses:
        for span in a.tree.spans:
            spans.setdefault(span.service, []).append(span.end_ns - span.start_ns)
    return {name: sorted(d)[min(len(d) - 1, -(-len(d) * 99 // 100) - 1)] for name, d in spans.items() if len(d) >= 5}


def _latency(client: TempoClient, pushed: Pushdown, suspect: tuple[TimeRange, str], baseline: tuple[TimeRange, str],
             sample: tuple[list[Any], list[Any]]) -> list[ServiceLatency]:  # fmt: skip
    slow, usual = _quantiles(client, pushed, *suspect), _quantiles(client, pushed, *baseline)
    exact_slow, exact_usual = _sample_p99(sample[0]), _sample_p99(sample[1])

    def exact(name: str) -> float | None:
        a, b = exact_slow.get(name), exact_usual.get(name)
        return a / b if a is not None and b else None

    rows = [
        ServiceLatency(name, q.get(0.5, 0), q.get(0.99, 0), usual.get(name, {}).get(0.5, 0),
                       usual.get(name, {}).get(0.99, 0), exact(name))
        for name, q in slow.items()
    ]  # fmt: skip
    return sorted(rows, key=lambda r: (-r.rank_ratio(), r.service))


def _compare(session: Session, client: TempoClient, pushed: Pushdown, parts: tuple[str, str, str], time: TimeRange,
             result: TriageResult) -> list[CompareRow]:  # fmt: skip
    """``<scope> | compare(<selection>[, topN]<extra>)``: asked again with a larger topN when the suspects' values
    of an attribute were cut; a value whose share on a side is unknown is never reported."""
    from tracectl.backends.traceql_metrics import compare_answer

    if time.duration_ns > MAX_RANGE_NS:
        _warn(session, result.warnings, "compare() not pushed down: the windows span more than Tempo's 24 h limit")
        return []
    scope, selection, extra = parts
    answer: CompareAnswer | None = None
    for n, top in enumerate(COMPARE_TOP_N):
        shown = f", {top}" if extra or n else ""  # Tempo's default topN (10) is not spelled out
        query = f"{scope} | compare({selection}{shown}{extra})"
        pushed.queries.append(query)
        try:
            answer = compare_answer(client.metrics_query(query, time).series, top)
        except TracectlError as exc:  # e.g. an older Tempo's 400 in plain text: the latency evidence stands alone
            _warn(session, result.warnings, f"compare() not pushed down: {exc}")
            break
        if not _worth_more(answer):
            break
    return [] if answer is None else _gained(pushed, answer)


def _worth_more(answer: CompareAnswer) -> bool:
    """Whether a larger topN could change what is reported: a value cut from the suspects' side could hold
    MIN_SHARE_GAIN of them (the values cut are smaller than the smallest that came back), or a value that holds
    that much of the suspects has an unknown baseline."""
    if any(share >= MIN_SHARE_GAIN for share in answer.cut_share.values()):
        return True
    return any(r.baseline is None and (r.selection_share or 0.0) >= MIN_SHARE_GAIN for r in answer.rows)


def _gained(pushed: Pushdown, answer: CompareAnswer) -> list[CompareRow]:
    pushed.unknown = answer.truncated
    gained = [r for r in answer.rows if r.value is not None and (r.gain() or 0.0) >= MIN_SHARE_GAIN]
    return gained[:TOP_ATTRIBUTES]
