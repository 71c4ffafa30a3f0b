"""Attribution over many traces (ANALYSIS.md section 4), in plain Python (pandas only for ``frame``).

Per component (and edge): traces seen, spans, error rate, mean / p50 / p95 / p99 of per-trace critical-path
time and of per-trace self time (over the traces where the component appears), and its share of the total
critical-path time of all traces. ``compare_buckets`` contrasts the typical traces (around the median
duration) with the tail (at or above the 99th percentile), as CRISP does: what dominates slow requests
that does not dominate normal ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracectl.analysis.attribution import Attribution

if TYPE_CHECKING:
    import pandas as pd

QUANTILES = (0.5, 0.95, 0.99)


@dataclass(frozen=True, slots=True)
class ComponentStats:
    key: str
    edge: bool
    traces: int
    spans: int
    errors: int
    error_rate: float
    share: float
    cp_mean: float
    cp_p50: float
    cp_p95: float
    cp_p99: float
    self_mean: float
    self_p50: float
    self_p95: float
    self_p99: float


@dataclass(frozen=True, slots=True)
class Aggregate:
    by: str
    traces: int
    total_cp_ns: int
    duration_p50: float
    duration_p95: float
    duration_p99: float
    components: tuple[ComponentStats, ...]  # largest share first


@dataclass(frozen=True, slots=True)
class BucketRow:
    key: str
    edge: bool
    typical_cp_mean: float  # mean per-trace critical-path time in the typical bucket (0 where absent)
    tail_cp_mean: float
    delta: float  # tail − typical
    typical_share: float
    tail_share: float


@dataclass(frozen=True, slots=True)
class BucketComparison:
    by: str
    typical_traces: int  # traces whose duration is between the 45th and 55th percentile
    tail_traces: int  # traces at or above the 99th percentile
    typical_duration_mean: float
    tail_duration_mean: float
    rows: tuple[BucketRow, ...]  # largest delta first


def frame(attributions: Sequence[Attribution]) -> pd.DataFrame:
    """One row per (trace, component): the tidy table every aggregate is computed from."""
    import pandas as pd

    records = [
        (a.trace_id, a.duration_ns, a.cp_length_ns, r.key, r.edge, r.spans, r.errors, r.self_ns, r.cp_ns)
        for a in attributions
        for r in a.rows
    ]
    columns = ["trace_id", "duration_ns", "cp_length_ns", "key", "edge", "spans", "errors", "self_ns", "cp_ns"]
    return pd.DataFrame.from_records(records, columns=columns)


def group_quantile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile of sorted values, linearly interpolated, to the bit as pandas' ``groupby().quantile``."""
    idx = q * (len(ordered) - 1)
    below = int(idx)
    frac = idx % 1
    if frac == 0.0:
        return float(ordered[below])
    lo, hi = float(ordered[below]), float(ordered[below + 1])
    return lo + (hi - lo) * frac


def series_quantile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile of sorted values, linearly interpolated, to the bit as pandas' ``Series.quantile`` (which is
    ``numpy.quantile``: its interpolation leans on the nearer neighbour)."""
    n = len(ordered)
    virtual = (n - 1) * q
    if virtual >= n - 1:
        return float(ordered[-1])
    if virtual < 0:
        return float(ordered[0])
    below = math.floor(virtual)
    gamma = virtual - below
    a, b = float(ordered[below]), float(ordered[below + 1])
    diff = b - a
    return b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma


def _median(ordered: Sequence[float]) -> float:
    """numpy's median: the middle value, or the mean of the two middle ones."""
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


class _Group:
    """One (component label, edge) over many traces: what ``aggregate`` computes its row from."""

    __slots__ = ("cp", "errors", "self", "spans", "trace_ids")

    def __init__(self) -> None:
        self.trace_ids: list[str] = []  # a trace given twice is one trace: counted distinct at the end
        self.spans = 0
        self.errors = 0
        self.cp: list[int] = []
        self.self: list[int] = []


def _stats(key: str, edge: bool, g: _Group, total_cp: int) -> ComponentStats:
    cp, selfs = sorted(g.cp), sorted(g.self)
    cp_q = [group_quantile(cp, q) for q in QUANTILES]
    self_q = [group_quantile(selfs, q) for q in QUANTILES]
    return ComponentStats(
        key=key, edge=edge, traces=len(set(g.trace_ids)), spans=g.spans, errors=g.errors,
        error_rate=g.errors / g.spans if g.spans else 0.0,
        share=float(sum(cp)) / total_cp if total_cp else 0.0,
        cp_mean=sum(cp) / len(cp), cp_p50=cp_q[0], cp_p95=cp_q[1], cp_p99=cp_q[2],
        self_mean=sum(selfs) / len(selfs), self_p50=self_q[0], self_p95=self_q[1], self_p99=self_q[2],
    )  # fmt: skip


