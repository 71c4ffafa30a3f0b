"""``tracectl check``'s rules, one by one on small hand-built traces (each positive and negative), the score,
and the rules on real OpenTelemetry SDK traces where none may fire."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import T0, span, trace
from tests.conftest import SHARED, needs_samples
from tracectl.analysis.check_rules import name_template
from tracectl.analysis.checks import IMPACT_WEIGHTS, RULES, CheckReport, RuleResult, category, check_traces
from tracectl.model import Event, Resource, Span, SpanKind, StatusCode, Trace

MS = 1_000_000
SERVER, CLIENT, INTERNAL = SpanKind.SERVER, SpanKind.CLIENT, SpanKind.INTERNAL


def on(s: Span, **resource: str) -> Span:
    """``s`` produced by a resource with these attributes (service.name kept unless given)."""
    attrs = {"service.name": s.service, **{k.replace("_", "."): v for k, v in resource.items()}}
    return replace(s, resource=Resource(attrs))


def traced(trace_id: str, *spans: Span) -> Trace:
    return Trace(trace_id, tuple(replace(s, trace_id=trace_id) for s in spans))


def finding(report: CheckReport, rule: str, service: str | None = None) -> RuleResult | None:
    return next((r for r in report.findings if r.rule.id == rule and service in (None, r.service)), None)


def result(report: CheckReport, rule: str, service: str) -> RuleResult | None:
    svc = next(s for s in report.services if s.service == service)
    return next((r for r in svc.results if r.rule.id == rule), None)


def healthy_call(trace_id: str = "1" * 32) -> Trace:
    """An instrumented HTTP call from api to feat, as the OpenTelemetry SDK records it."""
    http = {"http.request.method": "GET", "http.response.status_code": 200}
    spans = (
        span("POST /predict", 0, 100, kind=SERVER, service="api", **{**http, "http.route": "/predict"}),
        span("GET", 10, 60, "POST /predict", service="api", kind=CLIENT, **http,
             **{"url.full": "http://feat:8001/features/1", "server.port": 8001}),
        span("GET /features/{zipcode}", 12, 58, "GET", service="feat", kind=SERVER,
             **{**http, "http.route": "/features/{zipcode}", "url.path": "/features/1", "server.port": 8001}),
        span("feature lookup", 13, 57, "GET /features/{zipcode}", service="feat", kind=INTERNAL),
    )  # fmt: skip
    return traced(trace_id, *spans)


def test_healthy_sdk_shaped_traces_pass_every_rule() -> None:
    report = check_traces([healthy_call("1" * 32), healthy_call("2" * 32)])
    assert report.findings == [] and report.traces == 2 and report.spans == 8
    assert [(s.service, s.score) for s in report.services] == [("api", 100.0), ("feat", 100.0)]
    applied = {r.rule.id for s in report.services for r in s.results}
    assert {"propagation", "service-name", "span-kind", "semconv", "missing-parent"} <= applied


# ------------------------------------------------------------------------------------------------ per-span rules


@pytest.mark.parametrize(
    ("resource", "cause"),
    [({}, "no service.name on the resource"), ({"service.name": "unknown_service:python"}, "default service.name")],
)
def test_service_name_missing_or_default(resource: dict[str, str], cause: str) -> None:
    anonymous = replace(span("work", 0, 10, kind=INTERNAL), resource=Resource(resource))
    report = check_traces([trace(anonymous)])
    found = finding(report, "service-name")
    assert found is not None and cause in found.cause and found.failed == found.checked == 1
    assert found.rule.impact == "critical" and found.example_span_id == anonymous.span_id
    assert finding(check_traces([trace(span("work", 0, 10, kind=INTERNAL))]), "service-name") is None


def test_missing_span_kind() -> None:
    report = check_traces([trace(span("a", 0, 10, kind=SpanKind.UNSPECIFIED), span("b", 1, 5, "a", kind=INTERNAL))])
    found = finding(report, "span-kind")
    assert found is not None and (found.failed, found.checked) == (1, 2) and found.cause == "no span kind"


@pytest.mark.parametrize(
    ("name", "template"),
    [
        ("GET /users/123", "GET /users/{n}"),
        ("GET /orders/3f2b8c1e-0a4d-4b7e-9c55-1d2e3f4a5b6c/items", "GET /orders/{uuid}/items"),
        ("fetch 4bf92f3577b34da6a3ce929d0e0e4736", "fetch {hex}"),
        ("notify ana@example.com", "notify {email}"),
        ("GET /search?q=shoes&page=2", "GET /search?{query}"),
        ("process batch 4711", "process batch {n}"),
    ],
)
def test_ids_in_span_names(name: str, template: str) -> None:
    assert name_template(name) == template
    found = finding(check_traces([trace(span(name, 0, 10, kind=INTERNAL))]), "span-name")
    assert found is not None and found.cause == f"names like {template!r}"


@pytest.mark.parametrize("name", ["GET /users/{id}", "POST /v1/predict", "retry 2", "SELECT ts.orders", "http 1.1"])
def test_template_names_pass(name: str) -> None:
    assert name_template(name) == name
    assert finding(check_traces([trace(span(name, 0, 10, kind=INTERNAL))]), "span-name") is None


@pytest.mark.parametrize(
    ("kind", "attrs", "cause"),
    [
        (
            SERVER,
            {"http.request.method": "GET", "http.response.status_code": 200},
            "HTTP server spans without http.route",
        ),
        (CLIENT, {"http.method": "GET", "http.url": "http://x/"}, "without http.response.status_code"),
        (CLIENT, {"http.request.method": "GET", "http.response.status_code": 200}, "without url.full"),
        (CLIENT, {"db.statement": "SELECT 1"}, "database spans without db.system"),
        (SpanKind.PRODUCER, {}, "without messaging.system, messaging.destination.name"),
        (CLIENT, {"rpc.method": "Get"}, "RPC spans without rpc.system"),
        (CLIENT, {}, "client spans that do not say what they call without server.address"),
    ],
)
def test_missing_semantic_convention_attributes(kind: SpanKind, attrs: dict[str, object], cause: str) -> None:
    found = finding(check_traces([trace(span("call", 0, 10, kind=kind, **attrs))]), "semconv")  # type: ignore[arg-type]
    assert found is not None and cause in found.cause


@pytest.mark.parametrize(
    ("kind", "attrs"),
    [
        (SERVER, {"http.method": "GET", "http.status_code": 404}),  # nothing matched a route
        (CLIENT, {"http.request.method": "GET", "url.full": "http://x/", "error.type": "ConnectError"}),  # no response
        (CLIENT, {"db.system": "postgresql", "db.statement": "SELECT 1"}),
        (SpanKind.CONSUMER, {"messaging.system": "kafka", "messaging.destination.name": "audit"}),
        (CLIENT, {"peer.service": "billing"}),
        (INTERNAL, {}),  # not a typed span: the rule does not apply
    ],
)
def test_complete_semantic_conventions_pass(kind: SpanKind, attrs: dict[str, object]) -> None:
    assert finding(check_traces([trace(span("call", 0, 10, kind=kind, **attrs))]), "semconv") is None  # type: ignore[arg-type]


def _error_span(**changes: object) -> Span:
    return replace(span("call", 0, 10, kind=changes.pop("kind", SERVER)), **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("s", "cause"),
    [
        (_error_span(attributes={"http.response.status_code": 503}), "HTTP 503 on a server span without ERROR status"),
        (_error_span(kind=CLIENT, attributes={"http.response.status_code": 404}), "HTTP 404 on a client span"),
        (_error_span(status=StatusCode.ERROR), "ERROR status with no message, exception event or error.type"),
        (_error_span(events=(Event(T0, "exception", {"exception.type": "KeyError"}),)), "exception events on spans"),
        (_error_span(status_message="timeout"), "a status message on a span whose status is UNSET"),
    ],
)
def test_errors_recorded_inconsistently(s: Span, cause: str) -> None:
    found = finding(check_traces([trace(s)]), "error-status")
    assert found is not None and cause in found.cause and found.rule.impact == "important"


@pytest.mark.parametrize(
    "s",
    [
        _error_span(attributes={"http.response.status_code": 404}),  # a client's mistake is not the server's error
        _error_span(status=StatusCode.ERROR, status_message="model timed out"),
        _error_span(status=StatusCode.ERROR, events=(Event(T0, "exception", {"exception.type": "KeyError"}),)),
        _error_span(kind=CLIENT, status=StatusCode.ERROR, attributes={"http.response.status_code": 502}),
        _error_span(status=StatusCode.ERROR, attributes={"error.type": "timeout"}),
    ],
)
def test_errors_recorded_consistently(s: Span) -> None:
    assert finding(check_traces([trace(s)]), "error-status") is None


@pytest.mark.parametrize(
    ("start", "end", "cause"),
    [(T0, T0, "zero-length spans"), (T0, 0, "never ended"), (T0, T0 - MS, "end before they start"),
     (5, 10, "missing or absurd timestamps")],
)  # fmt: skip
def test_unended_and_zero_length_spans(start: int, end: int, cause: str) -> None:
    report = check_traces([trace(replace(span("work", 0, 1, kind=INTERNAL), start_ns=start, end_ns=end))])
    found = finding(report, "span-duration")
    assert found is not None and cause in found.cause and found.rule.impact == "low"
    assert finding(check_traces([trace(span("work", 0, 1, kind=INTERNAL))]), "span-duration") is None


# ------------------------------------------------------------------------------------------------ tree rules


def test_a_parent_that_never_arrived() -> None:
    report = check_traces([trace(span("root", 0, 10, kind=SERVER), span("child", 1, 5, "gone", kind=INTERNAL))])
    found = finding(report, "missing-parent")
    assert found is not None and (found.failed, found.checked) == (1, 1) and found.rule.impact == "normal"
    assert finding(check_traces([trace(span("root", 0, 10), span("child", 1, 5, "root"))]), "missing-parent") is None


@pytest.mark.parametrize(
    ("early_ms", "parent_host", "child_host", "fires"),
    [(5, "a", "b", True), (0.5, "a", "b", False), (5, "a", "a", False), (-2, "a", "b", False)],
)
def test_clock_skew_only_across_hosts_beyond_the_tolerance(
    early_ms: float, parent_host: str, child_host: str, fires: bool
) -> None:
    parent = on(span("call", 10, 50, kind=CLIENT, service="api", **{"peer.service": "feat"}), host_name=parent_host)
    child = on(span("serve", 10 - early_ms, 40, "call", kind=SERVER, service="feat"), host_name=child_host)
    report = check_traces([trace(parent, child)])
    assert (finding(report, "clock-skew", "feat") is not None) is fires
    assert (result(report, "clock-skew", "feat") is not None) is (parent_host != child_host)


def test_clock_skew_causes_group_by_order_of_magnitude() -> None:
    traces = []
    for n, early in enumerate((3, 7, 40, 2500), 1):
        parent = on(span("call", 3000, 3050, kind=CLIENT, service="api", **{"peer.service": "feat"}), host_name="a")
        child = on(span("serve", 3000 - early, 3040, "call", kind=SERVER, service="feat"), host_name="b")
        traces.append(traced(f"{n:032x}", parent, child))
    found = finding(check_traces(traces), "clock-skew")
    assert found is not None and dict(found.causes) == {
        "children starting 1–10 ms before their parent on another host": 2,
        "children starting 10–100 ms before their parent on another host": 1,
        "children starting over 1 s before their parent on another host": 1,
    }


def test_clock_skew_without_host_attributes_judges_different_processes() -> None:
    parent = on(span("call", 10, 50, kind=CLIENT, service="api", **{"peer.service": "feat"}), service_instance_id="1")
    child = on(span("serve", 4, 40, "call", kind=SERVER, service="feat"), service_instance_id="2")
    found = finding(check_traces([trace(parent, child)]), "clock-skew")
    assert found is not None and found.cause == "children starting 1–10 ms before their parent on another host"


# ------------------------------------------------------------------------------------------------ propagation


def test_a_call_made_from_a_thread_without_the_context_splits_the_request() -> None:
    request = traced(
        "a" * 32,
        on(span("POST /predict", 0, 100, kind=SERVER, service="api"), service_instance_id="i1"),
        on(span("fetch", 10, 60, "POST /predict", kind=INTERNAL, service="api"), service_instance_id="i1"),
    )
    lost = traced(
        "b" * 32,
        on(span("GET", 20, 50, kind=CLIENT, service="api", **{"url.full": "http://feat/x"}), service_instance_id="i1"),
        span("GET /x", 22, 48, "GET", kind=SERVER, service="feat"),
    )
    report = check_traces([request, lost])
    found = finding(report, "propagation")
    assert found is not None and found.service == "api" and found.rule.impact == "critical"
    assert "calls to feat made outside the request's context" in found.cause
    assert (found.failed, found.checked, found.example_trace_id) == (1, 1, "b" * 32)
    assert "asyncio.to_thread" in found.fix
    elsewhere = traced("b" * 32, *(on(s, service_instance_id="i2") if s.service == "api" else s for s in lost.spans))
    assert finding(check_traces([request, elsewhere]), "propagation") is None  # another process: a job of its own


def _header_pair(server_path: str, server_port: int) -> list[Trace]:
    caller = traced(
        "c" * 32,
        span("POST /predict", 0, 100, kind=SERVER, service="api"),
        span("GET", 10, 60, "POST /predict", kind=CLIENT, service="api",
             **{"http.request.method": "GET", "url.full": "http://feat:8001/features/7"}),
    )  # fmt: skip
    callee = traced(
        "d" * 32,
        span("GET /features/{zipcode}", 11, 58, kind=SERVER, service="feat",
             **{"http.request.method": "GET", "url.path": server_path, "server.port": server_port}),
    )  # fmt: skip
    return [caller, callee]


def test_a_call_sent_without_trace_context_is_matched_to_the_trace_it_started() -> None:
    report = check_traces(_header_pair("/features/7", 8001))
    found = finding(report, "propagation")
    assert found is not None and found.service == "api"  # the caller drops it
    assert found.cause.startswith("calls to feat (GET /features/{zipcode}) that arrive without trace context")
    assert "OTEL_PROPAGATORS" in found.fix and found.example_trace_id == "c" * 32
    assert result(report, "propagation", "feat") is None  # the callee's root is explained, not blamed


@pytest.mark.parametrize(("server_service", "fires"), [("feature-store", True), ("cv-model", False)])
def test_a_grpc_call_without_context_is_matched_by_method_and_target(server_service: str, fires: bool) -> None:
    caller = traced("5" * 32, span("feature-store/GetFeatures", 10, 60, kind=CLIENT, service="orchestrator", **{
        "rpc.system": "grpc", "rpc.service": "feature-store", "rpc.method": "GetFeatures"}))  # fmt: skip
    callee = traced("6" * 32, span("GetFeatures", 11, 58, kind=SERVER, service=server_service,
                                   **{"rpc.system": "grpc", "rpc.method": "GetFeatures"}))  # fmt: skip
    found = finding(check_traces([caller, callee]), "propagation")
    assert (found is not None) is fires  # the same method name on another service is not this call
    if found is not None:
        assert found.service == "orchestrator" and "calls to feature-store (GetFeatures)" in found.cause


def test_overlapping_calls_to_one_endpoint_are_each_matched_to_the_server_span_they_frame() -> None:
    http = {"http.request.method": "GET", "url.full": "http://feat:8001/features/7"}
    short_call = traced("1" * 32, span("GET", 10, 20, kind=CLIENT, service="api", **http))
    long_call = traced("2" * 32, span("GET", 11, 60, kind=CLIENT, service="api", **http))
    served = {"url.path": "/features/7", "server.port": 8001}
    first = traced("3" * 32, span("GET /features/{zipcode}", 10.5, 19, kind=SERVER, service="feat", **served))
    second = traced("4" * 32, span("GET /features/{zipcode}", 30, 59, kind=SERVER, service="feat", **served))
    found = finding(check_traces([short_call, long_call, first, second]), "propagation")
    assert found is not None and (found.failed, found.checked) == (2, 2)  # the latest-started call would strand one


@pytest.mark.parametrize(("path", "port"), [("/features/8", 8001), ("/features/7", 9000)])
def test_a_root_calling_something_else_is_not_matched(path: str, port: int) -> None:
    assert finding(check_traces(_header_pair(path, port)), "propagation") is None


def test_a_root_of_an_operation_others_call_with_context_is_a_split_even_without_its_caller() -> None:
    orphaned = traced("e" * 32, span("GET /features/{zipcode}", 0, 10, kind=SERVER, service="feat"))
    report = check_traces([healthy_call(), orphaned])
    found = finding(report, "propagation", "feat")
    assert found is not None and (found.failed, found.checked) == (1, 2)
    assert "requests to GET /features/{zipcode} that arrive without trace context" in found.cause


# ------------------------------------------------------------------------------------------------ the score


def test_the_score_is_the_weighted_pass_rate_of_the_rules_that_apply() -> None:
    spans = [span(f"job {n}", 0, 10, kind=SpanKind.UNSPECIFIED if n < 12 else INTERNAL) for n in range(10, 14)]
    report = check_traces([traced(f"{n:032x}", s) for n, s in enumerate(spans, 1)])
    (svc,) = report.services
    applied = {r.rule.id: r for r in svc.results}
    assert set(applied) == {"service-name", "span-kind", "span-name", "span-duration"}  # nothing else judges these
    assert applied["span-kind"].passing == 0.5  # 2 of 4 without a kind (names "job 10".."job 13" pass)
    weights = IMPACT_WEIGHTS["critical"] + IMPACT_WEIGHTS["important"] * 2 + IMPACT_WEIGHTS["low"]
    assert svc.score == pytest.approx(100 * (weights - 0.5 * IMPACT_WEIGHTS["important"]) / weights)
    assert round(svc.score, 1) == 86.4 and category(svc.score) == "good"
    assert (category(90), category(74.9), category(49)) == ("excellent", "needs improvement", "poor")


def test_a_failing_critical_rule_caps_the_label_below_good() -> None:
    assert [category(s, critical_failing=True) for s in (99, 78.9, 60, 40)] == [
        "needs improvement", "needs improvement", "needs improvement", "poor"]  # fmt: skip
    orphaned = traced("e" * 32, span("GET /features/{zipcode}", 0, 10, kind=SERVER, service="feat"))
    feat = next(s for s in check_traces([healthy_call(), orphaned]).services if s.service == "feat")
    assert feat.score >= 75 and category(feat.score) in ("good", "excellent")  # the score alone would say good
    assert feat.category == "needs improvement"  # one request in two split: not good


def test_every_rule_has_an_impact_weight_and_a_fix_sentence() -> None:
    assert len({r.id for r in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.weight in IMPACT_WEIGHTS.values() and rule.fix.endswith(".") and rule.title


_kinds = st.sampled_from(list(SpanKind))
_names = st.sampled_from(["GET /users/{id}", "GET /users/42", "work", "", "SELECT 1"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_kinds, _names, st.integers(-5, 50), st.integers(0, 60), st.booleans()), min_size=1,
                max_size=12))  # fmt: skip
def test_scores_stay_within_0_and_100_and_failures_within_what_was_checked(
    shapes: list[tuple[SpanKind, str, int, int, bool]],
) -> None:
    spans = [span(f"s{i}", start, start + length, f"s{i - 1}" if i and chained else "", kind=kind,
                  service=f"svc{i % 3}") for i, (kind, _n, start, length, chained) in enumerate(shapes)]  # fmt: skip
    spans = [replace(s, name=shape[1]) for s, shape in zip(spans, shapes, strict=True)]
    report = check_traces([trace(*spans)])
    for svc in report.services:
        assert 0.0 <= svc.score <= 100.0
        for r in svc.results:
            assert 0 <= r.failed <= r.checked and sum(r.causes.values()) == r.failed
    assert sum(s.spans for s in report.services) == report.spans == len(spans)


# ------------------------------------------------------------------------------------------------ real traces

OTEL_FASTAPI = SHARED / "rca-dev" / "otel-fastapi" / "traces.otlp.jsonl.gz"


@needs_samples
def test_no_rule_fires_on_healthy_real_sdk_traces() -> None:
    from tracectl.formats.detect import read_source

    report = check_traces(read_source(str(OTEL_FASTAPI)).traces)
    assert report.traces == 298
    assert report.findings == [], [(f.rule.id, f.service, f.cause) for f in report.findings]
    assert {s.service: s.score for s in report.services} == {"feature-service": 100.0, "model-service": 100.0,
                                                             "predict-api": 100.0}  # fmt: skip
    applied = {r.rule.id for s in report.services for r in s.results}
    assert {"propagation", "semconv", "clock-skew", "missing-parent"} <= applied  # the rules had something to judge
