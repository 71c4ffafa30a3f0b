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

    console.print(
        Text.assemble((f"{len(result.traces)} traces", "bold"), f" from {result.backend}, slowest first  ",
                      (result.query, "dim")),
        soft_wrap=True,
    )  # fmt: skip
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name, justify in (("trace ID", "left"), ("start", "left"), ("duration", "right"), ("root", "left"),
                          ("spans", "right"), ("errors", "right")):  # fmt: skip
        table.add_column(name, justify=justify, no_wrap=True, overflow="ellipsis")  # type: ignore[arg-type]
    for t in result.traces:
        root = Text(t.root_service or "(root not received)", style="cyan" if t.root_service else "yellow")
        if t.root_name:
            root.append(" " + t.root_name)
        duration = format_duration(t.duration_ns, t.duration_precision_ns)  # at the server's resolution
        table.add_row(
            t.trace_id, Text(format_timestamp(t.start_ns, tz), style="dim"), duration, root,
            "" if t.span_count is None else str(t.span_count),
            Text("" if t.error_count is None else str(t.error_count), style="red" if t.error_count else "dim"),
        )  # fmt: skip
    console.print(table)
    if result.traces:
        console.print(Text(f"next: tracectl show {result.traces[0].trace_id}", style="dim"), soft_wrap=True)
