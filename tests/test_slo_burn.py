"""Burn-rate maths: factors from the period, burn rates, budget, firing and since-when (property tests)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracectl.sandbox.promql import PromQLError, parse
from tracectl.sandbox.promql_ops import binary
from tracectl.slo import burn
from tracectl.slo.spec import Severity

DAY = 86400
periods = st.integers(min_value=7, max_value=400).map(lambda d: d * DAY)
objectives = st.sampled_from([0.9, 0.95, 0.99, 0.995, 0.999, 0.9999])
ratios = st.floats(min_value=0, max_value=1, allow_nan=False)


def test_the_workbook_table() -> None:
    assert [w.factor(30 * DAY) for w in burn.ALERT_WINDOWS] == pytest.approx([14.4, 6, 3, 1])
    assert [w.factor(28 * DAY) for w in burn.ALERT_WINDOWS] == pytest.approx([13.44, 5.6, 2.8, 0.9333333333])
    assert [(w.long, w.short) for w in burn.ALERT_WINDOWS] == [("1h", "5m"), ("6h", "30m"), ("1d", "2h"), ("3d", "6h")]


@given(periods, st.sampled_from(burn.ALERT_WINDOWS))
def test_a_factor_spends_its_share_of_the_budget_in_the_long_window(period: int, window: burn.AlertWindow) -> None:
    # burning at the factor for the long window spends exactly the window's share of the period's budget
    spent = window.factor(period) * burn.WINDOW_SECONDS[window.long] / period
    assert spent == pytest.approx(window.budget_share)


@given(ratios, objectives)
def test_burn_rate_is_errors_over_budget(ratio: float, objective: float) -> None:
    rate = burn.burn_rate(ratio, objective)
    assert rate * (1 - objective) == pytest.approx(ratio, abs=1e-12)
    assert burn.budget_remaining(ratio, objective) == pytest.approx(1 - rate)


def test_budget_at_the_objective_is_spent_exactly() -> None:
    assert burn.budget_remaining(0.001, 0.999) == pytest.approx(0)
    assert math.isnan(burn.burn_rate(math.nan, 0.999))


@given(st.dictionaries(st.sampled_from(burn.WINDOWS), st.floats(0, 100)), periods, st.floats(1, 10))
def test_firing_is_monotone_in_the_burn(rates: dict[str, float], period: int, more: float) -> None:
    before = burn.firing(rates, period)
    after = burn.firing({w: r * more for w, r in rates.items()}, period)
    for severity in Severity:
        assert after[severity] or not before[severity]


@given(st.floats(0, 100), st.floats(0, 100), periods)
def test_both_windows_must_burn(long: float, short: float, period: int) -> None:
    page = burn.ALERT_WINDOWS[0]
    factor = page.factor(period)
    fires = burn.window_fires({"1h": long, "5m": short}, page, period)
    assert fires == (long > factor and short > factor)


def test_no_traffic_never_fires() -> None:
    assert burn.firing(dict.fromkeys(burn.WINDOWS, math.nan), 30 * DAY) == {
        Severity.PAGE: False,
        Severity.TICKET: False,
    }


@given(st.lists(st.booleans(), min_size=1, max_size=40))
def test_since_is_the_start_of_the_last_uninterrupted_run(pattern: list[bool]) -> None:
    times = [i * 300 * 10**9 for i in range(len(pattern))]
    high, low = 20.0, 0.0
    history = {w: [(t, high if on else low) for t, on in zip(times, pattern, strict=True)] for w in ("1h", "5m")}
    since = burn.firing_since(history, Severity.PAGE, 30 * DAY)
    if not pattern[-1]:
        assert since is None
        return
    start = len(pattern) - 1
    while start > 0 and pattern[start - 1]:
        start -= 1
    assert since == times[start]


def test_sparkline_scales_to_the_ceiling() -> None:
    assert burn.sparkline([0, 7.2, 14.4, 100, math.nan], 14.4) == "▁▅██ "


def ev(text: str, **series: float) -> object:
    from tracectl.sandbox.promql import Evaluator
    from tracectl.sandbox.promseries import SeriesDB

    db = SeriesDB()
    for name, value in series.items():
        db.add(name, {}, 0, value)
    return Evaluator(db, parse(text)).at(0)


def test_the_subset_does_arithmetic_as_prometheus() -> None:
    assert ev("(a - b) / c", a=10.0, b=4.0, c=3.0) == {(): 2.0}
    assert ev("a / b * 2 + 1", a=1.0, b=4.0) == {(): 1.5}
    assert ev("a - b - c", a=10.0, b=4.0, c=3.0) == {(): 3.0}  # left-associative
    assert ev("missing or vector(0)", a=1.0) == {(): 0.0}
    assert ev("a or vector(0)", a=5.0) == {(("__name__", "a"),): 5.0}  # matched without the name, kept
    assert ev("2 * 3") == 6.0
    assert binary("/", {(): 0.0}, {(): 0.0}) == {(): pytest.approx(math.nan, nan_ok=True)}
    assert binary("/", 1.0, 0.0) == math.inf
    with pytest.raises(PromQLError):
        parse("a % b")
