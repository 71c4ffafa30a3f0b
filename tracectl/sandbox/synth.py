"""Deterministic synthetic traces: the ML-serving request used by fixtures and the demo, and shapes for benchmarks.

Everything is seeded, and times are whole microseconds so that a trace survives Jaeger's microsecond
resolution unchanged. ``python -m tracectl.sandbox.synth --help`` writes large traces for the benchmarks.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Mapping
from pathlib import Path

from tracectl.model import AttrValue, Event, Link, Resource, Scope, Span, SpanKind, StatusCode, Trace

US = 1_000
MS = 1_000_000
BASE_NS = 1_763_972_400_000_000_000  # 2025-11-24T08:20:00Z

_SCOPE = Scope("tracectl.synth", "1.0")  # the name the committed fixtures carry; kept when the module moved


class TraceBuilder:
    """Creates spans with seeded random IDs and one shared ``Resource`` per service."""

    def __init__(self, seed: int = 1, trace_id: str | None = None) -> None:
        self.rng = random.Random(seed)
        self.trace_id = trace_id or f"{self.rng.getrandbits(128):032x}"
        self.spans: list[Span] = []
        self._resources: dict[str, Resource] = {}

    def resource(self, service: str) -> Resource:
        res = self._resources.get(service)
        if res is None:
            pod = f"{service}-{self.rng.getrandbits(20):05x}"
            res = Resource({"service.name": service, "service.namespace": "ml-serving", "k8s.pod.name": pod})
            self._resources[service] = res
        return res

    def span(
        self,
        service: str,
        name: str,
        start_ns: int,
        duration_ns: int,
        parent: Span | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Mapping[str, AttrValue] | None = None,
        error: str = "",
        events: tuple[Event, ...] = (),
        links: tuple[Link, ...] = (),
        span_id: str | None = None,
        parent_span_id: str | None = None,
    ) -> Span:
        span = Span(
            trace_id=self.trace_id,
            span_id=span_id or f"{self.rng.getrandbits(64) | 1:016x}",
            parent_span_id=parent_span_id if parent_span_id is not None else (parent.span_id if parent else ""),
            name=name,
            start_ns=start_ns,
            end_ns=start_ns + duration_ns,
            kind=kind,
            status=StatusCode.ERROR if error else StatusCode.UNSET,
            status_message=error,
            attributes=dict(attributes or {}),
            resource=self.resource(service),
            scope=_SCOPE,
            events=events,
            links=links,
        )
        self.spans.append(span)
        return span

    def rpc(
        self,
        parent: Span,
        caller: str,
        callee: str,
        method: str,
        start_ns: int,
        handler_ns: int,
        network_ns: int,
        error: str = "",
    ) -> Span:
        """A CLIENT span in ``caller`` and its SERVER child in ``callee``; returns the server span."""
        client = self.span(
            caller,
            f"{callee}/{method}",
            start_ns,
            handler_ns + network_ns,
            parent,
            SpanKind.CLIENT,
            {"rpc.system": "grpc", "rpc.service": callee, "rpc.method": method, "server.address": callee},
            error=error,
        )
        return self.span(
            callee,
            method,
            start_ns + network_ns // 2,
            handler_ns,
            client,
            SpanKind.SERVER,
            {"rpc.system": "grpc", "rpc.method": method},
            error=error,
        )

    def jitter_us(self, mean_ms: float, spread: float = 0.25) -> int:
        """A positive duration around ``mean_ms``, rounded to whole microseconds."""
        value = self.rng.lognormvariate(0, spread) * mean_ms
        return max(1, round(value * 1000)) * US

    def build(self) -> Trace:
        return Trace(self.trace_id, tuple(self.spans))


def ml_inference_trace(seed: int = 7, start_ns: int = BASE_NS, trace_id: str | None = None) -> Trace:
    """One prediction request through the ML serving stack.

    api-gateway → inference-orchestrator → feature-store (cache miss, online store) → model-router →
    nlp-model ∥ cv-model → postprocess, plus an async producer/consumer hop to audit-logger.

    Each step below draws its jitter in the order the request makes its calls: the same seed gives the same trace.
    """
    b = TraceBuilder(seed, trace_id)
    j = b.jitter_us
    net = 400 * US
    gw, orch, cursor = gateway_request(b, start_ns, net)
    cursor = _feature_lookup(b, orch, cursor, net)
    router_end = _model_inference(b, orch, cursor, net)
    pp_end = _postprocess(b, orch, router_end + net // 2 + j(0.2), net)
    producer = audit_publish(b, orch, pp_end + net // 2 + j(0.1))
    orch_end = producer.end_ns + j(0.2)
    _stretch(b, orch, orch_end, net)
    _stretch(b, gw, orch_end + net // 2 + j(0.3), 0)
    audit_consume(b, producer)
    return b.build()


def gateway_request(b: TraceBuilder, start_ns: int, net: int) -> tuple[Span, Span, int]:
    """The gateway's server span (its end set later), its call to the orchestrator and the request's validation:
    (gateway, orchestrator, when the orchestrator goes on)."""
    j = b.jitter_us
    gw = b.span(
        "api-gateway",
        "POST /v1/predict",
        start_ns,
        0,
        kind=SpanKind.SERVER,
        attributes={"http.request.method": "POST", "http.route": "/v1/predict", "http.response.status_code": 200},
    )
    orch = b.rpc(gw, "api-gateway", "inference-orchestrator", "Predict", start_ns + j(0.3), 0, net)
    cursor = orch.start_ns + j(0.2)
    b.span("inference-orchestrator", "validate_request", cursor, j(0.3), orch)
    return gw, orch, cursor + j(0.5)


def _feature_lookup(b: TraceBuilder, orch: Span, start_ns: int, net: int) -> int:
    """feature-store/GetFeatures: a cache miss, then the online store; returns when the orchestrator goes on."""
    j = b.jitter_us
    fs = b.rpc(orch, "inference-orchestrator", "feature-store", "GetFeatures", start_ns, j(6.0), net)
    cache_d = j(0.4)
    b.span(
        "feature-store",
        "cache.get",
        fs.start_ns + j(0.1),
        cache_d,
        fs,
        attributes={"cache.hit": False, "db.system": "redis"},
        events=(Event(fs.start_ns + j(0.2), "cache miss", {"cache.key": "user:4821:features"}),),
    )
    online_store_lookup(b, fs, fs.start_ns + j(0.7))
    return fs.end_ns + net // 2 + j(0.2)


def online_store_lookup(b: TraceBuilder, fs: Span, start_ns: int) -> Span:
    """The feature store's read of all the features at once, from ``start_ns`` to just before ``fs`` ends."""
    return b.span(
        "feature-store",
        "online_store.lookup",
        start_ns,
        fs.end_ns - start_ns - b.jitter_us(0.3),
        fs,
        SpanKind.CLIENT,
        {"db.system": "cassandra", "db.operation.name": "SELECT", "ml.feature_count": 128},
    )


