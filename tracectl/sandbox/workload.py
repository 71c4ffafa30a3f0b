"""A simulated ML serving system: requests through the stack, with faults injected by named scenarios.

api-gateway → inference-orchestrator → feature-store (cache, online store) → model-router → nlp-model ∥
cv-model → postprocess, plus an async producer/consumer hop to audit-logger, and a recommender called beside
the model router (its spans carry the model's inputs and score: ``tracectl.sandbox.recommender``). Every span
writes JSON log lines carrying ``trace_id`` and ``span_id`` (in the line and as OTLP structured metadata). Everything is
seeded: the same scenario and seed give the same traces, logs and ground truth.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import orjson

from tracectl.model import LogRecord, Span, Trace
from tracectl.sandbox.call_faults import N_PLUS_ONE_FEATURES, lookups_one_by_one, route_timeout
from tracectl.sandbox.labels import CONFIDENCE_KEY, confidence, labelled, truth
from tracectl.sandbox.recommender import recommend
from tracectl.sandbox.synth import (
    MS,
    US,
    TraceBuilder,
    _stretch,
    audit_consume,
    audit_publish,
    forward_pass,
    gateway_request,
    online_store_lookup,
)

FAULTS = (
    "feature_store_gc", "cv_cold_start", "nlp_network_delay", "nlp_timeouts", "bad_model_version",
    "recommender_input_drift", "feature_store_n_plus_one", "gateway_timeout",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    fault: str | None  # one of FAULTS, or None for a healthy system
    affected: float  # share of requests that meet the fault
    culprit: str | None  # ground truth: the component (or "caller → callee" edge) to blame
    symptom: str  # "latency", "errors", "drift" (inputs unlike the training data) or "none"
    locus: str | None = None  # ground truth for `explain` on an affected trace: the span ("service name") it names
    # Where in the window the fault begins (0 = from the start, 0.5 = halfway): requests before it are healthy,
    # and after it the fault meets `affected / (1 - onset)` of them, so the whole window keeps `affected`. The
    # metrics change there, which `tracectl metrics` must find (`Workload.fault_start_ns`).
    onset: float = 0.5


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("healthy", "Everything normal: latency spread only.", None, 0.0, None, "none"),
        Scenario(
            "feature-store-gc",
            "The feature store's JVM pauses for GC: online-store lookups stall.",
            "feature_store_gc",
            0.2,
            "feature-store",
            "latency",
        ),
        Scenario(
            "cv-cold-start",
            "A new CV model version was rolled out: pods load weights on first requests.",
            "cv_cold_start",
            0.2,
            "cv-model",
            "latency",
        ),
        Scenario(
            "nlp-network-delay",
            "Packet loss between the model router and the NLP model: the NLP server "
            "span is unchanged, the router's client span grows.",
            "nlp_network_delay",
            0.25,
            "model-router → nlp-model",
            "latency",
        ),
        Scenario(
            "nlp-timeouts",
            "The NLP model times out on some requests; the router retries.",
            "nlp_timeouts",
            0.2,
            "nlp-model",
            "latency",
        ),
        Scenario(
            "bad-model-version",
            "A wrong NLP model version returns bad results: latency is unchanged, "
            "post-processing rejects predictions and logs errors.",
            "bad_model_version",
            0.3,
            "nlp-model",
            "errors",
        ),
        Scenario(
            "recommender-input-drift",
            "A client release sends session_duration in milliseconds instead of seconds, and a new device type "
            "appears: the recommender's inputs no longer look like its training data. Latency and errors are "
            "unchanged.",
            "recommender_input_drift",
            0.35,
            "recommender",
            "drift",
        ),
        Scenario(
            "feature-store-n-plus-one",
            "A feature-store release looks features up one at a time: one online-store query per feature, one "
            "after another, instead of one query for all of them.",
            "feature_store_n_plus_one",
            0.25,
            "feature-store",
            "latency",
            locus="feature-store GetFeatures",  # the N+1's parent
        ),
        Scenario(
            "gateway-timeout",
            "The CV model slows down past the gateway's 1 s route timeout: the gateway answers 504 and its span is "
            "the only error, while the model, status OK, runs on.",
            "gateway_timeout",
            0.2,
            "cv-model",
            "latency",
            locus="cv-model forward",  # the masked locus: what the request waited on when the gateway gave up
        ),
    )
}


@dataclass(slots=True)
class Workload:
    scenario: Scenario
    traces: list[Trace]
    logs: list[LogRecord]
    affected_ids: set[str] = field(default_factory=set)
    start_ns: int = 0  # the window the requests are spread over
    end_ns: int = 0
    fault_start_ns: int | None = None  # when the fault begins (None: no fault)
    labels: list[tuple[str, int, int]] = field(default_factory=list)  # the labelled sample: (trace ID, 0/1, time)


class _Logger:
    """JSON log lines with trace and span IDs, in the line and as structured metadata."""

    def __init__(self) -> None:
        self.records: list[LogRecord] = []

    def log(self, span: Span, time_ns: int, level: str, msg: str, **fields: object) -> None:
        body = {"ts": time_ns, "level": level, "msg": msg, "trace_id": span.trace_id, "span_id": span.span_id, **fields}
        labels = {"service_name": span.service, "service_namespace": "ml-serving"}
        pod = span.resource.attributes.get("k8s.pod.name")
        if isinstance(pod, str):
            labels["pod"] = pod
        metadata = {"trace_id": span.trace_id, "span_id": span.span_id, "level": level}
        self.records.append(LogRecord(time_ns, orjson.dumps(body).decode(), labels, metadata))


def simulate_request(
    seed: int, start_ns: int, fault: str | None, logger: _Logger, layers: int = 0, trace_id: str | None = None
) -> Trace:
    """One prediction request; ``fault`` (or None) shapes it. The steps run in the request's order and draw their
    jitter in that order, so a seed always gives the same trace."""
    b = TraceBuilder(seed, trace_id)
    net = 400 * US
    gw, orch, cursor = _gateway(b, logger, start_ns, net)
    cursor = _features(b, logger, orch, cursor, fault, net)
    router, router_end = _models(b, logger, orch, cursor, fault, net, layers, seed)
    pp_end = _postprocess(b, logger, orch, router_end, fault, net)
    _audit_and_answer(b, logger, gw, orch, pp_end, start_ns, net)
    # Last: the recommender's draws must not shift the random numbers behind the other services' timings.
    recommend(b, logger, orch, router.start_ns, fault == "recommender_input_drift", seed)
    if fault == "gateway_timeout":
        route_timeout(b, gw, logger)
    return b.build()


def _gateway(b: TraceBuilder, logger: _Logger, start_ns: int, net: int) -> tuple[Span, Span, int]:
    """The gateway's server span, its call to the orchestrator and the request's validation."""
    gw, orch, cursor = gateway_request(b, start_ns, net)
    logger.log(gw, gw.start_ns + 50 * US, "info", "request received", route="/v1/predict")
    return gw, orch, cursor


def _features(b: TraceBuilder, logger: _Logger, orch: Span, cursor: int, fault: str | None, net: int) -> int:
    """The feature store: a cache miss, then the online store (GC pauses stall the lookup; an N+1 loop reads
    feature by feature). Returns when the orchestrator moves on."""
    j = b.jitter_us
    lookup_ms = 5.5
    gc_pause = 0
    if fault == "feature_store_gc":
        gc_pause = b.rng.randrange(180, 420) * MS
    fs_handler = j(lookup_ms + 1.0) + gc_pause
    per_feature = [j(8.0) for _ in range(N_PLUS_ONE_FEATURES)] if fault == "feature_store_n_plus_one" else []
    fs_handler += sum(per_feature) + len(per_feature) * 150 * US
    fs = b.rpc(orch, "inference-orchestrator", "feature-store", "GetFeatures", cursor, fs_handler, net)
    b.span(
        "feature-store",
        "cache.get",
        fs.start_ns + j(0.1),
        j(0.4),
        fs,
        attributes={"cache.hit": False, "db.system": "redis"},
    )
    lookup_start = fs.start_ns + j(0.7)
    if per_feature:
        lookups_one_by_one(b, fs, lookup_start, per_feature)
    else:
        lookup = online_store_lookup(b, fs, lookup_start)
        if gc_pause:
            logger.log(
                lookup,
                lookup.start_ns + 2 * MS,
                "warn",
                f"GC pause {gc_pause // MS} ms (G1 Evacuation Pause)",
                gc="G1 Young Generation",
            )
    return fs.end_ns + net // 2 + j(0.2)


def _models(b: TraceBuilder, logger: _Logger, orch: Span, cursor: int, fault: str | None, net: int, layers: int,
            seed: int) -> tuple[Span, int]:  # fmt: skip
    """The model router fanning out to the NLP and CV models; returns the router's span and when it answered."""
    j = b.jitter_us
    router = b.rpc(orch, "inference-orchestrator", "model-router", "Route", cursor, 0, net)
    branch = router.start_ns + j(0.3)
    ends = [
        _nlp_branch(b, logger, router, branch, fault, net, layers, confidence(seed, fault == "bad_model_version")),
        _cv_branch(b, logger, router, branch, fault, net, layers),
    ]
    router_end = max(ends) + j(0.3)
    _stretch(b, router, router_end, net)
    return router, router_end


