"""Tables that fit the terminal without cutting what matters.

Trace IDs and durations are never cut: a column marked ``keep`` keeps its natural width. When a table is wider
than the terminal, flexible optional columns (waterfalls) narrow first, down to their minimum; then optional
columns are left out, least important first; only then do names (flexible columns that cannot be left out)
shrink, down to their minimum, with an ellipsis. A name is what the reader looks for: numbers give way to it
(JSON and CSV always carry everything).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

GAP = 3  # between columns: a cell pad, the (blank) divider, a cell pad


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    justify: str = "left"
    keep: bool = False  # never shrunk nor dropped (IDs, durations)
    flex: int = 0  # > 0: may shrink down to this many characters, with an ellipsis
    drop: int = 0  # > 0: may be left out; lower numbers go first
    style: str | None = None


# Characters that take two cells (CJK, Hangul, full-width forms, emoji) or none (combining marks, zero-width
# joiners). Without any of them a string is as wide as it is long: the common case, measured without rich's
# per-character table (box-drawing guides, µ, █ and ░ are all one cell wide).
_NOT_ONE_CELL = re.compile(
    "[\u0300-\u036f\u1100-\u115f\u200b-\u200f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe00-\ufe4f"
    "\uff00-\uff60\uffe0-\uffe6\U0001f000-\U0001faff\U00020000-\U0003fffd]"
)


def cell_width(text: str) -> int:
    """Terminal cells ``text`` takes."""
    if text.isascii() or not _NOT_ONE_CELL.search(text):
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def _cell_len(cell: Any) -> int:
    from rich.text import Text

    if isinstance(cell, Text):
        return cell_width(cell.plain)
    if isinstance(cell, str):
        return cell_width(cell)
    return 0


def fit_widths(columns: Sequence[Column], natural: Sequence[int], total: int) -> dict[int, int]:
    """Column index → width, for the columns that stay: optional columns go (least important first) until the
    rest fits with flexible columns at their minimum; the room left is then given back to flexible columns."""
    # names at their natural width while optional columns can still give way; waterfalls at their minimum
    floor = [min(natural[i], c.flex) if c.flex and c.drop else natural[i] for i, c in enumerate(columns)]
    kept = list(range(len(columns)))

    def need(widths: Sequence[int]) -> int:
        return sum(widths[i] for i in kept) + GAP * (len(kept) - 1)

    while need(floor) > total:
        optional = [i for i in kept if columns[i].drop]
        if not optional:
            shrinkable = [i for i in kept if columns[i].flex and floor[i] > min(natural[i], columns[i].flex)]
            if not shrinkable:
                break  # only what must stay is left: the terminal wraps it
            for i in shrinkable:  # last resort: names shrink (the room left is given back below)
                floor[i] = min(natural[i], columns[i].flex)
            continue
        kept.remove(min(optional, key=lambda i: (columns[i].drop, -i)))
    widths = {i: floor[i] for i in kept}
    room = total - need(floor)
    for i in kept:  # left to right: the first flexible column (usually the name) gets the room first
        if room <= 0:
            break
        grow = min(room, natural[i] - widths[i])
        widths[i] += grow
        room -= grow
    return widths


@dataclass(frozen=True, slots=True)
class FittedTable:
    """A table drawn as plain lines of fixed-width cells: the look of rich's simple table, at a fraction of its
    cost (50,000 rows in a second or two rather than half a minute), because cells are cut and padded once."""

    columns: tuple[Column, ...]
    widths: tuple[int, ...]
    rows: tuple[tuple[Any, ...], ...]
    sizes: tuple[tuple[int, ...], ...]  # cells each cell takes, measured once
    title: str | None = None

    def __rich_console__(self, console: Console, options: Any) -> Any:
        from rich.segment import Segment
        from rich.text import Text

        gap = Segment(" " * GAP)
        plain = console.color_system is None  # no styles will be written: skip composing them
        if self.title:
            yield from Text(self.title, style="italic").render(console)
            yield Segment.line()
        header = tuple(Text(c.header, style="bold") for c in self.columns)
        header_sizes = tuple(_cell_len(c.header) for c in self.columns)
        if plain:  # no styles: one segment per line (a 20,000-row table is 20,000 segments, not 300,000)
            yield from self._plain_lines(header, header_sizes)
            return
        for n, (row, sizes) in enumerate(zip((header, *self.rows), (header_sizes, *self.sizes), strict=True)):
            last = len(row) - 1
            for i, (given, width, column) in enumerate(zip(row, self.widths, self.columns, strict=True)):
                if i:
                    yield gap
                size, cell = sizes[i], given
                if size > width or not isinstance(cell, str | Text):
                    cell = given.copy() if isinstance(given, Text) else Text(str(given) if given is not None else "")
                    if isinstance(given, str) and column.style:
                        cell.stylize(column.style)
                    cell.truncate(width, overflow="ellipsis")
                    size = cell.cell_len
                if column.justify == "right" and size < width:
                    yield Segment(" " * (width - size))
                if isinstance(cell, str):  # a plain cell takes its column's style
                    yield Segment(cell, None if plain or not column.style else console.get_style(column.style))
                elif plain:
                    yield Segment(cell.plain)
                else:
                    yield from cell.render(console)
                if column.justify != "right" and size < width and i < last:
                    yield Segment(" " * (width - size))
            yield Segment.line()
            if n == 0:
                yield Segment("─" * (sum(self.widths) + GAP * (len(self.widths) - 1)), console.get_style("dim"))
                yield Segment.line()

    def _plain_lines(self, header: tuple[Any, ...], header_sizes: tuple[int, ...]) -> Any:
        from rich.segment import Segment
        from rich.text import Text

        gap, last = " " * GAP, len(self.columns) - 1
        rule = "─" * (sum(self.widths) + GAP * (len(self.widths) - 1))
        for n, (row, sizes) in enumerate(zip((header, *self.rows), (header_sizes, *self.sizes), strict=True)):
            parts = []
            for i, (given, width, column) in enumerate(zip(row, self.widths, self.columns, strict=True)):
                text = given if isinstance(given, str) else given.plain if isinstance(given, Text) else ""
                size = sizes[i] if isinstance(given, str | Text) else 0
                if size > width:
                    cut = Text(text)
                    cut.truncate(width, overflow="ellipsis")
                    text, size = cut.plain, cut.cell_len
                if size < width and (column.justify == "right" or i < last):
                    text = " " * (width - size) + text if column.justify == "right" else text + " " * (width - size)
                parts.append(text)
            yield Segment(gap.join(parts))
            yield Segment.line()
            if n == 0:
                yield Segment(rule)
                yield Segment.line()


def _shown(cell: Any) -> Any:
    """A cell with its control characters made visible (same length): the table writes segments itself, past
    ``SafeConsole``'s own check."""
    from rich.text import Text

    from tracectl.render.safe_text import is_safe, visible

    if isinstance(cell, str):
        return visible(cell)
    if isinstance(cell, Text) and not cell.plain.isprintable() and not is_safe(cell.plain):
        safe = cell.copy()
        safe.plain = visible(cell.plain)
        return safe
    return cell


