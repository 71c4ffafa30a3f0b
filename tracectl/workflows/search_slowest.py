"""The slowest N traces of a window, from backends that return the first N matches they find.

Neither Tempo nor Jaeger sorts a search by duration: ``limit`` is "the first N found" (BACKENDS.md). So the
slowest are asked for: a search whose answer stays below its limit holds *every* match at or above its duration
bound, and when that is at least N traces, its N longest are the window's N longest. The bound is found by
bisection on the duration filter (``trace:duration >= d`` on Tempo, ``query.duration_min`` on Jaeger):

- a full page at ``d`` (the server stopped at the limit) proves at least N matches at or above the N-th longest
  trace seen so far: the lower end ``lo`` rises to it;
- a complete page with fewer than N proves that every match at or above ``d`` is known: the upper end ``hi``;
- the next ``d`` is a guess between them: on Tempo, the quantiles of the window's span durations (one TraceQL
  metrics request, ``quantile_over_time(duration, .9, .99, .999)``; only a guess, the searches decide), then the
  geometric middle of ``lo`` and ``hi`` (or the longest trace seen, while ``hi`` is unknown).

At most ``MAX_REQUESTS`` requests in all. When they run out first, the list is the N longest traces seen, and
``SearchMethod.exact`` is False and says so. Jaeger filters durations on the service's spans (not on the
trace): the bound is that of the service's longest span, which for the root service is the trace's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from tracectl.backends.query import SearchQuery, SearchResult, TraceSummary, build_traceql, slowest_first
from tracectl.errors import TracectlError
from tracectl.units import format_duration

if TYPE_CHECKING:
    from tracectl.backends import Backend

MAX_REQUESTS = 8  # every request the list costs: the first search, the metrics guess (Tempo), the refinements
QUANTILES = (0.9, 0.99, 0.999)
ORDERS = ("slowest", "recent")


@dataclass(frozen=True, slots=True)
class SearchMethod:
    """How a search's list was made: which order, whether it is provably that order, and at what cost."""

    order: str  # slowest | recent | found (the backend's first matches, sorted slowest first)
    exact: bool  # the list is the window's N slowest (newest: as the backend returns them) at its resolution
    searches: int  # search requests
    metrics_requests: int = 0  # TraceQL metrics requests (Tempo's starting guess)
    bound_ns: int | None = None  # the duration bound of the search whose complete answer holds the list
    note: str = ""  # one sentence for the user

    @property
    def requests(self) -> int:
        return self.searches + self.metrics_requests

    def document(self) -> dict[str, Any]:
        return {
            "order": self.order, "exact": self.exact, "requests": self.requests, "searches": self.searches,
            "metrics_requests": self.metrics_requests, "bound_ns": self.bound_ns, "note": self.note,
        }  # fmt: skip


def page_size(limit: int) -> int:
    """The limit of a refining search: room above the N asked for, so that one complete page can hold them."""
    return max(3 * limit, limit + 20)


def find_slowest(backend: Backend, q: SearchQuery) -> tuple[SearchResult, SearchMethod]:
    """The ``q.limit`` longest matching traces of the window, slowest first, and how they were found."""
    n = q.limit
    first = backend.search(q)
    if first.complete or q.traceql is not None:
        return _single(backend, q, first)
    seen = {t.trace_id: t for t in first.traces}
    floor = q.min_duration_ns or 0
    lo, hi = _nth_longest(seen, n, floor), None  # ≥ n matches from lo up; every match from hi up is known
    ladder, metrics_requests, guess_note = _quantile_guess(backend, q)
    searches, tried, bound = 1, set(), None
    precision = max((t.duration_precision_ns for t in first.traces), default=1)
    ladder = sorted({v - v % precision for v in ladder})  # the server filters at its resolution
    while searches + metrics_requests < MAX_REQUESTS:
        d = _next_bound(lo, hi, ladder, max(t.duration_ns for t in seen.values()), precision)
        if d is None or d in tried or searches + metrics_requests == MAX_REQUESTS - 1:
            # Stuck, or the last request: from the N-th longest seen, which holds the N slowest whenever fewer
            # than a page of traces are that long (a window of not many more than N traces).
            d = lo if lo not in tried else None
        if d is None:
            break
        tried.add(d)
        page = backend.search(replace(q, min_duration_ns=max(d, floor) or None, limit=page_size(n)))
        searches += 1
        for t in page.traces:
            seen[t.trace_id] = t
        if page.complete and len(page.traces) >= n:
            bound = d
            break
        if page.complete:
            hi = d
        else:
            lo = max(lo, _nth_longest(seen, n, floor))
    ranked = slowest_first(seen.values())[:n]
    result = SearchResult(first.backend, first.query, ranked, complete=False)
    how = (f"{backend.name} returns the first matches it finds, not the slowest: "
           + (guess_note + ", then " if guess_note else ""))  # fmt: skip
    cost = f"{searches + metrics_requests} requests ({searches} searches" + (
        f", {metrics_requests} TraceQL metrics)" if metrics_requests else ")"
    )
    per_span = f" (Jaeger bounds the durations of {q.service} spans, not of traces)" if backend.name == "Jaeger" else ""
    if bound is not None:
        note = (f"slowest {len(ranked)}: {how}searched for traces of at least {format_duration(bound, precision)}"
                f"{per_span}, and all of them came back; {cost}")  # fmt: skip
        return result, SearchMethod("slowest", True, searches, metrics_requests, bound, note)
    note = (
        f"the {len(ranked)} slowest of the {len(seen)} traces seen, perhaps not the window's slowest: {how}"
        f"{cost} did not narrow it down to one complete answer{per_span}; narrow --since or add --min-duration"
    )
    result.warnings.append(note)
    return result, SearchMethod("slowest", False, searches, metrics_requests, None, note)


