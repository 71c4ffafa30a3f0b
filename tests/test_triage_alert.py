"""Triage started by an alert: Alertmanager (v4) and Grafana webhook payloads read, the service and windows
taken from the alert, the SLO it names choosing the suspects, bad payloads refused in one line, and, against the
sandbox over real HTTP, the same culprit as a triage given the same windows by hand."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from tracectl.cli.main import app
from tracectl.errors import FormatError, InputError
from tracectl.formats.alertmanager import alert_service, parse_alert_payload, parse_time, pick_alert
from tracectl.sandbox import SCENARIOS, start_sandbox
from tracectl.workflows.triage_alert import (
    MIN_BASELINE_NS,
    AlertSlo,
    apply_alert,
    match_slo,
    slo_from_spec,
    start_from_alert,
)

runner = CliRunner()
ZERO = "0001-01-01T00:00:00Z"


def rfc3339(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def alert(labels: dict[str, str], starts: str, ends: str = ZERO, status: str = "firing") -> dict[str, Any]:
    return {"status": status, "labels": labels, "annotations": {"summary": "burning"}, "startsAt": starts,
            "endsAt": ends, "generatorURL": "http://prometheus/graph", "fingerprint": "c0ffee"}  # fmt: skip


def alertmanager(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {"version": "4", "groupKey": "{}:{alertname=\"x\"}", "truncatedAlerts": 0, "status": "firing",
            "receiver": "tracectl", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093", "alerts": list(alerts)}  # fmt: skip


def grafana(*alerts: dict[str, Any]) -> dict[str, Any]:
    doc = alertmanager(*alerts) | {"version": "1", "orgId": 1, "state": "alerting", "title": "[FIRING:1]",
                                   "message": "…"}  # fmt: skip
    for a in doc["alerts"]:
        a |= {"values": {"B": 0.97}, "valueString": "[ var='B' value=0.97 ]", "dashboardURL": "", "panelURL": "",
              "silenceURL": "http://grafana/alerting/silence/new"}  # fmt: skip
    return doc


def payload(doc: dict[str, Any]) -> Any:
    return parse_alert_payload(orjson.dumps(doc), "--alert: a.json")


# ------------------------------------------------------------------------------------------------ parsing


def test_times_as_go_writes_them() -> None:
    assert parse_time("2026-12-06T14:02:11Z", "t", "s") == 1796565731 * 10**9
    assert parse_time("2026-12-06T14:02:11.123456789Z", "t", "s") == 1796565731 * 10**9 + 123456789
    assert parse_time("2026-12-06T15:02:11.5+01:00", "t", "s") == 1796565731 * 10**9 + 500_000_000
    assert parse_time(ZERO, "t", "s") is None  # still firing
    with pytest.raises(FormatError, match=r"a.json: alerts\[0\].startsAt: 'yesterday' is not an RFC 3339 time"):
        parse_time("yesterday", "alerts[0].startsAt", "a.json")
    with pytest.raises(FormatError, match="not a valid date"):
        parse_time("2026-13-40T00:00:00Z", "t", "s")
    with pytest.raises(FormatError, match="not a valid date"):
        parse_time("2026-02-30T00:00:00Z", "t", "s")


def test_alertmanager_v4_and_grafana_read_alike() -> None:
    a = alert({"alertname": "SLOBurn", "service_name": "api-gateway"}, "2026-12-06T14:02:11Z")
    am, gf = payload(alertmanager(a)), payload(grafana(a))
    assert (am.sender, gf.sender) == ("Alertmanager", "Grafana")
    assert am.alerts == gf.alerts
    (only,) = am.alerts
    assert only.name == "SLOBurn" and only.firing and only.ends_ns is None
    assert only.starts_ns == 1796565731 * 10**9 and only.annotations == {"summary": "burning"}


def test_a_resolved_alert_keeps_its_end() -> None:
    a = alert({"service": "x"}, "2026-12-06T14:00:00Z", "2026-12-06T14:30:00Z", status="resolved")
    (read,) = payload(alertmanager(a)).alerts
    assert read.ends_ns is not None and read.ends_ns - read.starts_ns == 1800 * 10**9


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "expected a JSON object with alerts[]"),
        (b'{"version": "4"}', "no alerts[]"),
        (b'{"version": "4", "alerts": []}', "alerts[] is empty"),
        (b'{"version": "3", "alerts": [{}]}', "version '3': only Alertmanager's webhook version 4"),
        (b'{"version": "4", "alerts": [{"labels": {}}]}', "alerts[0]: no startsAt"),
        (b'{"version": "4", "alerts": [{"labels": [], "startsAt": "2026-12-06T14:00:00Z"}]}', "alerts[0].labels"),
        (b'{"alerts": [{"status": "pending", "startsAt": "2026-12-06T14:00:00Z"}]}', "neither firing nor resolved"),
    ],
)
def test_bad_payloads_name_what_and_where(doc: bytes, message: str) -> None:
    with pytest.raises(FormatError) as raised:
        parse_alert_payload(doc, "--alert: a.json")
    assert str(raised.value).startswith("--alert: a.json: ") and message in str(raised.value)


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"service.name": "a", "service_name": "b", "service": "c", "sloth_service": "d", "job": "e"}, ("a", "service.name")),
        ({"service_name": "b", "service": "c", "sloth_service": "d", "job": "e"}, ("b", "service_name")),
        ({"service": "c", "sloth_service": "d", "job": "e"}, ("c", "service")),
        ({"sloth_service": "d", "job": "ns/e"}, ("d", "sloth_service")),
        ({"job": "ml-serving/api-gateway"}, ("api-gateway", "job")),
        ({"job": "api-gateway"}, ("api-gateway", "job")),
        ({"service": " ", "job": "x/"}, None),
        ({"instance": "host:9090"}, None),
    ],
)  # fmt: skip
def test_the_service_label_order(labels: dict[str, str], expected: tuple[str, str] | None) -> None:
    (a,) = payload(alertmanager(alert(labels, "2026-12-06T14:00:00Z"))).alerts
    assert alert_service(a) == expected


def test_several_alerts_the_earliest_firing_or_the_one_asked() -> None:
    doc = alertmanager(
        alert({"alertname": "Late", "service": "a"}, "2026-12-06T14:10:00Z"),
        alert({"alertname": "Old", "service": "b"}, "2026-12-06T13:00:00Z", "2026-12-06T13:30:00Z", "resolved"),
        alert({"alertname": "Early", "service": "c"}, "2026-12-06T14:05:00Z"),
    )
    alerts = payload(doc).alerts
    chosen, why = pick_alert(alerts)
    assert chosen.name == "Early" and why == "the earliest firing alert of 3"
    assert pick_alert(alerts, 1)[0].name == "Old" and pick_alert(alerts, 1)[1] == "alerts[1] as asked"
    assert pick_alert(tuple(reversed(alerts)))[0].name == "Early"  # the payload's order does not matter
    resolved = payload(alertmanager(*[a for a in doc["alerts"] if a["status"] == "resolved"])).alerts
    assert pick_alert(resolved)[1] == "the only alert"


# ------------------------------------------------------------------------------------------ windows, SLOs


def test_windows_from_the_alert() -> None:
    now = parse_time("2026-12-06T15:00:00Z", "t", "s")
    assert now is not None
    doc = payload(alertmanager(alert({"alertname": "X", "job": "prod/api"}, "2026-12-06T14:50:00Z")))
    start = start_from_alert(doc, now)
    assert start.service == "api" and start.service_from == "job"
    assert (start.suspect.start_ns, start.suspect.end_ns) == (now - 600 * 10**9, now)
    assert start.baseline.end_ns == start.suspect.start_ns and start.baseline.duration_ns == MIN_BASELINE_NS
    long = payload(alertmanager(alert({"job": "api"}, "2026-12-06T10:00:00Z")))
    assert start_from_alert(long, now).baseline.duration_ns == 3600 * 10**9  # at most an hour before
    resolved = payload(alertmanager(alert({"job": "api"}, "2026-12-06T14:00:00Z", "2026-12-06T14:20:00Z", "resolved")))
    window = start_from_alert(resolved, now)
    assert (
        window.suspect.end_ns - window.suspect.start_ns == 1200 * 10**9 and window.baseline.duration_ns == 1200 * 10**9
    )
    assert start_from_alert(doc, now, service="other").service_from == "--service"
    with pytest.raises(InputError, match=r"alert X has no service label .*give --service"):
        start_from_alert(payload(alertmanager(alert({"alertname": "X"}, "2026-12-06T14:50:00Z"))), now)
    mixed = payload(
        alertmanager(alert({"alertname": "X"}, "2026-12-06T14:50:00Z"), alert({"job": "a"}, "2026-12-06T14:55:00Z"))
    )
    with pytest.raises(InputError, match=r"give --service or --alert-index 1 \(it has one\)$"):
        start_from_alert(mixed, now)
    with pytest.raises(InputError, match=r"--alert-index: 3 is not in alerts\[\]"):
        start_from_alert(doc, now, index=3)


def _spec_slo(name: str, sli: object, alert_name: str = "") -> Any:
    return SimpleNamespace(name=name, sli=sli, alerting=SimpleNamespace(name=alert_name), objective=0.99)


def test_slos_of_a_spec_as_triage_reads_them() -> None:
    events = SimpleNamespace(
        error_query='sum(rate(http_request_duration_seconds_bucket{le="0.25",job="api"}[{{.window}}]))',
        total_query="sum(rate(http_request_duration_seconds_count[{{.window}}]))",
    )
    latency = slo_from_spec(_spec_slo("latency", events, "APILatencyBurn"))
    assert (latency.mode, latency.threshold_ns, latency.alert_names) == ("latency", 250_000_000, ("APILatencyBurn",))
    threshold = SimpleNamespace(query="histogram_quantile(0.99, …)", op="gt", threshold=1.5)
    assert slo_from_spec(_spec_slo("p99", threshold)).threshold_ns == 1_500_000_000
    availability = SimpleNamespace(error_query='sum(rate(reqs{code=~"5.."}[{{.window}}]))', total_query="sum(…)")
    assert slo_from_spec(_spec_slo("availability", availability)).mode == "errors"
    quality = SimpleNamespace(prediction_attribute="ml.prediction.score", threshold=0.5)
    assert slo_from_spec(_spec_slo("precision", quality)).mode == "quality"


def test_the_slo_the_alert_names() -> None:
    slos = [AlertSlo("availability", ("APIAvailabilityBurn",)), AlertSlo("latency", (), "latency", 250_000_000)]
    by_label = payload(alertmanager(alert({"sloth_slo": "latency", "service": "a"}, "2026-12-06T14:00:00Z"))).alerts[0]
    assert match_slo(by_label, slos) == (slos[1], "")
    by_name = payload(alertmanager(alert({"alertname": "APIAvailabilityBurn"}, "2026-12-06T14:00:00Z"))).alerts[0]
    assert match_slo(by_name, slos)[0] == slos[0]
    unnamed = payload(alertmanager(alert({"alertname": "DiskFull"}, "2026-12-06T14:00:00Z"))).alerts[0]
    assert match_slo(unnamed, slos)[0] is None and "names no SLO" in match_slo(unnamed, slos)[1]
    unknown = payload(alertmanager(alert({"sloth_slo": "nope"}, "2026-12-06T14:00:00Z"))).alerts[0]
    with pytest.raises(InputError, match=r"names SLO 'nope' .*SLOs: availability, latency"):
        match_slo(unknown, slos)


def test_the_slo_chooses_the_suspects_unless_a_flag_does() -> None:
    from tracectl.backends.query import SearchQuery
    from tracectl.timerange import TimeRange
    from tracectl.workflows.triage import TriageOptions

    doc = payload(alertmanager(alert({"sloth_slo": "latency", "service": "a"}, "2026-12-06T14:00:00Z")))
    start = start_from_alert(doc, 1796572800 * 10**9, slos=[AlertSlo("latency", (), "latency", 250_000_000)])
    options = TriageOptions(query=SearchQuery(time=TimeRange(0, 1), service="a"))
    chosen = apply_alert(options, start, window_given=False, mode_given=False)
    assert (chosen.mode, chosen.slo_ns, chosen.alert) == ("latency", 250_000_000, start)
    assert chosen.query is not None and chosen.query.time == start.suspect
    assert chosen.baseline_query is not None and chosen.baseline_query.time == start.baseline
    kept = apply_alert(options, start, window_given=True, mode_given=True)
    assert kept.query is not None and kept.query.time == TimeRange(0, 1) and kept.baseline_query is None
    assert kept.slo_ns is None and kept.mode == "auto"


# --------------------------------------------------------------------------------------------------- CLI


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "--alert: stdin: not JSON"),
        (orjson.dumps(alertmanager(alert({"alertname": "Burn"}, "2026-12-06T14:00:00Z"))),
         "--alert: stdin: alert Burn has no service label (service.name, service_name, service, sloth_service, job)"),
    ],
)  # fmt: skip
def test_bad_alerts_one_line_exit_2(body: bytes, message: str) -> None:
    result = runner.invoke(app, ["triage", "--alert", "-"], input=body)
    assert result.exit_code == 2 and result.stdout == ""
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_missing_alert_file_and_a_spec_without_an_alert(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["triage", "--alert", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "cannot read it" in missing.stderr
    lone = runner.invoke(app, ["triage", "-s", "api", "--slo-spec", "x.yml"])
    assert lone.exit_code == 2 and "--slo-spec goes with --alert" in lone.stderr


# ------------------------------------------------------------------------------------- against the sandbox


@pytest.fixture(scope="module", params=["gateway-timeout", "bad-model-version"])
def paged(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Any, Any, Any]]:
    """A scenario's sandbox, an alert that fired two minutes after its fault began, and triage run both ways."""
    name = request.param
    servers, workload = start_sandbox(name, 240, seed=11, end_ns=time.time_ns())
    env = {"TEMPO_ADDR": servers.tempo_url, "LOKI_ADDR": servers.loki_url, "JAEGER_ADDR": "", "PROMETHEUS_ADDR": ""}
    labels = {"alertname": "APIGatewayAvailabilityBurn", "job": "ml-serving/api-gateway", "severity": "page"}
    body = alertmanager(
        alert({**labels, "alertname": "Resolved"}, rfc3339(workload.start_ns), rfc3339(workload.start_ns + 60 * 10**9),
              status="resolved"),
        alert(labels, rfc3339(workload.fault_start_ns + 120 * 10**9)),
    )  # fmt: skip
    file = tmp_path_factory.mktemp("alert") / "alert.json"
    file.write_bytes(orjson.dumps(body))
    try:
        by_alert = runner.invoke(app, ["triage", "--alert", str(file), "-o", "json"], env=env)
        assert by_alert.exit_code == 0, by_alert.output
        doc = orjson.loads(by_alert.stdout)
        by_hand = runner.invoke(app, ["triage", "-s", "api-gateway", "--since", "40m", "-o", "json"], env=env)
        assert by_hand.exit_code == 0, by_hand.output
        (start, end), (b_start, _) = doc["alert"]["suspect_window"], doc["alert"]["baseline_window"]
        same = ["triage", "-s", "api-gateway", "--from", str(start), "--to", str(end), "--baseline-from", str(b_start),
                *(["--errors"] if doc["mode"] == "errors" else []), "-o", "json"]  # fmt: skip
        same_windows = runner.invoke(app, same, env=env)
        assert same_windows.exit_code == 0, same_windows.output
        yield name, doc, orjson.loads(by_hand.stdout), orjson.loads(same_windows.stdout)
    finally:
        servers.stop()


