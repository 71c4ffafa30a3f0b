"""One way out for every result: ``emit(result, fmt, target)``.

A result offers its JSON document (with a schema version), its rows (for JSON Lines and CSV, with the CSV
columns), and its terminal table. ``emit`` renders the whole answer into a buffer first and writes it in one
go, so a failure while rendering never leaves half an answer on stdout.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from tracectl.render import machine

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """How a person wants to see a result; JSON, JSON Lines and CSV ignore what only concerns the terminal."""

    tz: tzinfo | None = None  # None: the machine's local zone
    top: int = 0  # rows per table (0 = all)
    limit: int = 0  # rows of a long listing (0 = all)
    extra: Mapping[str, Any] = field(default_factory=dict)  # command-specific view switches
    csv_raw: bool = False  # CSV cells as they are: no ' before a cell a spreadsheet would run as a formula


class Emittable(Protocol):
    schema: ClassVar[str]
    columns: ClassVar[tuple[str, ...]]  # CSV columns, in order

    def document(self, opts: RenderOptions) -> dict[str, Any]: ...

    def rows(self, opts: RenderOptions) -> Iterable[Mapping[str, Any]]: ...

    def table(self, console: Console, opts: RenderOptions) -> None: ...


class Target(Protocol):
    """Where output goes: the CLI's environment (stdout, its terminal settings)."""

    def buffer_console(self, buffer: io.StringIO) -> Console: ...

    def write(self, text: str, styled: bool = False) -> None: ...


def render(result: Emittable, fmt: str, target: Target, opts: RenderOptions) -> str:
    """The whole answer as text."""
    if fmt == "json":
        return machine.to_json(result.document(opts), result.schema)
    if fmt == "jsonl":
        return machine.to_jsonl(result.rows(opts))
    if fmt == "csv":
        return machine.to_csv(result.rows(opts), result.columns, raw=opts.csv_raw)
    if fmt == "table":
        buffer = io.StringIO()
        result.table(target.buffer_console(buffer), opts)
        return buffer.getvalue()
    other = getattr(result, f"as_{fmt}", None)  # a result's own extra format (logs: raw lines)
    if other is None:
        raise ValueError(f"{type(result).__name__} cannot be written as {fmt}")
    return str(other(opts))


def emit(result: Emittable, fmt: str, target: Target, opts: RenderOptions | None = None) -> None:
    """Render ``result`` as ``fmt`` (table, json, jsonl, csv, or one of its own) and write it to ``target``."""
    target.write(render(result, fmt, target, opts or RenderOptions()), styled=fmt == "table")


def keep(rows: Sequence[Any], top: int) -> Sequence[Any]:
    """The first ``top`` rows (all when ``top`` is 0)."""
    return rows[:top] if top else rows
