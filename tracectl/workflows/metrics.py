"""``metrics``: a service's RED from Prometheus, when its latency or errors changed, which downstream edge grew and
what lined up (a deployment, a traffic change, or neither).

Queries (every one is on the result, so a reader can paste it into Prometheus): the RED of the discovered family
(``backends/metric_families.py``), one point per step with a rate window of one step, so that each point is its
own bucket ``(t − step, t]`` and a change point is a bucket boundary; the service graph's edges (an instant
``increase`` over the window), the caller- and callee-side p95 of the edges downstream of the service; and the
deployment signals present (``target_info`` ``service_version``, ``*_build_info`` ``version``,
``kube_deployment_metadata_generation``) for the service and everything downstream of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracectl.analysis import red
from tracectl.analysis.changepoint import ALPHA
from tracectl.backends import metric_families as mf
from tracectl.results import Result
from tracectl.timerange import TimeRange
from tracectl.units import format_duration

if TYPE_CHECKING:
    from tracectl.backends.prometheus import PrometheusClient, PromSeries
    from tracectl.backends.tempo import TempoClient
    from tracectl.workflows.session import Session

QUANTILES = (0.5, 0.95, 0.99)
Points = tuple[tuple[int, float], ...]


@dataclass(frozen=True, slots=True)
class MetricsRequest:
    service: str
    time: TimeRange
    operation: str | None = None
    step_ns: int | None = None  # None: chosen from the window (backends/prometheus.choose_step)
    metric: str | None = None  # --metric NAME[:s|:ms]
    alpha: float = ALPHA  # false alarms per command, split between the series tested


@dataclass(slots=True)
class MetricsResult(
    Result, schema="tracectl.metrics/v1", columns=("time_ns", "rate_per_s", "error_ratio", "p50_ns", "p95_ns", "p99_ns")
):
    service: str
    operation: str | None
    time: TimeRange
    step_ns: int
    family: mf.Found
    queries: dict[str, str]
    rate: Points = ()
    error_ratio: Points | None = None  # None: the family has no error label
    downstream_errors: Points | None = None  # span errors of the services downstream, per request of this one
    downstream_error_rates: dict[str, Points] = field(default_factory=dict)  # errors/s per downstream service
    latency: dict[str, Points] = field(default_factory=dict)  # p50, p95, p99 in ns
    findings: red.RedFindings = field(default_factory=red.RedFindings)
    downstream: list[str] = field(default_factory=list)
    alpha: float = ALPHA
    warnings: list[str] = field(default_factory=list)


def aligned(time: TimeRange, step_ns: int) -> TimeRange:
    """The window with both ends on multiples of the step, so every point is a whole bucket ``(t − step, t]``,
    the last one included: a window ending now ends in the bucket now is in, whose requests would otherwise be
    left out (all of them, after a run shorter than a step)."""
    return TimeRange(time.start_ns - time.start_ns % step_ns, -(-time.end_ns // step_ns) * step_ns)


def _one(series: Sequence[PromSeries], scale: float = 1.0) -> Points:
    return tuple((t, v * scale) for t, v in mf.first_points(list(series)))


def metrics(session: Session, request: MetricsRequest) -> MetricsResult:
    """Read the service's RED and say what changed (see the module's docstring); with no Prometheus configured
    and a Tempo, from Tempo's TraceQL metrics (as triage does)."""
    from tracectl.backends.prometheus import check_step, choose_step

    if not session.settings.prometheus_url and session.settings.tempo_url:
        from tracectl.backends.tempo import TempoClient

        backend = session.backend()
        if isinstance(backend, TempoClient):
            return _from_traceql(session, backend, request)
    client = session.prometheus()
    override = mf.parse_metric_flag(request.metric) if request.metric else None
    step = request.step_ns or choose_step(request.time)
    check_step(request.time, step)
    time = aligned(request.time, step)
    found, present, warnings = mf.discover(client, request.service, time, override)
    result = MetricsResult(request.service, request.operation, time, step, found, {}, alpha=request.alpha)
    for w in warnings:
        _warn(session, result, w)
    _read_red(session, client, result)
    covered = _covered(result.rate)
    if request.step_ns is None and covered is not None and choose_step(covered) < step:
        # The service's data covers only part of the window: read that part at the step it calls for, so the
        # change-point test has the points it needs (a change needs about √n of them on its short side).
        finer = choose_step(covered)
        result.time, result.step_ns = aligned(TimeRange(covered.start_ns - finer, time.end_ns), finer), finer
        _warn(session, result, f"{request.service}'s metrics cover only the last {format_duration(covered.duration_ns)}"
                               f" of the window: read at a {format_duration(finer)} step over that part")  # fmt: skip
        _read_red(session, client, result)
    if not result.rate:
        _warn(session, result, _nothing_matched(client, result))
    if result.error_ratio is None:
        _warn(session, result, f"{found.family.histogram} has no error label: the error ratio is not shown")
    edges = _graph(client, result, present)
    tested = [("p95", "latency", result.latency.get("p95", ()))]
    if result.error_ratio is not None:
        tested.append(("error ratio", "ratio", result.error_ratio))
    result.downstream_errors = _downstream_errors(client, result, present)
    if result.downstream_errors is not None:
        tested.append(("downstream errors", "ratio", result.downstream_errors))
    result.findings.changes = red.find_changes(tested, result.step_ns, request.alpha)
    _context(client, result, present, edges)
    return result


