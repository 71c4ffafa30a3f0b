"""`slo rules`: the generated rules pass the real `promtool check rules`, and `promtool test rules` shows the page
alert firing at the right time on synthetic series, and not on a burn just under its threshold."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tracectl.cli.main import app
from tracectl.slo import burn, rules
from tracectl.slo.spec import Severity, parse_spec_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "slo" / "ml-serving.sloth.yml"
_IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None and not _IN_CI, reason="promtool is not installed (Debian: prometheus)"
)

SPEC = """
version: "prometheus/v1"
service: "shop"
labels: {team: "web"}
slos:
  - name: "availability"
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(req_total{code="500"}[{{.window}}]))
        total_query: sum(rate(req_total[{{.window}}]))
    alerting:
      name: ShopAvailability
      labels: {category: availability}
      annotations: {runbook: "https://runbooks/shop"}
      page_alert: {labels: {severity: critical}}
      ticket_alert: {labels: {severity: warning}}
"""


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def expected(severity: Severity) -> dict[str, Any]:
    """The alert as promtool must report it: the rule's labels and annotations on the recorded series' labels."""
    (slo,) = parse_spec_text(SPEC, "shop.yml")
    (rule,) = [r for r in rules.alert_rules(slo) if r["labels"]["sloth_severity"] == severity.value]
    labels = {**rules.identity(slo), **rule["labels"]}
    return {"exp_labels": labels, "exp_annotations": rule["annotations"]}


def run_test(tmp_path: Path, series: dict[str, str], checks: list[tuple[str, list[Severity]]]) -> None:
    (tmp_path / "rules.yml").write_text(rules.to_yaml(parse_spec_text(SPEC, "shop.yml"), ["shop.yml"]))
    test = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": name, "values": values} for name, values in series.items()],
                "alert_rule_test": [
                    {"eval_time": at, "alertname": "ShopAvailability", "exp_alerts": [expected(s) for s in firing]}
                    for at, firing in checks
                ],
            }
        ],
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(test, sort_keys=False))
    proc = promtool("test", "rules", "test.yml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_promtool
def test_example_rules_pass_promtool_check(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["slo", "rules", str(EXAMPLE)])
    assert result.exit_code == 0, result.stderr
    (tmp_path / "rules.yml").write_text(result.stdout)
    proc = promtool("check", "rules", "rules.yml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS: 33 rules found" in proc.stdout  # 2 SLOs × (8 SLI + 7 meta) + 3 alerts; none for model quality
    assert "nlp-precision is a model-quality SLI" in result.stdout


@needs_promtool
def test_page_fires_when_the_1h_window_crosses_14_4(tmp_path: Path) -> None:
    # 1000 good requests a minute; from minute 420 on, 100 errors a minute (9 % errors, a burn rate of 91).
    # The 1h error ratio 100d / (60000 + 100d) passes 14.4 × 0.001 after d = 8.77 minutes: not at 428m, at 430m.
    # The ticket (1× over 3d and 6h, with only 7 hours of history) fires from the first errors on.
    series = {'req_total{code="200"}': "0+1000x600", 'req_total{code="500"}': "0x420 100+100x100"}
    checks = [
        ("419m", []),
        ("428m", [Severity.TICKET]),
        ("430m", [Severity.PAGE, Severity.TICKET]),
        ("450m", [Severity.PAGE, Severity.TICKET]),
    ]
    run_test(tmp_path, series, checks)


@needs_promtool
def test_no_page_just_under_the_6x_threshold(tmp_path: Path) -> None:
    # A steady burn of 5.9 (0.59 % errors): under 6 (the 6h/30m pair) and 14.4, over 3: a ticket, no page.
    series = {'req_total{code="200"}': "0+994.1x600", 'req_total{code="500"}': "0+5.9x600"}
    run_test(tmp_path, series, [("400m", [Severity.TICKET]), ("600m", [Severity.TICKET])])


@needs_promtool
def test_page_just_over_the_6x_threshold(tmp_path: Path) -> None:
    series = {'req_total{code="200"}': "0+993.9x600", 'req_total{code="500"}': "0+6.1x600"}
    run_test(tmp_path, series, [("400m", [Severity.PAGE, Severity.TICKET])])


def test_factors_follow_the_period() -> None:
    slo_30d = parse_spec_text(SPEC, "shop.yml")[0]
    page = rules.alert_expr(slo_30d, Severity.PAGE)
    assert "(14.4 * 0.001)" in page
    assert "(6 * 0.001)" in page
    ticket = rules.alert_expr(slo_30d, Severity.TICKET)
    assert "(3 * 0.001)" in ticket
    assert "(1 * 0.001)" in ticket
    slo_28d = parse_spec_text(SPEC, "shop.yml", default_period_seconds=28 * 86400)[0]
    assert "(13.44 * 0.001)" in rules.alert_expr(slo_28d, Severity.PAGE)
    assert "(5.6 * 0.001)" in rules.alert_expr(slo_28d, Severity.PAGE)
    assert "(0.9333333333 * 0.001)" in rules.alert_expr(slo_28d, Severity.TICKET)
    assert [w.factor(28 * 86400) for w in burn.ALERT_WINDOWS] == pytest.approx([13.44, 5.6, 2.8, 14 / 15])


def test_rules_carry_sloth_names_and_spec_labels() -> None:
    doc = yaml.safe_load(rules.to_yaml(parse_spec_text(SPEC, "shop.yml"), ["shop.yml"]))
    names = [g["name"] for g in doc["groups"]]
    assert names == [
        "sloth-slo-sli-recordings-shop-availability",
        "sloth-slo-meta-recordings-shop-availability",
        "sloth-slo-alerts-shop-availability",
    ]
    records = [r["record"] for r in doc["groups"][0]["rules"]]
    assert records == [f"slo:sli_error:ratio_rate{w}" for w in (*burn.WINDOWS, "30d")]
    assert doc["groups"][0]["rules"][0]["labels"] == {
        "team": "web",
        "sloth_id": "shop-availability",
        "sloth_service": "shop",
        "sloth_slo": "availability",
        "sloth_window": "5m",
    }
    page, ticket = doc["groups"][2]["rules"]
    assert page["alert"] == ticket["alert"] == "ShopAvailability"
    assert page["labels"] == {"category": "availability", "severity": "critical", "sloth_severity": "page"}
    assert ticket["labels"]["sloth_severity"] == "ticket"
    assert page["annotations"]["runbook"] == "https://runbooks/shop"


def test_disabled_alert_is_left_out() -> None:
    spec = SPEC.replace("ticket_alert: {labels: {severity: warning}}", "ticket_alert: {disable: true}")
    (slo,) = parse_spec_text(spec, "shop.yml")
    assert [r["labels"]["sloth_severity"] for r in rules.alert_rules(slo)] == ["page"]


def test_out_is_written_whole(tmp_path: Path) -> None:
    target = tmp_path / "rules.yml"
    target.write_text("old")
    result = CliRunner().invoke(app, ["slo", "rules", str(EXAMPLE), "--out", str(target)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert yaml.safe_load(target.read_text())["groups"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rules.yml"]  # no temporary file left behind


def test_bad_spec_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(SPEC.replace("objective: 99.9", "objective: 99.9\n    objetive: 1"))
    result = CliRunner().invoke(app, ["slo", "rules", str(bad)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert 'bad.yml: SLO "availability": slos[0].objetive: unknown field' in result.stderr


@needs_promtool
def test_grafana_dashboard_is_importable_and_its_queries_parse(tmp_path: Path) -> None:
    board = tmp_path / "slos.json"
    result = CliRunner().invoke(app, ["slo", "rules", str(EXAMPLE), "--out", str(tmp_path / "r.yml"),
                                      "--grafana-dashboard", str(board)])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    import orjson

    doc = orjson.loads(board.read_bytes())
    assert doc["title"] and doc["uid"] and doc["schemaVersion"] >= 30
    assert doc["templating"]["list"][0]["type"] == "datasource"
    panels = doc["panels"]
    assert [p["type"] for p in panels] == ["row", "stat", "timeseries", "timeseries"] * 2  # model quality: none
    assert len({p["id"] for p in panels}) == len(panels)
    exprs = [t["expr"] for p in panels for t in p.get("targets", [])]
    assert any("slo:period_error_budget_remaining:ratio" in e for e in exprs)
    # promtool parses every query when it is a recording rule's expression
    check = {"groups": [{"name": "q", "rules": [{"record": f"q:{i}", "expr": e} for i, e in enumerate(exprs)]}]}
    (tmp_path / "q.yml").write_text(yaml.safe_dump(check))
    proc = promtool("check", "rules", "q.yml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
