"""Triage starts from the metrics: with Prometheus configured and no window, the change sets the suspect window
and the baseline; without Prometheus (or without a change) triage works as before and says why."""

from __future__ import annotations

import time

import orjson
import pytest
from typer.testing import CliRunner

from tracectl.cli.main import app
from tracectl.sandbox import SCENARIOS, start_sandbox


def triage_json(env: dict[str, str], *extra: str) -> dict:  # type: ignore[type-arg]
    out = CliRunner().invoke(app, ["triage", "-s", "api-gateway", "--no-logs", *extra, "-o", "json"], env=env)
    assert out.exit_code == 0, out.output
    return orjson.loads(out.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", [n for n, s in SCENARIOS.items() if s.symptom in ("latency", "errors")])
def test_the_metrics_choose_the_windows_and_the_verdict_is_right(name: str) -> None:
    servers, workload = start_sandbox(name, 300, end_ns=time.time_ns())
    try:
        env = {"TEMPO_ADDR": servers.tempo_url, "PROMETHEUS_ADDR": servers.prometheus_url}
        doc = triage_json(env)
    finally:
        servers.stop()
    metrics = doc["metrics"]
    assert metrics["used"] is True and doc["mode"] == "windows"
    suspect_start, _ = metrics["suspect_window"]
    assert abs(suspect_start - workload.fault_start_ns) <= 60 * 10**9
    assert metrics["baseline_window"][1] == suspect_start
    assert doc["verdict"]["culprit"] == SCENARIOS[name].culprit
    assert "Metrics: the " in doc["verdict"]["sentence"] and metrics["note"].startswith("Window from the metrics")
    if name == "cv-cold-start":
        assert "as cv-model deployed 3.3.0" in doc["verdict"]["sentence"]


def test_without_a_change_or_without_prometheus_triage_works_as_before_and_says_why() -> None:
    servers, _ = start_sandbox("healthy", 300, end_ns=time.time_ns())
    try:
        with_prom = triage_json({"TEMPO_ADDR": servers.tempo_url, "PROMETHEUS_ADDR": servers.prometheus_url})
        without = triage_json({"TEMPO_ADDR": servers.tempo_url})
        given = triage_json({"TEMPO_ADDR": servers.tempo_url, "PROMETHEUS_ADDR": servers.prometheus_url},
                            "--since", "1h")  # fmt: skip
    finally:
        servers.stop()
    assert with_prom["metrics"]["used"] is False and "no rise" in with_prom["metrics"]["note"]
    assert without["metrics"]["used"] is False and without["metrics"]["note"].startswith("No Prometheus")
    assert given["metrics"] is None  # a window given: the metrics are not asked
    assert with_prom["verdict"] == without["verdict"] == given["verdict"]


def test_without_prometheus_tempo_traceql_metrics_set_the_window() -> None:
    servers, workload = start_sandbox("cv-cold-start", 300, end_ns=time.time_ns())
    try:
        doc = triage_json({"TEMPO_ADDR": servers.tempo_url})
    finally:
        servers.stop()
    metrics = doc["metrics"]
    assert metrics["used"] is True and metrics["note"].startswith("Window from the metrics (Tempo's TraceQL metrics)")
    assert abs(metrics["suspect_window"][0] - workload.fault_start_ns) <= 60 * 10**9
    assert metrics["change"]["source"] == "Tempo's TraceQL metrics" and doc["verdict"]["culprit"] == "cv-model"


def test_the_sandbox_tempo_answers_traceql_rate_and_quantiles_as_tempo_shapes_them() -> None:
    from tracectl.backends.http import HttpClient, HttpConfig
    from tracectl.backends.tempo import TempoClient
    from tracectl.model import SpanKind
    from tracectl.sandbox.tempo_metrics import log2_bucket
    from tracectl.timerange import TimeRange
    from tracectl.workflows.tempo_red import tempo_queries

    servers, workload = start_sandbox("feature-store-gc", 120, end_ns=1_763_972_400 * 10**9)
    try:
        tempo = TempoClient(HttpClient(HttpConfig(servers.tempo_url, "Tempo", retries=0)))
        window = TimeRange(workload.start_ns, workload.end_ns)
        rate = tempo.metrics_query_range(tempo_queries("api-gateway")["rate"], window, 60 * 10**9).series[0]
        p95 = tempo.metrics_query_range(tempo_queries("api-gateway")["p95"], window, 60 * 10**9).series[0]
    finally:
        servers.stop()
    roots = [s for t in workload.traces for s in t.spans if s.service == "api-gateway" and s.kind is SpanKind.SERVER]
    assert round(sum(v for _, v in rate.samples) * 60) == len(roots)
    assert rate.labels == {"__name__": "rate"} and p95.labels == {"p": 0.95}
    assert all(t % (60 * 10**9) == 0 for t, _ in rate.samples)
    # Tempo's quantiles are interpolated in power-of-two buckets: at most the bound of the longest one's bucket
    assert max(v for _, v in p95.samples) <= log2_bucket(max(s.duration_ns for s in roots)) / 1e9


def test_with_jaeger_and_no_prometheus_its_metrics_api_sets_the_window() -> None:
    servers, workload = start_sandbox("nlp-timeouts", 300, end_ns=time.time_ns())
    try:
        doc = triage_json({"JAEGER_ADDR": servers.jaeger_url})
    finally:
        servers.stop()
    metrics = doc["metrics"]
    assert metrics["used"] is True and metrics["change"]["source"] == "Jaeger's metrics API"
    assert abs(metrics["suspect_window"][0] - workload.fault_start_ns) <= 60 * 10**9
    assert doc["verdict"]["culprit"] == "nlp-model" and "(Jaeger's metrics API)." in doc["verdict"]["sentence"]


def test_jaeger_metrics_api_wire() -> None:
    import httpx
    import respx

    from tracectl.backends.http import HttpClient, HttpConfig
    from tracectl.backends.jaeger import JaegerClient
    from tracectl.backends.jaeger_metrics import spm_params, spm_series
    from tracectl.errors import BackendError
    from tracectl.timerange import TimeRange

    client = JaegerClient(HttpClient(HttpConfig("http://jaeger.test", "Jaeger", retries=0)))
    params = spm_params("driver", TimeRange(1_700_000_000 * 10**9, 1_700_003_600 * 10**9), 60 * 10**9)
    body = {"name": "service_latencies", "type": "GAUGE", "metrics": [{"labels": [], "metricPoints": [
        {"gaugeValue": {"doubleValue": "NaN"}, "timestamp": "2023-11-14T22:14:20Z"},
        {"gaugeValue": {"doubleValue": 12.5}, "timestamp": "2023-11-14T22:13:20Z"}]}]}  # fmt: skip
    with respx.mock(base_url="http://jaeger.test", assert_all_mocked=True) as mock:
        route = mock.get("/api/metrics/latencies").mock(return_value=httpx.Response(200, json=body))
        points = spm_series(client, "latencies", {**params, "quantile": 0.95})
        mock.get("/api/metrics/calls").mock(return_value=httpx.Response(501, json={
            "data": None, "errors": [{"code": 501, "msg": "no metrics backend configured"}]}))  # fmt: skip
        with pytest.raises(BackendError, match="no metrics backend configured"):
            spm_series(client, "calls", params)
    sent = dict(route.calls.last.request.url.params)
    assert sent == {"service": "driver", "spanKind": "server", "endTs": "1700003580000", "lookback": "3540000",
                    "step": "60000", "ratePer": "60000", "quantile": "0.95"}  # fmt: skip
    assert points[0] == (1_700_000_000 * 10**9, 12.5) and points[1][1] != points[1][1]  # sorted; NaN kept
