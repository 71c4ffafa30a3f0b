"""Drift of a model's inputs and outputs: each feature's current values against its reference (ANALYSIS.md
section 7). Pure and vectorised: numpy for the bookkeeping, scipy for the statistics.

The test suits the feature's type and sample size, as Evidently chooses by default (docs/drift.md):

- numeric (more than 5 distinct values): the two-sample Kolmogorov–Smirnov test while the smaller sample has at
  most 1,000 values (drift when p < alpha), beyond that the Wasserstein distance divided by the reference's
  standard deviation (drift when ≥ 0.1: a p-value on 100,000 values flags differences nobody cares about);
- categorical (strings, booleans, numbers with at most 5 distinct values): the chi-square test of homogeneity of
  the reference and current counts while the smaller sample is small (p < alpha), beyond that the Jensen–Shannon
  distance of the category shares, base 2 (drift when ≥ 0.1).

Three deliberate differences from Evidently: the sample size that picks the test is the smaller sample's (a
training file of a million rows against 300 spans is a small-sample question); the chi-square test compares the
two samples' counts rather than fitting the current counts to the reference's shares (so a category the
reference never had is evidence, not a division by zero); and ``alpha`` is shared out over the p-value tests of
one comparison (Bonferroni), so a healthy service with 20 features is flagged by chance at most ``alpha`` of the
time, not for one feature in every run.

PSI (population stability index) is reported for every feature: reference deciles as bins for numbers,
categories for the rest, shares floored at 1e-4. It is not the decision: on small samples it is large by chance
alone, about (bins - 1) x (1/n + 1/m), reported as ``psi_noise``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import numpy.typing as npt

NUMERIC, CATEGORICAL = "numeric", "categorical"
KS, WASSERSTEIN, CHISQUARE, JENSEN_SHANNON, UNTESTED = "ks", "wasserstein", "chisquare", "jensenshannon", "none"
P_VALUE_TESTS = frozenset({KS, CHISQUARE})
TEST_NAMES = {
    KS: "Kolmogorov–Smirnov p-value", WASSERSTEIN: "Wasserstein distance / reference std",
    CHISQUARE: "chi-square p-value", JENSEN_SHANNON: "Jensen–Shannon distance", UNTESTED: "not tested",
}  # fmt: skip
ALPHA = 0.05  # false-alarm rate of one comparison, shared over its p-value tests
SMALL_SAMPLE = 1000  # up to this many values (in the smaller sample): a statistical test; beyond: a distance
FEW_VALUES = 5  # a number with at most this many distinct values is a category
DISTANCE_THRESHOLD = 0.1  # Wasserstein (in reference standard deviations) and Jensen–Shannon
PSI_BINS = 10
PSI_FLOOR = 1e-4
HISTOGRAM_BINS = 20
STD_FLOOR = 1e-3  # a constant reference: the Wasserstein distance is divided by this instead

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Sample:
    """One side of a comparison: numeric values (NaN-free) or category counts, and how many were missing."""

    values: FloatArray | None = None
    counts: Mapping[str, int] | None = None
    missing: int = 0

    @property
    def present(self) -> int:
        if self.values is not None:
            return int(self.values.size)
        return sum(self.counts.values()) if self.counts else 0


@dataclass(frozen=True, slots=True)
class Histogram:
    """Shares of each sample per bin: numeric bins (``edges``, log-spaced when ``log``) or categories."""

    labels: tuple[str, ...]
    reference: tuple[float, ...]
    current: tuple[float, ...]
    edges: tuple[float, ...] = ()
    log: bool = False


@dataclass(frozen=True, slots=True)
class Summary:
    """What a sample looks like, for sentences: quantiles of numbers, or the largest categories' shares."""

    p05: float | None = None
    median: float | None = None
    p95: float | None = None
    mean: float | None = None
    low: float | None = None  # the smallest and largest values
    high: float | None = None
    top: tuple[tuple[str, float], ...] = ()