def _graph(client: PrometheusClient, result: MetricsResult, present: set[str]) -> list[red.Edge]:
    """The service graph's edges with requests in the window, and the services downstream of this one."""
    if f"{mf.GRAPH}_total" not in present:
        return []
    query = mf.graph_query(result.time.duration_ns)
    result.queries["graph"] = query
    graph = client.query(query, result.time.end_ns).series
    edges = [(s.labels.get("client", ""), s.labels.get("server", "")) for s in graph if s.samples]
    result.downstream = red.downstream(edges, result.service)
    return edges


def _downstream_errors(client: PrometheusClient, result: MetricsResult, present: set[str]) -> Points | None:
    """Errors recorded by any span of the downstream services (span metrics), per request of this service: a
    failure that the service's own answers do not show (a rejected prediction still answered 200)."""
    calls = mf.SPAN_CALLS.intersection(present)
    if not result.downstream or not calls:
        return None
    from tracectl.backends.prometheus import MIN_WINDOW_NS

    query, label = mf.downstream_errors_query(sorted(calls)[0], result.downstream, max(result.step_ns, MIN_WINDOW_NS))
    result.queries["downstream_errors"] = query
    series = client.query_range(query, result.time, result.step_ns).series
    result.downstream_error_rates = {s.labels.get(label, ""): s.samples for s in series}
    return tuple(red.per_request(result.rate, [s.samples for s in series]))


def _read_red(session: Session, client: PrometheusClient, result: MetricsResult) -> None:
    """The RED series of ``result``'s family over its window and step."""
    from tracectl.backends.prometheus import MIN_WINDOW_NS

    found = result.family
    queries = mf.red_queries(found, result.operation, max(result.step_ns, MIN_WINDOW_NS), QUANTILES)
    result.queries.update(queries)
    answers = {}
    with session.progress("reading RED from Prometheus") as update:
        for i, (name, query) in enumerate(queries.items()):
            answer = client.query_range(query, result.time, result.step_ns)
            for w in answer.warnings:
                _warn(session, result, w)
            answers[name] = answer.series
            update(i + 1, len(queries))
    result.rate = _one(answers["rate"])
    result.error_ratio = tuple(red.error_ratio(result.rate, _one(answers["errors"]))) if "errors" in answers else None
    result.latency = {name: _one(answers[name], found.family.unit_ns) for name in answers if name.startswith("p")}


TRACEQL = mf.Family(
    key="tempo-traceql",
    title="server spans; no Prometheus configured",
    histogram="Tempo's TraceQL metrics",
    unit_ns=10**9,
    service_labels=("resource.service.name",),
    operation_labels=("name",),
    errors=(("status", "=", "error"),),
    kind_label="kind",
)


def _from_traceql(session: Session, client: TempoClient, request: MetricsRequest) -> MetricsResult:
    """The RED and its changes from Tempo's TraceQL metrics (``tempo_red.traceql_red_queries``): the same points
    (one per step, each its bucket ``(t − step, t]``) and the same change-point test. The service graph, the
    downstream errors and the deployments need Prometheus: said."""
    from tracectl.backends.prometheus import check_step, choose_step
    from tracectl.workflows.tempo_red import traceql_red_queries

    step = request.step_ns or choose_step(request.time)
    check_step(request.time, step)
    time = aligned(request.time, step)
    found = mf.Found(TRACEQL, (("resource.service.name", "=", request.service),), ("status", "=", "error"),
                     "name", None)  # fmt: skip
    result = MetricsResult(request.service, request.operation, time, step, found, {}, alpha=request.alpha)
    _warn(session, result, "no Prometheus configured (--prometheus-url, PROMETHEUS_ADDR): the RED is read from "
          "Tempo's TraceQL metrics (the service's server spans); the service graph, downstream errors and "
          "deployments need Prometheus")  # fmt: skip
    result.queries = traceql_red_queries(request.service, request.operation)
    served = _read_traceql(session, client, result)
    covered = _covered(result.rate)
    if request.step_ns is None and covered is not None and choose_step(covered) < step:  # as with Prometheus
        finer = choose_step(covered)
        result.time, result.step_ns = aligned(TimeRange(covered.start_ns - finer, time.end_ns), finer), finer
        _warn(session, result, f"{request.service}'s metrics cover only the last {format_duration(covered.duration_ns)}"
                               f" of the window: read at a {format_duration(finer)} step over that part")  # fmt: skip
        served = _read_traceql(session, client, result)
    if not served:
        named = f" with span name {request.operation!r}" if request.operation else ""
        _warn(session, result, f"no requests of {request.service}{named} in Tempo's TraceQL metrics in this window: "
              "widen --since")  # fmt: skip
    tested = [("p95", "latency", result.latency.get("p95", ())), ("error ratio", "ratio", result.error_ratio or ())]
    result.findings.changes = red.find_changes(tested, result.step_ns, request.alpha)
    first = result.findings.first
    if first is not None:
        result.findings.traffic = red.traffic(result.rate, first.change.time_ns)
    return result


