"""Drift analysis: the tests' values against scipy on fixed samples, the choice of test by type and size, the
false-alarm rate on same-distribution samples, invariants (hypothesis), and features read from span attributes
and training-data files."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial import distance

from tracectl.analysis.drift import (
    CHISQUARE,
    JENSEN_SHANNON,
    KS,
    WASSERSTEIN,
    Sample,
    compare_features,
    measure,
    psi,
)
from tracectl.analysis.drift_text import describe
from tracectl.analysis.features import FeatureSpec, frame_sample, resolve_specs, span_sample
from tracectl.errors import InputError

SEED = 1414


def normal(n: int, loc: float = 0.0, seed: int = SEED) -> np.ndarray:
    return np.random.default_rng(seed).normal(loc, 1.0, n)


# ------------------------------------------------------------------------------------- values vs scipy


def test_small_numeric_samples_get_the_ks_p_value_scipy_computes() -> None:
    ref, cur = normal(800), normal(300, 0.3, seed=2)
    f = measure("x", Sample(ref), Sample(cur))
    assert f.test == KS and f.kind == "numeric"
    assert f.statistic == pytest.approx(stats.ks_2samp(ref, cur).pvalue, rel=1e-12)
    assert (f.n_reference, f.n_current) == (800, 300)


def test_large_numeric_samples_get_the_wasserstein_distance_in_reference_standard_deviations() -> None:
    ref, cur = normal(5000) * 3 + 10, normal(2000, 0.2, seed=3) * 3 + 10
    f = measure("x", Sample(ref), Sample(cur))
    assert f.test == WASSERSTEIN
    assert f.statistic == pytest.approx(stats.wasserstein_distance(ref, cur) / np.std(ref), rel=1e-12)
    assert f.statistic == pytest.approx(0.2, abs=0.05)  # a shift of 0.2 standard deviations


def test_small_categorical_samples_get_the_chi_square_test_of_the_two_samples_counts() -> None:
    ref = {"mobile": 500, "desktop": 300, "tablet": 200}
    cur = {"mobile": 120, "desktop": 50, "tablet": 20, "tv": 10}  # a category the reference never had
    f = measure("device", Sample(counts=ref), Sample(counts=cur))
    table = np.array([[500, 300, 200, 0], [120, 50, 20, 10]])
    assert f.test == CHISQUARE and f.kind == "categorical"
    assert f.statistic == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue, rel=1e-12)
    assert f.new_categories == ("tv",) and f.out_of_range == pytest.approx(10 / 200)


def test_large_categorical_samples_get_the_jensen_shannon_distance_base_2() -> None:
    ref = {"a": 6000, "b": 3000, "c": 1000}
    cur = {"a": 1000, "b": 800, "c": 200}
    f = measure("cat", Sample(counts=ref), Sample(counts=cur))
    expected = distance.jensenshannon([0.6, 0.3, 0.1], [0.5, 0.4, 0.1], base=2)
    assert f.test == JENSEN_SHANNON and f.statistic == pytest.approx(expected, rel=1e-12)


def test_psi_by_hand() -> None:
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert psi(np.array([0.5, 0.5]), np.array([0.25, 0.75])) == pytest.approx(expected)
    assert psi(np.array([1.0, 0.0]), np.array([0.5, 0.5])) == pytest.approx(
        (0.5 - 1.0) * math.log(0.5 / 1.0) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)  # an empty bin is floored at 1e-4
    )
    ref = np.arange(1000, dtype=float)  # deciles of 0..999: the current values all in the top decile
    f = measure("x", Sample(ref), Sample(np.full(50, 995.0)))
    assert f.psi == pytest.approx(9 * (1e-4 - 0.1) * math.log(1e-4 / 0.1) + (1 - 0.1) * math.log(1 / 0.1))


def test_the_sample_size_that_picks_the_test_is_the_smaller_samples() -> None:
    big = normal(100_000)
    assert measure("x", Sample(big), Sample(normal(1000, seed=2))).test == KS  # 1,000 values: still a test
    assert measure("x", Sample(big), Sample(normal(1001, seed=2))).test == WASSERSTEIN
    counts = Sample(counts={"a": 50_000, "b": 50_000})
    assert measure("c", counts, Sample(counts={"a": 600, "b": 400})).test == CHISQUARE
    assert measure("c", counts, Sample(counts={"a": 600, "b": 401})).test == JENSEN_SHANNON


def test_numbers_with_at_most_five_values_are_categories() -> None:
    ref = np.random.default_rng(1).integers(0, 5, 400).astype(float)
    cur = np.random.default_rng(2).integers(0, 5, 300).astype(float)
    f = measure("stars", Sample(ref), Sample(cur))
    assert f.kind == "categorical" and f.test == CHISQUARE and set(f.histogram.labels) == {"0", "1", "2", "3", "4"}
    six = measure("stars", Sample(ref), Sample(np.append(cur, 5.0)))
    assert six.kind == "numeric"  # a sixth value anywhere makes it a number again


def test_alpha_is_shared_by_the_p_value_tests_and_distances_keep_their_threshold() -> None:
    pairs = {f"f{i}": (Sample(normal(500, seed=i)), Sample(normal(100, seed=100 + i))) for i in range(4)}
    pairs["big"] = (Sample(normal(5000, seed=9)), Sample(normal(5000, 1.0, seed=10)))
    report = compare_features(pairs, alpha=0.05)
    assert report.p_value_tests == 4
    assert {f.threshold for f in report.features if f.test == KS} == {0.0125}
    big = next(f for f in report.features if f.name == "big")
    assert big.test == WASSERSTEIN and big.threshold == 0.1 and big.drifted
    assert report.features[0].name == "big" and report.drift_share == pytest.approx(1 / 5)


def test_out_of_range_missing_and_the_sentence_carry_the_numbers() -> None:
    ref = normal(2000, seed=5) * 50 + 180  # seconds
    cur = np.concatenate((normal(200, seed=6) * 50 + 180, (normal(100, seed=7) * 50 + 180) * 1000))  # ms
    f = measure("session_duration", Sample(ref), Sample(cur, missing=30))
    compare_features({})  # an empty comparison is fine
    f.threshold, f.drifted = 0.05, bool(f.statistic is not None and f.statistic < 0.05)
    assert f.drifted and f.out_of_range == pytest.approx(100 / 300)
    assert f.missing_current == pytest.approx(30 / 330) and f.missing_reference == 0.0
    text = describe(f)
    assert "33% of current values outside the reference's range" in text and "KS p =" in text
    assert "missing in 9% of spans" in text


# ------------------------------------------------------------------------------------- false alarms


def test_same_distribution_samples_are_flagged_at_about_the_nominal_rate() -> None:
    """One feature, 400 seeded trials at alpha 0.05: the KS test flags about 5% of them."""
    rng = np.random.default_rng(SEED)
    reference = Sample(rng.lognormal(5, 0.6, 3000))
    flagged = sum(
        compare_features({"x": (reference, Sample(rng.lognormal(5, 0.6, 300)))}).features[0].drifted for _ in range(400)
    )
    assert 0.02 <= flagged / 400 <= 0.08, flagged


def test_a_healthy_model_with_many_features_is_flagged_at_most_alpha_of_the_time() -> None:
    """Four features (numbers and categories), 200 seeded trials: any feature flagged in about 5% of them, not
    in the ~19% that four tests at 5% each would give; large samples (distances) flag nothing."""
    rng = np.random.default_rng(SEED + 1)
    shares = [0.55, 0.35, 0.1]

    def counts(n: int) -> Sample:
        return Sample(counts=dict(Counter(rng.choice(["m", "d", "t"], n, p=shares).tolist())))

    ref = {"a": Sample(rng.normal(0, 1, 4000)), "b": Sample(rng.gamma(3, 4, 4000)), "c": counts(4000),
           "d": Sample(rng.beta(2, 5, 4000))}  # fmt: skip
    alarms = 0
    for _ in range(200):
        cur = {"a": Sample(rng.normal(0, 1, 250)), "b": Sample(rng.gamma(3, 4, 250)), "c": counts(250),
               "d": Sample(rng.beta(2, 5, 250))}  # fmt: skip
        alarms += bool(compare_features({k: (ref[k], cur[k]) for k in ref}).drifted)
    assert alarms / 200 <= 0.09, alarms
    large = {k: (Sample(rng.normal(0, 1, 20_000)), Sample(rng.normal(0, 1, 5000))) for k in "xyz"}
    assert not compare_features(large).drifted


# ------------------------------------------------------------------------------------------ invariants

values = st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=300)


@settings(max_examples=60, deadline=None)
@given(values, values)
def test_invariants_of_any_numeric_comparison(ref_list: list[float], cur_list: list[float]) -> None:
    ref, cur = np.array(ref_list), np.array(cur_list)
    f = measure("x", Sample(ref), Sample(cur))
    assert f.psi is not None and f.psi >= -1e-12
    assert 0.0 <= f.out_of_range <= 1.0 and f.statistic is not None and f.statistic >= 0
    assert sum(f.histogram.reference) == pytest.approx(1.0) and sum(f.histogram.current) == pytest.approx(1.0)
    same = measure("x", Sample(ref), Sample(ref))
    assert same.psi == pytest.approx(0.0, abs=1e-12) and same.out_of_range == 0.0
    report = compare_features({"x": (Sample(ref), Sample(ref))})
    assert not report.drifted  # a sample never drifts from itself


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdefg"), st.integers(1, 500), min_size=1),
       st.dictionaries(st.sampled_from("abcdefgh"), st.integers(1, 500), min_size=1))  # fmt: skip
def test_invariants_of_any_categorical_comparison(ref: dict[str, int], cur: dict[str, int]) -> None:
    f = measure("c", Sample(counts=ref), Sample(counts=cur))
    new = {k for k in cur if k not in ref}
    assert set(f.new_categories) == new
    assert f.out_of_range == pytest.approx(sum(cur[k] for k in new) / sum(cur.values()))
    assert f.psi is not None and f.psi >= -1e-12 and f.statistic is not None and 0 <= f.statistic <= 1 + 1e-12
    assert measure("c", Sample(counts=ref), Sample(counts=ref)).psi == pytest.approx(0.0, abs=1e-12)


# ------------------------------------------------------------------------------------- features from spans


def test_features_match_reference_columns_after_their_prefix_is_stripped() -> None:
    keys = Counter({"ml.feature.session_duration": 5, "ml.feature.device.type": 5, "ml.prediction.score": 5,
                    "http.route": 5, "app.sess_len": 5})  # fmt: skip
    columns = ["session_duration", "device.type", "prediction.score", "unused"]
    specs = resolve_specs(keys, columns)
    assert specs == [
        FeatureSpec("device.type", "ml.feature.device.type", "device.type", "input"),
        FeatureSpec("session_duration", "ml.feature.session_duration", "session_duration", "input"),
        FeatureSpec("prediction.score", "ml.prediction.score", "prediction.score", "output"),
    ]
    named = resolve_specs(keys, columns, [("app.sess_len", "session_duration")])
    assert [(s.key, s.column, s.role) for s in named] == [
        ("app.sess_len", "session_duration", "input"),
        ("ml.prediction.score", "prediction.score", "output"),
    ]  # naming inputs keeps the default outputs
    with pytest.raises(InputError, match=r"no reference column for http.route .+ --feature http.route=COLUMN"):
        resolve_specs(keys, columns, [("http.route", None)])


def test_without_columns_the_prefixed_attributes_are_features() -> None:
    keys = Counter({"ml.feature.a": 1, "app.b": 1, "ml.prediction.label": 1, "http.route": 1, "ml.batch_size": 1})
    assert [(s.name, s.role) for s in resolve_specs(keys, None)] == [
        ("b", "input"), ("a", "input"), ("prediction.label", "output")
    ]  # fmt: skip


def test_span_values_become_samples_numbers_sent_as_strings_included() -> None:
    sample, bad = span_sample([1, 2.5, "3", None, "", "n/a"], numeric=True)
    assert sample.values is not None and sample.values.tolist() == [1.0, 2.5, 3.0]
    assert (sample.missing, bad) == (3, 1)
    cats, _ = span_sample(["a", "a", True, None])
    assert cats.counts == {"a": 2, "true": 1} and cats.missing == 1


def test_reference_files_of_every_format_give_the_same_samples(tmp_path: Path) -> None:
    from tracectl.formats.training_data import read_table, table_columns

    frame = pd.DataFrame({"x": [1.5, None, 3.0], "device.type": ["a", "b", None], "flag": [True, False, True],
                          "login_time": [1_700_000_000, 1_700_000_001, 1_700_000_002]})  # fmt: skip
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    frame.to_csv(tmp_path / "t.csv.gz", index=False)
    frame.to_json(tmp_path / "t.jsonl", orient="records", lines=True)
    for name in ("t.parquet", "t.csv.gz", "t.jsonl"):
        path = tmp_path / name
        assert table_columns(path) == ["x", "device.type", "flag", "login_time"]
        got = read_table(path, ["x", "device.type", "flag", "login_time"])
        assert frame_sample(got["login_time"]).values is not None, name  # a number, not a date
        x, device, flag = (frame_sample(got[c]) for c in ("x", "device.type", "flag"))
        assert x.values is not None and x.values.tolist() == [1.5, 3.0] and x.missing == 1, name
        assert device.counts == {"a": 1, "b": 1} and device.missing == 1, name
        assert flag.counts == {"true": 2, "false": 1}, name


def test_unreadable_references_are_one_line_input_errors(tmp_path: Path) -> None:
    from tracectl.formats.training_data import read_table, table_columns

    with pytest.raises(InputError, match=r"must be a .parquet, .csv, .tsv or .jsonl file"):
        table_columns(tmp_path / "train.xlsx")
    with pytest.raises(InputError, match=r"train.parquet: no such file"):
        table_columns(tmp_path / "train.parquet")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match=r"bad.parquet: not a readable parquet table"):
        table_columns(tmp_path / "bad.parquet")
    pd.DataFrame({"a": [1]}).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(InputError, match=r"t.csv: not a readable csv table"):
        read_table(tmp_path / "t.csv", ["missing"])