# service, handler mean (ms), inference mean (ms), model, version, batch size
_MODELS: tuple[tuple[str, float, float, str, str, int], ...] = (
    ("nlp-model", 18.0, 14.0, "intent-bert", "2024.11.3", 8),
    ("cv-model", 24.0, 20.0, "product-vit", "3.2.0", 4),
)


def _model_inference(b: TraceBuilder, orch: Span, start_ns: int, net: int) -> int:
    """model-router/Route fanning out to the NLP and CV models in parallel; returns the router's end."""
    j = b.jitter_us
    router = b.rpc(orch, "inference-orchestrator", "model-router", "Route", start_ns, 0, net)
    branch_start = router.start_ns + j(0.3)
    ends = []
    for service, mean, infer_mean, model, version, batch_size in _MODELS:
        handler = j(mean)
        server = b.rpc(router, "model-router", service, "Infer", branch_start + j(0.1), handler, net)
        pre = j(mean - infer_mean - 1)
        b.span(service, "preprocess", server.start_ns + j(0.2), pre, server)
        forward_pass(b, server, server.start_ns + j(0.3) + pre, model, version, batch_size)
        ends.append(server.end_ns + net // 2)
    router_end = max(ends) + j(0.3)
    _stretch(b, router, router_end, net)
    return router_end


def forward_pass(
    b: TraceBuilder, server: Span, start_ns: int, model: str, version: str, batch_size: int,
    more: Mapping[str, AttrValue] | None = None,
) -> Span:  # fmt: skip
    """A model server's forward pass, from ``start_ns`` to just before its server span ends, with the model's
    attributes (``more`` after them)."""
    return b.span(
        server.service,
        "forward",
        start_ns,
        server.end_ns - start_ns - b.jitter_us(0.2),
        server,
        attributes={
            "ml.model.name": model, "ml.model.version": version, "ml.batch_size": batch_size,
            "gen_ai.request.model": model, **(more or {}),
        },
    )  # fmt: skip


def _postprocess(b: TraceBuilder, orch: Span, start_ns: int, net: int) -> int:
    """postprocess/Process: rank, then calibrate; returns its end."""
    j = b.jitter_us
    pp = b.rpc(orch, "inference-orchestrator", "postprocess", "Process", start_ns, 0, net)
    rank = b.span("postprocess", "rank", pp.start_ns + j(0.1), j(1.5), pp)
    calibrate = b.span(
        "postprocess", "calibrate", rank.end_ns + j(0.2), j(0.6), pp, attributes={"ml.calibration": "isotonic"}
    )
    pp_end = calibrate.end_ns + j(0.1)
    _stretch(b, pp, pp_end, net)
    return pp_end


_AUDIT = {"messaging.system": "kafka", "messaging.destination.name": "predictions-audit"}


def audit_publish(b: TraceBuilder, orch: Span, start_ns: int) -> Span:
    """The orchestrator's Kafka publish to the audit topic (the request does not wait for the consumer)."""
    return b.span(
        "inference-orchestrator", "audit publish", start_ns, b.jitter_us(0.15), orch, SpanKind.PRODUCER, dict(_AUDIT)
    )


def audit_consume(b: TraceBuilder, producer: Span) -> Span:
    """audit-logger consuming the message, after the response has gone."""
    j = b.jitter_us
    start = producer.end_ns + j(2.0)
    return b.span("audit-logger", "audit process", start, j(1.2), producer, SpanKind.CONSUMER, dict(_AUDIT))


def _stretch(b: TraceBuilder, server: Span, end_ns: int, network_ns: int) -> None:
    """Set a span's end once its children are known (and its CLIENT parent's, if any, around it)."""
    index = {s.span_id: i for i, s in enumerate(b.spans)}
    i = index[server.span_id]
    b.spans[i] = _with_end(b.spans[i], end_ns)
    if server.kind is SpanKind.SERVER and server.parent_span_id in index:
        ci = index[server.parent_span_id]
        b.spans[ci] = _with_end(b.spans[ci], end_ns + network_ns // 2)


def _with_end(span: Span, end_ns: int) -> Span:
    from dataclasses import replace

    return replace(span, end_ns=end_ns)


# --------------------------------------------------------------------------------------- benchmark shapes


def chain_trace(depth: int, seed: int = 1) -> Trace:
    """A single chain ``depth`` spans deep, each child 1 µs inside its parent at both ends."""
    b = TraceBuilder(seed)
    total = (2 * depth + 10) * US
    parent: Span | None = None
    for level in range(depth):
        parent = b.span("chain", f"level-{level}", BASE_NS + level * US, total - 2 * level * US, parent)
    return b.build()


def fanout_trace(children: int, seed: int = 1) -> Trace:
    """One root with ``children`` sequential children (the shape Jaeger UI's critical path is quadratic on)."""
    b = TraceBuilder(seed)
    root = b.span("fanout", "root", BASE_NS, (children * 10 + 10) * US, kind=SpanKind.SERVER)
    for k in range(children):
        b.span("fanout", f"step-{k % 100}", BASE_NS + (5 + 10 * k) * US, 8 * US, root)
    return b.build()


def mixed_trace(spans: int, seed: int = 1) -> Trace:
    """A large trace of mixed shape: ML requests under a batch root, with fan-out, depth and overlap."""
    rng = random.Random(seed)
    b = TraceBuilder(seed)
    services = [
        "api-gateway",
        "inference-orchestrator",
        "feature-store",
        "model-router",
        "nlp-model",
        "cv-model",
        "postprocess",
    ]
    root = b.span("batch-scorer", "score batch", BASE_NS, 0, kind=SpanKind.SERVER)
    frontier: list[Span] = [root]
    t = BASE_NS + US
    while len(b.spans) < spans:
        parent = frontier[rng.randrange(len(frontier))] if rng.random() < 0.7 else frontier[-1]
        svc = services[rng.randrange(len(services))]
        start = max(t, parent.start_ns + US) if parent is not root else t
        dur = rng.randrange(5, 400) * US
        kind = (SpanKind.CLIENT, SpanKind.SERVER, SpanKind.INTERNAL)[rng.randrange(3)]
        attrs: dict[str, AttrValue] = {"ml.model.name": f"m{rng.randrange(8)}", "ml.batch_size": rng.randrange(1, 65)}
        child = b.span(
            svc, f"op-{rng.randrange(40)}", start, dur, parent, kind, attrs, error="boom" if rng.random() < 0.01 else ""
        )
        frontier.append(child)
        if len(frontier) > 64:
            frontier.pop(rng.randrange(1, len(frontier)))
        t += rng.randrange(0, 50) * US
    # Bottom-up (children were created after their parents): each parent ends after its last child.
    index = {s.span_id: i for i, s in enumerate(b.spans)}
    ends = [s.end_ns for s in b.spans]
    for i in range(len(b.spans) - 1, 0, -1):
        p = index[b.spans[i].parent_span_id]
        ends[p] = max(ends[p], ends[i] + US)
    b.spans[:] = [_with_end(s, e) if e != s.end_ns else s for s, e in zip(b.spans, ends, strict=True)]
    return b.build()


def main(argv: list[str] | None = None) -> int:
    from tracectl.formats import otlp_json

    parser = argparse.ArgumentParser(
        prog="python -m tracectl.sandbox.synth", description="Write a synthetic trace as OTLP JSON."
    )
    parser.add_argument("shape", choices=["ml", "mixed", "chain", "fanout"])
    parser.add_argument("size", type=int, nargs="?", default=100_000, help="spans (depth for chain)")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    import orjson

    trace = {
        "ml": lambda: ml_inference_trace(args.seed),
        "mixed": lambda: mixed_trace(args.size, args.seed),
        "chain": lambda: chain_trace(args.size, args.seed),
        "fanout": lambda: fanout_trace(args.size, args.seed),
    }[args.shape]()
    args.output.write_bytes(orjson.dumps(otlp_json.dump_document([trace])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
