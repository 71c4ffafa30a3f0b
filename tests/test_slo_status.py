"""`slo status` against a real Prometheus over the sandbox's scenarios (tests/prom_history.py): burn rates equal
hand-written PromQL over the same windows; gateway-timeout burns the availability SLO, healthy burns nothing."""

from __future__ import annotations

import math
from pathlib import Path

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from tests.prom_history import History
from tracectl.cli.main import app
from tracectl.config import Settings
from tracectl.slo import burn
from tracectl.slo.spec import Severity, load_specs
from tracectl.workflows.session import Session
from tracectl.workflows.slo import SloStatusRequest, SloStatusResult, slo_status

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "slo" / "ml-serving.sloth.yml"
GATEWAY = 'http_server_request_duration_seconds_count{job="ml-serving/api-gateway"'


def status_at(history: History, scenario: str) -> SloStatusResult:
    at = history.workloads[scenario].end_ns + 60 * 10**9
    with Session(Settings(prometheus_url=history.url)) as session:
        return slo_status(session, SloStatusRequest(load_specs([EXAMPLE]), at_ns=at))


def by_hand(url: str, query: str, at_ns: int) -> float:
    doc = httpx.get(f"{url}/api/v1/query", params={"query": query, "time": str(at_ns // 10**9)}, timeout=10).json()
    assert doc["status"] == "success", doc
    results = doc["data"]["result"]
    return float(results[0]["value"][1]) if results else math.nan


def test_burn_rates_equal_hand_written_promql(prometheus_history: History) -> None:
    result = status_at(prometheus_history, "gateway-timeout")
    availability = next(s for s in result.slos if s.slo.name == "gateway-availability")
    for window in burn.WINDOWS:
        errors = f'sum(rate({GATEWAY}, http_response_status_code=~"5.."}}[{window}]))'
        total = f"sum(rate({GATEWAY}}}[{window}]))"
        ratio = by_hand(prometheus_history.url, f"({errors}) / ({total})", result.at_ns)
        assert availability.burn_rates[window] == pytest.approx(ratio / 0.001, rel=1e-9), window
    latency = next(s for s in result.slos if s.slo.name == "gateway-latency")
    slow = f'sum(rate({GATEWAY}}}[1h])) - sum(rate({GATEWAY.replace("_count", "_bucket")}, le="0.75"}}[1h]))'
    ratio = by_hand(prometheus_history.url, f"({slow}) / sum(rate({GATEWAY}}}[1h]))", result.at_ns)
    assert latency.burn_rates["1h"] == pytest.approx(ratio / 0.01, rel=1e-9)


def test_gateway_timeout_pages_on_availability(prometheus_history: History) -> None:
    result = status_at(prometheus_history, "gateway-timeout")
    availability = next(s for s in result.slos if s.slo.name == "gateway-availability")
    # 20 % of the requests of the last 15 minutes end in a 504: far over 14.4 × 0.1 % over both 1h and 5m.
    assert availability.burn_rates["1h"] > 14.4
    assert availability.burn_rates["5m"] > 14.4
    assert availability.firing(Severity.PAGE)
    page = next(a for a in availability.alerts if a.severity is Severity.PAGE)
    assert "1h/5m" in page.windows
    fault = prometheus_history.workloads["gateway-timeout"].fault_start_ns
    assert page.since_ns is not None and fault is not None
    assert fault <= page.since_ns <= fault + 20 * 60 * 10**9  # within the first of the history's 5-minute steps
    assert not page.since_before_history


def test_healthy_burns_nothing(prometheus_history: History) -> None:
    result = status_at(prometheus_history, "healthy")
    for s in result.slos:
        if s.slo.is_model_quality:
            assert not s.evaluated or s.note
            continue
        assert not s.firing(), (s.slo.name, s.burn_rates)
        assert s.burn_rates["1h"] < 1, (s.slo.name, s.burn_rates)
    availability = next(s for s in result.slos if s.slo.name == "gateway-availability")
    assert availability.burn_rates["1h"] == 0.0  # no 5xx at all: `or vector(0)` reads 0, not "no data"


def test_json_contract_and_fail_on(prometheus_history: History) -> None:
    from tracectl.cli.env import Env

    result = status_at(prometheus_history, "gateway-timeout")
    from tracectl.render.emit import document
    from tracectl.render.machine import to_json

    doc = orjson.loads(to_json(document(result), result.schema))
    assert doc["schema"] == "tracectl.slo/v1"
    first = doc["slos"][0]
    assert {"name", "objective", "sli", "error_budget_remaining", "burn_rates", "alerts"} <= set(first)
    assert first["name"] == "gateway-availability"
    assert first["objective"] == 0.999
    assert list(first["burn_rates"]) == list(burn.WINDOWS)
    assert first["alerts"][0]["severity"] == "page"
    assert first["alerts"][0]["firing"] is True
    assert first["alerts"][0]["since"].endswith("Z")
    quality = doc["slos"][2]
    assert quality["kind"] == "model-quality"
    assert quality["evaluated"] in (True, False)
    # --fail-on over the CLI, now: the history is in the past, so nothing burns now and the exit is 0.
    cli = CliRunner().invoke(
        app, ["slo", "status", str(EXAMPLE), "--fail-on", "burning", "-o", "json"],
        env={"PROMETHEUS_ADDR": prometheus_history.url}, obj=Env(),
    )  # fmt: skip
    assert cli.exit_code == 0, cli.stderr
    assert orjson.loads(cli.stdout)["schema"] == "tracectl.slo/v1"


def test_the_builtin_promql_subset_answers_status_as_the_real_prometheus(prometheus_history: History) -> None:
    """The demo reads SLOs from the sandbox's built-in PromQL subset: binary operators, `or vector(0)` and the
    extrapolated rates must give the real Prometheus' numbers (over the windows that hold one scenario only)."""
    from tracectl.sandbox import SandboxServers

    real = status_at(prometheus_history, "gateway-timeout")
    at = prometheus_history.workloads["gateway-timeout"].end_ns + 60 * 10**9
    start = prometheus_history.workloads["gateway-timeout"].start_ns
    with (
        SandboxServers(prometheus_history.stores["gateway-timeout"]) as servers,
        Session(Settings(prometheus_url=servers.prometheus_url)) as session,
    ):
        builtin = slo_status(session, SloStatusRequest(load_specs([EXAMPLE]), at_ns=at))
    for mine, theirs in zip(builtin.slos, real.slos, strict=True):
        if mine.slo.is_model_quality:
            continue
        for window in ("5m", "30m", "1h"):
            assert mine.burn_rates[window] == pytest.approx(theirs.burn_rates[window], rel=1e-9), window
            # The real Prometheus also holds the scenarios before this one (two hours apart): compare this one's.
            near = [(t, v) for t, v in mine.burn_history[window] if not math.isnan(v) and t >= start]
            far = [(t, v) for t, v in theirs.burn_history[window] if not math.isnan(v) and t >= start]
            assert len(near) >= 6
            assert [t for t, _ in near] == [t for t, _ in far]
            assert [v for _, v in near] == pytest.approx([v for _, v in far], rel=1e-9)
        assert [a.firing for a in mine.alerts if a.severity is Severity.PAGE] == [True]


def test_the_openslo_example_reads_the_same_availability(prometheus_history: History) -> None:
    """The same SLI written as OpenSLO good/total counters gives the Sloth spec's error ratios; its 28-day period
    only changes the factors. The p95 threshold SLI burns while the gateway's p95 is over 750 ms."""
    at = prometheus_history.workloads["gateway-timeout"].end_ns + 60 * 10**9
    slos = load_specs([EXAMPLE, ROOT / "examples" / "slo" / "ml-serving.openslo.yml"])
    with Session(Settings(prometheus_url=prometheus_history.url)) as session:
        result = slo_status(session, SloStatusRequest(slos, at_ns=at))
    by_id = {s.slo.id: s for s in result.slos}
    sloth, openslo = by_id["ml-serving-gateway-availability"], by_id["api-gateway-gateway-availability"]
    for window in ("5m", "30m", "1h"):
        assert openslo.error_ratios[window] == pytest.approx(sloth.error_ratios[window], rel=1e-9), window
    assert openslo.slo.period_seconds == 28 * 86400
    assert openslo.firing(Severity.PAGE)
    p95 = by_id["api-gateway-gateway-p95"]
    assert 0 < p95.error_ratios["30m"] <= 1  # the share of minutes with the p95 over 750 ms
