"""Reports a postmortem author pastes as they are: absolute windows (display zone and UTC), when and by which
version they were made, a timeline, the metrics chart with the change marked, reproduce commands with absolute
``--from/--to`` (never ``--since``), and trace IDs linked to the user's trace UI (``--ui-url``)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from typer.testing import CliRunner

from tracectl import __version__
from tracectl.cli.main import app
from tracectl.render.postmortem import utc_time
from tracectl.sandbox import start_sandbox
from tracectl.timerange import TimeRange, parse_instant, window_flags

runner = CliRunner()
UI = "http://ui.example/trace/{trace_id}?uiFind={span_id}"


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """cv-cold-start with Prometheus and no window given: the metrics set the windows; HTML, md and JSON."""
    folder = tmp_path_factory.mktemp("postmortem")
    servers, _ = start_sandbox("cv-cold-start", 300, end_ns=time.time_ns())
    env = {"TEMPO_ADDR": servers.tempo_url, "LOKI_ADDR": servers.loki_url, "PROMETHEUS_ADDR": servers.prometheus_url,
           "JAEGER_ADDR": "", "TRACECTL_UI_URL": UI, "TRACECTL_TZ": "Europe/Paris"}  # fmt: skip
    try:
        html = runner.invoke(app, ["triage", "-s", "api-gateway", "--report", str(folder / "r.html"), "-o", "json"],
                             env=env)  # fmt: skip
        assert html.exit_code == 0, html.output
        md = runner.invoke(app, ["triage", "-s", "api-gateway", "--report", str(folder / "r.md"), "-q"], env=env)
        assert md.exit_code == 0, md.output
        given = runner.invoke(app, ["triage", "-s", "api-gateway", "--since", "40m", "--no-logs", "--report",
                                    str(folder / "given.md"), "-q"], env=env)  # fmt: skip
        assert given.exit_code == 0, given.output
        yield folder, orjson.loads(html.stdout)
    finally:
        servers.stop()


def test_html_report_in_headless_chromium_is_a_postmortem_document(
    incident: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    from tests.conftest import headless_dom

    folder, doc = incident
    dom = headless_dom(folder / "r.html", tmp_path, "docs/triage.md")
    start, end = doc["metrics"]["suspect_window"]
    assert "Incident window" in dom and "Baseline window" in dom
    assert f"UTC {utc_time(start)} → {utc_time(end)}" in dom  # the absolute window, UTC
    paris = datetime.fromtimestamp(start // 10**9, tz=ZoneInfo("Europe/Paris"))
    assert re.search(rf"Incident window</th><td>{paris:%Y-%m-%d %H:%M:%S} → [^<]* {paris:%Z} \(", dom)  # --tz
    assert f"by tracectl {__version__}" in dom and "Generated" in dom
    assert 'class="metrics-chart"' in dom and dom.count('class="series"') >= 4  # p50, p95, p99, error ratio
    change = re.search(r'<g class="mark change">.*?</g>', dom)
    assert change is not None and "change began" in change.group(0)
    assert '<g class="mark deploy">' in dom and "cv-model deployed 3.3.0" in dom
    assert "<h2>Timeline</h2>" in dom and "the p95 latency began to rise" in dom
    reproduce = re.search(r"<pre class=\"?reproduce\"?>(.*?)</pre>", dom, re.S)
    assert reproduce is not None
    lines = reproduce.group(1).splitlines()
    assert lines[0].startswith("tracectl triage -s api-gateway --from ") and "--baseline-from" in lines[0]
    assert "--since" not in reproduce.group(1) and all("--from" in line for line in lines if "-s " in line)
    worst = doc["worst_trace"]["trace_id"]
    assert f'href="http://ui.example/trace/{worst}?uiFind="' in dom  # --ui-url: the trace IDs are links


def test_the_reproduce_command_gives_the_same_windows(incident: tuple[Path, dict[str, Any]]) -> None:
    doc = incident[1]
    line = next(c for c in doc["next_commands"] if c.startswith("tracectl blame"))  # over the suspect window
    start, end = doc["metrics"]["suspect_window"]
    flags = re.search(r"--from (\S+) --to (\S+)", line)
    assert flags is not None and "--since" not in " ".join(doc["next_commands"])
    assert parse_instant(flags.group(1), "--from", 0) == start - start % 10**9
    assert parse_instant(flags.group(2), "--to", 0) >= end > parse_instant(flags.group(2), "--to", 0) - 10**9


def test_markdown_report_has_a_timeline_table_and_a_sparkline_chart(incident: tuple[Path, dict[str, Any]]) -> None:
    folder, doc = incident
    md = (folder / "r.md").read_text()
    assert "| time | UTC | what |" in md and "the incident window begins" in md
    chart = md.split("## Metrics chart", 1)[1].split("```")[1]
    assert re.search(r"^p95 +[▁▂▃▄▅▆▇█ ]+ ", chart, re.M) and "▲ change began" in chart
    assert "![" not in md and "<svg" not in md  # image-free
    axis = chart.strip().splitlines()[-1].split()
    assert len(axis) == 2 and all(re.fullmatch(r"\d\d:\d\d", a) for a in axis)  # labels apart, never "14:2214:23"
    worst = doc["worst_trace"]["trace_id"]
    assert f"[`{worst}`](http://ui.example/trace/{worst}?uiFind=)" in md
    reproduce = md.split("## Reproduce", 1)[1]
    assert "--since" not in reproduce and "--from " in reproduce


def test_a_given_window_has_no_chart_and_says_why(incident: tuple[Path, dict[str, Any]]) -> None:
    md = (incident[0] / "given.md").read_text()
    assert "No metrics chart: the window was given on the command line" in md
    assert re.search(r"Baseline:\*\* \d+ requests of the same window", md)  # the within-window split


def test_window_flags_are_absolute_utc_seconds_covering_the_window() -> None:
    window = TimeRange(1_763_972_400_250_000_000, 1_763_974_200_500_000_000)
    assert window_flags(window) == " --from 2025-11-24T08:20:00Z --to 2025-11-24T08:50:01Z"
    assert window_flags(window, "baseline-").startswith(" --baseline-from 2025-11-24T08:20:00Z --baseline-to")


def test_ui_url_is_a_setting_checked_and_shown() -> None:
    bad = runner.invoke(app, ["config", "show"], env={"TRACECTL_UI_URL": "http://ui.example/trace/"})
    assert bad.exit_code == 2 and "{trace_id}" in bad.stderr
    shown = runner.invoke(app, ["--ui-url", UI, "config", "show"])
    assert shown.exit_code == 0 and "ui_url" in shown.stdout and "flag" in shown.stdout
