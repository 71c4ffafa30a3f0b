"""Log lines: grouped by span for a terminal, raw lines, or JSON rows."""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from tracectl.analysis.logs import MatchedLog
from tracectl.analysis.tree import SpanTree
from tracectl.units import format_duration, format_timestamp

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

LOGS_SCHEMA = "tracectl.logs/v1"
LEVEL_STYLES = {"fatal": "bold white on red", "error": "bold red", "warn": "yellow", "info": "green",
                "debug": "dim", "trace": "dim", "unknown": "dim"}  # fmt: skip


def log_row(tree: SpanTree, m: MatchedLog) -> dict[str, Any]:
    span = tree.spans[m.node] if m.node >= 0 else None
    return {
        "trace_id": tree.trace_id, "time_ns": m.record.time_ns, "level": m.level, "line": m.record.line,
        "span_id": span.span_id if span else None, "service": span.service if span else None,
        "span_name": span.name if span else None, "matched_by": m.how, "labels": dict(m.record.labels),
        "metadata": dict(m.record.metadata), "parsed": dict(m.record.parsed),
    }  # fmt: skip


def log_line_text(m: MatchedLog, tz: tzinfo | None, indent: str = "") -> Text:
    from rich.text import Text

    stamp = format_timestamp(m.record.time_ns, tz)[11:23]  # HH:MM:SS.mmm
    return Text.assemble(
        (indent, "dim"),
        (stamp, "dim"),
        " ",
        (f"{m.level.upper():5}", LEVEL_STYLES.get(m.level, "")),
        " ",
        m.record.line,
    )


def render_logs(tree: SpanTree, matched: list[MatchedLog], console: Console, tz: tzinfo | None, query: str) -> None:
    """Lines grouped by span, spans in depth-first order, then the lines no span claimed."""
    from rich.text import Text

    by_node: dict[int, list[MatchedLog]] = {}
    for m in matched:
        by_node.setdefault(m.node, []).append(m)
    console.print(Text.assemble((f"{len(matched)} log lines", "bold"), " for trace ", (tree.trace_id, "bold"), "  ",
                                (query, "dim")), soft_wrap=True)  # fmt: skip
    for node in [*tree.preorder(), -1]:
        lines = by_node.get(node)
        if not lines:
            continue
        if node >= 0:
            span = tree.spans[node]
            header = Text.assemble(
                ("▸ ", "dim"), (span.service, "cyan"), " ", (span.name, "bold"), "  ",
                (f"{span.span_id} · {format_duration(tree.end[node] - tree.start[node])}", "dim"),
            )  # fmt: skip
        else:
            header = Text("▸ (no matching span)", style="yellow")
        console.print()
        console.print(header, soft_wrap=True)
        for m in lines:
            console.print(log_line_text(m, tz, "  "), soft_wrap=True)