def test_the_alert_names_the_culprit_triage_names_by_hand(paged: tuple[str, Any, Any, Any]) -> None:
    name, by_alert, by_hand, _ = paged
    assert by_alert["verdict"]["culprit"] == by_hand["verdict"]["culprit"] == SCENARIOS[name].culprit
    assert by_alert["verdict"]["kind"] == by_hand["verdict"]["kind"] == SCENARIOS[name].symptom
    said = by_alert["alert"]
    assert said["name"] == "APIGatewayAvailabilityBurn" and said["index"] == 1 and said["service_from"] == "job"
    assert said["chosen"] == "the earliest firing alert of 2" and said["service"] == "api-gateway"
    assert said["sender"] == "Alertmanager" and said["slo"] is None and by_hand["alert"] is None
    # the alert's window: from two minutes after the fault began; the baseline, the 15 minutes before
    assert said["baseline_window"][1] == said["suspect_window"][0] == said["starts_ns"]
    assert by_alert["counts"]["baseline"] > 0 and by_alert["counts"]["suspects"] > 0


def test_the_alerts_windows_typed_by_hand_give_the_same_sets(paged: tuple[str, Any, Any, Any]) -> None:
    _, by_alert, _, same_windows = paged
    if by_alert["mode"] == "errors":  # failing requests of the window against the window before: one meaning
        assert by_alert["counts"] == same_windows["counts"]
        assert by_alert["verdict"]["culprit"] == same_windows["verdict"]["culprit"]
    else:  # latency: by hand, a baseline window compares window against window; the alert takes its slow tenth
        assert same_windows["mode"] == "windows" and by_alert["mode"] == "latency"
        assert by_alert["counts"]["traces"] == same_windows["counts"]["traces"]
        assert by_alert["counts"]["baseline"] == same_windows["counts"]["baseline"]


