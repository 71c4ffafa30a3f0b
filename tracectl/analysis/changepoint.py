"""When did a series change? One change point per series, found by Pettitt's test, kept only when it matters.

**Method.** Pettitt's test (Pettitt 1979) is the rank-based change-point test: for every split ``t`` of the series
it computes the Mann–Whitney statistic of the first ``t`` points against the rest, ``U_t = 2 Σ_{i≤t} r_i −
t (n + 1)`` with ``r`` the ranks (ties averaged); K = max ``|U_t|`` and its significance is
``p ≈ 2 exp(−6 K² / (n³ + n²))``. Where the change is: the two-level fit with the least total absolute
deviation from each side's median (``locate``), because Pettitt's own split drifts toward the middle for a shift
near either end. Ranks make it indifferent to the scale and to outliers: one
slow minute does not move it, a level shift does.

**What counts as a change.** A split is reported only when all of these hold:

- ``p`` is below ``alpha`` (0.01 by default; callers testing several series divide it among them);
- each side has at least ``MIN_SEGMENT`` points;
- the medians of the two sides differ by a **minimum effect** that depends on what the series is: latency ×1.25
  (and at least 1 ms), an error ratio by 1 percentage point and ×1.5 (or from zero), a request rate ×1.3.

**Power.** Even a perfect shift is significant only with about √n points on its shorter side (K = t (n − t) must
exceed ≈ 0.94 n^1.5 at ``alpha`` = 0.01): at 60 points, 9 — a change in the last minutes of a window shows once a
few more steps have passed.

A flat series (all points equal) never changes; a noisy flat one changes about as often as ``alpha`` says, and the
minimum effect removes most of those (tests/test_changepoint.py measures it). The first point of the new level is
the change; its bucket ``(t − step, t]`` is where it began.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MIN_SEGMENT = 3
ALPHA = 0.01
MIN_LATENCY_RATIO = 1.25
MIN_LATENCY_NS = 1e6
MIN_RATIO_POINTS = 0.01
MIN_RATIO_FACTOR = 1.5
MIN_RATE_RATIO = 1.3
KINDS = ("latency", "ratio", "rate")


@dataclass(frozen=True, slots=True)
class Change:
    """A level shift: the first point of the new level, and the medians on each side."""

    index: int  # into the finite points of the series
    time_ns: int  # the timestamp of that point (the end of its bucket)
    before: float  # median before
    after: float  # median after
    p_value: float
    n_before: int
    n_after: int

    @property
    def factor(self) -> float:
        """after / before (inf when before is 0 and after is not)."""
        if self.before == 0:
            return math.inf if self.after > 0 else 1.0
        return self.after / self.before

    @property
    def rose(self) -> bool:
        return self.after > self.before


def pettitt(values: Sequence[float], min_segment: int = 1) -> tuple[int, float]:
    """(split, p): the first ``split`` points against the rest is the most likely change (each side at least
    ``min_segment`` points), with Pettitt's approximate p-value."""
    import numpy as np
    from scipy.stats import rankdata

    x = np.asarray(values, dtype=float)
    n = len(x)
    if n < 2 * min_segment or n < 2:
        raise ValueError(f"a change point needs at least {max(2, 2 * min_segment)} values")
    ranks = rankdata(x)
    t = np.arange(1, n)
    u = np.abs(2 * np.cumsum(ranks)[:-1] - t * (n + 1))  # u[i]: the first i + 1 points against the rest
    allowed = u[min_segment - 1 : n - min_segment]
    best = int(np.argmax(allowed)) + min_segment - 1
    k = float(u[best])
    p = min(1.0, 2 * math.exp(-6 * k * k / (n**3 + n**2)))
    return best + 1, p


def locate(values: Sequence[float], around: int, min_segment: int = 1, reach: int = 500) -> int:
    """The split (within ``reach`` of ``around``) that best cuts ``values`` into two levels: the least total
    absolute deviation from each side's median. Ranks alone place a shift near an end too close to the middle
    (the new level's low ranks still add to Pettitt's statistic); the values' own distances do not."""
    import numpy as np

    x = np.asarray(values, dtype=float)
    n = len(x)
    lo, hi = max(min_segment, around - reach), min(n - min_segment, around + reach)
    costs = [float(np.abs(x[:t] - np.median(x[:t])).sum() + np.abs(x[t:] - np.median(x[t:])).sum())
             for t in range(lo, hi + 1)]  # fmt: skip
    return lo + int(np.argmin(costs))


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def big_enough(kind: str, before: float, after: float) -> bool:
    """Whether the medians differ by the minimum effect for ``kind`` (latency in ns, ratio 0..1, rate)."""
    lo, hi = sorted((before, after))
    if kind == "latency":
        return hi - lo >= MIN_LATENCY_NS and (lo <= 0 or hi / lo >= MIN_LATENCY_RATIO)
    if kind == "ratio":
        return hi - lo >= MIN_RATIO_POINTS and (lo <= 0 or hi / lo >= MIN_RATIO_FACTOR)
    if kind == "rate":
        return hi > 0 and (lo <= 0 or hi / lo >= MIN_RATE_RATIO)
    raise ValueError(f"unknown series kind {kind!r} (one of {', '.join(KINDS)})")


def detect_change(
    points: Sequence[tuple[int, float]], kind: str, alpha: float = ALPHA, min_segment: int = MIN_SEGMENT
) -> Change | None:
    """The change in ``points`` ((time ns, value), time order; NaN and infinite values are skipped), or None."""
    finite = [(t, v) for t, v in points if math.isfinite(v)]
    if len(finite) < 2 * min_segment:
        return None
    values = [v for _, v in finite]
    if max(values) == min(values):
        return None
    split, p = pettitt(values, min_segment)
    split = locate(values, split, min_segment)
    before, after = median(values[:split]), median(values[split:])
    if p >= alpha or not big_enough(kind, before, after):
        return None
    return Change(split, finite[split][0], before, after, p, split, len(values) - split)


def level(points: Sequence[tuple[int, float]], start_ns: int, end_ns: int) -> float | None:
    """The median of the finite values with ``start_ns <= t < end_ns`` (None when there are none)."""
    kept = [v for t, v in points if start_ns <= t < end_ns and math.isfinite(v)]
    return median(kept) if kept else None
