"""Model-quality SLIs, the pure part: the metrics by hand, Wilson's interval against published values, the
seeded bootstrap, evaluation windows, breaches, and the property that an interval shrinks as the sample grows."""

from __future__ import annotations

import math
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import examples
from tracectl.analysis.model_quality import (
    Metric,
    Observation,
    QualityValue,
    WindowQuality,
    bootstrap,
    breach,
    drift_sli,
    is_positive,
    join,
    quality,
    wilson,
    windows,
)

# tp=3 (0.9, 0.8, 0.7 with label 1), fp=1 (0.6 with 0), fn=2 (0.2, 0.4 with 1), tn=4
SCORES = [(0.9, 1), (0.8, 1), (0.7, 1), (0.6, 0), (0.2, 1), (0.4, 1), (0.1, 0), (0.3, 0), (0.05, 0), (0.45, 0)]
OBS = [Observation(n, score, label) for n, (score, label) in enumerate(SCORES)]


def test_classification_metrics_by_hand() -> None:
    assert quality(Metric.precision, OBS).value == pytest.approx(3 / 4)
    assert quality(Metric.precision, OBS).n == 4  # predicted positives
    assert quality(Metric.recall, OBS).value == pytest.approx(3 / 5) and quality(Metric.recall, OBS).n == 5
    assert quality(Metric.accuracy, OBS).value == pytest.approx(7 / 10)
    assert quality(Metric.f1, OBS).value == pytest.approx(2 * 3 / (2 * 3 + 1 + 2))
    # a higher threshold: 0.9, 0.8 positive → precision 1, recall 2/5
    assert quality(Metric.precision, OBS, threshold=0.75).value == 1.0
    assert quality(Metric.recall, OBS, threshold=0.75).value == pytest.approx(2 / 5)


def test_predicted_labels_against_a_positive_class() -> None:
    obs = [Observation(0, "spam", "spam"), Observation(1, "spam", "ham"), Observation(2, "ham", "spam")]
    assert quality(Metric.precision, obs, positive="spam").value == 0.5
    assert quality(Metric.recall, obs, positive="spam").value == 0.5
    assert is_positive("true") and is_positive(True) and not is_positive("0") and is_positive("0.7")


def test_no_predicted_positives_is_no_precision_not_zero() -> None:
    q = quality(Metric.precision, [Observation(0, 0.1, 1)])
    assert q.value is None and q.n == 0 and q.interval.method == "none"


def test_regression_metrics_by_hand() -> None:
    obs = [Observation(0, 110.0, 100.0), Observation(1, 45.0, 50.0), Observation(2, 3.0, 0.0)]
    mae = quality(Metric.mae, obs)
    assert mae.value == pytest.approx((10 + 5 + 3) / 3) and mae.n == 3
    mape = quality(Metric.mape, obs)
    assert mape.value == pytest.approx((0.1 + 0.1) / 2) and mape.n == 2  # a zero label has no percentage error
    assert mae.interval.method == "bootstrap" and mae.interval.low <= mae.value <= mae.interval.high


def test_wilson_against_published_values() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857, table I: 81/263 → 0.2553–0.3662; 0/10 → 0–0.2775
    interval = wilson(81, 263)
    low, high = interval.low, interval.high
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    none = wilson(0, 10)
    assert none.low == 0 and round(none.high, 4) == 0.2775
    assert wilson(10, 10).high == 1.0 and round(wilson(10, 10).low, 4) == round(1 - 0.2775, 4)
    assert wilson(0, 0).method == "none"
    with pytest.raises(ValueError, match="11 successes out of 10"):
        wilson(11, 10)


def test_the_bootstrap_is_seeded() -> None:
    rows = [(float(i), float(i % 7)) for i in range(40)]
    mae = quality(Metric.mae, [Observation(0, p, y) for p, y in rows])
    again = quality(Metric.mae, [Observation(0, p, y) for p, y in rows])
    assert mae.interval == again.interval
    other = bootstrap(rows, lambda p, y: abs(p - y).mean(axis=1), seed=99)
    assert other != mae.interval and abs(other.low - mae.interval.low) < 2.0


