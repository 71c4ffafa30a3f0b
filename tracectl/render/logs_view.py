"""Log lines: grouped by span for a terminal, raw lines, or JSON rows."""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Any

import orjson

from tracectl.analysis.logs import MatchedLog
from tracectl.analysis.tree import SpanTree
from tracectl.render.registry import Renderer
from tracectl.units import format_duration, format_timestamp

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from tracectl.results import RenderOptions
    from tracectl.workflows.logs import TraceLogs

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


_SHOWN_ELSEWHERE = frozenset(
    {"ts", "time", "timestamp", "level", "severity", "msg", "message", "trace_id", "span_id", "traceId", "spanId",
     "traceID", "spanID"}
)  # fmt: skip


def display_line(line: str) -> str:
    """A JSON log line as its message and the fields not already shown (time, level, IDs); others as they are."""
    if not line.lstrip().startswith("{"):
        return line
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError:
        return line
    if isinstance(doc, dict) and isinstance(doc.get("log"), str) and not any(k in doc for k in ("msg", "message")):
        return str(doc["log"]).rstrip("\n")  # a container runtime's wrapper: the application's own line
    if not isinstance(doc, dict) or not any(k in doc for k in ("msg", "message")):
        return line
    rest = " ".join(f"{k}={v}" for k, v in doc.items() if k not in _SHOWN_ELSEWHERE)
    return str(doc.get("msg", doc.get("message"))) + (f"  {rest}" if rest else "")


def log_line_text(m: MatchedLog, tz: tzinfo | None, indent: str = "") -> Text:
    """A line for people: time, level, and the message (``-o raw``/``json`` keep the line as it was)."""
    from rich.text import Text

    stamp = format_timestamp(m.record.time_ns, tz)[11:23]  # HH:MM:SS.mmm
    level = (f"{m.level.upper():5}", LEVEL_STYLES.get(m.level, ""))
    return Text.assemble((indent, "dim"), (stamp, "dim"), " ", level, " ", display_line(m.record.line))


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


def _rows(logs: TraceLogs, opts: RenderOptions) -> list[dict[str, Any]]:
    return [log_row(logs.tree, m) for m in logs.lines]


LOGS = Renderer(
    document=lambda logs, opts: {
        "trace_id": logs.tree.trace_id,
        "query": logs.query,
        "lines": _rows(logs, opts),
        "warnings": logs.warnings,
    },
    rows=_rows,
    table=lambda logs, console, opts: render_logs(logs.tree, logs.lines, console, opts.tz, logs.query),
    others={"raw": lambda logs, opts: "".join(m.record.line + "\n" for m in logs.lines)},
)
