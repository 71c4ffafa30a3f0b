"""``tracectl blame``: attribution of one trace, the aggregate over many, and the latency-bucket comparison."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from tracectl.analysis.aggregate import Aggregate, BucketComparison
from tracectl.analysis.attribution import Attribution
from tracectl.render.fit import Column, fitted_table, say_cut
from tracectl.render.registry import Renderer
from tracectl.units import format_duration, plural

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from tracectl.results import RenderOptions
    from tracectl.workflows.blame import AggregateBlame, BucketBlame, TraceBlame


def trace_rows(attribution: Attribution, top: int) -> list[dict[str, Any]]:
    rows = [asdict(r) for r in attribution.rows]
    return rows[:top] if top else rows


def aggregate_rows(agg: Aggregate, top: int) -> list[dict[str, Any]]:
    rows = [asdict(c) for c in agg.components]
    return rows[:top] if top else rows


def bucket_rows(cmp: BucketComparison, top: int) -> list[dict[str, Any]]:
    rows = [asdict(r) for r in cmp.rows]
    return rows[:top] if top else rows


def _share_bar(share: float, width: int = 20) -> str:
    cells = round(max(0.0, min(share, 1.0)) * width)
    return "█" * cells + " " * (width - cells)


def _key_text(key: str, edge: bool) -> Text:
    from rich.text import Text

    return Text(key, style="italic magenta" if edge else "")


def _ms(ns: float) -> str:
    return format_duration(round(ns))


def render_trace(attribution: Attribution, console: Console, top: int) -> None:
    from rich.text import Text

    console.print(
        Text.assemble(
            ("Latency attribution of ", "bold"), (attribution.trace_id, "bold"), "  ",
            (format_duration(attribution.cp_length_ns), "bold"), f" on the critical path · by {attribution.by}",
        )
    )  # fmt: skip
    columns = (
        Column("component", flex=14), Column("spans", "right", drop=2), Column("errors", "right", drop=3),
        Column("self", "right", drop=4, style="dim"), Column("critical path", "right", keep=True),
        Column("share", "right", keep=True), Column("", drop=1, style="cyan"),
    )  # fmt: skip
    bar = 20 if console.width >= 110 else 10
    rows = [
        (_key_text(r["key"], r["edge"]), str(r["spans"]), Text(str(r["errors"]), style="red" if r["errors"] else "dim"),
         _ms(r["self_ns"]), _ms(r["cp_ns"]), f"{r['share']:.1%}", _share_bar(r["share"], bar).rstrip())
        for r in trace_rows(attribution, top)
    ]  # fmt: skip
    console.print(fitted_table(console, columns, rows), crop=False)
    say_cut(console, len(attribution.rows), top, "components", "--top 0")
    _legend(console)


def render_aggregate(agg: Aggregate, console: Console, top: int) -> None:
    from rich.text import Text

    console.print(
        Text.assemble(
            ("Latency attribution over ", "bold"), (plural(agg.traces, "trace"), "bold"),
            f"  duration p50 {_ms(agg.duration_p50)} · p95 {_ms(agg.duration_p95)} · p99 {_ms(agg.duration_p99)}",
            f" · by {agg.by}",
        )
    )  # fmt: skip
    # Numbers keep their width; on a narrow terminal the component name is shortened and the share bar,
    # self time, p95 and p50 columns are left out, in that order (JSON and CSV always carry everything).
    columns = (
        Column("component", flex=14), Column("traces", "right", drop=6), Column("err %", "right", drop=5),
        Column("share", "right", keep=True), Column("", drop=1, style="cyan"), Column("cp mean", "right", keep=True),
        Column("cp p50", "right", drop=4), Column("cp p95", "right", drop=3), Column("cp p99", "right", keep=True),
        Column("self mean", "right", drop=2, style="dim"),
    )  # fmt: skip
    rows = [
        (_key_text(r["key"], r["edge"]), str(r["traces"]),
         Text(f"{r['error_rate']:.1%}", style="red" if r["errors"] else "dim"), f"{r['share']:.1%}",
         _share_bar(r["share"], 12).rstrip(), _ms(r["cp_mean"]), _ms(r["cp_p50"]), _ms(r["cp_p95"]),
         _ms(r["cp_p99"]), _ms(r["self_mean"]))
        for r in aggregate_rows(agg, top)
    ]  # fmt: skip
    console.print(fitted_table(console, columns, rows), crop=False)
    say_cut(console, len(agg.components), top, "components", "--top 0")
    console.print(Text("cp = critical-path time per trace, over the traces where the component appears", style="dim"))
    _legend(console)


def render_buckets(cmp: BucketComparison, console: Console, top: int) -> None:
    from rich.text import Text

    console.print(
        Text.assemble(
            ("Typical vs tail", "bold"),
            f"  typical: {plural(cmp.typical_traces, 'trace')} near the median (mean {_ms(cmp.typical_duration_mean)})",
            f" · tail: {plural(cmp.tail_traces, 'trace')} ≥ p99 (mean {_ms(cmp.tail_duration_mean)}) · by {cmp.by}",
        )
    )
    columns = (
        Column("component", flex=14), Column("typical cp", "right", keep=True), Column("tail cp", "right", keep=True),
        Column("Δ", "right", keep=True), Column("typical share", "right", drop=1),
        Column("tail share", "right", drop=2),
    )  # fmt: skip
    rows = []
    for r in bucket_rows(cmp, top):
        delta = Text(("+" if r["delta"] > 0 else "") + _ms(r["delta"]), style="bold red" if r["delta"] > 0 else "green")
        rows.append((_key_text(r["key"], r["edge"]), _ms(r["typical_cp_mean"]), _ms(r["tail_cp_mean"]), delta,
                     f"{r['typical_share']:.1%}", f"{r['tail_share']:.1%}"))  # fmt: skip
    console.print(fitted_table(console, columns, rows), crop=False)
    say_cut(console, len(cmp.rows), top, "components", "--top 0")
    console.print(Text("cp = mean critical-path time per trace in the bucket (0 where absent)", style="dim"))


def _legend(console: Console) -> None:
    from rich.text import Text

    console.print(
        Text("a → b: time a's client span spent outside b's server span (network, queueing, connection set-up)",
             style="dim"),
    )  # fmt: skip


def _trace(result: TraceBlame, opts: RenderOptions) -> dict[str, Any]:
    a = result.attribution
    return {"mode": "trace", "trace_id": a.trace_id, "by": a.by, "duration_ns": a.duration_ns,
            "cp_length_ns": a.cp_length_ns, "rows": trace_rows(a, opts.top), "warnings": result.warnings}  # fmt: skip


def _aggregate(result: AggregateBlame, opts: RenderOptions) -> dict[str, Any]:
    agg = result.aggregate
    return {"mode": "aggregate", "by": agg.by, "traces": agg.traces, "total_cp_ns": agg.total_cp_ns,
            "duration_p50_ns": agg.duration_p50, "duration_p95_ns": agg.duration_p95,
            "duration_p99_ns": agg.duration_p99, "rows": aggregate_rows(agg, opts.top),
            "inputs": result.inputs.document(), "warnings": result.warnings}  # fmt: skip


def _buckets(result: BucketBlame, opts: RenderOptions) -> dict[str, Any]:
    cmp = result.buckets
    return {"mode": "buckets", "by": cmp.by, "traces": result.traces, "typical_traces": cmp.typical_traces,
            "tail_traces": cmp.tail_traces, "typical_duration_mean_ns": cmp.typical_duration_mean,
            "tail_duration_mean_ns": cmp.tail_duration_mean, "rows": bucket_rows(cmp, opts.top),
            "inputs": result.inputs.document(), "warnings": result.warnings}  # fmt: skip


TRACE = Renderer(
    document=_trace,
    rows=lambda result, opts: trace_rows(result.attribution, opts.top),
    table=lambda result, console, opts: render_trace(result.attribution, console, opts.top),
)
AGGREGATE = Renderer(
    document=_aggregate,
    rows=lambda result, opts: aggregate_rows(result.aggregate, opts.top),
    table=lambda result, console, opts: render_aggregate(result.aggregate, console, opts.top),
)
BUCKETS = Renderer(
    document=_buckets,
    rows=lambda result, opts: bucket_rows(result.buckets, opts.top),
    table=lambda result, console, opts: render_buckets(result.buckets, console, opts.top),
)
