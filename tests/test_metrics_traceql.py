"""Issue 28: ``tracectl metrics`` without Prometheus reads the RED from Tempo's TraceQL metrics, as triage does."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson
import respx
from typer.testing import CliRunner

from tests.conftest import TEMPO_BASE
from tracectl.cli.main import app
from tracectl.sandbox import start_sandbox

T0 = 1_763_971_200  # 2025-11-24T08:00:00Z
SPANS = 'resource.service.name = "api-gateway" && kind = server && name = "POST /v1/predict"'


def _label(key: str, value: Any) -> dict[str, Any]:
    return {"key": key, "value": {"doubleValue" if isinstance(value, float) else "stringValue": value}}


def test_the_exact_traceql_queries_and_what_they_answer(tempo_router: respx.MockRouter) -> None:
    times = [T0 + 60 * k for k in range(61)]

    def answer(request: httpx.Request) -> httpx.Response:
        q = request.url.params["q"]
        if "status = error" in q:  # no errors: no series at all, as Tempo answers
            return httpx.Response(200, json={"metrics": {"completedJobs": 1, "totalJobs": 1}})
        if "rate()" in q:
            return httpx.Response(200, json={"series": [{"labels": [_label("__name__", "rate")], "samples": [
                {"timestampMs": str(t * 1000), "value": 2.0} for t in times]}]})  # fmt: skip
        series = [{"labels": [_label("p", p)], "samples": [
            {"timestampMs": str(t * 1000), "value": (0.05 if t < T0 + 1800 else 0.5) * p} for t in times]}
            for p in (0.5, 0.95, 0.99)]  # fmt: skip
        return httpx.Response(200, json={"series": series})

    route = tempo_router.get("/api/metrics/query_range").mock(side_effect=answer)
    out = CliRunner().invoke(app, ["metrics", "-s", "api-gateway", "--operation", "POST /v1/predict", "--from",
                                   "2025-11-24T08:00:00Z", "--to", "2025-11-24T09:00:00Z", "--step", "1m", "-o",
                                   "json"], env={"TEMPO_ADDR": TEMPO_BASE})  # fmt: skip
    assert out.exit_code == 0, out.output
    window = {"start": str(T0), "end": str(T0 + 3600), "step": "1m"}
    assert [dict(c.request.url.params) for c in route.calls] == [
        {"q": f"{{ {SPANS} }} | rate()", **window},
        {"q": f"{{ {SPANS} && status = error }} | rate()", **window},
        {"q": f"{{ {SPANS} }} | quantile_over_time(duration, .5, .95, .99)", **window},
    ]
    doc = orjson.loads(out.stdout)
    assert doc["family"]["metric"] == "Tempo's TraceQL metrics"
    assert doc["change"]["series"] == "p95" and doc["change"]["first_point_ns"] == (T0 + 1800) * 10**9
    assert doc["change"]["start_ns"] == (T0 + 1740) * 10**9  # the bucket (t − step, t] it first shows in
    assert "no Prometheus configured" in doc["warnings"][0] and "no Prometheus configured" in out.stderr


def test_with_only_a_tempo_metrics_prints_red_from_traceql_metrics() -> None:
    servers, workload = start_sandbox("feature-store-gc", 600, end_ns=time.time_ns() - 60 * 10**9)
    try:
        env = {"TEMPO_ADDR": servers.tempo_url, "COLUMNS": "110"}
        out = CliRunner().invoke(app, ["metrics", "-s", "api-gateway", "--since", "1h"], env=env)
        js = CliRunner().invoke(app, ["metrics", "-s", "api-gateway", "--since", "1h", "-o", "json"], env=env)
    finally:
        servers.stop()
    assert out.exit_code == 0 and js.exit_code == 0, out.output
    assert "from Tempo's TraceQL metrics (server spans; no Prometheus configured" in out.stdout
    assert all(row in out.stdout for row in ("requests/s", "error ratio", "p50", "p95", "p99"))
    assert "The p95 latency rose" in out.stdout
    change = orjson.loads(js.stdout)["change"]
    assert workload.fault_start_ns is not None and abs(change["start_ns"] - workload.fault_start_ns) <= 60 * 10**9
