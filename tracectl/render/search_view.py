"""``tracectl search`` results: rows for JSON/CSV, and the terminal table."""

from __future__ import annotations

from dataclasses import asdict
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from tracectl.backends.query import SearchResult
from tracectl.render.fit import Column, fitted_table
from tracectl.units import format_duration, format_timestamp

if TYPE_CHECKING:
    from rich.console import Console

SEARCH_SCHEMA = "tracectl.search/v1"
SEARCH_CSV_COLUMNS = (
    "trace_id", "start_ns", "duration_ns", "root_service", "root_name", "span_count", "error_count", "matched",
)  # fmt: skip


def search_rows(result: SearchResult) -> list[dict[str, Any]]:
    return [{**asdict(t), "services": list(t.services)} for t in result.traces]


def render_search(result: SearchResult, console: Console, tz: tzinfo | None) -> None:
    from rich.text import Text

    console.print(
        Text.assemble((f"{len(result.traces)} traces", "bold"), f" from {result.backend}, slowest first  ",
                      (result.query, "dim")),
        soft_wrap=True,
    )  # fmt: skip
    # The start is shown as a time of day on a narrow terminal (the date is in the header's window anyway).
    cut = slice(None) if console.width >= 120 else slice(11, 23)

    def stamp(ns: int) -> str:
        return format_timestamp(ns, tz)[cut]

    columns = (
        Column("trace ID", keep=True), Column("start", drop=3), Column("duration", "right", keep=True),
        Column("root", flex=12), Column("spans", "right", drop=1), Column("errors", "right", drop=2),
    )  # fmt: skip
    rows = []
    for t in result.traces:
        root = Text(t.root_service or "(root not received)", style="cyan" if t.root_service else "yellow")
        if t.root_name:
            root.append(" " + t.root_name)
        rows.append((
            t.trace_id, Text(stamp(t.start_ns), style="dim"), format_duration(t.duration_ns), root,
            "" if t.span_count is None else str(t.span_count),
            Text("" if t.error_count is None else str(t.error_count), style="red" if t.error_count else "dim"),
        ))  # fmt: skip
    console.print(fitted_table(console, columns, rows), crop=False)
    if result.traces:
        console.print(Text(f"next: tracectl show {result.traces[0].trace_id}", style="dim"), soft_wrap=True)
