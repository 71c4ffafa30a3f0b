"""The TraceQL metrics subset the sandbox's Tempo answers on ``/api/metrics/query_range`` and ``/api/metrics/query``
(instant): a spanset filter piped into ``rate()``, ``count_over_time()``, ``quantile_over_time(duration, q[, q…])``
(each optionally ``by (attr, …)``) or ``compare({selection}[, topN[, startNs, endNs]])``, as Tempo 3.0.3 shapes
its answer (``../shared/samples/tempo3``): samples at the end of each step ``(T − step, T]`` from the start
aligned down to the step, ``timestampMs`` as a string, no ``value`` where it is 0, labels ``__name__="rate"``
(ungrouped), one label per ``by`` attribute (intrinsics under their legacy unscoped names, a missing attribute as
``"nil"``), ``p=<q>`` for quantiles, ``__meta_type`` for ``compare()`` (``sandbox/tempo_compare.py``). An instant
query is one step over the whole range, each series with a ``value`` and no samples.

As Tempo 3.0.3 (``modules/frontend/metrics_query_range_handler.go``, ``pipeline/async_adjust_start_end.go``,
``pkg/traceql/engine_metrics.go``): a range query's start is aligned down and its end up to the step, then an end
past now − ``query_end_cutoff`` (30 s) is cut there and aligned to the LEFT, so the last, partial step is absent;
an instant query's end is cut to now − 30 s, unaligned. A span counts in the bucket of its start time. Quantiles
are Tempo's: durations counted in power-of-two buckets (``Log2Bucketize``), the quantile interpolated
exponentially inside the bucket it falls in (``Log2Quantile``), so a p99 may be off by up to a factor of two.
Anything else is a 400 in Tempo's plain-text words.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tracectl.model import Span
from tracectl.sandbox import traceql
from tracectl.sandbox.apis import BadRequest, Params, Reply, json_reply, text_reply
from tracectl.sandbox.store import Store, Summary
from tracectl.sandbox.tempo_compare import compare_series, parse_compare
from tracectl.units import parse_duration

_PIPELINE = re.compile(
    r"^\s*(?P<filter>\{.*?\})\s*\|\s*(?P<fn>rate|count_over_time|quantile_over_time|compare)\s*"
    r"\((?P<args>[^()]*)\)\s*(?:by\s*\((?P<by>[^()]*)\))?\s*$"
)
_NAMES = {"rate": "rate", "count": "count_over_time", "quantile": "quantile_over_time"}
QUERY_END_CUTOFF_NS = 30 * 10**9  # query_frontend.query_end_cutoff (Tempo 3.0 default)
QUERY_BACKEND_AFTER_NS = 15 * 60 * 10**9  # the start an instant query gets when the cutoff passes its start
MAX_POINTS = 1000  # query_frontend.metrics.max_intervals... Tempo's default step keeps a range near 1000 points
# Intrinsics as Tempo names them in labels (BACKENDS-2026.md §2.6), with how the sandbox reads them.
_SPAN_INTRINSICS: dict[str, Callable[[Span, Summary], Any]] = {
    "name": lambda s, _: s.name,
    "status": lambda s, _: s.status.name.lower(),
    "kind": lambda s, _: s.kind.label,
}
_INTRINSICS: dict[str, tuple[str, Callable[[Span, Summary], Any]]] = {
    **{k: (k, read) for k, read in _SPAN_INTRINSICS.items()},
    **{f"span:{k}": (k, read) for k, read in _SPAN_INTRINSICS.items()},
    "trace:rootService": ("rootServiceName", lambda _, t: t.root_service),
    "trace:rootName": ("rootName", lambda _, t: t.root_name),
}


def bad(message: str) -> BadRequest:
    return BadRequest(text_reply(400, message))


@dataclass(slots=True)
class Plan:
    query: traceql.Query
    fn: str  # rate | count | quantile | compare
    quantiles: list[float] = field(default_factory=list)
    by: list[str] = field(default_factory=list)
    compare: Any = None  # tempo_compare.Compare


def _parse(q: str) -> Plan:
    match = _PIPELINE.match(q)
    if match is None:
        raise bad(f"invalid TraceQL query: outside the sandbox's TraceQL metrics subset: {q}")
    try:
        query = traceql.parse(match["filter"])
    except traceql.TraceQLError as exc:
        raise bad(str(exc)) from None
    by = [a.strip() for a in (match["by"] or "").split(",") if a.strip()]
    for attr in by:
        if attr not in _INTRINSICS and not attr.startswith(("resource.", "span.", ".")):
            raise bad(f"invalid TraceQL query: by({attr}) is outside the sandbox's subset")
    if match["fn"] == "compare":
        if by:
            raise bad("compare() cannot be grouped: by() is not allowed")
        return Plan(query, "compare", compare=parse_compare(match["args"]))
    args = [a.strip() for a in match["args"].split(",") if a.strip()]
    if match["fn"] in ("rate", "count_over_time"):
        if args:
            raise bad(f"invalid TraceQL query: {match['fn']}() takes no arguments")
        return Plan(query, "rate" if match["fn"] == "rate" else "count", by=by)
    if not args or args[0] not in ("duration", "span:duration") or len(args) < 2:
        raise bad("invalid TraceQL query: quantile_over_time(duration, q, …) is the sandbox's only quantile form")
    try:
        return Plan(query, "quantile", [float(a) for a in args[1:]], by)
    except ValueError:
        raise bad(f"invalid TraceQL query: {args[1:]} are not numbers") from None


def label(key: str, value: Any) -> dict[str, Any]:
    """A typed label as Tempo writes it; a missing attribute is the string ``"nil"``."""
    if value is None:
        return {"key": key, "value": {"stringValue": "nil"}}
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": str(value)}}


def group_value(attr: str, span: Span, summary: Summary) -> tuple[str, Any]:
    """(label key, value) of a ``by`` attribute for one span."""
    if attr in _INTRINSICS:
        key, read = _INTRINSICS[attr]
        return key, read(span, summary)
    scope, _, name = attr.partition(".")
    found = traceql.attribute(span, scope or "any", name)
    return attr, found if isinstance(found, str | bool | int | float) else None


def log2_bucket(duration_ns: int) -> float:
    """Tempo's ``Log2Bucketize``: the power of two at or above the value (the bucket's upper bound), -1 below 2."""
    return -1.0 if duration_ns < 2 else float(1 << (duration_ns - 1).bit_length())


def log2_quantile(durations_ns: list[int], q: float) -> float:
    """Tempo's ``Log2Quantile`` over the durations' power-of-two buckets, in seconds: the bucket holding the
    ⌈q·n⌉-th value, interpolated exponentially between the previous (non-empty) bucket's bound and its own."""
    counts: dict[float, int] = {}
    for d in durations_ns:
        bound = log2_bucket(d)
        counts[bound] = counts.get(bound, 0) + 1
    buckets = sorted(counts.items())
    wanted = max(1, math.ceil(q * len(durations_ns)))
    total, at = 0, 0
    while total + buckets[at][1] <= wanted:  # the buckets hold every value: ⌈q·n⌉ is reached
        total += buckets[at][1]
        if total == wanted:
            return buckets[at][0] / 1e9
        at += 1
    bound, n = buckets[at]
    if bound <= 0:
        return bound / 1e9
    top = math.log2(bound)
    low = math.log2(buckets[at - 1][0]) if at > 0 and buckets[at - 1][0] > 0 else top - 1
    return float(2 ** (low + (top - low) * (wanted - total) / n)) / 1e9