def _postprocess(b: TraceBuilder, logger: _Logger, orch: Span, router_end: int, fault: str | None, net: int) -> int:
    """Ranking and validation of the prediction (a bad model version's prediction is rejected there)."""
    j = b.jitter_us
    pp = b.rpc(orch, "inference-orchestrator", "postprocess", "Process", router_end + net // 2 + j(0.2), 0, net)
    rank = b.span("postprocess", "rank", pp.start_ns + j(0.1), j(1.5), pp)
    validate = b.span(
        "postprocess",
        "validate_prediction",
        rank.end_ns + j(0.1),
        j(0.4),
        pp,
        error="prediction rejected: confidence out of range" if fault == "bad_model_version" else "",
    )
    if fault == "bad_model_version":
        logger.log(
            validate,
            validate.start_ns + 100 * US,
            "error",
            "prediction rejected: intent confidence NaN from nlp-model 2024.12.0-rc1",
            model="intent-bert",
            model_version="2024.12.0-rc1",
        )
    pp_end = validate.end_ns + j(0.1)
    _stretch(b, pp, pp_end, net)
    return pp_end


def _audit_and_answer(b: TraceBuilder, logger: _Logger, gw: Span, orch: Span, pp_end: int, start_ns: int,
                      net: int) -> None:  # fmt: skip
    """The audit message (published, then consumed asynchronously) and the answer going back up the chain."""
    j = b.jitter_us
    producer = audit_publish(b, orch, pp_end + net // 2 + j(0.1))
    orch_end = producer.end_ns + j(0.2)
    _stretch(b, orch, orch_end, net)
    gw_end = orch_end + net // 2 + j(0.3)
    _stretch(b, gw, gw_end, 0)
    consumer = audit_consume(b, producer)
    logger.log(consumer, consumer.end_ns, "info", "prediction audited")
    logger.log(gw, gw_end, "info", "request served", status=200, duration_ms=(gw_end - start_ns) // MS)


def _layers(b: TraceBuilder, forward: Span, count: int) -> None:
    """``count`` sequential per-layer spans inside a model's forward pass (for large-trace benchmarks)."""
    step = forward.duration_ns // max(count, 1)
    for n in range(count):
        b.span(forward.service, f"layer.{n}", forward.start_ns + n * step, step, forward)


def _inference_done(b: TraceBuilder, logger: _Logger, forward: Span, layers: int) -> None:
    """A forward pass's per-layer spans and its "inference done" line."""
    _layers(b, forward, layers)
    model, version = forward.attributes["ml.model.name"], forward.attributes["ml.model.version"]
    logger.log(forward, forward.end_ns, "info", "inference done", model=model, model_version=version)


def _nlp_branch(
    b: TraceBuilder, logger: _Logger, router: Span, start: int, fault: str | None, net: int, layers: int = 0,
    score: float | None = None,
) -> int:  # fmt: skip
    j = b.jitter_us
    version = "2024.12.0-rc1" if fault == "bad_model_version" else "2024.11.3"
    extra_net = b.rng.randrange(250, 450) * MS if fault == "nlp_network_delay" else 0
    attempts = 2 if fault == "nlp_timeouts" else 1
    t = start + j(0.1)
    for attempt in range(attempts):
        timed_out = attempt == 0 and fault == "nlp_timeouts"
        handler = 250 * MS if timed_out else j(18.0)
        server = b.rpc(
            router,
            "model-router",
            "nlp-model",
            "Infer",
            t,
            handler,
            net + extra_net,
            error="deadline exceeded after 250ms" if timed_out else "",
        )
        if timed_out:
            logger.log(
                server,
                server.end_ns,
                "error",
                "inference timed out after 250 ms; router will retry",
                model="intent-bert",
            )
            client = next(s for s in b.spans if s.span_id == server.parent_span_id)
            t = client.end_ns + j(0.5)
            continue
        pre = j(3.0)
        b.span("nlp-model", "preprocess", server.start_ns + j(0.2), pre, server)
        fwd = forward_pass(b, server, server.start_ns + j(0.3) + pre, "intent-bert", version, 8,
                           {CONFIDENCE_KEY: score} if score is not None else None)  # fmt: skip
        _inference_done(b, logger, fwd, layers)
        return server.end_ns + (net + extra_net) // 2
    raise AssertionError("unreachable: the last attempt always succeeds")


def _cv_branch(
    b: TraceBuilder, logger: _Logger, router: Span, start: int, fault: str | None, net: int, layers: int = 0
) -> int:
    j = b.jitter_us
    cold = fault == "cv_cold_start"
    version = "3.3.0" if cold else "3.2.0"
    load = b.rng.randrange(600, 1100) * MS if cold else 0
    slow = b.rng.randrange(1100, 1800) * MS if fault == "gateway_timeout" else 0  # past the route timeout
    handler = j(24.0) + load + slow
    server = b.rpc(router, "model-router", "cv-model", "Infer", start + j(0.1), handler, net)
    cursor = server.start_ns + j(0.2)
    if cold:
        weights = b.span("cv-model", "load_weights", cursor, load, server, attributes={"ml.model.version": version})
        logger.log(
            weights,
            weights.start_ns,
            "warn",
            f"cold start: loading product-vit {version} weights",
            model="product-vit",
            model_version=version,
        )
        cursor = weights.end_ns
    pre = j(2.5)
    b.span("cv-model", "preprocess", cursor, pre, server)
    fwd = forward_pass(b, server, cursor + pre + j(0.1), "product-vit", version, 4)
    _inference_done(b, logger, fwd, layers)
    return server.end_ns + net // 2


def request_trace_id(scenario: str, seed: int, request: int) -> str:
    """A trace ID unique to (scenario, seed, request): two scenarios pushed into one Tempo never merge traces."""
    return f"{random.Random(f'{scenario}/{seed}/{request}').getrandbits(128):032x}"


def generate(
    scenario: Scenario | str,
    requests: int = 300,
    seed: int = 42,
    end_ns: int | None = None,
    window_ns: int = 30 * 60 * 10**9,
    layers: int = 0,
) -> Workload:
    """``requests`` requests spread over the ``window_ns`` before ``end_ns`` (default: a fixed instant)."""
    sc = SCENARIOS[scenario] if isinstance(scenario, str) else scenario
    rng = random.Random(seed)
    end = end_ns if end_ns is not None else 1_763_972_400_000_000_000
    logger = _Logger()
    traces: list[Trace] = []
    affected: set[str] = set()
    labels: list[tuple[str, int, int]] = []
    fault_start = end - window_ns + round(window_ns * sc.onset) if sc.fault is not None else None
    after_onset = min(1.0, sc.affected / (1 - sc.onset)) if sc.onset < 1 else 0.0
    for i in range(requests):
        start = end - window_ns + (window_ns * i) // requests + rng.randrange(0, 10**9)
        hit = fault_start is not None and rng.random() < after_onset and start >= fault_start
        trace = simulate_request(
            seed * 100_003 + i, start - (start % 1000), sc.fault if hit else None, logger, layers,
            trace_id=request_trace_id(sc.name, seed, i),
        )  # fmt: skip
        traces.append(trace)
        if hit:
            affected.add(trace.trace_id)
        if labelled(seed * 100_003 + i):
            labels.append((trace.trace_id, truth(seed * 100_003 + i), start - (start % 1000)))
    logger.records.sort(key=lambda r: r.time_ns)
    return Workload(sc, traces, logger.records, affected, end - window_ns, end, fault_start, labels)
