"""Burn-rate maths (pure): burn rates, error budget, and the multiwindow multi-burn-rate alerts.

Google's SRE workbook ("Alerting on SLOs"): an alert fires when the error budget burns faster than a factor over
both a long and a short window. The factor is the share of the whole period's budget the long window may consume:
``factor = budget_share × period / long_window``; for a 30-day period the page pair 1h/5m at 2 % gives 14.4, for
28 days 13.44. Nothing here is hard-coded for 30 days.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tracectl.slo.spec import Severity

# The windows `slo status` reports and `slo rules` records, shortest first.
WINDOWS: tuple[str, ...] = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
WINDOW_SECONDS: Mapping[str, int] = {
    "5m": 300,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "6h": 21600,
    "1d": 86400,
    "3d": 259200,
}


@dataclass(frozen=True, slots=True)
class AlertWindow:
    """One multiwindow condition: burn above ``factor`` over both ``long`` and ``short``."""

    severity: Severity
    budget_share: float  # share of the period's error budget the long window may consume
    long: str
    short: str

    def factor(self, period_seconds: int) -> float:
        return burn_factor(self.budget_share, period_seconds, WINDOW_SECONDS[self.long])


ALERT_WINDOWS: tuple[AlertWindow, ...] = (
    AlertWindow(Severity.PAGE, 0.02, "1h", "5m"),
    AlertWindow(Severity.PAGE, 0.05, "6h", "30m"),
    AlertWindow(Severity.TICKET, 0.10, "1d", "2h"),
    AlertWindow(Severity.TICKET, 0.10, "3d", "6h"),
)


def burn_factor(budget_share: float, period_seconds: int, long_seconds: int) -> float:
    """The burn rate at which ``budget_share`` of a ``period_seconds`` budget is gone in ``long_seconds``."""
    if period_seconds <= 0 or long_seconds <= 0 or not 0 < budget_share <= 1:
        raise ValueError("period, window and share must be positive (share at most 1)")
    return budget_share * period_seconds / long_seconds


def burn_rate(error_ratio: float, objective: float) -> float:
    """How fast the budget burns: 1 spends exactly the budget over the period. NaN when nothing was measured."""
    budget = 1.0 - objective
    if budget <= 0:
        raise ValueError("objective must be below 1")
    return error_ratio / budget


def budget_remaining(period_error_ratio: float, objective: float) -> float:
    """The share of the period's error budget left (negative once overspent): ``1 − burn rate over the period``."""
    return 1.0 - burn_rate(period_error_ratio, objective)


def window_fires(burn_rates: Mapping[str, float], window: AlertWindow, period_seconds: int) -> bool:
    """Both windows above the factor (a NaN — no traffic — never fires)."""
    factor = window.factor(period_seconds)
    long, short = burn_rates.get(window.long, math.nan), burn_rates.get(window.short, math.nan)
    return long > factor and short > factor


def firing(burn_rates: Mapping[str, float], period_seconds: int) -> dict[Severity, bool]:
    """Each severity fires when any of its window pairs does."""
    out = {Severity.PAGE: False, Severity.TICKET: False}
    for window in ALERT_WINDOWS:
        out[window.severity] = out[window.severity] or window_fires(burn_rates, window, period_seconds)
    return out


def firing_since(
    history: Mapping[str, Sequence[tuple[int, float]]], severity: Severity, period_seconds: int
) -> int | None:
    """When the current uninterrupted firing of ``severity`` began (ns), from burn-rate histories per window
    sampled at the same instants; ``None`` when it does not fire at the last instant.

    ``history[window]`` is ``[(time_ns, burn_rate), …]``; an instant missing from a window counts as not firing.
    When it fires at every instant the first one is returned (it began no later than that).
    """
    pairs = [w for w in ALERT_WINDOWS if w.severity is severity]
    by_window = {name: dict(points) for name, points in history.items()}
    instants = sorted({t for points in history.values() for t, _ in points})
    since: int | None = None
    for t in instants:
        rates = {name: values.get(t, math.nan) for name, values in by_window.items()}
        fires = any(window_fires(rates, w, period_seconds) for w in pairs)
        since = (t if since is None else since) if fires else None
    return since


def sparkline(values: Sequence[float], ceiling: float) -> str:
    """Burn rates as block characters scaled to ``ceiling`` (NaN as a space)."""
    blocks = "▁▂▃▄▅▆▇█"
    out = []
    for value in values:
        if math.isnan(value):
            out.append(" ")
            continue
        share = 0.0 if ceiling <= 0 else min(1.0, max(0.0, value / ceiling))
        out.append(blocks[min(len(blocks) - 1, int(share * (len(blocks) - 1) + 0.5))])
    return "".join(out)
