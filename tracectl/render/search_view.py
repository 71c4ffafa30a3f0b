"""``tracectl search`` results: rows for JSON/CSV, and the terminal table."""

from __future__ import annotations

from dataclasses import asdict
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from tracectl.backends.query import SearchResult
from tracectl.units import format_duration, format_timestamp

if TYPE_CHECKING:
    from rich.console import Console

SEARCH_SCHEMA = "tracectl.search/v1"
SEARCH_CSV_COLUMNS = (
    "trace_id", "start_ns", "duration_ns", "duration_precision_ns", "root_service", "root_name", "span_count",
    "error_count", "matched",
)  # fmt: skip


def search_rows(result: SearchResult) -> list[dict[str, Any]]:
    return [{**asdict(t), "services": list(t.services)} for t in result.traces]


def render_search(result: SearchResult, console: Console, tz: tzinfo | None) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    starts = [format_timestamp(t.start_ns, tz) for t in result.traces]
    day = starts[0][:10] if starts and all(s[:10] == starts[0][:10] for s in starts) else None
    console.print(
        Text.assemble((f"{len(result.traces)} traces", "bold"), f" from {result.backend}, slowest first"
                      + (f", started {day}" if day else "") + "  ", (result.query, "dim")),
        soft_wrap=True,
    )  # fmt: skip
    # The trace ID stays whole (the next command takes it), and so do the numbers: on a narrow terminal the
    # root column, last, gives way.
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 1), collapse_padding=True)
    table.add_column("trace ID", no_wrap=True, min_width=32)
    table.add_column("start", no_wrap=True, min_width=8 if day else 29)
    table.add_column("duration", justify="right", no_wrap=True, min_width=8)
    table.add_column("spans", justify="right", no_wrap=True, min_width=5)
    table.add_column("errors", justify="right", no_wrap=True, min_width=6)
    table.add_column("root", no_wrap=True, overflow="ellipsis", ratio=1)
    for t, start in zip(result.traces, starts, strict=True):
        root = Text(t.root_service or "(root not received)", style="cyan" if t.root_service else "yellow")
        if t.root_name:
            root.append(" " + t.root_name)
        duration = format_duration(t.duration_ns, t.duration_precision_ns)  # at the server's resolution
        table.add_row(
            t.trace_id, Text(start[11:19] if day else start, style="dim"), duration,
            "" if t.span_count is None else str(t.span_count),
            Text("" if t.error_count is None else str(t.error_count), style="red" if t.error_count else "dim"),
            root,
        )  # fmt: skip
    console.print(table)
    if result.traces:
        console.print(Text(f"next: tracectl show {result.traces[0].trace_id}", style="dim"), soft_wrap=True)