@settings(max_examples=examples(200), deadline=None)
@given(successes=st.integers(0, 200), extra=st.integers(0, 200), factor=st.integers(2, 50))
def test_wilson_interval_shrinks_as_the_sample_grows(successes: int, extra: int, factor: int) -> None:
    n = successes + extra
    if n == 0:
        return
    small, large = wilson(successes, n), wilson(successes * factor, n * factor)
    assert large.width < small.width
    p = successes / n
    assert small.low <= p <= small.high and large.low <= p <= large.high


@settings(max_examples=30, deadline=None)
@given(errors=st.lists(st.floats(0, 100, allow_nan=False), min_size=5, max_size=30), factor=st.integers(4, 8))
def test_bootstrap_interval_shrinks_as_the_sample_grows(errors: list[float], factor: int) -> None:
    if max(errors) - min(errors) < 1e-6:  # every error alike: no spread to shrink
        return
    rows = [(e, 0.0) for e in errors]
    small = quality(Metric.mae, [Observation(0, p, y) for p, y in rows])
    large = quality(Metric.mae, [Observation(0, p, y) for p, y in rows * factor])
    assert large.value == pytest.approx(small.value)
    assert large.interval.width < small.interval.width


def test_daily_windows_over_a_week_and_a_rolling_week() -> None:
    day = 86_400 * 10**9
    end = 7 * day
    # days 0-3 perfect, days 4-6 wrong half the time; 40 predictions a day
    obs = [Observation(d * day + i * 10**9, 0.9, 1 if d < 4 or i % 2 else 0) for d in range(7) for i in range(40)]
    daily = windows(Metric.precision, obs, end, day, count=7)
    assert [w.start_ns for w in daily] == [d * day for d in range(7)]
    assert [w.quality.value for w in daily] == [1.0] * 4 + [0.5] * 3
    assert all(w.labelled == 40 and w.quality.n == 40 for w in daily)
    rolling = windows(Metric.precision, obs, end, 7 * day, step_ns=day, count=3)
    assert rolling[-1].quality.n == 280 and rolling[-1].quality.value == pytest.approx((160 + 60) / 280)
    # the window ending two days ago holds days 0-4 (it starts before the first prediction)
    assert rolling[0].quality.n == 200 and rolling[0].quality.value == pytest.approx((160 + 20) / 200)


def _window(value: float | None, low: float, high: float, metric: Metric = Metric.precision) -> WindowQuality:
    from tracectl.analysis.model_quality import Interval

    return WindowQuality(0, 1, QualityValue(metric, value, 40, Interval(low, high, "wilson")), 40)


def test_breach_needs_the_value_below_and_pages_after_two_windows() -> None:
    ok, low, lower = _window(0.97, 0.9, 1.0), _window(0.94, 0.85, 0.99), _window(0.92, 0.90, 0.94)
    assert not breach([ok], 0.95).breached and not breach([], 0.95).breached
    one = breach([ok, low], 0.95, page_bound=0.93)
    assert one.breached and not one.certain and one.consecutive == 1 and not one.pages
    two = breach([low, lower, lower], 0.95, page_bound=0.93)
    assert two.breached and two.certain and two.consecutive == 3 and two.pages
    mae = breach([_window(12.0, 11.0, 13.0, Metric.mae)], 10.0)
    assert mae.breached and mae.certain  # errors: above the bound is the bad side


def test_drift_share_as_an_sli() -> None:
    sli = drift_sli(drifted=1, compared=4)
    assert sli.value == 0.75 and sli.n == 4 and sli.interval.method == "wilson"
    assert drift_sli(0, 0).value is None


def test_join_on_ids() -> None:
    predictions = {"a": (5, 0.9), "b": (6, 0.1)}
    joined, unmatched = join(predictions, [("a", 1, None), ("b", 0, 99), ("c", 1, None)])
    assert joined == [Observation(5, 0.9, 1), Observation(99, 0.1, 0)] and unmatched == 1
    assert not math.isnan(quality(Metric.accuracy, joined).value or 0)


