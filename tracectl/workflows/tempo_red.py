"""When Prometheus is not configured, Tempo's TraceQL metrics (``/api/metrics/query_range``) or Jaeger's SPM
metrics API (``/api/metrics/calls|errors|latencies``) serve the same step of triage: the service's server-span
rate, error rate and p95 latency per step, and the change in them (the same Pettitt test as ``tracectl
metrics``). A change whose first new point is ``T`` began at ``T − step``, as with Prometheus.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from tracectl.analysis import red

if TYPE_CHECKING:
    from tracectl.backends.jaeger import JaegerClient
    from tracectl.backends.tempo import TempoClient
    from tracectl.timerange import TimeRange

Points = tuple[tuple[int, float], ...]


def tempo_queries(service: str) -> dict[str, str]:
    from tracectl.backends.query import traceql_string

    spans = f"resource.service.name = {traceql_string(service)} && kind = server"
    return {
        "rate": f"{{ {spans} }} | rate()",
        "errors": f"{{ {spans} && status = error }} | rate()",
        "p95": f"{{ {spans} }} | quantile_over_time(duration, .95)",
    }


def traceql_red_queries(service: str, operation: str | None = None) -> dict[str, str]:
    """``tracectl metrics``' RED from TraceQL metrics: the service's server spans (``--operation``: of that span
    name) per second, those with an error status, and their p50/p95/p99 in one query."""
    from tracectl.backends.query import traceql_string

    spans = f"resource.service.name = {traceql_string(service)} && kind = server"
    if operation:
        spans += f" && name = {traceql_string(operation)}"
    return {
        "rate": f"{{ {spans} }} | rate()",
        "errors": f"{{ {spans} && status = error }} | rate()",
        "latency": f"{{ {spans} }} | quantile_over_time(duration, .5, .95, .99)",
    }


def tempo_changes(client: TempoClient, service: str, time: TimeRange, step_ns: int) -> list[red.SeriesChange]:
    """The changes in the service's p95 latency and error ratio, read from TraceQL metrics."""
    answers: dict[str, Points] = {}
    for name, query in tempo_queries(service).items():
        result = client.metrics_query_range(query, time, step_ns)
        answers[name] = result.series[0].samples if result.series else ()
    rate = answers["rate"]
    served = {t for t, v in rate if v > 0}  # Tempo writes an empty bucket's quantile as 0: no requests, no latency
    p95 = tuple((t, v * 1e9 if t in served else math.nan) for t, v in answers["p95"])
    ratio = tuple(red.error_ratio(rate, answers["errors"]))
    return red.find_changes([("p95", "latency", p95), ("error ratio", "ratio", ratio)], step_ns)


def jaeger_changes(client: JaegerClient, service: str, time: TimeRange, step_ns: int) -> list[red.SeriesChange]:
    """The same changes, read from Jaeger's SPM metrics API (latencies in ms, errors as a ratio)."""
    from tracectl.backends.jaeger_metrics import spm_params, spm_series

    params = spm_params(service, time, step_ns)
    latency = tuple((t, v * 1e6) for t, v in spm_series(client, "latencies", {**params, "quantile": 0.95}))
    ratio = spm_series(client, "errors", params)
    return red.find_changes([("p95", "latency", latency), ("error ratio", "ratio", ratio)], step_ns)
