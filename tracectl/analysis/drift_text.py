"""Drift in words: one sentence per feature with its numbers, and the few words a verdict quotes. Pure."""

from __future__ import annotations

import numpy as np

from tracectl.analysis.drift import CATEGORICAL, KS, NUMERIC, UNTESTED, WASSERSTEIN, FeatureDrift, short_number


def test_phrase(f: FeatureDrift) -> str:
    """``KS p = 3.1e-12 < 0.0125`` or ``Wasserstein/σ 4.2 ≥ 0.1``."""
    if f.test == UNTESTED or f.statistic is None:
        return f"not tested: {f.note}" if f.note else "not tested"
    if f.p_value_test:
        sign = "<" if f.drifted else "≥"
        what = "KS" if f.test == KS else "chi-square"
        return f"{what} p = {f.statistic:.2g} {sign} {f.threshold:.3g}"
    sign = "≥" if f.drifted else "<"
    what = "Wasserstein/σ" if f.test == WASSERSTEIN else "Jensen–Shannon"
    return f"{what} {f.statistic:.3g} {sign} {f.threshold:.3g}"


def _times(before: float, after: float) -> str:
    """`` (12x)`` when ``after`` is at least 3 times ``before`` or at most a third of it, else nothing."""
    ratio = after / before if before else 0.0
    return f" ({short_number(ratio)}x)" if ratio >= 3 or 0 < ratio <= 1 / 3 else ""


def headline(f: FeatureDrift) -> str:
    """The few words that say how a feature moved: ``36% outside the reference's range``, ``11% 'smart-tv' (new)``."""
    if f.kind == CATEGORICAL and f.new_categories:
        return f"{f.name} {f.out_of_range:.0%} {f.new_categories[0]!r}" + (" (new)" if len(f.new_categories) == 1 else
                                                                         " and other new values")  # fmt: skip
    ref, cur = f.reference, f.current
    if f.kind == NUMERIC and ref.median is not None and cur.median is not None and _times(ref.median, cur.median):
        return f"{f.name} median {short_number(ref.median)} → {short_number(cur.median)}"
    if f.out_of_range >= 0.01:
        return f"{f.name} {f.out_of_range:.0%} outside the reference's range"
    if f.kind == NUMERIC and ref.median is not None and cur.median is not None:
        return f"{f.name} median {short_number(ref.median)} → {short_number(cur.median)}"
    if f.missing_current - f.missing_reference >= 0.05:
        return f"{f.name} missing in {f.missing_current:.0%}"
    return describe(f)


def describe(f: FeatureDrift) -> str:
    """One sentence with the numbers: what moved, how much, and the test that says so."""
    parts: list[str] = []
    if f.kind == NUMERIC and f.reference.median is not None and f.current.median is not None:
        ref_m, cur_m = f.reference.median, f.current.median
        parts.append(f"median {short_number(ref_m)} → {short_number(cur_m)}{_times(ref_m, cur_m)}")
        ref_p, cur_p = f.reference.p95, f.current.p95
        if ref_p is not None and cur_p is not None and _times(ref_p, cur_p) and not _times(ref_m, cur_m):
            parts.append(f"p95 {short_number(ref_p)} → {short_number(cur_p)}{_times(ref_p, cur_p)}")
        if f.out_of_range >= 0.01 and f.reference.low is not None and f.reference.high is not None:
            parts.append(f"{f.out_of_range:.0%} of current values outside the reference's range "
                         f"{short_number(f.reference.low)}–{short_number(f.reference.high)}")  # fmt: skip
    elif f.kind == CATEGORICAL:
        if f.new_categories:
            shown = ", ".join(repr(k) for k in f.new_categories[:3])
            parts.append(f"{f.out_of_range:.0%} of current values are {shown}, never seen in the reference")
        elif f.drifted and f.histogram.labels:
            k = int(np.argmax(np.abs(np.subtract(f.histogram.current, f.histogram.reference))))
            parts.append(f"{f.histogram.labels[k]!r} {f.histogram.reference[k]:.0%} → {f.histogram.current[k]:.0%}")
    if f.missing_current - f.missing_reference >= 0.05:
        parts.append(f"missing in {f.missing_current:.0%} of spans (reference {f.missing_reference:.0%})")
    parts.append(test_phrase(f))
    return f"{f.name}: " + "; ".join(parts)