@dataclass(slots=True)
class FeatureDrift:
    """One feature's verdict: the test, its statistic and threshold, PSI, data quality and the histograms."""

    name: str
    kind: str
    test: str
    statistic: float | None  # a p-value (ks, chisquare) or a distance (wasserstein, jensenshannon)
    threshold: float
    drifted: bool
    psi: float | None
    psi_noise: float | None
    n_reference: int
    n_current: int
    missing_reference: float  # shares of all values (present or missing)
    missing_current: float
    out_of_range: float  # share of current values outside the reference's range, or in categories it never had
    new_categories: tuple[str, ...] = ()
    reference: Summary = field(default_factory=Summary)
    current: Summary = field(default_factory=Summary)
    histogram: Histogram = field(default_factory=lambda: Histogram((), (), ()))
    key: str = ""  # where the values came from (a span attribute)
    role: str = "input"  # input | output
    note: str = ""

    @property
    def p_value_test(self) -> bool:
        return self.test in P_VALUE_TESTS


@dataclass(slots=True)
class DriftReport:
    """Every feature compared, drifted first (then by PSI), with the shared false-alarm budget."""

    features: list[FeatureDrift]
    alpha: float = ALPHA
    p_value_tests: int = 0

    @property
    def drifted(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.drifted]

    @property
    def tested(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.test != UNTESTED]

    @property
    def drift_share(self) -> float:
        tested = self.tested
        return len(self.drifted) / len(tested) if tested else 0.0


# ---------------------------------------------------------------------------------------------- the tests


def compare_features(
    samples: Mapping[str, tuple[Sample, Sample]],
    alpha: float = ALPHA,
    keys: Mapping[str, tuple[str, str]] | None = None,
) -> DriftReport:
    """Compare each feature's (reference, current) samples; ``keys`` maps a name to its (attribute, role)."""
    measured = [measure(name, ref, cur) for name, (ref, cur) in samples.items()]
    family = sum(1 for f in measured if f.p_value_test)
    per_test = alpha / max(family, 1)
    for f in measured:
        key, role = (keys or {}).get(f.name, (f.name, "input"))
        f.key, f.role = key, role
        decide(f, per_test)
    measured.sort(key=lambda f: (not f.drifted, -(f.psi or 0.0), f.name))
    return DriftReport(measured, alpha, family)


def decide(feature: FeatureDrift, alpha: float) -> None:
    """Set the threshold and the verdict: p < ``alpha`` for a test, distance ≥ 0.1 for a distance."""
    if feature.test == UNTESTED or feature.statistic is None:
        feature.threshold, feature.drifted = 0.0, False
    elif feature.p_value_test:
        feature.threshold, feature.drifted = alpha, feature.statistic < alpha
    else:
        feature.threshold, feature.drifted = DISTANCE_THRESHOLD, feature.statistic >= DISTANCE_THRESHOLD


def measure(name: str, reference: Sample, current: Sample) -> FeatureDrift:
    """The statistic of the test that suits the samples (the threshold is set by ``decide``)."""
    if reference.values is not None and current.values is not None:
        ref, cur = np.sort(reference.values), np.sort(current.values)
        if _distinct(ref) > FEW_VALUES or _distinct(cur) > FEW_VALUES or _union_size(ref, cur) > FEW_VALUES:
            return _numeric(name, ref, cur, reference.missing, current.missing)
        reference, current = _as_counts(reference), _as_counts(current)
    elif reference.values is not None or current.values is not None:
        reference, current = _as_counts(reference), _as_counts(current)
    return _categorical(name, reference, current)


def _distinct(ordered: FloatArray) -> int:
    """Distinct values of a sorted array."""
    return 1 + int(np.count_nonzero(np.diff(ordered))) if ordered.size else 0


def _union_size(a: FloatArray, b: FloatArray) -> int:
    return int(np.union1d(np.unique(a), np.unique(b)).size)


