"""SLO specs: Sloth prometheus/v1 and OpenSLO v1 read into one model; bad specs name file, SLO and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracectl.errors import ExitCode
from tracectl.slo.spec import (
    EventsSLI,
    ModelQualityMetric,
    ModelQualitySLI,
    RawSLI,
    SpecError,
    SpecFormat,
    ThresholdOp,
    ThresholdSLI,
    load_specs,
    parse_spec_text,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "slo" / "ml-serving.sloth.yml"

SLOTH = """
version: "prometheus/v1"
service: "checkout"
labels: {team: "payments"}
slos:
  - name: "availability"
    objective: 99.9
    labels: {tier: "1"}
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{ .window }}]))
    alerting:
      name: CheckoutAvailability
      labels: {category: availability}
      annotations: {summary: "burning"}
      page_alert: {labels: {severity: critical}}
      ticket_alert: {disable: true}
  - name: "raw"
    objective: 99
    sli:
      raw:
        error_ratio_query: max(errors:ratio_rate{{.window}})
"""

OPENSLO = """
apiVersion: openslo/v1
kind: Service
metadata: {name: checkout}
spec: {description: the checkout}
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-good
  displayName: Checkout good requests
  labels: {team: [payments, sre]}
spec:
  service: checkout
  budgetingMethod: Occurrences
  timeWindow: [{duration: 28d, isRolling: true}]
  indicator:
    metadata: {name: good}
    spec:
      ratioMetric:
        counter: true
        good: {metricSource: {type: Prometheus, spec: {query: 'http_requests_total{code!~"5.."}'}}}
        total: {metricSource: {type: Prometheus, spec: {query: http_requests_total}}}
  objectives: [{displayName: good, target: 0.995}]
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: checkout-p99}
spec:
  service: checkout
  budgetingMethod: Timeslices
  indicator:
    metadata: {name: p99}
    spec:
      thresholdMetric:
        metricSource:
          type: Prometheus
          spec: {query: 'histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))'}
  objectives: [{displayName: fast, op: lte, value: 0.5, target: 0.99}]
"""


def test_sloth_spec_reads_into_the_model() -> None:
    slos = parse_spec_text(SLOTH, "checkout.yml")
    assert [s.name for s in slos] == ["availability", "raw"]
    first = slos[0]
    assert first.objective == 0.999
    assert first.error_budget == pytest.approx(0.001)
    assert first.period_seconds == 30 * 86400
    assert first.labels == {"team": "payments", "tier": "1"}
    assert first.format is SpecFormat.SLOTH
    assert first.id == "checkout-availability"
    assert isinstance(first.sli, EventsSLI)
    assert first.alerting.name == "CheckoutAvailability"
    assert first.alerting.page.labels == {"severity": "critical"}
    assert first.alerting.ticket.disabled
    query = first.error_ratio_query("5m")
    assert query is not None
    assert "[5m]" in query
    assert "{{" not in query
    assert isinstance(slos[1].sli, RawSLI)
    assert slos[1].alerting.name == "CheckoutRaw"  # derived when the spec has no alerting.name


def test_openslo_multi_document_file() -> None:
    slos = parse_spec_text(OPENSLO, "checkout.openslo.yml")
    assert [s.name for s in slos] == ["checkout-good", "checkout-p99"]
    good, p99 = slos
    assert good.format is SpecFormat.OPENSLO
    assert good.period_seconds == 28 * 86400
    assert good.objective == 0.995
    assert good.labels == {"team": "payments,sre"}
    assert isinstance(good.sli, EventsSLI)
    assert good.sli.total_query == "sum(increase(http_requests_total[{{.window}}]))"
    assert good.sli.error_query.startswith("(sum(increase(http_requests_total[{{.window}}]))) - (")
    assert isinstance(p99.sli, ThresholdSLI)
    assert p99.sli.op is ThresholdOp.LTE
    assert p99.error_ratio_query("1h") == (
        "avg_over_time(((histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))) > bool 0.5)[1h:1m])"
    )


def test_example_spec_has_the_three_kinds() -> None:
    slos = load_specs([EXAMPLE])
    kinds = {s.name: type(s.sli) for s in slos}
    assert kinds == {
        "gateway-availability": EventsSLI,
        "gateway-latency": EventsSLI,
        "nlp-precision": ModelQualitySLI,
    }
    quality = slos[2].sli
    assert isinstance(quality, ModelQualitySLI)
    assert quality.metric is ModelQualityMetric.PRECISION
    assert quality.evaluation_window_seconds == 7 * 86400
    assert quality.labels_file == str(EXAMPLE.parent / "labels.jsonl")
    assert slos[2].error_ratio_query("5m") is None


def test_model_quality_in_openslo() -> None:
    text = """