def _read_traceql(session: Session, client: TempoClient, result: MetricsResult) -> bool:
    """The RED series from TraceQL metrics over ``result``'s window and step; whether any step had requests."""
    import math

    answers = {}
    with session.progress("reading RED from Tempo's TraceQL metrics") as update:
        for i, (name, query) in enumerate(result.queries.items()):
            answer = client.metrics_query_range(query, result.time, result.step_ns)
            for w in answer.warnings:
                _warn(session, result, w)
            answers[name] = answer.series
            update(i + 1, len(result.queries))
    result.rate = answers["rate"][0].samples if answers["rate"] else ()
    served = {t for t, v in result.rate if v > 0}  # an empty bucket's quantile is written 0: no requests, no latency
    errors = answers["errors"][0].samples if answers["errors"] else tuple((t, 0.0) for t, _ in result.rate)
    result.error_ratio = tuple(red.error_ratio(result.rate, errors))
    result.latency = {}
    for s in answers["latency"]:
        q = s.labels.get("p")
        if isinstance(q, float):
            result.latency[f"p{q * 100:g}"] = tuple((t, v * 1e9 if t in served else math.nan) for t, v in s.samples)
    return bool(served)


def _covered(rate: Points) -> TimeRange | None:
    """From the first to the last point with requests (None when there is none)."""
    times = [t for t, v in rate if v > 0]
    return TimeRange(times[0], times[-1]) if len(times) > 1 else None


def _nothing_matched(client: PrometheusClient, result: MetricsResult) -> str:
    """Why the RED is empty: the operation names there are, or none in the window."""
    found = result.family
    if result.operation is None or found.operation_label is None:
        return f"no requests of {result.service} in {found.family.histogram} in this window: widen --since"
    names = client.label_values(found.operation_label, [mf.selector(found.series_name, found.service_matchers)],
                                result.time)  # fmt: skip
    shown = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
    what = f"{found.operation_label} there: {shown}"
    return f"no requests of {result.service} match --operation {result.operation!r} ({what})"


def _warn(session: Session, result: MetricsResult, message: str) -> None:
    result.warnings.append(message)
    session.warn(message)


def _context(client: PrometheusClient, result: MetricsResult, present: set[str], edges: list[red.Edge]) -> None:
    """Deployments, and around the first change the edge that grew and the traffic."""
    findings, time, step = result.findings, result.time, result.step_ns
    services = [result.service, *result.downstream]
    findings.rollouts = _rollouts(client, result, services, present)
    first = findings.first
    if first is None:
        return
    at = first.change.time_ns
    findings.lined_up = red.near(findings.rollouts, first.start_ns, step)
    findings.traffic = red.traffic(result.rate, at)
    from tracectl.backends.prometheus import MIN_WINDOW_NS

    callers = [c for c in services if any(e[0] == c for e in edges)]
    if callers and first.kind == "latency":
        sides = {}
        for side in ("client", "server"):
            query = mf.edge_latency_query(side, callers, max(step, MIN_WINDOW_NS))
            result.queries[f"edge_{side}_p95"] = query
            sides[side] = {
                (s.labels.get("client", ""), s.labels.get("server", "")): tuple((t, v * 1e9) for t, v in s.samples)
                for s in client.query_range(query, time, step).series
            }
        findings.edge, findings.grown_edges = red.grown_edges(sides["client"], sides["server"], at)


def _rollouts(
    client: PrometheusClient, result: MetricsResult, services: list[str], present: set[str]
) -> list[red.Rollout]:
    out: list[red.Rollout] = []
    for source, query in mf.deployment_queries(services, present).items():
        result.queries[source] = query
        series = client.query_range(query, result.time, result.step_ns).series
        if source == "kube_deployment_metadata_generation":
            out += red.generation_changes([(s.labels.get("deployment", ""), s.samples) for s in series], source)
            continue
        version_label = "service_version" if source == "target_info" else "version"
        named = [(_short(s.labels.get("job", "")), s.labels.get(version_label, ""), s.samples) for s in series]
        out += red.version_rollouts([n for n in named if n[1]], f"{source} {version_label}")
    return sorted(out, key=lambda r: r.time_ns)


def _short(job: str) -> str:
    return job.rsplit("/", 1)[-1]
