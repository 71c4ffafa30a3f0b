"""Model quality as an SLI: the predictions recorded in spans joined with a labelled sample, per evaluation window.

Classification (a score against a threshold, or a predicted label against the positive one): precision, recall,
accuracy and F1; regression: MAE and MAPE. Every value carries its sample size and a confidence interval, so a
window of 40 labels is not read as certain: Wilson's score interval for the proportions (precision, recall,
accuracy), a seeded percentile bootstrap for F1, MAE and MAPE. Pure functions, no I/O.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000
SEED = 23  # the bootstrap's: the same sample gives the same interval


class Metric(enum.StrEnum):
    precision = "precision"
    recall = "recall"
    accuracy = "accuracy"
    f1 = "f1"
    mae = "mae"
    mape = "mape"

    @property
    def higher_is_better(self) -> bool:
        return self not in (Metric.mae, Metric.mape)

    @property
    def is_classification(self) -> bool:
        return self.higher_is_better


@dataclass(frozen=True, slots=True)
class Interval:
    low: float
    high: float
    method: str  # wilson | bootstrap | none (no sample)

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass(frozen=True, slots=True)
class Observation:
    """One labelled prediction: when it was made, what the model said, and the truth."""

    time_ns: int
    predicted: float | str | bool
    label: float | str | bool


@dataclass(frozen=True, slots=True)
class QualityValue:
    """A metric over a sample: None when the sample defines none (no predicted positives for precision)."""

    metric: Metric
    value: float | None
    n: int  # the sample size the value rests on (precision: predicted positives; recall: actual positives)
    interval: Interval


@dataclass(frozen=True, slots=True)
class WindowQuality:
    start_ns: int
    end_ns: int
    quality: QualityValue
    labelled: int  # labelled predictions in the window (≥ quality.n)


# --------------------------------------------------------------------------------------------- intervals


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(successes: int, n: int, confidence: float = CONFIDENCE) -> Interval:
    """Wilson's score interval for a proportion: sensible at 0 and n successes and for small n, unlike p ± z·se."""
    if n <= 0:
        return Interval(0.0, 1.0, "none")
    if not 0 <= successes <= n:
        raise ValueError(f"{successes} successes out of {n}")
    z = _z(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exactly 0 (and 1): not a rounding error away
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(low, high, "wilson")


Statistic = Callable[["np.ndarray", "np.ndarray"], "np.ndarray"]  # (predicted, label) rows → one value per row
CHUNK = 250  # resamples drawn at once: memory stays at CHUNK × n


def bootstrap(
    rows: Sequence[tuple[float, float]], statistic: Statistic, confidence: float = CONFIDENCE,
    resamples: int = BOOTSTRAP_RESAMPLES, seed: int = SEED,
) -> Interval:  # fmt: skip
    """Percentile bootstrap of ``statistic`` (vectorised: each row of the two matrices is one resample; NaN where
    it is undefined) over (predicted, label) rows, seeded: the same rows, the same interval."""
    import numpy as np

    if not rows:
        return Interval(0.0, math.inf, "none")
    predicted, label = (np.asarray(c, dtype=float) for c in zip(*rows, strict=True))
    rng = np.random.default_rng(seed)
    values = []
    for done in range(0, resamples, CHUNK):
        picks = rng.integers(0, len(rows), size=(min(CHUNK, resamples - done), len(rows)))
        values.append(statistic(predicted[picks], label[picks]))
    found = np.concatenate(values)
    found = found[np.isfinite(found)]
    if not found.size:
        return Interval(0.0, math.inf, "none")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(found, [tail, 100 - tail])
    return Interval(float(low), float(high), "bootstrap")


def _f1(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    import numpy as np

    tp = ((p > 0) & (y > 0)).sum(axis=1)
    wrong = (p != y).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tp + wrong > 0, 2 * tp / (2 * tp + wrong), np.nan)


def _mae(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    return abs(p - y).mean(axis=1)  # type: ignore[no-any-return]


def _mape(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    import numpy as np

    kept = y != 0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(kept, abs(p - y) / np.where(kept, abs(y), 1.0), 0.0).sum(axis=1) / kept.sum(axis=1)  # type: ignore[no-any-return]


def _point(rows: Sequence[tuple[float, float]], statistic: Statistic) -> float | None:
    """``statistic`` of the sample itself (None when it is undefined)."""
    import numpy as np

    if not rows:
        return None
    predicted, label = (np.asarray([c], dtype=float) for c in zip(*rows, strict=True))
    value = float(statistic(predicted, label)[0])
    return value if math.isfinite(value) else None


# ------------------------------------------------------------------------------------------------ metrics


def is_positive(value: float | str | bool, positive: str | None = None, threshold: float = 0.5) -> bool:
    """A label or prediction read as the positive class: ``positive`` when named, else a score ≥ ``threshold``,
    ``true``/``yes``/``1``."""
    if positive is not None:
        return str(value).strip().lower() == positive.strip().lower()
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value) >= threshold
    text = value.strip().lower()
    if text in ("true", "yes", "positive"):
        return True
    try:
        return float(text) >= threshold
    except ValueError:
        return False


def classify(
    observations: Iterable[Observation], threshold: float = 0.5, positive: str | None = None
) -> list[tuple[float, float]]:
    """(predicted positive, actually positive) as 1.0/0.0 pairs: a score against ``threshold``, a label against
    ``positive``."""
    return [
        (float(is_positive(o.predicted, positive, threshold)), float(is_positive(o.label, positive, 0.5)))
        for o in observations
    ]


def numbers(observations: Iterable[Observation]) -> list[tuple[float, float]]:
    """(predicted, label) as numbers; rows where either is not a number are left out."""
    out = []
    for o in observations:
        try:
            out.append((float(o.predicted), float(o.label)))
        except (TypeError, ValueError):
            continue
    return [(p, y) for p, y in out if math.isfinite(p) and math.isfinite(y)]


def quality(
    metric: Metric, observations: Sequence[Observation], threshold: float = 0.5, positive: str | None = None,
    confidence: float = CONFIDENCE, seed: int = SEED,
) -> QualityValue:  # fmt: skip
    """``metric`` over the observations, with its sample size and confidence interval."""
    if not metric.is_classification:
        rows = numbers(observations)
        stat = _mae if metric is Metric.mae else _mape
        n = len(rows) if metric is Metric.mae else sum(1 for _, y in rows if y != 0)
        return QualityValue(metric, _point(rows, stat), n, bootstrap(rows, stat, confidence, seed=seed))
    pairs = classify(observations, threshold, positive)
    if metric is Metric.f1:
        return QualityValue(metric, _point(pairs, _f1), len(pairs), bootstrap(pairs, _f1, confidence, seed=seed))
    if metric is Metric.precision:
        pool = [y for p, y in pairs if p]  # among predicted positives: how many were
    elif metric is Metric.recall:
        pool = [p for p, y in pairs if y]  # among actual positives: how many were found
    else:
        pool = [float(p == y) for p, y in pairs]
    hits = round(sum(pool))
    value = hits / len(pool) if pool else None
    return QualityValue(metric, value, len(pool), wilson(hits, len(pool), confidence))


def windows(
    metric: Metric, observations: Sequence[Observation], end_ns: int, window_ns: int, step_ns: int | None = None,
    count: int = 1, threshold: float = 0.5, positive: str | None = None, confidence: float = CONFIDENCE,
    seed: int = SEED,
) -> list[WindowQuality]:  # fmt: skip
    """``count`` evaluation windows of ``window_ns`` ending every ``step_ns`` (default: one window length) up
    to ``end_ns``, oldest first: daily windows over a week, or a 7-day rolling window evaluated daily."""
    if window_ns <= 0 or count < 1:
        raise ValueError("an evaluation window must be positive and there must be at least one")
    step = step_ns or window_ns
    out = []
    for k in range(count - 1, -1, -1):
        end = end_ns - k * step
        start = end - window_ns
        inside = [o for o in observations if start <= o.time_ns < end]
        value = quality(metric, inside, threshold, positive, confidence, seed)
        out.append(WindowQuality(start, end, value, len(inside)))
    return out


# ------------------------------------------------------------------------------------------------ the SLO


@dataclass(frozen=True, slots=True)
class Breach:
    """How the latest windows stand against the objective (or the error bound)."""

    breached: bool  # the latest window's value is on the bad side
    certain: bool  # … and so is its whole interval
    consecutive: int  # latest windows in a row on the bad side
    pages: bool  # at or past ``page_below`` for ``page_windows`` windows in a row


def bad_side(metric: Metric, value: float | None, bound: float) -> bool:
    if value is None:
        return False
    return value < bound if metric.higher_is_better else value > bound


def breach(
    results: Sequence[WindowQuality], bound: float, page_bound: float | None = None, page_windows: int = 2
) -> Breach:
    """``bound`` is the objective (proportions: at least) or the error allowed (MAE/MAPE: at most)."""
    if not results:
        return Breach(False, False, 0, False)
    metric = results[-1].quality.metric
    latest = results[-1].quality
    run = 0
    for w in reversed(results):
        if not bad_side(metric, w.quality.value, bound):
            break
        run += 1
    worst_of_interval = latest.interval.high if metric.higher_is_better else latest.interval.low
    certain = (
        latest.value is not None and latest.interval.method != "none" and bad_side(metric, worst_of_interval, bound)
    )
    page_at = bound if page_bound is None else page_bound
    paging = 0
    for w in reversed(results):
        if not bad_side(metric, w.quality.value, page_at):
            break
        paging += 1
    return Breach(run > 0, certain, run, paging >= page_windows)


def drift_sli(drifted: int, compared: int) -> QualityValue:
    """``tracectl drift``'s drift share as an SLI: the share of compared features that did not drift (the good
    ratio an SLO objective is written against), with its Wilson interval. Use ``len(report.drifted)`` and
    ``len(report.features)`` of a ``DriftReport``."""
    good = compared - drifted
    return QualityValue(Metric.accuracy, good / compared if compared else None, compared, wilson(good, compared))


def join(
    predictions: Mapping[str, tuple[int, float | str | bool]],
    labels: Iterable[tuple[str, float | str | bool, int | None]],
) -> tuple[list[Observation], int]:
    """Predictions (id → (time, predicted)) joined with labels ((id, label, time or None)): the observations (at
    the label's time when it has one, else the prediction's) and how many labels found no prediction."""
    joined, unmatched = [], 0
    for key, label, when in labels:
        found = predictions.get(key)
        if found is None:
            unmatched += 1
            continue
        joined.append(Observation(when if when is not None else found[0], found[1], label))
    return joined, unmatched
