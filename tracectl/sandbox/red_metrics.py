"""The sandbox's metrics, computed from its traces: what its services and a Tempo metrics-generator would expose.

Every span is recorded when it ends, as an SDK or a generator records it, into cumulative series sampled every
``INTERVAL_S`` (a scrape interval), so the metrics and the traces tell the same story and a fault's first
request is where the metrics change. The families and their exact names, labels, units and buckets are the real
ones (BACKENDS-2026.md §4):

- ``http_server_request_duration_seconds`` (OpenTelemetry HTTP semconv, seconds) for server spans carrying
  ``http.route``, with ``job`` = ``service.namespace/service.name`` and the ``http_*`` labels;
- ``traces_spanmetrics_latency`` (seconds) and ``traces_spanmetrics_calls_total`` (Tempo's metrics-generator) for
  every span, labels ``service``, ``span_name``, ``span_kind``, ``status_code``;
- ``traces_service_graph_request_total`` / ``_failed_total`` / ``_server_seconds`` / ``_client_seconds`` per
  ``client`` → ``server`` edge (client/server span pairs; producer/consumer pairs as ``messaging_system``; the
  root as ``user`` → service, ``virtual_node``);
- ``target_info`` with ``service_version`` (the model version the service's spans carry, when they carry one)
  and ``kube_deployment_metadata_generation``, which a new version bumps: a rollout shows as a new
  ``service_version`` series and a generation change at the first request the new version served;
- optionally the OpenTelemetry Collector's spanmetrics connector (``traces_span_metrics_calls_total``,
  ``traces_span_metrics_duration_milliseconds``, labels ``service_name`` …), for discovery tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tracectl.model import Span, SpanKind, Trace
from tracectl.sandbox.promseries import Family, SeriesDB, le_text

INTERVAL_S = 15
MS = 1_000_000
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
SPANMETRICS_BUCKETS = tuple(0.002 * 2**k for k in range(14))  # 0.002 … 16.384 s
GRAPH_BUCKETS = tuple(0.1 * 2**k for k in range(8))  # 0.1 … 12.8 s
COLLECTOR_BUCKETS_MS = (2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10000, 15000)
DEFAULT_VERSION = "1.8.2"
GENERATION = 7  # kube_deployment_metadata_generation before any rollout in the window
GENERATOR = {"job": "tempo", "instance": "metrics-generator"}
FAMILIES = ("otel-http", "tempo", "target-info", "kube")
ALL_FAMILIES = (*FAMILIES, "collector")
_KIND = {SpanKind.SERVER: "SPAN_KIND_SERVER", SpanKind.CLIENT: "SPAN_KIND_CLIENT", SpanKind.INTERNAL:
         "SPAN_KIND_INTERNAL", SpanKind.PRODUCER: "SPAN_KIND_PRODUCER", SpanKind.CONSUMER: "SPAN_KIND_CONSUMER",
         SpanKind.UNSPECIFIED: "SPAN_KIND_UNSPECIFIED"}  # fmt: skip


@dataclass(slots=True)
class _Histogram:
    bounds: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    count: int = 0
    total: float = 0.0

    def observe(self, value: float) -> None:
        if not self.counts:
            self.counts = [0] * len(self.bounds)
        for i, bound in enumerate(self.bounds):
            if value <= bound:
                self.counts[i] += 1
        self.count += 1
        self.total += value


@dataclass(slots=True)
class _State:
    """The cumulative value of every metric so far, keyed by (family sample name, labels)."""

    histograms: dict[tuple[str, tuple[tuple[str, str], ...]], _Histogram] = field(default_factory=dict)
    counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = field(default_factory=dict)
    versions: dict[str, list[str]] = field(default_factory=dict)  # service -> versions in order of appearance
    gauges: dict[tuple[str, tuple[tuple[str, str], ...]], float] = field(default_factory=dict)


# (time, sample name, labels, value, histogram bounds or () for a counter)
Observation = tuple[int, str, tuple[tuple[str, str], ...], float, tuple[float, ...]]


def _job(span: Span) -> str:
    namespace = span.resource.attributes.get("service.namespace")
    return f"{namespace}/{span.service}" if isinstance(namespace, str) and namespace else span.service


def _version(spans: Iterable[Span]) -> str | None:
    for s in spans:
        for key in ("service.version",):
            value = s.resource.attributes.get(key)
            if isinstance(value, str) and value:
                return value
        value = s.attributes.get("ml.model.version")
        if isinstance(value, str) and value:
            return value
    return None


def _labels(**labels: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in labels.items() if v != ""))


def _observations(trace: Trace, families: tuple[str, ...]) -> Iterable[Observation]:
    by_id = {s.span_id: s for s in trace.spans}
    for s in trace.spans:
        seconds = s.duration_ns / 1e9
        status = "STATUS_CODE_ERROR" if s.is_error else "STATUS_CODE_UNSET"
        kind = _KIND.get(s.kind, "SPAN_KIND_UNSPECIFIED")
        if "tempo" in families:
            labels = _labels(service=s.service, span_name=s.name, span_kind=kind, status_code=status, **GENERATOR)
            yield s.end_ns, "traces_spanmetrics_latency", labels, seconds, SPANMETRICS_BUCKETS
            yield s.end_ns, "traces_spanmetrics_calls_total", labels, 1.0, ()
        if "collector" in families:
            labels = _labels(service_name=s.service, span_name=s.name, span_kind=kind, status_code=status,
                             job="otel-collector", instance="collector-0")  # fmt: skip
            ms = s.duration_ns / MS
            yield s.end_ns, "traces_span_metrics_duration_milliseconds", labels, ms, COLLECTOR_BUCKETS_MS
            yield s.end_ns, "traces_span_metrics_calls_total", labels, 1.0, ()
        route = s.attributes.get("http.route")
        if "otel-http" in families and s.kind is SpanKind.SERVER and isinstance(route, str):
            method = s.attributes.get("http.request.method")
            code = s.attributes.get("http.response.status_code")
            code = code if code is not None else (500 if s.is_error else 200)
            labels = _labels(job=_job(s), instance=f"{s.service}-0", http_route=route, url_scheme="http",
                             http_request_method=str(method or "GET"), http_response_status_code=str(code))  # fmt: skip
            yield s.end_ns, "http_server_request_duration_seconds", labels, seconds, HTTP_BUCKETS
        if "tempo" in families:
            yield from _graph_edges(s, by_id)


def _graph_edges(s: Span, by_id: dict[str, Span]) -> Iterable[Observation]:
    """The service-graph edge a span closes: a server (consumer) span under another service's client (producer)
    span, or a root server span (``user`` → service)."""
    parent = by_id.get(s.parent_span_id)
    if s.kind is SpanKind.SERVER and parent is None and not s.parent_span_id:
        client, server, connection, client_s = "user", s.service, "virtual_node", s.duration_ns / 1e9
    elif (
        parent is not None
        and parent.service != s.service
        and (
            (s.kind is SpanKind.SERVER and parent.kind is SpanKind.CLIENT)
            or (s.kind is SpanKind.CONSUMER and parent.kind is SpanKind.PRODUCER)
        )
    ):
        client, server = parent.service, s.service
        connection = "messaging_system" if s.kind is SpanKind.CONSUMER else ""
        client_s = parent.duration_ns / 1e9
    else:
        return
    labels = _labels(client=client, server=server, connection_type=connection, **GENERATOR)
    failed = s.is_error or (parent is not None and parent.is_error)
    end = max(s.end_ns, parent.end_ns if parent is not None else 0)
    yield end, "traces_service_graph_request_total", labels, 1.0, ()
    if failed:
        yield end, "traces_service_graph_request_failed_total", labels, 1.0, ()
    yield end, "traces_service_graph_request_server_seconds", labels, s.duration_ns / 1e9, GRAPH_BUCKETS
    yield end, "traces_service_graph_request_client_seconds", labels, client_s, GRAPH_BUCKETS


def _declare(db: SeriesDB, families: tuple[str, ...]) -> None:
    declared = [
        ("otel-http", Family("http_server_request_duration_seconds", "histogram", "Duration of HTTP server requests.",
                             "seconds")),
        ("tempo", Family("traces_spanmetrics_latency", "histogram")),
        ("tempo", Family("traces_spanmetrics_calls", "counter")),
        ("tempo", Family("traces_service_graph_request", "counter")),
        ("tempo", Family("traces_service_graph_request_failed", "counter")),
        ("tempo", Family("traces_service_graph_request_server_seconds", "histogram", unit="seconds")),
        ("tempo", Family("traces_service_graph_request_client_seconds", "histogram", unit="seconds")),
        ("collector", Family("traces_span_metrics_duration_milliseconds", "histogram", unit="milliseconds")),
        ("collector", Family("traces_span_metrics_calls", "counter")),
        ("target-info", Family("target", "info", "Target metadata")),
        ("kube", Family("kube_deployment_metadata_generation", "gauge", "Sequence number of the desired state.")),
    ]  # fmt: skip
    for which, family in declared:
        if which in families:
            db.declare(family)


def build_series(
    traces: Iterable[Trace], start_ns: int, end_ns: int, families: tuple[str, ...] = FAMILIES,
    interval_s: int = INTERVAL_S,
) -> SeriesDB:  # fmt: skip
    """Series sampled every ``interval_s`` from ``start_ns`` to ``end_ns`` (aligned to the interval)."""
    observations: list[Observation] = []
    appearances: list[tuple[int, str, str, str]] = []  # (time, service, job, version)
    for trace in traces:
        observations.extend(_observations(trace, families))
        by_service: dict[str, list[Span]] = {}
        for s in trace.spans:
            by_service.setdefault(s.service, []).append(s)
        for service, spans in by_service.items():
            first = min(spans, key=lambda x: x.start_ns)
            appearances.append((first.start_ns, service, _job(first), _version(spans) or DEFAULT_VERSION))
    observations.sort(key=lambda o: o[0])
    appearances.sort()
    db = SeriesDB()
    _declare(db, families)
    step = interval_s * 10**9
    state = _State()
    o = a = 0
    seen: dict[tuple[str, str, str], int] = {}  # (service, job, version) -> last time seen
    tick = (start_ns // step + 1) * step
    while tick <= end_ns + step - 1:
        while o < len(observations) and observations[o][0] <= tick:
            _apply(state, observations[o])
            o += 1
        while a < len(appearances) and appearances[a][0] <= tick:
            t, service, job, version = appearances[a]
            versions = state.versions.setdefault(service, [])
            if version not in versions:
                versions.append(version)
            seen[(service, job, version)] = t
            a += 1
        _emit(db, state, seen, tick // MS, families)
        tick += step
    return db


def _apply(state: _State, o: Observation) -> None:
    _, name, labels, value, bounds = o
    if bounds:
        h = state.histograms.get((name, labels))
        if h is None:
            h = state.histograms[(name, labels)] = _Histogram(bounds)
        h.observe(value)
    else:
        state.counters[(name, labels)] = state.counters.get((name, labels), 0.0) + value


def _emit(db: SeriesDB, state: _State, seen: dict[tuple[str, str, str], int], t_ms: int,
          families: tuple[str, ...]) -> None:  # fmt: skip
    for (name, labels), value in state.counters.items():
        db.add(name, dict(labels), t_ms, value)
    for (name, labels), h in state.histograms.items():
        base = dict(labels)
        for bound, count in zip(h.bounds, h.counts, strict=True):
            db.add(f"{name}_bucket", {**base, "le": le_text(bound)}, t_ms, count)
        db.add(f"{name}_bucket", {**base, "le": "+Inf"}, t_ms, h.count)
        db.add(f"{name}_count", base, t_ms, h.count)
        db.add(f"{name}_sum", base, t_ms, h.total)
    for service, job, version in seen:
        if "target-info" in families:
            slug = "".join(c if c.isalnum() else "-" for c in version)
            db.add("target_info", {"job": job, "instance": f"{service}-{slug}", "service_version": version}, t_ms, 1)
    if "kube" in families:
        for service in sorted({service for service, _, _ in seen}):
            generation = GENERATION + len(state.versions.get(service, [])) - 1
            db.add("kube_deployment_metadata_generation", {"namespace": "ml-serving", "deployment": service,
                   "job": "kube-state-metrics", "instance": "kube-state-metrics:8080"}, t_ms, generation)  # fmt: skip
