"""End to end with real instrumentation: examples/house-prices (FastAPI, httpx, scikit-learn, the OpenTelemetry
SDK exporting traces, metrics and logs over OTLP/HTTP) runs under uvicorn on loopback against an in-process
sandbox; tracectl then finds what was broken on purpose.

1. A slowdown in feature-service's lookup (cache misses): ``triage`` names feature-service, ``logs`` returns the
   example's own log lines for a slow trace, ``check`` finds nothing wrong with the instrumentation.
2. Propagation broken two real ways (the feature call moved to a thread pool without the context; a
   propagator setting without tracecontext): ``check`` reports the split and names predict-api as the service
   that drops it.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from tests.conftest import IN_CI, ROOT
from tracectl.cli.main import app
from tracectl.sandbox import SandboxServers, Store

try:
    import fastapi  # noqa: F401
    import opentelemetry.instrumentation.fastapi
    import opentelemetry.instrumentation.httpx
    import opentelemetry.instrumentation.logging  # noqa: F401
    import sklearn  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as missing:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip(f"the example's dependencies are missing ({missing.name}): pip install -e '.[example]'",
                allow_module_level=True)  # fmt: skip

runner = CliRunner()
EXAMPLE = ROOT / "examples" / "house-prices"


def _load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("house_prices_run", EXAMPLE / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is being made
    spec.loader.exec_module(module)
    return module


run = _load_runner()


def tracectl(servers: SandboxServers, *args: str) -> Any:
    env = {"TEMPO_ADDR": servers.tempo_url, "LOKI_ADDR": servers.loki_url, "TRACECTL_LOG_STRATEGY": "metadata"}
    result = runner.invoke(app, [*args, "-o", "json"], env=env)
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


@pytest.fixture(scope="module")
def slow_lookups() -> Iterator[SandboxServers]:
    """300 requests, one feature lookup in ten missing the cache (+600 ms); the services stopped and flushed. Four
    requests at a time: with eight on two busy cores, requests queued in feature-service's server rivalled the misses
    (triage then once charged the call edge, predict-api → feature-service, instead of the lookup). The
    SDK exports metrics at exit only here (its 60 s default): on a loaded machine an export during the run delays
    requests enough to rival the cache misses these tests look for (the example's 10 s: ``example_metrics``)."""
    with SandboxServers(Store()) as servers, pytest.MonkeyPatch.context() as env:
        env.setenv("OTEL_METRIC_EXPORT_INTERVAL", "60000")
        with run.services(servers.tempo_url, slow_share=0.1, slow_ms=600) as running:
            report = run.drive(running.predict_url, requests=300, concurrency=4)
        assert report.statuses == {200: 300}
        yield servers


def test_triage_names_the_slowed_component(slow_lookups: SandboxServers) -> None:
    doc = tracectl(slow_lookups, "triage", "-s", "predict-api", "--since", "15m")
    verdict = doc["verdict"]
    assert verdict["culprit"] == "feature-service", verdict
    assert doc["counts"]["traces"] == 300
    assert any(line["line"].startswith("cache miss for") for line in doc["logs"]["excerpts"])


def test_logs_returns_the_examples_own_lines_for_a_slow_trace(slow_lookups: SandboxServers) -> None:
    slow = tracectl(slow_lookups, "search", "-s", "predict-api", "--since", "15m", "--min-duration", "200ms",
                    "--limit", "500")  # fmt: skip
    assert len(slow["traces"]) >= 15  # ~30 cache misses among 300 requests
    trace_id = slow["traces"][0]["trace_id"]
    lines = tracectl(slow_lookups, "logs", trace_id)["lines"]
    by_text = {line["line"].split(" for ")[0].split(" ")[0]: line for line in lines}
    assert {"predicted", "features", "cache"} <= set(by_text), [line["line"] for line in lines]
    miss = next(line for line in lines if line["line"].startswith("cache miss for"))
    assert miss["level"] == "warn" and miss["service"] == "feature-service" and miss["span_name"] == "feature lookup"
    assert all(line["matched_by"] == "span_id" for line in lines)  # the SDK put the span ID on every record


def test_the_healthy_instrumentation_passes_check(slow_lookups: SandboxServers) -> None:
    doc = tracectl(slow_lookups, "check", "--search", "-s", "predict-api", "--since", "15m", "--limit", "500")
    assert doc["traces"] == 300 and doc["findings"] == [], doc["findings"]
    assert {s["service"]: s["score"] for s in doc["services"]} == {"predict-api": 100.0, "feature-service": 100.0}


def test_metrics_arrive_as_exponential_histograms(slow_lookups: SandboxServers) -> None:
    store = slow_lookups.store
    latency = [p for p in store.metrics("http.server.request.duration") if p.service == "predict-api"]
    assert latency and all(p.kind == "exponentialHistogram" and p.unit == "s" for p in latency)
    last = {tuple(sorted(p.attributes.items())): p for p in latency}  # cumulative: each stream's latest point
    assert sum(p.count for p in last.values()) == 300 and max(p.max or 0 for p in latency) > 0.2  # the slow ones
    prices = store.metrics("house_prices.predicted_price")[-1]
    assert prices.kind == "histogram" and prices.count == 300 and prices.attributes["ml.model.name"]


@pytest.fixture(scope="module")
def example_metrics() -> Iterator[SandboxServers]:
    """A run whose metrics are exported every second, so several exports fall during the requests whatever the
    machine's speed (with the example's 10 s, a quiet machine served all 300 before the first export: the counts
    never rose between two points, and every rate was 0)."""
    with SandboxServers(Store()) as servers, pytest.MonkeyPatch.context() as env:
        env.setenv("OTEL_METRIC_EXPORT_INTERVAL", "1000")
        with run.services(servers.tempo_url, slow_share=0.1, slow_ms=250) as running:
            assert run.drive(running.predict_url, requests=300, concurrency=3).statuses == {200: 300}
        yield servers


def test_metrics_reads_the_examples_own_metrics_through_promql(example_metrics: SandboxServers) -> None:
    """The SDK exports every second and at exit: several points per series, which the sandbox serves through PromQL
    as Prometheus' OTLP receiver stores them, in place of the series it would compute from the traces."""
    exports = {p.time_ns for p in example_metrics.store.metrics("http.server.request.duration")}
    assert len(exports) >= 2  # not the single flush at exit a 60 s interval left
    env = {"TEMPO_ADDR": example_metrics.tempo_url, "PROMETHEUS_ADDR": example_metrics.prometheus_url}
    out = runner.invoke(app, ["metrics", "-s", "predict-api", "--since", "15m", "-o", "json"], env=env)
    assert out.exit_code == 0, out.output
    doc = orjson.loads(out.stdout)
    assert doc["family"]["key"] == "otel-http" and doc["family"]["service_matchers"] == [
        ["job", "=", "house-prices/predict-api"]]  # fmt: skip
    rates = [v for _, v in doc["series"]["rate_per_s"] if v]
    p99 = [v for _, v in doc["series"]["p99_ns"] if v]
    assert rates and p99 and max(p99) > 200_000_000  # the cache misses (+250 ms) are in the tail
    import httpx

    answer = httpx.get(
        f"{example_metrics.prometheus_url}/api/v1/query",
        params={"query": 'http_server_request_duration_seconds_count{job="house-prices/predict-api"}'},
    )
    series = answer.json()["data"]["result"]  # fmt: skip
    assert series and all("network_protocol_version" in s["metric"] for s in series)  # the SDK's own attributes
    assert sum(float(s["value"][1]) for s in series) == 300  # counted once: no trace-derived copy beside them
    table = runner.invoke(app, ["metrics", "-s", "predict-api", "--since", "15m"], env=env)
    assert table.exit_code == 0 and "p99" in table.stdout and "no requests of" not in table.stderr


@pytest.mark.parametrize(
    ("mode", "cause"),
    [("thread", "calls to feature-service made outside the request's context"),
     ("header", "calls to feature-service (GET /features/{zipcode}) that arrive without trace context")],
)  # fmt: skip
def test_check_reports_broken_propagation_and_the_service_that_drops_it(mode: str, cause: str) -> None:
    with SandboxServers(Store()) as servers:
        with run.services(servers.tempo_url, break_propagation=mode) as running:
            assert run.drive(running.predict_url, requests=60, concurrency=6).statuses == {200: 60}
        # No -s: a split's second half holds no predict-api span, and both halves must be checked together.
        doc = tracectl(servers, "check", "--search", "--since", "15m", "--limit", "500")
    top = doc["findings"][0]
    assert (top["rule"], top["impact"], top["service"]) == ("propagation", "critical", "predict-api")
    assert top["cause"].startswith(cause) and top["failed"] == top["checked"] == 60
    scores = {s["service"]: s["score"] for s in doc["services"]}
    assert scores["predict-api"] < 80 and scores["feature-service"] == 100.0
