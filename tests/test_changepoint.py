"""Pettitt change points: no change in flat series, few false alarms in noisy flat ones, the right split in a shift."""

from __future__ import annotations

import random
from itertools import pairwise

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tracectl.analysis.changepoint import ALPHA, detect_change, pettitt

MS = 1e6
STEP = 60 * 10**9


def points(values: list[float]) -> list[tuple[int, float]]:
    return [(i * STEP, v) for i, v in enumerate(values)]


@given(st.floats(min_value=0, max_value=1e12), st.integers(min_value=0, max_value=200))
def test_a_flat_series_never_changes(value: float, n: int) -> None:
    for kind in ("latency", "ratio", "rate"):
        assert detect_change(points([value] * n), kind) is None


def false_alarms(noise: str, trials: int = 400, n: int = 60) -> int:
    rng = random.Random(7)
    alarms = 0
    for _ in range(trials):
        if noise == "gauss":
            values = [max(0.0, rng.gauss(50 * MS, 10 * MS)) for _ in range(n)]
        else:  # heavy-tailed, as p95 of a few requests per bucket is
            values = [50 * MS * rng.lognormvariate(0, 0.6) for _ in range(n)]
        alarms += detect_change(points(values), "latency") is not None
    return alarms


def test_noisy_flat_series_raise_fewer_false_alarms_than_alpha() -> None:
    # alpha = 1%: at most 4 of 400 by the test alone; the minimum effect (×1.25) removes nearly all of those.
    assert false_alarms("gauss") <= 400 * ALPHA
    assert false_alarms("lognormal") <= 400 * ALPHA


def test_noisy_flat_error_ratios_and_rates_do_not_alarm() -> None:
    rng = random.Random(3)
    alarms = 0
    for _ in range(200):
        ratio = [sum(rng.random() < 0.02 for _ in range(10)) / 10 for _ in range(60)]
        rate = [rng.gauss(5, 0.5) for _ in range(60)]
        alarms += (detect_change(points(ratio), "ratio") is not None) + (
            detect_change(points(rate), "rate") is not None
        )
    assert alarms <= 400 * ALPHA


@settings(max_examples=50)
@given(st.integers(min_value=12, max_value=48), st.integers(min_value=0, max_value=10**6))
def test_a_level_shift_is_found_at_its_first_point(at: int, seed: int) -> None:
    rng = random.Random(seed)
    values = [rng.gauss(50, 5) * MS for _ in range(at)] + [rng.gauss(500, 50) * MS for _ in range(60 - at)]
    change = detect_change(points(values), "latency")
    assert change is not None and change.index == at and change.time_ns == at * STEP
    assert change.rose and change.factor > 5 and change.p_value < ALPHA


def test_a_shift_needs_about_sqrt_n_points_on_its_short_side() -> None:
    # Even a perfect shift is significant at 1% only with about √n points after it (n = 60: 9, not 8).
    assert detect_change(points([50 * MS] * 51 + [500 * MS] * 9), "latency") is not None
    assert detect_change(points([50 * MS] * 52 + [500 * MS] * 8), "latency") is None


def test_a_small_shift_is_significant_but_not_a_change() -> None:
    values = [50 * MS] * 30 + [55 * MS] * 30  # ×1.1: under the ×1.25 minimum effect
    split, p = pettitt(values)
    assert split == 30 and p < 1e-6
    assert detect_change(points(values), "latency") is None


def test_errors_from_zero_count_as_a_change() -> None:
    change = detect_change(points([0.0] * 30 + [0.3, 0.5, 0.4, 0.6] * 5), "ratio")
    assert change is not None and change.index == 30 and change.before == 0


@given(
    st.lists(st.floats(min_value=1, max_value=1e9), min_size=6, max_size=80), st.floats(min_value=0.01, max_value=100)
)
def test_the_split_is_indifferent_to_the_scale(values: list[float], scale: float) -> None:
    scaled = [v * scale for v in values]
    # The split depends on the ranks alone. Exact arithmetic keeps them under any scale; a float product can round
    # two close values onto one (999999999.9999999 and 1e9 times 17.57), which is a different series: left out.
    by_value = sorted(zip(values, scaled, strict=True))
    assume(all((a == b) == (x == y) for (a, x), (b, y) in pairwise(by_value)))
    assert pettitt(values)[0] == pettitt(scaled)[0]
