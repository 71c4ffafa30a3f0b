"""``tracectl search`` results: rows for JSON/CSV, and the terminal table."""

from __future__ import annotations

from dataclasses import asdict
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from tracectl.backends.query import SearchResult
from tracectl.render.fit import Column, fitted_table
from tracectl.render.registry import Renderer
from tracectl.units import format_duration, format_timestamp, plural
from tracectl.workflows.search import SEARCH_CSV_COLUMNS, SEARCH_SCHEMA, Found

if TYPE_CHECKING:
    from rich.console import Console

    from tracectl.results import RenderOptions

__all__ = ["SEARCH", "SEARCH_CSV_COLUMNS", "SEARCH_SCHEMA", "render_search", "search_rows"]


def search_rows(result: SearchResult) -> list[dict[str, Any]]:
    return [{**asdict(t), "services": list(t.services)} for t in result.traces]


def render_search(result: SearchResult, console: Console, tz: tzinfo | None, order: str = "slowest") -> None:
    from rich.text import Text

    starts = [format_timestamp(t.start_ns, tz) for t in result.traces]
    day = starts[0][:10] if starts and all(s[:10] == starts[0][:10] for s in starts) else None
    first = "newest" if order == "recent" else "slowest"
    header = f" from {result.backend}, {first} first" + (f", started {day}" if day else "") + "  "
    console.print(Text.assemble((plural(len(result.traces), "trace"), "bold"), header, (result.query, "dim")))
    # The trace ID stays whole (the next command takes it), and so does the duration; on a narrow terminal the
    # root column shrinks, then the span and error counts and the start give way.
    columns = (
        Column("trace ID", keep=True), Column("start", drop=3, style="dim"), Column("duration", "right", keep=True),
        Column("spans", "right", drop=1), Column("errors", "right", drop=2), Column("root", flex=12),
    )  # fmt: skip
    rows = []
    for t, start in zip(result.traces, starts, strict=True):
        root = Text(t.root_service or "(root not received)", style="cyan" if t.root_service else "yellow")
        if t.root_name:
            root.append(" " + t.root_name)
        duration = format_duration(t.duration_ns, t.duration_precision_ns)  # at the server's resolution
        rows.append((
            t.trace_id, start[11:23] if day else start, duration,
            "" if t.span_count is None else str(t.span_count),
            Text("" if t.error_count is None else str(t.error_count), style="red" if t.error_count else "dim"), root,
        ))  # fmt: skip
    console.print(fitted_table(console, columns, rows), crop=False)
    if result.traces:
        console.print(Text(f"next: tracectl show {result.traces[0].trace_id}", style="dim"), soft_wrap=True)


def _document(found: Found, opts: RenderOptions) -> dict[str, Any]:
    return {
        "backend": found.result.backend, "query": found.result.query, "start_ns": found.query.time.start_ns,
        "end_ns": found.query.time.end_ns, "limit": found.query.limit, "traces": search_rows(found.result),
        "order": found.order, "method": found.method.document() if found.method else None,
        "warnings": found.warnings,
    }  # fmt: skip


SEARCH = Renderer(
    document=_document,
    rows=lambda found, opts: search_rows(found.result),
    table=lambda found, console, opts: render_search(found.result, console, opts.tz, found.order),
)
