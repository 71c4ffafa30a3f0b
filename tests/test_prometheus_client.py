"""The Prometheus client through respx (exact parameters sent, the envelope read), and metric-family discovery
against the sandbox's Prometheus (including the Collector's spanmetrics family and --metric)."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import httpx
import pytest
import respx

from tracectl.analysis import red
from tracectl.backends import metric_families as mf
from tracectl.backends.http import HttpClient, HttpConfig
from tracectl.backends.prometheus import PrometheusClient, choose_step, read_result
from tracectl.errors import BackendError, InputError
from tracectl.sandbox import SandboxServers, Store, generate
from tracectl.sandbox.prom_api import PromSource
from tracectl.sandbox.red_metrics import ALL_FAMILIES
from tracectl.timerange import TimeRange

BASE = "http://prom.test:9090"
S = 10**9
WINDOW = TimeRange(1_700_000_000 * S, 1_700_003_600 * S)


def client() -> PrometheusClient:
    return PrometheusClient(HttpClient(HttpConfig(BASE, "Prometheus", retries=0), sleep=lambda _s: None))


def test_query_range_sends_unix_seconds_and_reads_the_matrix() -> None:
    body = {
        "status": "success",
        "warnings": ["too many series"],
        "data": {
            "resultType": "matrix",
            "result": [
                {"metric": {"job": "a"}, "values": [[1700000000, "0.5"], [1700000060.5, "NaN"], [1700000120, "+Inf"]]}
            ],
        },
    }
    with respx.mock(base_url=BASE, assert_all_mocked=True) as mock:
        route = mock.get("/api/v1/query_range").mock(return_value=httpx.Response(200, json=body))
        result = client().query_range("sum(rate(x[1m]))", WINDOW, 60 * S)
    params = dict(route.calls.last.request.url.params)
    assert params == {"query": "sum(rate(x[1m]))", "start": "1700000000", "end": "1700003600", "step": "60"}
    points = result.series[0].samples
    assert points[0] == (1_700_000_000 * S, 0.5) and points[1][0] == 1_700_000_060_500_000_000
    assert math.isnan(points[1][1]) and points[2][1] == math.inf
    assert result.warnings == ["Prometheus: too many series"]


def test_the_error_envelope_is_a_one_line_backend_error() -> None:
    body = {"status": "error", "errorType": "bad_data", "error": 'parse error: unexpected "}"'}
    with respx.mock(base_url=BASE, assert_all_mocked=True) as mock:
        mock.get("/api/v1/query").mock(return_value=httpx.Response(400, json=body))
        with pytest.raises(BackendError, match=r"refused the query 'x\}' \(bad_data, HTTP 400\): parse error"):
            client().query("x}", WINDOW.end_ns)


def test_a_step_over_11000_points_is_refused_before_any_request() -> None:
    with respx.mock(base_url=BASE, assert_all_mocked=True), pytest.raises(InputError, match="at least 1 s"):
        client().query_range("x", TimeRange(0, 3 * 3600 * S), S // 2)
    assert choose_step(TimeRange(0, 6 * 3600 * S)) == 120 * S
    for days in (1, 365, 20_000):
        span = TimeRange(0, days * 86400 * S)
        assert span.duration_ns / choose_step(span) <= (180 if days < 10_000 else 11_000)


def test_vectors_scalars_and_native_histograms_are_read() -> None:
    vector = read_result(
        {
            "resultType": "vector",
            "result": [
                {
                    "metric": {},
                    "histogram": [1700000000, {"count": "3", "sum": "0.7", "buckets": [[0, "0.1", "0.2", "3"]]}],
                }
            ],
        }
    )
    assert vector.series[0].histograms[0][1].count == 3 and vector.series[0].histograms[0][1].buckets[0][2] == 0.2
    assert read_result({"resultType": "scalar", "result": [1700000000, "2"]}).series[0].samples[0][1] == 2.0
    with pytest.raises(BackendError, match="unexpected matrix"):
        read_result({"resultType": "matrix", "result": [{"metric": {}, "values": [["x", "1"]]}]})


def test_metric_flag_units_come_from_the_name_or_the_suffix() -> None:
    assert mf.parse_metric_flag("rpc_latency_seconds_bucket").unit_ns == S
    assert mf.parse_metric_flag("rpc_latency:ms").unit_ns == 10**6
    assert mf.parse_metric_flag("traces_spanmetrics_latency").key == "tempo"
    with pytest.raises(InputError, match="does not say its unit"):
        mf.parse_metric_flag("rpc_latency")


def test_discovery_finds_each_family_and_says_which() -> None:
    workload = generate("feature-store-gc", 60, 1, end_ns=time.time_ns())
    store = Store()
    store.add_traces(workload.traces)
    window = TimeRange(workload.start_ns - 60 * S, workload.end_ns + 60 * S)
    with SandboxServers(store, metrics=PromSource(store, ALL_FAMILIES)) as servers:
        prom = PrometheusClient(HttpClient(HttpConfig(servers.prometheus_url, "Prometheus", retries=0)))
        found, present, _ = mf.discover(prom, "api-gateway", window)
        assert found.family.key == "otel-http" and found.service_matchers == (("job", "=", "ml-serving/api-gateway"),)
        assert found.error_matcher == ("http_response_status_code", "=~", "5..")
        collector = mf.parse_metric_flag("traces_span_metrics_duration_milliseconds")
        found, _, _ = mf.discover(prom, "feature-store", window, collector)
        assert found.family.unit_ns == 10**6 and found.calls == "traces_span_metrics_calls_total"
        assert ("span_kind", "=~", "SPAN_KIND_SERVER|SPAN_KIND_CONSUMER") in found.service_matchers
        found, _, _ = mf.discover(prom, "feature-store", window)  # no HTTP route there: Tempo's span metrics
        assert found.family.key == "tempo" and found.operation_label == "span_name"
        with pytest.raises(InputError, match=r"no metrics for service 'nope'.+api-gateway"):
            mf.discover(prom, "nope", window)
    assert "target_info" in present and "traces_service_graph_request_total" in present


# ------------------------------------------------------------------------------------------ pure analysis


def test_the_deepest_grown_edge_is_named() -> None:
    flat, grew = [(t, 50e6) for t in range(10)], [(t, 50e6 if t < 5 else 500e6) for t in range(10)]
    client_side = {("gw", "router"): grew, ("router", "cv"): grew, ("router", "nlp"): flat}
    edge, grown = red.grown_edges(client_side, {("router", "cv"): flat}, at_ns=5)
    assert edge is not None and (edge.client, edge.server, edge.in_between) == ("router", "cv", True)
    assert {(g.client, g.server) for g in grown} == {("gw", "router"), ("router", "cv")}
    assert red.downstream([("gw", "router"), ("router", "cv"), ("x", "gw")], "gw") == ["router", "cv"]


def test_rollouts_are_versions_after_the_first_and_generation_changes() -> None:
    rollouts = red.version_rollouts(
        [("cv", "3.2", [(0, 1.0), (9, 1.0)]), ("cv", "3.3", [(5, 1.0), (9, 1.0)]), ("gw", "1.0", [(3, 1.0)])],
        "target_info service_version",
    )
    assert [(r.service, r.version, r.previous, r.time_ns) for r in rollouts] == [("cv", "3.3", "3.2", 5)]
    gen = red.generation_changes([("cv", [(0, 7.0), (1, 7.0), (2, 8.0)])], "kube")
    assert [(r.version, r.previous, r.time_ns) for r in gen] == [("8", "7", 2)]
    assert red.near(rollouts, start_ns=5, step_ns=1) == rollouts and red.near(rollouts, 20, 1) == []


def test_red_queries_for_classic_native_and_operation_filters() -> None:
    tempo = mf.Found(mf.KNOWN[2], (("service", "=", "cv-model"),), ("status_code", "=", "STATUS_CODE_ERROR"),
                     "span_name", "traces_spanmetrics_calls_total")  # fmt: skip
    q = mf.red_queries(tempo, "Predict", 60 * S, (0.95,))
    assert q["rate"] == 'sum(rate(traces_spanmetrics_calls_total{service="cv-model", span_name="Predict"}[1m]))'
    assert q["errors"] == ('sum(rate(traces_spanmetrics_calls_total{service="cv-model", span_name="Predict", '
                           'status_code="STATUS_CODE_ERROR"}[1m]))')  # fmt: skip
    assert q["p95"] == ('histogram_quantile(0.95, sum by (le) (rate(traces_spanmetrics_latency_bucket{'
                        'service="cv-model", span_name="Predict"}[1m])))')  # fmt: skip
    native = mf.Found(replace(mf.KNOWN[0], native=True), (("job", "=", 'a"b'),), None, "http_route", None)
    q = mf.red_queries(native, "POST /v1/predict", 120 * S, (0.5,))
    sel = 'http_server_request_duration_seconds{job="a\\"b", http_route="/v1/predict", http_request_method="POST"}'
    assert q == {"rate": f"sum(histogram_count(rate({sel}[2m])))",
                 "p50": f"histogram_quantile(0.5, sum(rate({sel}[2m])))"}  # fmt: skip
