"""The TraceQL metrics subset the sandbox's Tempo answers on ``/api/metrics/query_range``: a spanset filter piped
into ``rate()`` or ``quantile_over_time(duration, q[, q…])``, without ``by``, as Tempo 3.0.3 shapes its answer
(``../shared/samples/tempo3``): samples at the end of each step ``(T − step, T]`` from the start aligned down to
the step, ``timestampMs`` as a string, no ``value`` where it is 0, labels ``__name__="rate"`` or ``p=<q>``.

A span counts in the bucket of its start time. Quantiles are exact (Tempo interpolates within log2 buckets: its
values differ by up to a few percent). Anything else is a 400 in Tempo's plain-text words.
"""

from __future__ import annotations

import math
import re
from typing import Any

from tracectl.sandbox import traceql
from tracectl.sandbox.apis import BadRequest, Params, Reply, json_reply, text_reply
from tracectl.sandbox.store import Store
from tracectl.units import parse_duration

_PIPELINE = re.compile(r"^\s*(?P<filter>\{.*\})\s*\|\s*(?P<fn>rate|quantile_over_time)\s*\((?P<args>[^()]*)\)\s*$")
MAX_POINTS = 1000  # query_frontend.metrics.max_intervals... Tempo's default step keeps a range near 1000 points


def _bad(message: str) -> BadRequest:
    return BadRequest(text_reply(400, message))


def _parse(q: str) -> tuple[traceql.Query, str, list[float]]:
    match = _PIPELINE.match(q)
    if match is None:
        raise _bad(f"invalid TraceQL query: outside the sandbox's TraceQL metrics subset: {q}")
    try:
        query = traceql.parse(match["filter"])
    except traceql.TraceQLError as exc:
        raise _bad(str(exc)) from None
    args = [a.strip() for a in match["args"].split(",") if a.strip()]
    if match["fn"] == "rate":
        if args:
            raise _bad("invalid TraceQL query: rate() takes no arguments")
        return query, "rate", []
    if not args or args[0] != "duration" or len(args) < 2:
        raise _bad("invalid TraceQL query: quantile_over_time(duration, q, …) is the sandbox's only quantile form")
    try:
        return query, "quantile", [float(a) for a in args[1:]]
    except ValueError:
        raise _bad(f"invalid TraceQL query: {args[1:]} are not numbers") from None


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _sample(t_ms: int, value: float) -> dict[str, Any]:
    return {"timestampMs": str(t_ms), "value": value} if value else {"timestampMs": str(t_ms)}


def metrics_query_range(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
    query, fn, quantiles = _parse(params.get("q", ""))
    try:
        start_s, end_s = int(params.get("start", "0")), int(params.get("end", "0"))
        step_ns = parse_duration(params.get("step", "60s"), "step")
    except (ValueError, Exception) as exc:  # noqa: BLE001 - every bad parameter is the same 400
        raise _bad(f"invalid parameter: {exc}") from None
    if end_s <= start_s or step_ns <= 0:
        raise _bad(f"invalid start/end/step: start={start_s} end={end_s}")
    first = start_s * 10**9 - (start_s * 10**9) % step_ns
    count = (end_s * 10**9 - first) // step_ns + 1
    if count > MAX_POINTS:
        raise _bad(f"step of {step_ns / 1e9:g}s is too small for this range: at most {MAX_POINTS} intervals")
    buckets: list[list[float]] = [[] for _ in range(count)]
    for trace, summary in store.traces():
        for span in query.matches(trace, summary) or ():
            k = math.ceil((span.start_ns - first) / step_ns)
            if 0 <= k < count:
                buckets[k].append(span.duration_ns / 1e9)
    times = [(first + k * step_ns) // 10**6 for k in range(count)]
    if fn == "rate":
        series = [
            {
                "labels": [{"key": "__name__", "value": {"stringValue": "rate"}}],
                "samples": [_sample(t, len(b) / (step_ns / 1e9)) for t, b in zip(times, buckets, strict=True)],
            }
        ]
    else:
        series = [{"labels": [{"key": "p", "value": {"doubleValue": q}}],
                   "samples": [_sample(t, _quantile(b, q) if b else 0.0) for t, b in zip(times, buckets, strict=True)]}
                  for q in quantiles]  # fmt: skip
    spans = sum(len(b) for b in buckets)
    return json_reply({"series": series, "metrics": {"inspectedSpans": str(spans), "completedJobs": 1,
                                                     "totalJobs": 1}})  # fmt: skip