def _sample(t_ms: int, value: float) -> dict[str, Any]:
    return {"timestampMs": str(t_ms), "value": value} if value else {"timestampMs": str(t_ms)}


@dataclass(slots=True)
class Buckets:
    """The range cut into steps: bucket ``k`` holds the spans that started in ``(first + (k−1)·step, first + k·step]``
    (an instant query: one bucket, the whole range ``(first, first + step]``)."""

    first_ns: int
    step_ns: int
    count: int
    instant: bool = False

    def index(self, start_ns: int) -> int | None:
        if self.instant:
            return 0 if self.first_ns < start_ns <= self.first_ns + self.step_ns else None
        k = -(-(start_ns - self.first_ns) // self.step_ns)
        return k if 0 <= k < self.count else None

    def times_ms(self) -> list[int]:
        return [(self.first_ns + k * self.step_ns) // 10**6 for k in range(self.count)]


def _buckets(params: Params, instant: bool, now_ns: int) -> Buckets:
    try:
        start_s, end_s = int(params.get("start", "0")), int(params.get("end", "0"))
        step_ns = (end_s - start_s) * 10**9 if instant else parse_duration(params.get("step", "60s"), "step")
    except (ValueError, Exception) as exc:  # noqa: BLE001 - every bad parameter is the same 400
        raise bad(f"invalid parameter: {exc}") from None
    if end_s <= start_s or step_ns <= 0:
        raise bad("end must be greater than start")
    start, end, horizon = start_s * 10**9, end_s * 10**9, now_ns - QUERY_END_CUTOFF_NS
    if instant:  # the end cut to the horizon, not aligned (ClampDateRangeReq)
        if end > horizon:
            end = horizon
            start = start if start < end else now_ns - QUERY_BACKEND_AFTER_NS
        return Buckets(start, end - start, 1, instant=True)
    first = start - start % step_ns  # AlignRequest: the start down, the end up to the step…
    end = -(-end // step_ns) * step_ns
    if end > horizon:  # … then cut to now − query_end_cutoff and aligned to the left: the partial step is gone
        end = horizon - horizon % step_ns
    count = max(0, (end - first) // step_ns + 1)
    if count > MAX_POINTS:
        raise bad(f"step of {step_ns / 1e9:g}s is too small for this range: at most {MAX_POINTS} intervals")
    return Buckets(first, step_ns, count)


def _grouped(store: Store, plan: Plan, buckets: Buckets) -> tuple[dict[tuple[Any, ...], list[list[int]]], int]:
    """Span durations (ns) per ``by`` group and bucket, and how many spans were inspected."""
    groups: dict[tuple[Any, ...], list[list[int]]] = defaultdict(lambda: [[] for _ in range(buckets.count)])
    if not plan.by:
        groups[()] = [[] for _ in range(buckets.count)]  # ungrouped: one series, even empty
    spans = 0
    for trace, summary in store.traces():
        for span in plan.query.matches(trace, summary) or ():
            k = buckets.index(span.start_ns)
            if k is None:
                continue
            key = tuple(group_value(a, span, summary) for a in plan.by)
            groups[key][k].append(span.duration_ns)
            spans += 1
    return groups, spans


def _values(
    plan: Plan, groups: dict[tuple[Any, ...], list[list[int]]], buckets: Buckets
) -> Iterator[tuple[list[Any], list[float]]]:
    """(labels, value per bucket) of every series the function answers."""
    for key, per_bucket in sorted(groups.items(), key=lambda kv: repr(kv[0])):
        labels = [label(k, v) for k, v in key] or [label("__name__", _NAMES[plan.fn])] * (plan.fn != "quantile")
        if plan.fn == "quantile":
            for q in plan.quantiles:
                yield [*labels, label("p", q)], [log2_quantile(b, q) if b else 0.0 for b in per_bucket]
        else:
            per_second = buckets.step_ns / 1e9 if plan.fn == "rate" else 1.0
            yield labels, [len(b) / per_second for b in per_bucket]


def _answer(store: Store, params: Params, instant: bool) -> Reply:
    plan = _parse(params.get("q", ""))
    buckets = _buckets(params, instant, store.clock())
    if buckets.count == 0:  # the whole range within the cutoff
        series: list[Any] = []
        spans = 0
    elif plan.compare is not None:
        series, spans = compare_series(store, plan.query, plan.compare, buckets)
    else:
        groups, spans = _grouped(store, plan, buckets)
        series = list(_values(plan, groups, buckets))
    if instant:
        out = [{"labels": labels, **({"value": values[0]} if values[0] else {})} for labels, values in series]
    else:
        times = buckets.times_ms()
        out = [{"labels": labels, "samples": [_sample(t, v) for t, v in zip(times, values, strict=True)]}
               for labels, values in series]  # fmt: skip
    return json_reply({"series": out, "metrics": {"inspectedSpans": str(spans), "completedJobs": 1, "totalJobs": 1}})


def metrics_query_range(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
    return _answer(store, params, instant=False)


def metrics_query(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
    return _answer(store, params, instant=True)
