"""Attribution over many traces (ANALYSIS.md section 4), with pandas.

Per component (and edge): traces seen, spans, error rate, mean / p50 / p95 / p99 of per-trace critical-path
time and of per-trace self time (over the traces where the component appears), and its share of the total
critical-path time of all traces. ``compare_buckets`` contrasts the typical traces (around the median
duration) with the tail (at or above the 99th percentile), as CRISP does: what dominates slow requests
that does not dominate normal ones.
"""

from __future__ import annotations

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


def aggregate(attributions: Sequence[Attribution]) -> Aggregate:
    """Per-component statistics over many traces' attributions (all made with the same key)."""
    if not attributions:
        raise ValueError("aggregate needs at least one trace")
    import pandas as pd

    df = frame(attributions)
    durations = pd.Series([a.duration_ns for a in attributions], dtype="float64")
    total_cp = sum(a.cp_length_ns for a in attributions)
    grouped = df.groupby(["key", "edge"], sort=False)
    stats = grouped.agg(
        traces=("trace_id", "nunique"), spans=("spans", "sum"), errors=("errors", "sum"), cp_sum=("cp_ns", "sum"),
        cp_mean=("cp_ns", "mean"), self_mean=("self_ns", "mean"),
    )  # fmt: skip
    for q in QUANTILES:
        stats[f"cp_p{round(q * 100)}"] = grouped["cp_ns"].quantile(q)
        stats[f"self_p{round(q * 100)}"] = grouped["self_ns"].quantile(q)
    comps = []
    for rec in stats.reset_index().to_dict("records"):
        spans, errors = int(rec["spans"]), int(rec["errors"])
        comps.append(
            ComponentStats(
                key=str(rec["key"]), edge=bool(rec["edge"]), traces=int(rec["traces"]), spans=spans, errors=errors,
                error_rate=errors / spans if spans else 0.0, share=float(rec["cp_sum"]) / total_cp if total_cp else 0.0,
                cp_mean=float(rec["cp_mean"]), cp_p50=float(rec["cp_p50"]), cp_p95=float(rec["cp_p95"]),
                cp_p99=float(rec["cp_p99"]), self_mean=float(rec["self_mean"]), self_p50=float(rec["self_p50"]),
                self_p95=float(rec["self_p95"]), self_p99=float(rec["self_p99"]),
            )
        )  # fmt: skip
    comps.sort(key=lambda c: (-c.share, -c.self_mean, c.key, c.edge))
    return Aggregate(
        by=attributions[0].by, traces=len(attributions), total_cp_ns=total_cp,
        duration_p50=float(durations.quantile(0.5)), duration_p95=float(durations.quantile(0.95)),
        duration_p99=float(durations.quantile(0.99)), components=tuple(comps),
    )  # fmt: skip


def compare_buckets(attributions: Sequence[Attribution]) -> BucketComparison:
    """Typical traces (duration within the 45th–55th percentile) against the tail (≥ 99th percentile)."""
    if not attributions:
        raise ValueError("compare_buckets needs at least one trace")
    import pandas as pd

    durations = pd.Series({a.trace_id: a.duration_ns for a in attributions}, dtype="float64")
    lo, hi, tail_cut = durations.quantile([0.45, 0.55, 0.99])
    typical_ids = set(durations[(durations >= lo) & (durations <= hi)].index)
    if not typical_ids:  # few traces: the one nearest the median
        typical_ids = {(durations - durations.median()).abs().idxmin()}
    tail_ids = set(durations[durations >= tail_cut].index) or {durations.idxmax()}
    df = frame(attributions)

    def bucket(ids: set[str]) -> tuple[pd.Series, pd.Series, float]:
        part = df[df["trace_id"].isin(ids)]
        per_key = part.groupby(["key", "edge"], sort=False)["cp_ns"].sum()
        length = sum(a.cp_length_ns for a in attributions if a.trace_id in ids)
        return per_key / len(ids), per_key / length if length else per_key * 0.0, float(durations[list(ids)].mean())

    typ_mean, typ_share, typ_dur = bucket(typical_ids)
    tail_mean, tail_share, tail_dur = bucket(tail_ids)
    keys = list(dict.fromkeys([*typ_mean.index, *tail_mean.index]))
    rows = [
        BucketRow(
            key=str(k[0]), edge=bool(k[1]),
            typical_cp_mean=float(typ_mean.get(k, 0.0)), tail_cp_mean=float(tail_mean.get(k, 0.0)),
            delta=float(tail_mean.get(k, 0.0)) - float(typ_mean.get(k, 0.0)),
            typical_share=float(typ_share.get(k, 0.0)), tail_share=float(tail_share.get(k, 0.0)),
        )
        for k in keys
    ]  # fmt: skip
    rows.sort(key=lambda r: (-r.delta, r.key, r.edge))
    return BucketComparison(
        by=attributions[0].by, typical_traces=len(typical_ids), tail_traces=len(tail_ids),
        typical_duration_mean=typ_dur, tail_duration_mean=tail_dur, rows=tuple(rows),
    )  # fmt: skip
