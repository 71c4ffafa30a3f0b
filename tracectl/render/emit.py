"""One way out for every result: ``emit(result, fmt, target)``.

A result is plain data with its schema name and CSV columns; its renderer (``tracectl.render.registry``, chosen
by the result's type) makes its JSON document, its rows (for JSON Lines and CSV) and its terminal table, which
library users get from ``document``, ``rows`` and ``table`` here. ``emit`` renders the whole answer into a
buffer first and writes it in one go, so a failure while rendering never leaves half an answer on stdout. JSON,
JSON Lines and CSV are made as UTF-8 bytes (``machine.Blocks``) and written as such: no text copy of a large answer.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from tracectl.render import machine
from tracectl.render.registry import renderer_for
from tracectl.results import RenderOptions

__all__ = ["Emittable", "RenderOptions", "Target", "document", "emit", "encoded", "keep", "render", "rows", "table"]

if TYPE_CHECKING:
    from rich.console import Console


class Emittable(Protocol):
    schema: ClassVar[str]
    columns: ClassVar[tuple[str, ...]]  # CSV columns, in order


def document(result: Any, opts: RenderOptions | None = None) -> dict[str, Any]:
    """``result``'s JSON document (without the schema envelope), its ``Lazy`` arrays made into lists."""
    made: dict[str, Any] = machine.plain(renderer_for(result).document(result, opts or RenderOptions()))
    return made


def rows(result: Any, opts: RenderOptions | None = None) -> Iterable[Mapping[str, Any]]:
    """``result``'s rows, as JSON Lines and CSV write them."""
    return renderer_for(result).rows(result, opts or RenderOptions())


def table(result: Any, console: Console, opts: RenderOptions | None = None) -> None:
    """Print ``result``'s terminal view on ``console``."""
    renderer_for(result).table(result, console, opts or RenderOptions())


class Target(Protocol):
    """Where output goes: the CLI's environment (stdout, its terminal settings)."""

    def buffer_console(self, buffer: io.StringIO) -> Console: ...

    def write(self, text: str, styled: bool = False) -> None: ...

    # A target may also have ``write_utf8(pieces: Iterable[bytes])``: JSON, JSON Lines and CSV then reach it as the
    # UTF-8 pieces they are made in (the CLI's ``Env`` writes them to stdout without a text copy); another target
    # gets them decoded, through ``write``.


def encoded(result: Emittable, fmt: str, target: Target, opts: RenderOptions) -> Iterable[bytes] | str:
    """The whole answer: JSON, JSON Lines and CSV as UTF-8 pieces (``machine.Blocks``), the others as text."""
    renderer = renderer_for(result)
    if fmt == "json":
        return machine.json_blocks(renderer.document(result, opts), result.schema).pieces()
    if fmt == "jsonl":
        return machine.jsonl_blocks(renderer.rows(result, opts)).pieces()
    if fmt == "csv":
        return machine.csv_blocks(renderer.rows(result, opts), result.columns, raw=opts.csv_raw).pieces()
    if fmt == "table":
        buffer = io.StringIO()
        renderer.table(result, target.buffer_console(buffer), opts)
        return buffer.getvalue()
    other = renderer.other(result, fmt)  # a result type's own extra format (logs: raw lines)
    if other is None:
        raise ValueError(f"{type(result).__name__} cannot be written as {fmt}")
    return str(other(result, opts))


def render(result: Emittable, fmt: str, target: Target, opts: RenderOptions) -> str:
    """The whole answer as text."""
    answer = encoded(result, fmt, target, opts)
    return answer if isinstance(answer, str) else b"".join(answer).decode()


def emit(result: Emittable, fmt: str, target: Target, opts: RenderOptions | None = None) -> None:
    """Render ``result`` as ``fmt`` (table, json, jsonl, csv, or one of its own) and write it to ``target``."""
    answer = encoded(result, fmt, target, opts or RenderOptions())
    write_utf8 = getattr(target, "write_utf8", None)
    if isinstance(answer, str):
        target.write(answer, styled=fmt == "table")
    elif write_utf8 is not None:
        write_utf8(answer)
    else:
        target.write(b"".join(answer).decode())


def keep(rows: Sequence[Any], top: int) -> Sequence[Any]:
    """The first ``top`` rows (all when ``top`` is 0)."""
    return rows[:top] if top else rows