def test_reports_name_the_alert_and_its_windows(tmp_path: Path) -> None:
    from tracectl.sandbox import generate
    from tracectl.sandbox.server import SandboxServers
    from tracectl.sandbox.store import Store

    workload = generate("feature-store-gc", 160, seed=3, end_ns=time.time_ns())
    store = Store()
    store.add_traces(workload.traces)
    servers = SandboxServers(store).start()
    try:
        assert workload.fault_start_ns is not None
        body = alertmanager(alert({"alertname": "LatencyBurn", "service.name": "api-gateway"},
                                  rfc3339(workload.fault_start_ns + 60 * 10**9)))  # fmt: skip
        report = tmp_path / "incident.md"
        env = {"TEMPO_ADDR": servers.tempo_url, "JAEGER_ADDR": "", "PROMETHEUS_ADDR": ""}
        result = runner.invoke(app, ["triage", "--alert", "-", "--no-logs", "--report", str(report)], input=orjson.dumps(body),
                               env=env)  # fmt: skip
        assert result.exit_code == 0, result.output
        text = report.read_text()
        assert (
            "## Alert" in text
            and "Alert LatencyBurn (Alertmanager, firing; the only alert): api-gateway from label service.name" in text
        )
        assert "Alert LatencyBurn" in result.stdout
        page = tmp_path / "incident.html"
        as_html = runner.invoke(app, ["triage", "--alert", "-", "--no-logs", "--report", str(page), "-o", "json"],
                                input=orjson.dumps(body), env=env)  # fmt: skip
        assert as_html.exit_code == 0, as_html.output
        assert "<h2>Alert</h2><p>Alert LatencyBurn (Alertmanager, firing; the only alert)" in page.read_text()
        assert orjson.loads(as_html.stdout)["verdict"]["culprit"] == "feature-store"
    finally:
        servers.stop()