def aggregate(attributions: Sequence[Attribution]) -> Aggregate:
    """Per-component statistics over many traces' attributions (all made with the same key).

    Plain Python: the groups are small lists, and importing pandas would cost more than the work (``frame`` gives
    the same table as a DataFrame for those who want one)."""
    if not attributions:
        raise ValueError("aggregate needs at least one trace")
    groups: tuple[dict[str, _Group], dict[str, _Group]] = ({}, {})  # by edge flag, then label: no tuple per row
    for a in attributions:
        trace_id = a.trace_id
        for r in a.rows:
            by_key = groups[r.edge]
            g = by_key.get(r.key)
            if g is None:
                g = by_key[r.key] = _Group()
            g.trace_ids.append(trace_id)
            g.spans += r.spans
            g.errors += r.errors
            g.cp.append(r.cp_ns)
            g.self.append(r.self_ns)
    total_cp = sum(a.cp_length_ns for a in attributions)
    comps = []
    for edge, by_key in zip((False, True), groups, strict=True):
        for key, g in by_key.items():
            comps.append(_stats(key, edge, g, total_cp))
    comps.sort(key=lambda c: (-c.share, -c.self_mean, c.key, c.edge))
    durations = sorted(float(a.duration_ns) for a in attributions)
    return Aggregate(
        by=attributions[0].by, traces=len(attributions), total_cp_ns=total_cp,
        duration_p50=series_quantile(durations, 0.5), duration_p95=series_quantile(durations, 0.95),
        duration_p99=series_quantile(durations, 0.99), components=tuple(comps),
    )  # fmt: skip


def compare_buckets(attributions: Sequence[Attribution]) -> BucketComparison:
    """Typical traces (duration within the 45th–55th percentile) against the tail (≥ 99th percentile)."""
    if not attributions:
        raise ValueError("compare_buckets needs at least one trace")
    durations = {a.trace_id: float(a.duration_ns) for a in attributions}  # a trace read twice counts once
    ordered = sorted(durations.values())
    lo, hi, tail_cut = (series_quantile(ordered, q) for q in (0.45, 0.55, 0.99))
    typical_ids = {t for t, d in durations.items() if lo <= d <= hi}
    if not typical_ids:  # few traces: the one nearest the median (the first of equals)
        median = _median(ordered)
        typical_ids = {min(durations, key=lambda t: abs(durations[t] - median))}
    tail_ids = {t for t, d in durations.items() if d >= tail_cut} or {max(durations, key=durations.__getitem__)}

    def bucket(ids: set[str]) -> tuple[dict[tuple[str, bool], float], dict[tuple[str, bool], float], float]:
        per_key: dict[tuple[str, bool], int] = {}
        for a in attributions:
            if a.trace_id in ids:
                for r in a.rows:
                    per_key[(r.key, r.edge)] = per_key.get((r.key, r.edge), 0) + r.cp_ns
        length = sum(a.cp_length_ns for a in attributions if a.trace_id in ids)
        means = {k: v / len(ids) for k, v in per_key.items()}
        shares = {k: v / length if length else 0.0 for k, v in per_key.items()}
        return means, shares, sum(durations[t] for t in ids) / len(ids)

    typ_mean, typ_share, typ_dur = bucket(typical_ids)
    tail_mean, tail_share, tail_dur = bucket(tail_ids)
    keys = list(dict.fromkeys([*typ_mean, *tail_mean]))
    rows = [
        BucketRow(
            key=k[0], edge=k[1], typical_cp_mean=typ_mean.get(k, 0.0), tail_cp_mean=tail_mean.get(k, 0.0),
            delta=tail_mean.get(k, 0.0) - typ_mean.get(k, 0.0),
            typical_share=typ_share.get(k, 0.0), tail_share=tail_share.get(k, 0.0),
        )
        for k in keys
    ]  # fmt: skip
    rows.sort(key=lambda r: (-r.delta, r.key, r.edge))
    return BucketComparison(
        by=attributions[0].by, typical_traces=len(typical_ids), tail_traces=len(tail_ids),
        typical_duration_mean=typ_dur, tail_duration_mean=tail_dur, rows=tuple(rows),
    )  # fmt: skip