def _as_counts(sample: Sample) -> Sample:
    if sample.counts is not None or sample.values is None:
        return sample
    values, counts = np.unique(sample.values, return_counts=True)
    return Sample(counts={label(float(v)): int(c) for v, c in zip(values, counts, strict=True)}, missing=sample.missing)


def label(value: object) -> str:
    """How a value is named as a category: booleans as JSON spells them, whole numbers without a fraction."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _missing_share(missing: int, present: int) -> float:
    return missing / (missing + present) if missing + present else 0.0


def _numeric(name: str, ref: FloatArray, cur: FloatArray, ref_missing: int, cur_missing: int) -> FeatureDrift:
    from scipy import stats

    n, m = int(ref.size), int(cur.size)
    base = FeatureDrift(name, NUMERIC, UNTESTED, None, 0.0, False, None, None, n, m,
                        _missing_share(ref_missing, n), _missing_share(cur_missing, m), 0.0)  # fmt: skip
    if n == 0 or m == 0:
        base.note = "no reference values" if n == 0 else "no current values"
        return base
    if min(n, m) <= SMALL_SAMPLE:
        with warnings.catch_warnings():  # scipy says when the exact p-value gives way to the asymptotic one
            warnings.simplefilter("ignore", RuntimeWarning)
            base.test, base.statistic = KS, float(stats.ks_2samp(ref, cur).pvalue)
    else:
        scale = max(float(np.std(ref)), STD_FLOOR)
        base.test, base.statistic = WASSERSTEIN, float(stats.wasserstein_distance(ref, cur)) / scale
    base.psi, base.psi_noise = _numeric_psi(ref, cur)
    base.out_of_range = float(np.searchsorted(cur, ref[0], "left") + m - np.searchsorted(cur, ref[-1], "right")) / m
    base.reference, base.current = _numeric_summary(ref), _numeric_summary(cur)
    base.histogram = numeric_histogram(ref, cur)
    return base


def quantiles(ordered: FloatArray, qs: Sequence[float] | FloatArray) -> FloatArray:
    """Linear-interpolated quantiles of a sorted array (numpy's default method, without re-partitioning)."""
    pos = np.asarray(qs, dtype=np.float64) * (ordered.size - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, ordered.size - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _bin_counts(ordered: FloatArray, inner_edges: FloatArray) -> npt.NDArray[np.int64]:
    """Counts per bin (-inf, e1), [e1, e2) … [ek, inf) of a sorted array."""
    cuts = np.searchsorted(ordered, inner_edges, "left")
    return np.diff(np.concatenate(([0], cuts, [ordered.size]))).astype(np.int64)


def psi(ref_shares: FloatArray, cur_shares: FloatArray) -> float:
    """Population stability index of two share vectors, each floored at 1e-4 so that empty bins stay finite."""
    r, c = np.maximum(ref_shares, PSI_FLOOR), np.maximum(cur_shares, PSI_FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))


def _psi_noise(bins: int, n: int, m: int) -> float:
    return (bins - 1) * (1 / n + 1 / m)


def _numeric_psi(ref: FloatArray, cur: FloatArray) -> tuple[float, float]:
    inner = np.unique(quantiles(ref, np.linspace(0, 1, PSI_BINS + 1)[1:-1]))
    r, c = _bin_counts(ref, inner), _bin_counts(cur, inner)
    return psi(r / ref.size, c / cur.size), _psi_noise(len(r), ref.size, cur.size)


def _numeric_summary(ordered: FloatArray) -> Summary:
    p05, p50, p95 = (float(x) for x in quantiles(ordered, (0.05, 0.5, 0.95)))
    return Summary(p05, p50, p95, float(np.mean(ordered)), float(ordered[0]), float(ordered[-1]))


def numeric_histogram(ref: FloatArray, cur: FloatArray, bins: int = HISTOGRAM_BINS) -> Histogram:
    """Both samples over common bins spanning their 0.5th to 99.5th percentiles (the tails fall in the end bins);
    log-spaced when every value is positive and the span covers two orders of magnitude or more."""
    ends = np.concatenate((quantiles(ref, (0.005, 0.995)), quantiles(cur, (0.005, 0.995))))
    lo, hi = float(ends.min()), float(ends.max())
    if hi <= lo:
        hi = lo + max(abs(lo), 1.0) * 1e-6
    log = lo > 0 and hi / lo >= 100
    if not log and _whole(ref) and _whole(cur):  # counts: bins on whole numbers, or the bars alternate
        width = max(1, math.ceil((math.floor(hi) - math.ceil(lo) + 1) / bins))
        edges = np.arange(math.ceil(lo) - 0.5, math.floor(hi) + 0.5 + width, width, dtype=np.float64)
    else:
        edges = np.geomspace(lo, hi, bins + 1) if log else np.linspace(lo, hi, bins + 1)
    r, c = _bin_counts(ref, edges[1:-1]), _bin_counts(cur, edges[1:-1])
    labels = tuple(f"{short_number(a)}–{short_number(b)}" for a, b in pairwise(edges))
    if _whole(edges + 0.5):  # bins of whole numbers: named by the numbers they hold
        labels = tuple(short_number(a + 0.5) if b - a == 1 else f"{short_number(a + 0.5)}–{short_number(b - 0.5)}"
                       for a, b in pairwise(edges))  # fmt: skip
    return Histogram(labels, tuple((r / ref.size).tolist()), tuple((c / cur.size).tolist()),
                     tuple(edges.tolist()), log)  # fmt: skip


def _whole(values: FloatArray) -> bool:
    return bool(np.array_equal(values, np.floor(values)))


def _categorical(name: str, reference: Sample, current: Sample) -> FeatureDrift:
    from scipy import stats
    from scipy.spatial import distance

    ref_counts, cur_counts = dict(reference.counts or {}), dict(current.counts or {})
    n, m = sum(ref_counts.values()), sum(cur_counts.values())
    base = FeatureDrift(name, CATEGORICAL, UNTESTED, None, 0.0, False, None, None, n, m,
                        _missing_share(reference.missing, n), _missing_share(current.missing, m), 0.0)  # fmt: skip
    if n == 0 or m == 0:
        base.note = "no reference values" if n == 0 else "no current values"
        return base
    order = sorted(set(ref_counts) | set(cur_counts), key=lambda k: (-ref_counts.get(k, 0), -cur_counts.get(k, 0), k))
    r = np.array([ref_counts.get(k, 0) for k in order], dtype=np.float64)
    c = np.array([cur_counts.get(k, 0) for k in order], dtype=np.float64)
    if min(n, m) <= SMALL_SAMPLE:
        base.test = CHISQUARE
        base.statistic = 1.0 if len(order) < 2 else float(stats.chi2_contingency(np.vstack((r, c)), False).pvalue)
    else:
        base.test = JENSEN_SHANNON
        base.statistic = float(distance.jensenshannon(r / n, c / m, base=2))
    base.psi, base.psi_noise = psi(r / n, c / m), _psi_noise(len(order), n, m)
    new = [k for k in order if k not in ref_counts]
    new.sort(key=lambda k: (-cur_counts[k], k))
    base.new_categories = tuple(new)
    base.out_of_range = sum(cur_counts[k] for k in new) / m
    base.reference = Summary(top=tuple((k, ref_counts.get(k, 0) / n) for k in order[:5] if k in ref_counts))
    base.current = Summary(top=tuple(sorted(((k, v / m) for k, v in cur_counts.items()), key=lambda kv: -kv[1])[:5]))
    base.histogram = Histogram(tuple(order), tuple((r / n).tolist()), tuple((c / m).tolist()))
    return base


def short_number(x: float) -> str:
    """Three significant digits, thousands grouped: ``0.0123``, ``4.56``, ``182``, ``97,300``, ``1.2e+09``."""
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    size = abs(x)
    if size >= 1e9 or size < 1e-3:
        return f"{x:.2g}"
    if size >= 1000:
        return f"{round(x, 2 - math.floor(math.log10(size))):,.0f}"
    return f"{x:.3g}"