apiVersion: openslo/v1
kind: SLO
metadata: {name: house-mae}
spec:
  service: house-prices
  indicator:
    metadata: {name: mae}
    spec:
      modelQuality: {metric: mae, prediction_attribute: ml.prediction, labels_file: /data/l.csv,
                     label_attribute: request.id, max_error: 25000, evaluation_window: 1d}
  objectives: [{target: 0.9}]
"""
    (slo,) = parse_spec_text(text, "h.yml")
    assert slo.sli == ModelQualitySLI(
        metric=ModelQualityMetric.MAE,
        prediction_attribute="ml.prediction",
        labels_file="/data/l.csv",
        service="house-prices",
        evaluation_window_seconds=86400,
        label_attribute="request.id",
        max_error=25000.0,
    )


BAD = [
    ("version: prometheus/v2\nservice: a\nslos: []", "bad.yml: version: 'prometheus/v2'"),
    ("version: prometheus/v1\nservice: a\n", "bad.yml: slos: missing"),
    (
        'version: prometheus/v1\nservice: a\nslos: [{name: x, objetive: 99, sli: {raw: {error_ratio_query: "a[{{.window}}]"}}}]',
        'bad.yml: SLO "x": slos[0].objetive: unknown field',
    ),
    (
        "version: prometheus/v1\nservice: a\nslos: [{name: x, objective: 99.9, sli: {raw: {error_ratio_query: a}}}]",
        'bad.yml: SLO "x": slos[0].sli.raw.error_ratio_query: must use the {{.window}} placeholder',
    ),
    (
        'version: prometheus/v1\nservice: a\nslos: [{name: x, objective: 100, sli: {raw: {error_ratio_query: "a[{{.window}}]"}}}]',
        'bad.yml: SLO "x": slos[0].objective: 100: a percentage',
    ),
    (
        "version: prometheus/v1\nservice: a\nslos: [{name: x, objective: 99, sli: {model_quality: {metric: auc}}}]",
        "slos[0].sli.model_quality.metric: 'auc' is not one of",
    ),
    (
        "version: prometheus/v1\nservice: a\nslos: [{name: x, objective: 99, sli: {model_quality: "
        "{metric: mape, prediction_attribute: p, labels_file: l.csv}}}]",
        "slos[0].sli.model_quality.max_error: missing",
    ),
    (
        "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: y}\nspec: {service: s, indicator: {spec: {}}, "
        "objectives: [{target: 99.5}]}",
        'bad.yml: SLO "y": spec.indicator.spec: needs exactly one of',
    ),
    (
        'version: prometheus/v1\nservice: a\nlabels: {"team-name": x}\nslos: [{name: x, objective: 99, sli: {raw: {error_ratio_query: "a[{{.window}}]"}}}]',
        "bad.yml: labels.team-name: not a Prometheus label name",
    ),
    ("a: [1, 2", "bad.yml: not YAML at line"),
    ("", "bad.yml: empty"),
    ("kind: Deployment", "bad.yml: not a Sloth spec"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_specs_name_file_slo_and_field(text: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec_text(text, "bad.yml")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert caught.value.exit_code is ExitCode.USAGE


def test_duplicate_slos_across_files(tmp_path: Path) -> None:
    a = tmp_path / "a.yml"
    a.write_text(SLOTH)
    b = tmp_path / "b.yml"
    b.write_text(SLOTH)
    with pytest.raises(SpecError, match="same service and name"):
        load_specs([a, b])


def test_missing_file() -> None:
    with pytest.raises(SpecError, match=r"nope\.yml: no such file"):
        load_specs(["nope.yml"])
