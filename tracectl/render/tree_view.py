"""The terminal view of ``show``: a span tree with a waterfall on a shared time axis."""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING

from tracectl.render.logs_view import log_line_text
from tracectl.render.tree_rows import TreeView
from tracectl.units import format_duration, format_timestamp

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text

_PALETTE = (
    "cyan",
    "magenta",
    "green",
    "blue",
    "yellow",
    "bright_cyan",
    "bright_magenta",
    "bright_green",
    "bright_blue",
)
_MAX_GUIDE_LEVELS = 16  # deeper trees keep only the innermost guides, so a 50,000-deep line stays short


def service_style(service: str, services: list[str]) -> str:
    """A stable colour per service within one view (by sorted position, not by hash, so it is deterministic)."""
    return _PALETTE[services.index(service) % len(_PALETTE)] if service in services else "white"


def _guides(view: TreeView) -> dict[int, str]:
    """Tree-drawing prefix per visible node, computed in one pass over the depth-first order."""
    tree = view.tree
    last_child: dict[int, int] = {}
    for node in view.order:
        last_child[tree.parent[node]] = node  # the last visible child in order wins
    line_prefix: dict[int, str] = {}
    child_prefix: dict[int, str] = {}
    for node in view.order:
        p = tree.parent[node]
        if p == -1:
            line_prefix[node] = ""
            child_prefix[node] = ""
            continue
        base = child_prefix[p]
        is_last = last_child.get(p) == node
        line_prefix[node] = base + ("└─ " if is_last else "├─ ")
        nxt = base + ("   " if is_last else "│  ")
        if len(nxt) > 3 * _MAX_GUIDE_LEVELS:
            nxt = "⋯" + nxt[-3 * (_MAX_GUIDE_LEVELS - 1) :]
        child_prefix[node] = nxt
    return line_prefix


def bar_cells(start: int, end: int, wall_start: int, wall_end: int, width: int) -> tuple[str, int, int]:
    """Left padding and the [left, right) character cells of an interval on a ``width``-cell time axis."""
    total = max(wall_end - wall_start, 1)
    left = int((start - wall_start) * width / total)
    right = -(-(end - wall_start) * width // total)  # ceiling
    left = min(max(left, 0), width - 1)
    right = min(max(right, left + 1), width)
    return " " * left, left, right


def render_tree(view: TreeView, console: Console, tz: tzinfo | None, source: str, notes: list[str], limit: int) -> None:
    """Print the header, the tree/waterfall table, and the tree's warnings."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    tree = view.tree
    services = sorted({s.service for s in tree.spans})
    header = Text.assemble(
        ("Trace ", "bold"),
        (tree.trace_id, "bold"),
        "  ",
        (format_timestamp(tree.wall_start, tz), "dim"),
        "  ",
        (format_duration(tree.duration_ns), "bold"),
        "  ",
        f"{len(tree)} spans · {len(services)} services · {sum(s.is_error for s in tree.spans)} errors",
    )
    console.print(header, soft_wrap=True)
    console.print(Text(source, style="dim"), soft_wrap=True)
    bar_width = min(max(console.width - 100, 16), 60)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, expand=False)
    table.add_column("span", no_wrap=True, overflow="ellipsis", max_width=max(console.width - bar_width - 44, 30))
    table.add_column("start", justify="right", no_wrap=True)
    table.add_column("duration", justify="right", no_wrap=True)
    table.add_column("self", justify="right", no_wrap=True)
    table.add_column("path", justify="right", no_wrap=True)
    table.add_column(_axis_label(tree.duration_ns, bar_width), no_wrap=True)
    guides = _guides(view)
    shown = view.order if limit <= 0 else view.order[:limit]
    for node in shown:
        table.add_row(*_row(view, node, guides[node], services, bar_width))
        for m in view.logs.get(node, ()):
            table.add_row(log_line_text(m, tz, _log_indent(guides[node])), "", "", "", "", "")
    console.print(table)
    _footer(view, console, len(shown), notes, tz)


def _log_indent(guide: str) -> str:
    """Log lines sit under their span, inside its guide lines."""
    base = guide[:-3] + ("   " if guide.endswith("└─ ") else "│  ") if guide else ""
    return base + "┆ "


def _axis_label(duration_ns: int, width: int) -> str:
    end = format_duration(duration_ns)
    return "0" + " " * max(width - 1 - len(end), 1) + end


def _row(view: TreeView, node: int, guide: str, services: list[str], bar_width: int) -> list[RenderableType]:
    from rich.text import Text

    tree = view.tree
    span = tree.spans[node]
    style = service_style(span.service, services)
    name = Text.assemble((guide, "dim"), (span.service, style), " ", (span.name, "red" if span.is_error else ""))
    if span.is_error:
        name.append(" ✗", style="bold red")
    if tree.orphan[node]:
        name.append(" (parent missing)", style="yellow")
    if not tree.on_path_eligible[node] and tree.parent[node] != -1:
        name.append(" ↷", style="dim")
    bar = _bar_text(view, node, bar_width, style="red" if span.is_error else style)
    return [
        name,
        Text(
            format_duration(tree.start[node] - tree.wall_start) if tree.start[node] != tree.wall_start else "0",
            style="dim",
        ),
        Text(format_duration(tree.end[node] - tree.start[node])),
        Text(format_duration(view.self_ns[node]), style="dim"),
        Text(
            format_duration(view.cp_ns[node]) if view.cp_ns[node] else "·", style="bold" if view.cp_ns[node] else "dim"
        ),
        bar,
    ]


def _bar_text(view: TreeView, node: int, width: int, style: str) -> Text:
    """The span's extent as ░ on the shared axis, with its critical-path sections drawn █ over it."""
    from rich.text import Text

    tree = view.tree
    ws, we = tree.wall_start, tree.wall_end
    _, left, right = bar_cells(tree.start[node], tree.end[node], ws, we, width)
    cells = [" "] * width
    for c in range(left, right):
        cells[c] = "░"
    for section in view.sections_of(node):
        _, sl, sr = bar_cells(section[0], section[1], ws, we, width)
        for c in range(sl, sr):
            cells[c] = "█"
    return Text("".join(cells).rstrip(), style=style)


def _footer(view: TreeView, console: Console, shown: int, notes: list[str], tz: tzinfo | None) -> None:
    from rich.text import Text

    omitted = len(view.order) - shown
    if view.hidden or omitted:
        parts = []
        if view.hidden:
            parts.append(f"{view.hidden} spans hidden by {'/'.join(view.hidden_by)}")
        if omitted:
            parts.append(f"{omitted} more rows not shown (--limit 0 shows all)")
        console.print(Text("… " + "; ".join(parts), style="dim"))
    legend = f"█ critical path ({format_duration(view.analysis.path.length_ns)}) · ░ rest of the span"
    if any(not view.tree.on_path_eligible[n] and view.tree.parent[n] != -1 for n in view.order):
        legend += " · ↷ async or outside its parent: cannot be on the parent's path"
    console.print(Text(legend, style="dim"), soft_wrap=True)
    unmatched = view.logs.get(-1, [])
    if unmatched:
        console.print(Text(f"{len(unmatched)} log lines matched no span:", style="yellow"))
        for m in unmatched:
            console.print(log_line_text(m, tz, "  "), soft_wrap=True)
    if view.tree.warnings:  # the warnings themselves go to stderr; the table says the data was repaired
        kinds = ", ".join(w.kind for w in view.tree.warnings)
        console.print(Text(f"⚠ the data was repaired ({kinds}): see the warnings on stderr", style="yellow"))
