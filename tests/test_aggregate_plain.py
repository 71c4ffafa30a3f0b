"""aggregate() and compare_buckets() in plain Python give, to the bit, what the pandas implementation they replace
gave (issue 24: pandas is no longer imported on blame's path). The oracle below is that implementation, verbatim."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict

import pandas as pd
import pytest

from tracectl.analysis.aggregate import (
    QUANTILES,
    Aggregate,
    BucketComparison,
    BucketRow,
    ComponentStats,
    aggregate,
    compare_buckets,
    frame,
    group_quantile,
    series_quantile,
)
from tracectl.analysis.attribution import Attribution, Component, Row


def pandas_aggregate(attributions: Sequence[Attribution]) -> Aggregate:
    """Per-component statistics over many traces' attributions (all made with the same key)."""
    if not attributions:
        raise ValueError("aggregate needs at least one trace")

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


def pandas_compare_buckets(attributions: Sequence[Attribution]) -> BucketComparison:
    """Typical traces (duration within the 45th–55th percentile) against the tail (≥ 99th percentile)."""
    if not attributions:
        raise ValueError("compare_buckets needs at least one trace")

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


def random_attributions(rng: random.Random, n: int) -> list[Attribution]:
    """Traces drawn from a few components and edges, some repeated (the same trace read twice), some empty of a
    component, with durations from nanoseconds to hours so that sums and interpolations are exercised."""
    keys = [("api", False), ("db", False), ("cache", False), ("api → db", True), ("nlp-model", False)]
    out = []
    for _ in range(n):
        trace_id = f"{rng.randrange(1, max(2, n * 3 // 4)):032x}"
        scale = rng.choice([1_000, 1_000_000, 10**9, 3_600 * 10**9])
        rows = []
        for key, edge in rng.sample(keys, rng.randrange(1, len(keys) + 1)):
            cp, self_ns = rng.randrange(0, scale), rng.randrange(0, scale)
            spans = rng.randrange(1, 30)
            rows.append(Row(key, edge, spans, rng.randrange(0, spans + 1), self_ns, cp, 0.0, Component((key,))))
        length = sum(r.cp_ns for r in rows)
        out.append(Attribution(trace_id, length + rng.randrange(0, scale), length, "service", tuple(rows)))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_aggregate_is_what_pandas_gave(seed: int) -> None:
    rng = random.Random(seed)
    attributions = random_attributions(rng, rng.choice([1, 2, 3, 7, 20, 150]))
    assert asdict(aggregate(attributions)) == asdict(pandas_aggregate(attributions))


@pytest.mark.parametrize("seed", range(40))
def test_compare_buckets_is_what_pandas_gave(seed: int) -> None:
    rng = random.Random(1000 + seed)
    attributions = random_attributions(rng, rng.choice([1, 2, 3, 7, 20, 150, 400]))
    assert asdict(compare_buckets(attributions)) == asdict(pandas_compare_buckets(attributions))


def test_quantiles_match_pandas_on_ties_and_large_values() -> None:
    rng = random.Random(3)
    for _ in range(300):
        values = [rng.choice([0, 1, 7, 10**15, rng.randrange(10**12)]) for _ in range(rng.randrange(1, 25))]
        q = rng.choice([*QUANTILES, 0.45, 0.55, 0.0, 1.0, rng.random()])
        df = pd.DataFrame({"k": ["a"] * len(values), "v": values})
        assert group_quantile(sorted(values), q) == float(df.groupby("k")["v"].quantile(q).iloc[0])
        assert series_quantile(sorted(map(float, values)), q) == float(pd.Series(values, dtype="float64").quantile(q))


def test_frame_still_gives_the_tidy_table() -> None:
    attributions = random_attributions(random.Random(9), 5)
    df = frame(attributions)
    assert len(df) == sum(len(a.rows) for a in attributions)
    assert int(df["cp_ns"].sum()) == sum(r.cp_ns for a in attributions for r in a.rows)