# ------------------------------------------------------------------------------- the sandbox's labels, over HTTP


@pytest.mark.parametrize(("scenario", "breached"), [("healthy", False), ("bad-model-version", True)])
def test_precision_slo_breaches_on_the_bad_model_version_only(scenario: str, breached: bool, tmp_path: Path) -> None:
    from tracectl import Session, Settings
    from tracectl.sandbox import start_sandbox
    from tracectl.sandbox.labels import CONFIDENCE_KEY, write_labels
    from tracectl.slo.spec import ModelQualityMetric, ModelQualitySLI
    from tracectl.workflows.model_quality import evaluate_model_quality, evaluate_slo

    servers, workload = start_sandbox(scenario, 240, seed=11, end_ns=time.time_ns())
    try:
        labels = tmp_path / "labels.jsonl"
        written = write_labels(labels, workload)
        # the last 30 minutes in three 10-minute windows; SLO 95 %, page below 93 % for two windows
        sli = ModelQualitySLI(
            ModelQualityMetric.PRECISION, CONFIDENCE_KEY, str(labels), "nlp-model", 600, page_below=0.93
        )
        with Session(Settings(tempo_url=servers.tempo_url)) as session:
            result = evaluate_model_quality(session, sli, name="nlp-precision", objective=0.95, end_ns=workload.end_ns,
                                            windows=3)  # fmt: skip
            spec_slo = SimpleNamespace(name="nlp-precision", objective=0.95, sli=sli)  # as `slo status` asks
            via_spec = evaluate_slo(session, spec_slo, workload.end_ns)
    finally:
        servers.stop()
    # joined on trace IDs: the labelled traces are fetched by ID, and every label finds its prediction
    assert result.labels == written == result.joined == result.predictions and result.source == "Tempo, by trace ID"
    assert sum(w.labelled for w in result.windows) == written
    assert result.breach.breached is breached and result.breach.pages is breached
    latest = result.windows[-1].quality
    assert latest.value is not None and latest.interval.low <= latest.value <= latest.interval.high
    if breached:  # the fault began halfway: the first window is clean, the later ones are well under 95 %
        assert result.windows[0].quality.value == 1.0 and latest.value < 0.8 and result.breach.certain
    else:
        assert all(w.quality.value is not None and w.quality.value >= 0.95 for w in result.windows)
    assert via_spec.breached is breached and via_spec.value == latest.value and len(via_spec.windows) == 2
    from rich.console import Console

    from tracectl.render.emit import table

    console = Console(record=True, width=120)
    table(result, console)
    shown = console.export_text()
    assert "nlp-precision: precision" in shown and "SLO ≥ 95.0%" in shown and shown.count("✓") + shown.count("✗") == 3
    assert ("breached (certain); pages" in shown) is breached and ("met" in shown) is not breached
    doc = result.document()
    assert doc["schema"] == "tracectl.model-quality/v1" and doc["breached"] is breached and len(doc["windows"]) == 3


def test_labels_are_deterministic_from_the_seed_and_read_in_every_format(tmp_path: Path) -> None:
    from tracectl.formats.labels import read_labels
    from tracectl.sandbox import generate
    from tracectl.sandbox.labels import write_labels

    first, again = generate("healthy", 80, seed=5), generate("healthy", 80, seed=5)
    assert first.labels == again.labels and first.labels != generate("healthy", 80, seed=6).labels
    assert 0 < len(first.labels) < 80  # a sample: about half the requests
    assert {t.trace_id for t in first.traces} >= {tid for tid, _, _ in first.labels}
    rows = {}
    for suffix in (".jsonl", ".csv", ".parquet"):
        path = tmp_path / f"labels{suffix}"
        write_labels(path, first)
        rows[suffix] = [(r.id, float(r.label), r.time_ns) for r in read_labels(path)]
    expected = [(tid, float(label), t) for tid, label, t in first.labels]
    assert rows[".jsonl"] == rows[".csv"] == rows[".parquet"] == expected


