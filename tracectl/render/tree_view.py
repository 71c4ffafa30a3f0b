"""The terminal view of ``show``: a span tree with a waterfall on a shared time axis."""

from __future__ import annotations

from dataclasses import replace
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from tracectl.analysis.tree_rows import TreeView, span_row, trace_document
from tracectl.analysis.tree_rows import _log as log_document
from tracectl.render.fit import Column, cell_width, fit_widths, fitted_table
from tracectl.render.logs_view import log_line_text
from tracectl.render.machine import Lazy
from tracectl.render.registry import Renderer
from tracectl.units import format_duration, format_timestamp, plural

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text

    from tracectl.render.tree_fold import Run
    from tracectl.results import RenderOptions
    from tracectl.workflows.inspect import Shown

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
# Guides are drawn in full for up to this many levels (fewer on a narrow terminal: half of it at most); deeper
# rows start with their depth as a number, then the innermost levels' guides, so that a 20,000-deep chain prints
# rows of a few dozen characters (output linear in rows) and names stay readable.
_MAX_GUIDE_LEVELS = 24
_DEEP_LEVELS_KEPT = 4


def guide_levels(width: int) -> int:
    return max(8, min(_MAX_GUIDE_LEVELS, (width // 2) // 3))


def service_style(service: str, services: list[str]) -> str:
    """A stable colour per service within one view (by sorted position, not by hash, so it is deterministic)."""
    return _PALETTE[services.index(service) % len(_PALETTE)] if service in services else "white"


def service_styles(services: list[str]) -> dict[str, str]:
    return {s: service_style(s, services) for s in services}


def _guides(view: TreeView, levels: int = _MAX_GUIDE_LEVELS, order: list[int] | None = None) -> dict[int, str]:
    """Tree-drawing prefix per drawn node (``order``, default the view's), in one pass over the depth-first order."""
    tree = view.tree
    order = view.order if order is None else order
    last_child: dict[int, int] = {}
    for node in order:
        last_child[tree.parent[node]] = node  # the last visible child in order wins
    line_prefix: dict[int, str] = {}
    child_prefix: dict[int, str] = {}
    for node in order:
        p = tree.parent[node]
        if p == -1:
            line_prefix[node] = ""
            child_prefix[node] = ""
            continue
        base = child_prefix[p]
        is_last = last_child.get(p) == node
        line_prefix[node] = base + ("└─ " if is_last else "├─ ")
        nxt = base + ("   " if is_last else "│  ")
        depth = tree.depth[node]
        if depth > levels:
            line_prefix[node] = f"{depth} ⋯" + line_prefix[node][-3 * (_DEEP_LEVELS_KEPT + 1) :]
            nxt = nxt[-3 * (_DEEP_LEVELS_KEPT + 1) :]  # only what deeper rows draw: each row stays short
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


def render_tree(
    view: TreeView, console: Console, tz: tzinfo | None, source: str, notes: list[str], limit: int, expand: bool = False
) -> None:
    """Print the header, the tree/waterfall table, and the tree's warnings. Repeated siblings are folded into one
    row unless ``expand`` (``tree_fold.py``)."""
    from rich.text import Text

    from tracectl.render.tree_fold import fold_runs

    tree = view.tree
    services = sorted({s.service for s in tree.spans})
    errors = sum(s.is_error for s in tree.spans)
    header = Text.assemble(
        ("Trace ", "bold"), (tree.trace_id, "bold"), "  ", (format_duration(tree.duration_ns), "bold"),
        f"  {plural(len(tree), 'span')} · {plural(len(services), 'service')}",
        (f" · {plural(errors, 'error')}" if errors else "", "red"),
    )  # fmt: skip
    console.print(header)  # wrapped between words on a narrow terminal: the trace ID stays whole
    console.print(Text(f"{format_timestamp(tree.wall_start, tz)} · {source}", style="dim"))
    order, runs = (view.order, {}) if expand else fold_runs(view, view.order)
    guides = _guides(view, guide_levels(console.width), order)
    shown = order if limit <= 0 else order[:limit]
    styles = service_styles(services)
    cells = [(node, _cells(view, node, guides[node], styles, runs.get(node))) for node in shown]
    columns = [
        Column("span", flex=32), Column("start", "right", drop=1, style="dim"),
        Column("duration", "right", keep=True), Column("self", "right", drop=2, style="dim"),
        Column("path", "right", drop=4, style="bold"), Column("", flex=16 if console.width >= 100 else 10, drop=3),
    ]  # fmt: skip
    natural = [max([len(c.header)] + [_width(text[i]) for _n, text in cells]) for i, c in enumerate(columns[:5])]
    whole = natural[0]
    if runs:  # a folded row's "(sum …, wall …)" may be cut on a narrow terminal (the wall time has its column)
        natural[0] = max([len(columns[0].header)] + [_width(text[0]) - _suffix(runs.get(n)) for n, text in cells])
        natural[0] += 2  # a cut run row ends "lookup …": the name whole
    widths = fit_widths(columns, [*natural, min(max(console.width - 100, 16), 60)], console.width)
    bar_width = widths.get(5, 0)
    if bar_width and whole > widths[0]:  # the sums before a waterfall wider than its minimum
        bar_width -= min(whole - widths[0], max(bar_width - columns[5].flex, 0))
    columns[5] = Column(_axis_label(tree.duration_ns, bar_width) if bar_width else "", flex=bar_width, drop=3)
    rows: list[list[RenderableType]] = []
    for node, text in cells:
        span = tree.spans[node]
        style = "red" if span.is_error else styles[span.service]
        run = runs.get(node)
        rows.append([*text, _bar_text(view, node, bar_width, style, run) if bar_width else Text("")])
        for member in run.members if run else (node,):
            for m in view.logs.get(member, ()):
                rows.append([log_line_text(m, tz, _log_indent(guides[node])), "", "", "", "", ""])
    console.print(fitted_table(console, columns, rows, essential={0: natural[0]}), crop=False)
    folded = sum(run.hidden for run in runs.values())
    _footer(view, console, len(shown), notes, tz, len(order), (folded, len(runs)))


def _run_suffix(view: TreeView, run: Run) -> str:
    count = (
        "" if any(("n+1", len(run.members)) in view.marks.get(m, ()) for m in run.members) else f"×{len(run.members)}  "
    )
    return f"  {count}(sum {format_duration(run.sum_ns)}, wall {format_duration(run.wall_ns)})"


def _suffix(run: Run | None) -> int:
    return len(f"  (sum {format_duration(run.sum_ns)}, wall {format_duration(run.wall_ns)})") if run else 0


def _log_indent(guide: str) -> str:
    """Log lines sit under their span, inside its guide lines."""
    base = guide[:-3] + ("   " if guide.endswith("└─ ") else "│  ") if guide else ""
    return base + "┆ "


def _width(cell: Text | str) -> int:
    return cell_width(cell if isinstance(cell, str) else cell.plain)


def _axis_label(duration_ns: int, width: int) -> str:
    end = format_duration(duration_ns)
    return "0" + " " * max(width - 1 - len(end), 1) + end


MARK_LEGEND = {"origin": "⊗ origin: where a failure began", "n+1": "×N N+1: one of N calls made one after another",
               "retry": "↻ a call made again after it failed"}  # fmt: skip


def mark_label(mark: str, count: int) -> str:
    """How the tree shows one of explain's marks: ``⊗ origin``, ``×12 N+1``, ``↻ retry 2``."""
    if mark == "n+1":
        return f"×{count} N+1"
    if mark == "retry":
        return f"↻ retry {count}"
    return "⊗ origin" if mark == "origin" else mark


def _cells(view: TreeView, node: int, guide: str, styles: dict[str, str], run: Run | None = None) -> list[Text | str]:
    """The name (styled) and the four durations of one row (of a folded run: its count, the sum and wall time in
    the name, the run's totals in the columns); the duration columns carry their own style."""
    from rich.text import Span, Text

    tree = view.tree
    span = tree.spans[node]
    members = run.members if run else (node,)
    # explain's marks lead the name, so that a narrow terminal cuts the name rather than them; a folded run
    # keeps every mark its members carry
    marked = dict.fromkeys((m, n) for member in members for m, n in view.marks.get(member, ()))
    found = [(f"{mark_label(m, n)} ", "bold magenta") for m, n in marked]
    parts: list[tuple[str, str | None]] = [(guide, "dim"), *found]
    p = tree.parent[node]
    if p < 0 or tree.spans[p].service != span.service:  # the service is written where it changes
        parts += [(span.service, styles[span.service]), (" ", None)]
    errors = run.errors if run else int(span.is_error)
    parts.append((span.name, "red" if errors else None))
    if run:  # the count, unless the N+1 mark says it already
        parts.append((_run_suffix(view, run), "bold"))
        if errors:
            parts.append((f" ✗{errors}" if errors > 1 else " ✗", "bold red"))
    elif span.is_error:
        parts.append((" ✗", "bold red"))
    if tree.orphan[node]:
        parts.append((" (parent missing)", "yellow"))
    if not tree.on_path_eligible[node] and tree.parent[node] != -1:
        parts.append((" ↷", "dim"))
    if node == view.selected:
        parts.append((" ◀ traceparent", "bold reverse"))
    spans, pos = [], 0
    for text, style in parts:
        if style and text:
            spans.append(Span(pos, pos + len(text), style))
        pos += len(text)
    start = run.start if run else tree.start[node]
    offset = start - tree.wall_start
    cp = sum(view.cp_ns[m] for m in members)
    return [
        Text("".join(text for text, _ in parts), spans=spans),
        format_duration(offset) if offset else "0",
        format_duration(run.wall_ns if run else tree.end[node] - tree.start[node]),
        format_duration(sum(view.self_ns[m] for m in members)),
        format_duration(cp) if cp else "·",
    ]


def _bar_text(view: TreeView, node: int, width: int, style: str, run: Run | None = None) -> Text:
    """The span's extent (a folded run's, first start to last end) as ░ on the shared axis, with the
    critical-path sections drawn █ over it."""
    from rich.text import Text

    tree = view.tree
    ws, we = tree.wall_start, tree.wall_end
    _, left, right = bar_cells(run.start if run else tree.start[node], run.end if run else tree.end[node], ws, we,
                               width)  # fmt: skip
    cells = [" "] * width
    for c in range(left, right):
        cells[c] = "░"
    for member in run.members if run else (node,):
        for section in view.sections_of(member):
            _, sl, sr = bar_cells(section[0], section[1], ws, we, width)
            for c in range(sl, sr):
                cells[c] = "█"
    return Text("".join(cells).rstrip(), style=style)


def _footer(
    view: TreeView, console: Console, shown: int, notes: list[str], tz: tzinfo | None, rows: int,
    folded: tuple[int, int] = (0, 0),
) -> None:  # fmt: skip
    from rich.text import Text

    omitted = rows - shown
    if view.hidden or omitted or folded[0]:
        parts = []
        if view.hidden:
            parts.append(f"{view.hidden} spans hidden by {'/'.join(view.hidden_by)}")
        if folded[0]:
            runs = f"{folded[1]} row" + ("s" if folded[1] != 1 else "")
            parts.append(f"{folded[0]} spans of repeated calls folded into {runs} (--expand shows them)")
        if omitted:
            parts.append(f"{omitted} more rows not shown (--limit 0 shows all)")
        console.print(Text("… " + "; ".join(parts), style="dim"))
    legend = f"█ critical path ({format_duration(view.analysis.path.length_ns)}) · ░ rest of the span"
    if any(not view.tree.on_path_eligible[n] and view.tree.parent[n] != -1 for n in view.order):
        legend += " · ↷ async or outside its parent: cannot be on the parent's path"
    if view.selected >= 0:
        legend += f" · ◀ the span the traceparent names ({view.tree.keys[view.selected]})"
    shown_marks = {m for n in view.order for m, _ in view.marks.get(n, ())}
    legend += "".join(f" · {MARK_LEGEND[m]}" for m in MARK_LEGEND if m in shown_marks)
    console.print(Text(legend, style="dim"))  # wrapped at the terminal's width, between words
    unmatched = view.logs.get(-1, [])
    if unmatched:
        console.print(Text(f"{len(unmatched)} log lines matched no span:", style="yellow"))
        for m in unmatched:
            console.print(log_line_text(m, tz, "  "), soft_wrap=True)
    if view.tree.warnings:  # the warnings themselves go to stderr; the table says the data was repaired
        kinds = ", ".join(w.kind for w in view.tree.warnings)
        console.print(Text(f"⚠ the data was repaired ({kinds}): see the warnings on stderr", style="yellow"))


def _table(shown: Shown, console: Console, opts: RenderOptions) -> None:
    for n, view in enumerate(shown.views):
        if n:
            console.print()
        render_tree(view, console, opts.tz, shown.source, shown.notes, opts.limit, opts.extra.get("expand", False))


def span_document(view: TreeView, node: int) -> dict[str, Any]:
    """One span of a trace's JSON document: its full row and, when it has some, its log lines."""
    row = span_row(view, node, full=True)
    lines = view.logs.get(node)
    if lines is not None:
        row["logs"] = [log_document(m) for m in lines]
    return row


def streamed_trace_document(view: TreeView, source: str, notes: list[str]) -> dict[str, Any]:
    """``trace_document`` with its spans as a ``Lazy`` array: each span's row is made, encoded and dropped in turn
    as the document is written (the header is ``trace_document``'s own, made without the spans)."""
    document = trace_document(replace(view, order=[]), source, notes)
    document["spans"] = Lazy(lambda: (span_document(view, node) for node in view.order))  # in its place
    return document


def _document(shown: Shown, opts: RenderOptions) -> dict[str, Any]:
    traces = Lazy(lambda: (streamed_trace_document(v, shown.source, shown.notes) for v in shown.views), walk=True)
    return {"traces": traces, "warnings": shown.warnings}


SHOW = Renderer(
    document=_document,
    rows=lambda shown, opts: (
        span_row(v, i, full=opts.extra.get("full_rows", True)) for v in shown.views for i in v.order
    ),
    table=_table,
)