def fitted_table(
    console: Console, columns: Sequence[Column], rows: Sequence[Sequence[RenderableType]], title: str | None = None,
    essential: dict[int, int] | None = None,
) -> FittedTable:  # fmt: skip
    """A table of ``rows`` with the columns that fit ``console.width`` (see the module's docstring). ``essential``:
    column index → the width its cells need whole (longer cells may be cut: what follows a name)."""
    shown_rows, sizes = [], []
    for row in rows:  # one pass, plain strings on a fast path: a 20,000-row table has 200,000 cells
        cells, cell_sizes = [], []
        for given in row:
            if type(given) is str:
                text = given if given.isprintable() else _shown(given)
                cells.append(text)
                cell_sizes.append(len(text) if text.isascii() else cell_width(text))
            else:
                cell = _shown(given)
                cells.append(cell)
                cell_sizes.append(_cell_len(cell))
        shown_rows.append(tuple(cells))
        sizes.append(tuple(cell_sizes))
    rows = shown_rows
    full = [max([_cell_len(c.header)] + [s[i] for s in sizes]) for i, c in enumerate(columns)]
    natural = list(full)
    for i, width in (essential or {}).items():
        natural[i] = min(natural[i], max(width, _cell_len(columns[i].header)))
    widths = fit_widths(columns, natural, console.width)
    room = console.width - sum(widths.values()) - GAP * (len(widths) - 1)
    for i in essential or {}:  # what room is left shows more of what follows the names
        if i in widths and room > 0:
            grow = min(room, full[i] - widths[i])
            widths[i] += grow
            room -= grow
    kept = sorted(widths)
    return FittedTable(
        tuple(columns[i] for i in kept), tuple(widths[i] for i in kept),
        tuple(tuple(row[i] for i in kept) for row in rows), tuple(tuple(s[i] for i in kept) for s in sizes), title,
    )  # fmt: skip


def say_cut(console: Console, total: int, shown: int, what: str, flag: str) -> None:
    """A table cut at ``shown`` of ``total`` rows says so, with the flag that lifts the cut."""
    if 0 < shown < total:
        from rich.text import Text

        console.print(Text(f"… {total - shown} more {what} ({flag} shows all)", style="dim"))