# --------------------------------------------------------------------------------- slo status --triage


def test_each_burning_slo_is_triaged_from_when_its_alert_began() -> None:
    from tracectl import Session, Settings
    from tracectl.render.slo_view import slo_triage_document
    from tracectl.workflows.slo_triage import burning_since, slo_alert_labels, triage_burning

    servers, workload = start_sandbox("gateway-timeout", 240, seed=11, end_ns=time.time_ns())
    assert workload.fault_start_ns is not None
    fired = workload.fault_start_ns + 120 * 10**9
    availability = SimpleNamespace(
        name="gateway-availability", service="ml-serving", labels={"service": "api-gateway", "owner": "ml"},
        alerting=SimpleNamespace(name="GatewayAvailability"), objective=0.999,
        sli=SimpleNamespace(error_query='sum(rate(http_server_request_duration_seconds_count{code=~"5.."}[{{.window}}]))',
                            total_query="sum(rate(http_server_request_duration_seconds_count[{{.window}}]))"),
    )  # fmt: skip
    calm = SimpleNamespace(**{**vars(availability), "name": "calm"})
    page = SimpleNamespace(firing=True, since_ns=fired, severity="page")
    status = SimpleNamespace(slos=[SimpleNamespace(slo=calm, burning=False, alerts=[]),
                                   SimpleNamespace(slo=availability, burning=True, alerts=[page], quality=None)])  # fmt: skip
    try:
        with Session(Settings(tempo_url=servers.tempo_url, loki_url=servers.loki_url)) as session:
            (found,) = triage_burning(session, status, now_ns=workload.end_ns)
    finally:
        servers.stop()
    assert found.slo == "gateway-availability" and found.service == "api-gateway" and found.since_ns == fired
    assert found.result is not None and found.result.verdict.culprit == SCENARIOS["gateway-timeout"].culprit
    assert found.result.mode == "errors"  # an availability SLO: its failing requests are the suspects
    assert found.result.alert is not None and found.result.alert.slo is not None
    assert found.result.alert.slo.name == "gateway-availability" and slo_triage_document(found)["triage"]["alert"][
        "name"
    ] == ("GatewayAvailability")
    assert slo_alert_labels(availability) == {"service": "api-gateway", "owner": "ml", "sloth_service": "ml-serving",
                                              "sloth_slo": "gateway-availability", "alertname": "GatewayAvailability"}  # fmt: skip
    quality = SimpleNamespace(
        breach=SimpleNamespace(consecutive=2), windows=[SimpleNamespace(start_ns=s) for s in (1, 2, 3)]
    )
    assert burning_since(SimpleNamespace(alerts=[], quality=quality), 100) == 2
    assert burning_since(SimpleNamespace(alerts=[], quality=None), 3600 * 10**9 + 5) == 5


