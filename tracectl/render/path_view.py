"""``tracectl path``: the critical path as rows (for JSON/CSV) and as a terminal table."""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from tracectl.analysis.analyse import TraceAnalysis
from tracectl.render.tree_view import bar_cells, service_style
from tracectl.units import format_duration, format_timestamp

if TYPE_CHECKING:
    from rich.console import Console

PATH_SCHEMA = "tracectl.path/v1"
PATH_CSV_COLUMNS = (
    "trace_id", "root", "step", "span_id", "service", "name", "offset_ns", "start_ns", "end_ns", "duration_ns", "share",
)  # fmt: skip


def path_rows(analysis: TraceAnalysis) -> list[dict[str, Any]]:
    """The merged sections of every root, in time order, as flat rows."""
    tree, path = analysis.tree, analysis.path
    rows = []
    step = 0
    for root in path.roots:
        length = root.length_ns
        merged = type(path)(tree, (root,)).merged()
        for s in merged:
            step += 1
            span = tree.spans[s.node]
            rows.append({
                "trace_id": tree.trace_id, "root": tree.keys[root.root], "step": step, "span_id": span.span_id,
                "node": tree.keys[s.node], "service": span.service, "name": span.name,
                "offset_ns": s.start - tree.wall_start, "start_ns": s.start, "end_ns": s.end,
                "duration_ns": s.duration_ns, "share": s.duration_ns / length if length else 0.0,
                "error": span.is_error,
            })  # fmt: skip
    return rows


def path_document(analysis: TraceAnalysis, source: str) -> dict[str, Any]:
    tree, path = analysis.tree, analysis.path
    return {
        "trace_id": tree.trace_id,
        "source": source,
        "duration_ns": tree.duration_ns,
        "cp_length_ns": path.length_ns,
        "roots": [
            {"root": tree.keys[r.root], "orphan": tree.orphan[r.root], "length_ns": r.length_ns} for r in path.roots
        ],
        "sections": path_rows(analysis),
        "warnings": [{"kind": w.kind, "message": w.message, "span_ids": list(w.span_ids)} for w in tree.warnings],
    }


def render_path(analysis: TraceAnalysis, console: Console, tz: tzinfo | None, source: str) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    tree = analysis.tree
    services = sorted({s.service for s in tree.spans})
    console.print(
        Text.assemble(
            ("Critical path of ", "bold"), (tree.trace_id, "bold"), "  ",
            (format_timestamp(tree.wall_start, tz), "dim"), "  ",
            (format_duration(analysis.path.length_ns), "bold"),
            f" over {len(analysis.path.roots)} root{'s' if len(analysis.path.roots) != 1 else ''}",
        ),
        soft_wrap=True,
    )  # fmt: skip
    console.print(Text(source, style="dim"), soft_wrap=True)
    width = min(max(console.width - 100, 16), 50)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("span", no_wrap=True, overflow="ellipsis", max_width=max(console.width - width - 40, 30))
    table.add_column("start", justify="right", no_wrap=True)
    table.add_column("length", justify="right", no_wrap=True)
    table.add_column("share", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    root_of_step = None
    for row in path_rows(analysis):
        if row["root"] != root_of_step and len(analysis.path.roots) > 1:
            root_of_step = row["root"]
            orphan = tree.orphan[tree.index_of(root_of_step)]
            label = f"root {root_of_step}" + (" (parent missing: a partial trace)" if orphan else "")
            table.add_row("", Text(label, style="bold yellow" if orphan else "bold"), "", "", "", "")
        node = tree.index_of(row["node"])
        style = service_style(row["service"], services)
        name = Text.assemble((row["service"], style), " ", (row["name"], "red" if row["error"] else ""))
        pad, left, right = bar_cells(row["start_ns"], row["end_ns"], tree.wall_start, tree.wall_end, width)
        table.add_row(
            str(row["step"]), name,
            Text(format_duration(row["offset_ns"]) if row["offset_ns"] else "0", style="dim"),
            format_duration(row["duration_ns"]), f"{row['share']:.1%}",
            Text(pad) + Text("█" * (right - left), style=style if not tree.orphan[node] else "yellow"),
        )  # fmt: skip
    console.print(table)
