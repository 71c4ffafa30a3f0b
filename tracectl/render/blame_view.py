"""``tracectl blame``: attribution of one trace, the aggregate over many, and the latency-bucket comparison."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from tracectl.analysis.aggregate import Aggregate, BucketComparison
from tracectl.analysis.attribution import Attribution
from tracectl.units import format_duration

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

BLAME_SCHEMA = "tracectl.blame/v1"
TRACE_CSV_COLUMNS = ("key", "edge", "spans", "errors", "self_ns", "cp_ns", "share")
AGG_CSV_COLUMNS = (
    "key", "edge", "traces", "spans", "errors", "error_rate", "share", "cp_mean", "cp_p50", "cp_p95", "cp_p99",
    "self_mean", "self_p50", "self_p95", "self_p99",
)  # fmt: skip
BUCKET_CSV_COLUMNS = ("key", "edge", "typical_cp_mean", "tail_cp_mean", "delta", "typical_share", "tail_share")


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
    from rich import box
    from rich.table import Table
    from rich.text import Text

    console.print(
        Text.assemble(
            ("Latency attribution of ", "bold"), (attribution.trace_id, "bold"), "  ",
            (format_duration(attribution.cp_length_ns), "bold"), f" on the critical path · by {attribution.by}",
        ),
        soft_wrap=True,
    )  # fmt: skip
    bar_width = 20 if console.width >= 110 else 10
    widths = {"spans": 5, "errors": 6, "self": 8, "critical path": 13, "share": 6, "": bar_width}
    room = console.width - sum(w + 3 for w in widths.values())
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("component", no_wrap=True, overflow="ellipsis", max_width=max(room, 16))
    for name, width in widths.items():
        table.add_column(name, justify="left" if name == "" else "right", no_wrap=True, min_width=width)
    for r in trace_rows(attribution, top):
        table.add_row(
            _key_text(r["key"], r["edge"]), str(r["spans"]),
            Text(str(r["errors"]), style="red" if r["errors"] else "dim"), _ms(r["self_ns"]), _ms(r["cp_ns"]),
            f"{r['share']:.1%}", Text(_share_bar(r["share"], bar_width).rstrip(), style="cyan"),
        )  # fmt: skip
    console.print(table)
    _legend(console)


def render_aggregate(agg: Aggregate, console: Console, top: int) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    console.print(
        Text.assemble(
            ("Latency attribution over ", "bold"), (f"{agg.traces} traces", "bold"),
            f"  duration p50 {_ms(agg.duration_p50)} · p95 {_ms(agg.duration_p95)} · p99 {_ms(agg.duration_p99)}",
            f" · by {agg.by}",
        ),
        soft_wrap=True,
    )  # fmt: skip
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    # Numbers keep their width; on a narrow terminal the component name is shortened and the share bar,
    # p95 and self-time columns are left out (JSON and CSV always carry everything).
    wide, roomy = console.width >= 120, console.width >= 100
    columns = ["traces", "err %", "share", *([""] if wide else []), "cp mean", "cp p50",
               *(["cp p95"] if roomy else []), "cp p99", *(["self mean"] if roomy else [])]  # fmt: skip
    widths = {name: 12 if name == "" else 9 if name == "self mean" else 7 for name in columns}
    room = console.width - sum(w + 3 for w in widths.values())
    table.add_column("component", no_wrap=True, overflow="ellipsis", max_width=max(room, 16))
    for name, width in widths.items():
        table.add_column(name, justify="left" if name == "" else "right", no_wrap=True, min_width=width)
    for r in aggregate_rows(agg, top):
        cells: dict[str, str | Text] = {
            "traces": str(r["traces"]), "err %": Text(f"{r['error_rate']:.1%}", style="red" if r["errors"] else "dim"),
            "share": f"{r['share']:.1%}", "": Text(_share_bar(r["share"], 12), style="cyan"),
            "cp mean": _ms(r["cp_mean"]), "cp p50": _ms(r["cp_p50"]), "cp p95": _ms(r["cp_p95"]),
            "cp p99": _ms(r["cp_p99"]), "self mean": Text(_ms(r["self_mean"]), style="dim"),
        }  # fmt: skip
        table.add_row(_key_text(r["key"], r["edge"]), *(cells[name] for name in columns))
    console.print(table)
    console.print(
        Text("cp = critical-path time per trace, over the traces where the component appears", style="dim"),
        soft_wrap=True,
    )
    _legend(console)


def render_buckets(cmp: BucketComparison, console: Console, top: int) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    console.print(
        Text.assemble(
            ("Typical vs tail", "bold"),
            f"  typical: {cmp.typical_traces} traces near the median (mean {_ms(cmp.typical_duration_mean)})",
            f" · tail: {cmp.tail_traces} traces ≥ p99 (mean {_ms(cmp.tail_duration_mean)}) · by {cmp.by}",
        ),
        soft_wrap=True,
    )
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in ("component", "typical cp", "tail cp", "Δ", "typical share", "tail share"):
        table.add_column(name, justify="left" if name == "component" else "right", no_wrap=True)
    for r in bucket_rows(cmp, top):
        delta = Text(("+" if r["delta"] > 0 else "") + _ms(r["delta"]), style="bold red" if r["delta"] > 0 else "green")
        table.add_row(
            _key_text(r["key"], r["edge"]), _ms(r["typical_cp_mean"]), _ms(r["tail_cp_mean"]), delta,
            f"{r['typical_share']:.1%}", f"{r['tail_share']:.1%}",
        )  # fmt: skip
    console.print(table)
    console.print(
        Text("cp = mean critical-path time per trace in the bucket (0 where absent)", style="dim"), soft_wrap=True
    )


def _legend(console: Console) -> None:
    from rich.text import Text

    console.print(
        Text("a → b: time a's client span spent outside b's server span (network, queueing, connection set-up)",
             style="dim"),
        soft_wrap=True,
    )  # fmt: skip