def test_the_slo_the_alert_names_sets_the_latency_threshold() -> None:
    """The shipped Sloth spec's gateway-latency SLO (750 ms) chooses the suspects of a page for it."""
    pytest.importorskip("tracectl.slo.spec")
    spec = Path(__file__).parent.parent / "examples" / "slo" / "ml-serving.sloth.yml"
    servers, workload = start_sandbox("gateway-timeout", 240, seed=11, end_ns=time.time_ns())
    assert workload.fault_start_ns is not None
    labels = {"alertname": "MLServingGatewayLatency", "sloth_service": "ml-serving", "sloth_slo": "gateway-latency",
              "service": "api-gateway", "severity": "critical", "category": "latency"}  # fmt: skip
    body = orjson.dumps(alertmanager(alert(labels, rfc3339(workload.fault_start_ns + 120 * 10**9))))
    env = {"TEMPO_ADDR": servers.tempo_url, "LOKI_ADDR": servers.loki_url, "JAEGER_ADDR": "", "PROMETHEUS_ADDR": ""}
    try:
        result = runner.invoke(app, ["triage", "--alert", "-", "--slo-spec", str(spec), "-o", "json"], input=body,
                               env=env)  # fmt: skip
        unknown = runner.invoke(app, ["triage", "--alert", "-", "--slo-spec", str(spec)],
                                input=body.replace(b"gateway-latency", b"gateway-nope"), env=env)  # fmt: skip
    finally:
        servers.stop()
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["alert"]["slo"] == {"name": "gateway-latency", "mode": "latency", "threshold_ns": 750_000_000,
                                   "objective": 0.99}  # fmt: skip
    assert doc["mode"] == "latency" and doc["verdict"]["culprit"] == SCENARIOS["gateway-timeout"].culprit
    assert unknown.exit_code == 2 and "names SLO 'gateway-nope' (sloth_slo), not in the spec" in unknown.stderr


