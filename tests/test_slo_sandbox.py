"""The sandbox's SLOs: the real Prometheus it runs evaluates the rules `slo rules` makes for
examples/slo/ml-serving.sloth.yml, and on gateway-timeout the availability page alert fires in /api/v1/alerts."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest

from tracectl.sandbox import Store, generate
from tracectl.sandbox.prom_api import PromSource
from tracectl.sandbox.real_prometheus import RealPrometheus, available
from tracectl.sandbox.slos import SPEC_TEXT, rules_yaml

ROOT = Path(__file__).resolve().parent.parent


def test_the_packaged_spec_is_the_example() -> None:
    assert (ROOT / "examples" / "slo" / "ml-serving.sloth.yml").read_text() == SPEC_TEXT


def firing_alerts(url: str) -> list[dict[str, object]]:
    doc = httpx.get(f"{url}/api/v1/alerts", timeout=5).json()
    return [a for a in doc["data"]["alerts"] if a["state"] == "firing"]


def instant(text: str) -> tuple[str, str]:
    """An RFC 3339 time from Prometheus (Go trims the fraction's trailing zeros) as a sortable pair."""
    whole, _, fraction = text.rstrip("Z").partition(".")
    return whole, fraction.ljust(9, "0")


def wait_for_alerts(url: str) -> list[dict[str, object]]:
    """The firing alerts once every alert group has been evaluated after every recording group had been: from then
    on the alerts read recorded error ratios (groups are evaluated every 15 s, not in a fixed order)."""
    deadline = time.monotonic() + 120
    recorded: tuple[str, str] | None = None
    while time.monotonic() < deadline:
        groups = httpx.get(f"{url}/api/v1/rules", timeout=5).json()["data"]["groups"]
        last = {g["name"]: instant(g.get("lastEvaluation", "0001")) for g in groups}
        done = all(v[0].startswith("2") for v in last.values())  # Go's zero time starts with 0001
        if recorded is None and groups and done:
            recorded = max(v for k, v in last.items() if "-alerts-" not in k)
        elif recorded is not None and all(v > recorded for k, v in last.items() if "-alerts-" in k):
            return firing_alerts(url)
        time.sleep(0.5)
    raise AssertionError("Prometheus did not evaluate the SLO rule groups")


def serve(scenario: str) -> RealPrometheus:
    if not available():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI=true but prometheus/promtool are not installed")
        pytest.skip("prometheus/promtool are not installed (apt-get install prometheus)")
    workload = generate(scenario, 300, 42, end_ns=time.time_ns())
    store = Store()
    store.add_traces(workload.traces)
    return RealPrometheus(PromSource(store).db(), rules=rules_yaml()).start()


def pages_of(alerts: list[dict[str, object]]) -> set[str]:
    return {
        str(a["labels"]["alertname"])  # type: ignore[index]
        for a in alerts
        if a["labels"]["sloth_severity"] == "page"  # type: ignore[index]
    }


def test_gateway_timeout_fires_the_availability_page_in_prometheus() -> None:
    server = serve("gateway-timeout")
    try:
        alerts = wait_for_alerts(server.url)
        # Rule groups run every 15 s in no fixed order: on a busy machine an alert group can read its recordings
        # one cycle late. A few more cycles (bounded) let every group see the others' results.
        deadline = time.monotonic() + 90
        while "MLServingGatewayAvailability" not in pages_of(alerts) and time.monotonic() < deadline:
            time.sleep(2)
            alerts = firing_alerts(server.url)
    finally:
        server.stop()
    pages = pages_of(alerts)
    assert "MLServingGatewayAvailability" in pages, alerts
    page = next(a for a in alerts if a["labels"]["alertname"] == "MLServingGatewayAvailability")  # type: ignore[index]
    labels = page["labels"]
    assert labels["sloth_service"] == "ml-serving"  # type: ignore[index]
    assert labels["sloth_slo"] == "gateway-availability"  # type: ignore[index]
    assert labels["service"] == "api-gateway"  # type: ignore[index]
    assert labels["severity"] == "critical"  # type: ignore[index]


def test_healthy_fires_nothing_in_prometheus() -> None:
    server = serve("healthy")
    try:
        alerts = wait_for_alerts(server.url)
        rules = httpx.get(f"{server.url}/api/v1/rules", params={"type": "alert"}, timeout=5).json()
    finally:
        server.stop()
    assert alerts == []
    names = {r["name"] for g in rules["data"]["groups"] for r in g["rules"]}
    assert names == {"MLServingGatewayAvailability", "MLServingGatewayLatency"}


@pytest.mark.parametrize(("scenario", "pages"), [("gateway-timeout", True), ("healthy", False)])
def test_the_demo_starts_with_what_burns(scenario: str, pages: bool) -> None:
    """Step 0 of the demo reads the sandbox's SLOs from its built-in PromQL subset (no real Prometheus needed)."""
    from typer.testing import CliRunner

    from tracectl.cli.main import app

    result = CliRunner().invoke(app, ["demo", "--scenario", scenario, "--requests", "150"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.index("0. SLOs: what burns") < out.index("1. Metrics") < out.index("2. Triage")
    line = next(x for x in out.splitlines() if x.startswith("gateway-availability"))
    assert ("PAGE" in line) is pages, line
    assert " ok" in line or pages
    assert "nlp-precision" in out