def test_bad_labelled_samples_name_the_file_and_the_row(tmp_path: Path) -> None:
    from tracectl.errors import InputError
    from tracectl.formats.labels import read_labels

    no_label = tmp_path / "a.csv"
    no_label.write_text("id,truth\nx,1\n")
    with pytest.raises(InputError, match=r"a.csv: no column label \(columns: id, truth\)"):
        read_labels(no_label)
    bad_time = tmp_path / "b.csv"
    bad_time.write_text("id,label,time\nx,1,2026-12-06T00:00:00Z\ny,0,soon\n")
    with pytest.raises(InputError, match=r"b\.csv: row 2: time: 'soon' is not a time"):
        read_labels(bad_time)
    with pytest.raises(InputError, match=r"labels: .*c\.txt must be a \.parquet, \.csv"):
        read_labels(tmp_path / "c.txt")


def test_sandbox_serve_writes_the_labelled_sample(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tracectl.cli.main import app
    from tracectl.formats.labels import read_labels

    out = tmp_path / "labels.csv"
    args = ["sandbox", "serve", "--scenario", "bad-model-version", "--requests", "40", "--seed", "9", "--tempo-port",
            "0", "--jaeger-port", "0", "--loki-port", "0", "--prometheus", "builtin", "--duration", "0.1",
            "--labels-out", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = read_labels(out)
    assert f"wrote {len(rows)} labels to {out}" in result.stderr and 0 < len(rows) < 40
    bad = CliRunner().invoke(app, [*args[:-1], str(tmp_path / "labels.txt")])
    assert bad.exit_code == 2 and "--labels-out" in bad.stderr and "must end in .jsonl, .csv or .parquet" in bad.stderr


def test_a_request_id_attribute_joins_and_week_long_windows_are_searched_a_week_at_a_time(tmp_path: Path) -> None:
    from tests.builders import MS, T0, span, trace
    from tracectl import Session, Settings
    from tracectl.sandbox import start_sandbox
    from tracectl.sandbox.labels import CONFIDENCE_KEY
    from tracectl.slo.spec import ModelQualityMetric, ModelQualitySLI
    from tracectl.workflows.model_quality import evaluate_model_quality, predictions

    hand = [
        trace(span("predict", 0, 5, service="m", **{"request.id": "r1", "score": 0.9}), trace_id=f"{1:032x}"),
        trace(span("predict", 7, 9, service="m", **{"request.id": "r2", "score": 0.2}), trace_id=f"{2:032x}"),
        trace(span("predict", 8, 9, service="m", **{"request.id": "r2", "score": 0.3}), trace_id=f"{3:032x}"),
        trace(span("other", 0, 5, service="n", **{"request.id": "r3", "score": 0.9}), trace_id=f"{4:032x}"),
    ]
    found, repeated = predictions(hand, "m", "score", "request.id")
    assert found == {"r1": (T0, 0.9), "r2": (T0 + 7 * MS, 0.2)} and repeated == 1  # the first of r2's is kept
    # against the sandbox's Tempo (which, like Tempo, refuses a search over more than 168 h): two 7-day windows
    servers, workload = start_sandbox("healthy", 60, seed=2, end_ns=time.time_ns())
    labels = tmp_path / "labels.csv"
    labels.write_text("id,label\nintent-bert,1\n")
    sli = ModelQualitySLI(
        ModelQualityMetric.PRECISION,
        CONFIDENCE_KEY,
        str(labels),
        "nlp-model",
        7 * 86400,
        label_attribute="ml.model.name",
    )
    try:
        with Session(Settings(tempo_url=servers.tempo_url)) as session:
            result = evaluate_model_quality(session, sli, objective=0.95, end_ns=workload.end_ns, windows=2,
                                            step_ns=86400 * 10**9)  # fmt: skip
    finally:
        servers.stop()
    assert result.predictions == 1 and result.joined == 1 and result.source == "Tempo search"
    assert any("59 spans repeated a prediction" in w for w in result.warnings)