def _running(marker: str) -> bool:
    """A process whose command line holds ``marker`` (the triage the receiver started) is still running."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker.encode() in cmdline.read_bytes():
                return True
        except OSError:
            continue
    return False


def test_the_documented_receiver_turns_a_webhook_into_a_report(tmp_path: Path) -> None:
    import os
    import re
    import socket
    import subprocess
    import sys

    import httpx

    root = Path(__file__).parent.parent
    example = (root / "examples" / "alerts" / "receiver.py").read_text()
    documented = re.search(
        r"## Alertmanager receiver.*?```python\n(.*?)```", (root / "docs" / "slo.md").read_text(), re.S
    )
    assert documented is not None and documented.group(1) == example  # the docs show the file that is tested
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    receiver = tmp_path / "receiver.py"
    receiver.write_text(example.replace("9095", str(port)).replace("/var/lib/tracectl", str(tmp_path)))
    servers, workload = start_sandbox("feature-store-gc", 160, seed=3, end_ns=time.time_ns())
    assert workload.fault_start_ns is not None
    env = {**os.environ, "TEMPO_ADDR": servers.tempo_url, "LOKI_ADDR": servers.loki_url, "JAEGER_ADDR": "",
           "PROMETHEUS_ADDR": "", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}  # fmt: skip
    process = subprocess.Popen([sys.executable, str(receiver)], env=env, stderr=subprocess.DEVNULL)
    body = orjson.dumps(alertmanager(alert({"alertname": "LatencyBurn", "service_name": "api-gateway"},
                                           rfc3339(workload.fault_start_ns + 60 * 10**9))))  # fmt: skip
    try:
        answer = None
        for _ in range(100):  # the receiver starts listening
            try:
                answer = httpx.post(f"http://127.0.0.1:{port}/", content=body)
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert answer is not None and answer.status_code == 200
        reports: list[Path] = []
        for _ in range(600):  # triage runs in the background
            reports = [p for p in tmp_path.glob("incident-*.html") if p.read_text().rstrip().endswith("</html>")]
            if reports and not _running(str(tmp_path)):
                break
            time.sleep(0.1)
        assert len(reports) == 1
        text = reports[0].read_text()
        assert "<h2>Alert</h2><p>Alert LatencyBurn (Alertmanager, firing; the only alert)" in text
        assert "<code>feature-store</code>" in text
    finally:
        process.terminate()
        process.wait()
        servers.stop()
