"""``tracectl path``: the critical path as rows (for JSON/CSV) and as a terminal table."""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from tracectl.analysis.analyse import TraceAnalysis
from tracectl.render.fit import Column, cell_width, fit_widths, fitted_table
from tracectl.render.registry import Renderer
from tracectl.render.tree_view import bar_cells, service_style
from tracectl.units import format_duration, format_timestamp

if TYPE_CHECKING:
    from rich.console import Console

    from tracectl.results import RenderOptions
    from tracectl.workflows.inspect import CriticalPaths


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
            node = s.node
            rows.append({
                "trace_id": tree.trace_id, "root": tree.keys[root.root], "step": step, "span_id": tree.span_id(node),
                "node": tree.keys[node], "service": tree.service(node), "name": tree.name(node),
                "offset_ns": s.start - tree.wall_start, "start_ns": s.start, "end_ns": s.end,
                "duration_ns": s.duration_ns, "share": s.duration_ns / length if length else 0.0,
                "error": tree.is_error(node),
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
    from rich.text import Span, Text

    tree = analysis.tree
    services = tree.distinct_services()
    console.print(
        Text.assemble(
            ("Critical path of ", "bold"), (tree.trace_id, "bold"), "  ",
            (format_timestamp(tree.wall_start, tz), "dim"), "  ",
            (format_duration(analysis.path.length_ns), "bold"),
            f" over {len(analysis.path.roots)} root{'s' if len(analysis.path.roots) != 1 else ''}",
        ),
    )  # fmt: skip
    console.print(Text(source, style="dim"), soft_wrap=True)
    columns = [
        Column("#", "right", keep=True), Column("span", flex=16), Column("start", "right", drop=2, style="dim"),
        Column("length", "right", keep=True), Column("share", "right", drop=3), Column("", flex=8, drop=1),
    ]  # fmt: skip
    rows: list[list[Any]] = []
    bars: list[tuple[int, int, int, str]] = []  # (row, start, end, style): drawn once the bar width is known
    multi = len(analysis.path.roots) > 1
    plain = console.color_system is None  # no colours will be written: plain strings, no Text to build
    styles = {name: service_style(name, services) for name in services}
    step = 0
    for root in analysis.path.roots:
        if multi:
            orphan = tree.orphan[root.root]
            label = f"root {tree.keys[root.root]}" + (" (parent missing: a partial trace)" if orphan else "")
            rows.append(["", Text(label, style="bold yellow" if orphan else "bold"), "", "", "", ""])
        length = root.length_ns
        orphan = tree.orphan[root.root]
        for s in type(analysis.path)(tree, (root,)).merged():
            step += 1
            service, span_name = tree.service(s.node), tree.name(s.node)
            style = "yellow" if orphan else styles[service]
            name: Any = f"{service} {span_name}"
            if not plain:  # Text with its spans given, not assembled: a 20,000-step path builds 20,000 of them
                cut = len(service)
                name = Text(name, spans=[Span(0, cut, style)] + (
                    [Span(cut + 1, cut + 1 + len(span_name), "red")] if tree.is_error(s.node) else []))  # fmt: skip
            offset = s.start - tree.wall_start
            bars.append((len(rows), s.start, s.end, style))
            share = f"{s.duration_ns / length if length else 0.0:.1%}"
            rows.append([str(step), name, format_duration(offset) if offset else "0", format_duration(s.duration_ns),
                         share, ""])  # fmt: skip
    natural = [max([len(c.header)] + [_cell_len(r[i]) for r in rows]) for i, c in enumerate(columns[:5])]
    width = fit_widths(columns, [*natural, min(max(console.width - 100, 16), 50)], console.width).get(5, 0)
    for row, start, end, style in bars:
        pad, left, right = bar_cells(start, end, tree.wall_start, tree.wall_end, max(width, 1))
        bar = pad + "█" * (right - left)
        rows[row][5] = "" if not width else bar if plain else Text(bar, spans=[Span(left, right, style)])
    console.print(fitted_table(console, columns, rows), crop=False)


def _cell_len(cell: Any) -> int:
    text = cell if isinstance(cell, str) else cell.plain
    return len(text) if text.isascii() else cell_width(text)


def _table(paths: CriticalPaths, console: Console, opts: RenderOptions) -> None:
    for n, analysis in enumerate(paths.analyses):
        if n:
            console.print()
        render_path(analysis, console, opts.tz, paths.source)


PATH = Renderer(
    document=lambda paths, opts: {
        "traces": [path_document(a, paths.source) for a in paths.analyses],
        "warnings": paths.warnings,
    },
    rows=lambda paths, opts: (row for a in paths.analyses for row in path_rows(a)),
    table=_table,
)
