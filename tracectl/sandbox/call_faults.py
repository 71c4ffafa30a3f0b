"""Two faults in how the sandbox's services call each other, which ``tracectl explain`` must read in one trace:
an N+1 in the feature store (``feature-store-n-plus-one``) and a gateway route timeout that masks a slow model
(``gateway-timeout``). ``workload.simulate_request`` calls these; the scenarios and ground truth are there."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from tracectl.model import Span, SpanKind, StatusCode
from tracectl.sandbox.synth import US, TraceBuilder

if TYPE_CHECKING:
    from tracectl.sandbox.workload import _Logger

N_PLUS_ONE_FEATURES = 24  # feature_store_n_plus_one: one online-store lookup per feature, one after another
ROUTE_TIMEOUT_NS = 1_000_000_000  # gateway_timeout: the gateway's route timeout


def lookups_one_by_one(b: TraceBuilder, fs: Span, start: int, durations: list[int]) -> None:
    """The N+1: one online-store query per feature, each after the previous one."""
    for n, duration in enumerate(durations):
        b.span("feature-store", "online_store.lookup", start, duration, fs, SpanKind.CLIENT,
               {"db.system": "cassandra", "db.operation.name": "SELECT", "ml.feature_index": n})  # fmt: skip
        start += duration + 150 * US


def route_timeout(b: TraceBuilder, gw: Span, logger: _Logger) -> None:
    """The gateway gives up at its route timeout: its span (the only error) and its call end there; the
    orchestrator, which never hears of it, runs on."""
    end = gw.start_ns + ROUTE_TIMEOUT_NS
    for i, s in enumerate(b.spans):
        if s.span_id == gw.span_id:
            b.spans[i] = replace(s, end_ns=end, status=StatusCode.ERROR, status_message="upstream request timeout",
                                 attributes={**s.attributes, "http.response.status_code": 504})  # fmt: skip
        elif s.parent_span_id == gw.span_id and s.kind is SpanKind.CLIENT:
            b.spans[i] = replace(s, end_ns=min(s.end_ns, end))
    logger.log(gw, end, "error", f"upstream request timeout after {ROUTE_TIMEOUT_NS // 1_000_000} ms", status=504)