def _single(backend: Backend, q: SearchQuery, first: SearchResult) -> tuple[SearchResult, SearchMethod]:
    """One search was enough (every match came back), or is all a raw TraceQL query can get."""
    first.limit_said = True
    if first.complete:
        note = f"slowest first: all {len(first.traces)} matches of the window came back in 1 search"
        return first, SearchMethod("slowest", True, 1, note=note)
    note = (f"the {len(first.traces)} first matches {backend.name} found, slowest first, perhaps not the window's "
            "slowest: a duration bound cannot be added to a raw --traceql query; add `trace:duration > …` to it "
            "to look among slower traces")  # fmt: skip
    first.warnings = first.warnings or [note]  # the backend's own warning already says how it was cut
    return first, SearchMethod("slowest", False, 1, note=note)


def find_recent(backend: Backend, q: SearchQuery) -> tuple[SearchResult, SearchMethod]:
    """The backend's first ``q.limit`` matches, newest first."""
    result = backend.search(q)
    result.traces.sort(key=lambda t: (-t.start_ns, t.trace_id))
    result.limit_said = True
    if result.complete:
        note = f"newest first: all {len(result.traces)} matches of the window came back in 1 search"
    else:
        note = (f"newest first: the first {len(result.traces)} matches {result.backend} found (it returns the first "
                "it finds, not the newest): there are more; narrow --since to see the latest")  # fmt: skip
    if not result.complete and not result.warnings:  # the backend's own warnings already say it was cut
        result.warnings = [note]
    return result, SearchMethod("recent", result.complete, 1, note=note)


def _nth_longest(seen: dict[str, TraceSummary], n: int, floor: int) -> int:
    durations = sorted((t.duration_ns for t in seen.values()), reverse=True)
    return durations[n - 1] if len(durations) >= n else floor


def _next_bound(lo: int, hi: int | None, ladder: list[int], longest: int, precision: int) -> int | None:
    """The next duration to search from: a quantile between the ends, else their geometric middle, else (no upper
    end yet) the longest trace seen; None when the ends are within a tenth (or the server's resolution) of each
    other."""
    between = [v for v in ladder if v > lo and (hi is None or v < hi)]
    if between:
        return between[len(between) // 2]
    if hi is None:
        return longest if longest > lo else lo + precision
    if hi - lo <= max(precision, lo // 10):  # close: the N-th longest seen is the better bound (the caller's)
        return None
    middle = math.isqrt(lo * hi) if lo > 0 else hi // 2
    middle = max(middle - middle % precision, lo + precision)  # the server filters at its resolution
    return middle if lo < middle < hi else None


def _quantile_guess(backend: Backend, q: SearchQuery) -> tuple[list[int], int, str]:
    """Tempo: quantiles of the matching spans' durations over the window (one instant TraceQL metrics request),
    as starting points; ([], 0, "") elsewhere, or ([], 1, why) when Tempo could not answer."""
    metrics_query = getattr(backend, "metrics_query", None)
    version = getattr(backend, "version", lambda: None)()
    if metrics_query is None or (version is not None and version < (2, 6)):
        return [], 0, ""
    spans = build_traceql(replace(q, errors=False, min_duration_ns=None, max_duration_ns=None))
    query = f"{spans} | quantile_over_time(duration, {', '.join(f'{p:g}' for p in QUANTILES)})"
    try:
        answer = metrics_query(query, q.time)
    except TracectlError as exc:
        return [], 1, f"the quantile guess failed ({exc})"
    values = sorted({round(s.value * 1e9) for s in answer.series if s.value is not None and 0 < s.value < math.inf})
    if not values:
        return [], 1, "the window's duration quantiles were empty"
    shown = ", ".join(format_duration(v) for v in values)
    return values, 1, f"the window's span duration quantiles ({shown}) gave starting bounds"
