"""``tracectl metrics`` against a real Prometheus (Debian's 2.42) holding every sandbox scenario's metrics, and the
sandbox's built-in PromQL subset against the same real Prometheus."""

from __future__ import annotations

import math
from typing import Any

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from tests.prom_history import History
from tracectl.cli.main import app
from tracectl.config import Settings
from tracectl.sandbox import SCENARIOS, SandboxServers
from tracectl.timerange import TimeRange
from tracectl.workflows.metrics import MetricsRequest, MetricsResult, metrics
from tracectl.workflows.session import Session

MIN = 60 * 10**9
SHOWN_IN_METRICS = ("latency", "errors")  # drift changes the inputs, not RED


def window(history: History, name: str) -> TimeRange:
    w = history.workloads[name]
    return TimeRange(w.start_ns - 5 * MIN, w.end_ns + MIN)


def run(url: str, time: TimeRange, service: str = "api-gateway") -> MetricsResult:
    with Session(Settings(prometheus_url=url)) as session:
        return metrics(session, MetricsRequest(service, time))


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_change_begins_within_one_step_of_the_fault(prometheus_history: History, name: str) -> None:
    result = run(prometheus_history.url, window(prometheus_history, name))
    fault = prometheus_history.workloads[name].fault_start_ns
    first = result.findings.first
    assert result.step_ns == MIN and result.family.family.key == "otel-http"
    if SCENARIOS[name].symptom not in SHOWN_IN_METRICS:
        assert first is None, result.findings.changes
        return
    assert first is not None and fault is not None
    assert abs(first.start_ns - fault) <= result.step_ns, (first, fault)
    assert first.rose


def test_cv_cold_start_names_the_rollout_and_the_edge(prometheus_history: History) -> None:
    from tracectl.render.emit import document

    result = run(prometheus_history.url, window(prometheus_history, "cv-cold-start"))
    lined = [(d.service, d.version, d.previous) for d in result.findings.lined_up if d.source.startswith("target")]
    assert lined == [("cv-model", "3.3.0", "3.2.0")]
    assert result.findings.edge is not None and (result.findings.edge.client, result.findings.edge.server) == (
        "model-router", "cv-model",
    )  # fmt: skip
    doc = document(result)
    assert any("cv-model deployed 3.3.0 (was 3.2.0)" in s for s in doc["sentences"])
    assert result.findings.traffic is not None and not result.findings.traffic.changed


def test_healthy_reports_no_change(prometheus_history: History) -> None:
    from tracectl.render.emit import document

    result = run(prometheus_history.url, window(prometheus_history, "healthy"))
    doc = document(result)
    assert doc["change"] is None and doc["changes"] == [] and doc["lined_up"] == []
    assert doc["sentences"][0].startswith("No change: neither the p95 latency")


def test_the_network_delay_is_placed_between_caller_and_callee(prometheus_history: History) -> None:
    edge = run(prometheus_history.url, window(prometheus_history, "nlp-network-delay")).findings.edge
    assert edge is not None and (edge.client, edge.server, edge.in_between) == ("model-router", "nlp-model", True)


def by_hand(url: str, query: str, time: TimeRange) -> list[tuple[int, float]]:
    params = {"query": query, "start": str(time.start_ns // 10**9), "end": str(time.end_ns // 10**9), "step": "60"}
    doc = httpx.get(f"{url}/api/v1/query_range", params=params, timeout=10).json()
    assert doc["status"] == "success" and len(doc["data"]["result"]) == 1
    return [(round(t * 1000) * 10**6, float(v)) for t, v in doc["data"]["result"][0]["values"]]


def test_metrics_json_values_equal_promql_evaluated_by_hand(prometheus_history: History) -> None:
    time = window(prometheus_history, "feature-store-gc")
    time = TimeRange(time.start_ns - time.start_ns % MIN, time.end_ns - time.end_ns % 10**9)
    args = ["metrics", "-s", "api-gateway", "--from", str(time.start_ns // 10**9), "--to",
            str(time.end_ns // 10**9), "-o", "json"]  # fmt: skip
    out = CliRunner().invoke(app, args, env={"PROMETHEUS_ADDR": prometheus_history.url})
    assert out.exit_code == 0, out.output
    doc = orjson.loads(out.stdout)
    sel = 'job="ml-serving/api-gateway"'
    p95 = by_hand(prometheus_history.url, "histogram_quantile(0.95, sum by (le) (rate("
                  f"http_server_request_duration_seconds_bucket{{{sel}}}[1m])))", time)  # fmt: skip
    rate = by_hand(prometheus_history.url, f"sum(rate(http_server_request_duration_seconds_count{{{sel}}}[1m]))", time)
    assert doc["series"]["p95_ns"] == [[t, None if math.isnan(v) else round(v * 1e9)] for t, v in p95]
    assert doc["series"]["rate_per_s"] == [[t, v] for t, v in rate]
    assert len(rate) >= 30 and doc["change"]["start_ns"] % MIN == 0


def comparable(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in ("warnings",)}


@pytest.mark.parametrize("name", ["cv-cold-start", "bad-model-version"])
def test_the_builtin_promql_subset_answers_as_the_real_prometheus(prometheus_history: History, name: str) -> None:
    from tracectl.render.emit import document

    time = window(prometheus_history, name)
    real = document(run(prometheus_history.url, time))
    with SandboxServers(prometheus_history.stores[name]) as servers:
        builtin = document(run(servers.prometheus_url, time))
    for series, points in real["series"].items():
        assert len(points) == len(builtin["series"][series]) > 0, series
        for (t1, a), (t2, b) in zip(points, builtin["series"][series], strict=True):
            assert t1 == t2 and (a == b or (a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9))), (
                series, t1, a, b,
            )  # fmt: skip
    for key in ("change", "changes", "edge", "lined_up", "rollouts", "downstream", "sentences", "queries"):
        assert real[key] == builtin[key], key


def test_a_long_window_is_read_finely_where_the_service_has_data(prometheus_history: History) -> None:
    w = prometheus_history.workloads["feature-store-gc"]
    result = run(prometheus_history.url, TimeRange(w.end_ns - 6 * 3600 * 10**9, w.end_ns))
    assert result.step_ns == MIN and any("cover only the last" in x for x in result.warnings)
    first = result.findings.first
    assert first is not None and w.fault_start_ns is not None and abs(first.start_ns - w.fault_start_ns) <= MIN


def test_an_unknown_operation_says_which_there_are(prometheus_history: History) -> None:
    with Session(Settings(prometheus_url=prometheus_history.url)) as session:
        result = metrics(session, MetricsRequest("feature-store", window(prometheus_history, "healthy"), "Get"))
    assert result.rate == () and result.findings.first is None
    assert "no requests of feature-store match --operation 'Get' (span_name there: GetFeatures" in result.warnings[0]
