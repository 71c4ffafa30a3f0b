"""Machine-readable writers shared by every command: JSON (with a schema version), JSON Lines, CSV.

Each writes UTF-8 bytes into ``Blocks``: the whole answer, made before any of it reaches stdout (nothing
half-written if rendering fails), held once, as bytes, never as a ``str`` copy. A JSON document may hold ``Lazy``
arrays, whose items (a large trace's span rows) are made and encoded one at a time while the document is written,
so that no list of every row exists; the bytes are those ``orjson.dumps`` with ``OPT_INDENT_2`` would give for the
same document with the arrays as lists.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

import orjson

_PRETTY = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
BLOCK_BYTES = 1 << 20  # the size of the pieces an answer is held in
SPILL_BYTES = 32 << 20  # an answer larger than this waits in a temporary file, not in memory


class Lazy:
    """An array of a JSON document whose items are made as it is written: ``make()`` gives them (again each time
    the array is read). With ``walk``, an item that is a mapping is written key by key, so a ``Lazy`` among its
    values is written item by item too (a trace's document and, in it, its spans); otherwise items are written
    whole."""

    __slots__ = ("make", "walk")

    def __init__(self, make: Callable[[], Iterable[Any]], walk: bool = False) -> None:
        self.make = make
        self.walk = walk

    def __iter__(self) -> Iterator[Any]:
        return iter(self.make())


def _default(value: Any) -> Any:
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Lazy):  # inside a value written whole: made as a list (orjson comes back for its own)
        return list(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def plain(value: Any) -> Any:
    """``value`` with its ``Lazy`` arrays made into lists (walking only where a ``Lazy`` can hide: the top-level
    mapping and the items of a walked ``Lazy``): the document a library user gets."""
    if isinstance(value, Lazy):
        return [plain(item) for item in value] if value.walk else list(value)
    if isinstance(value, Mapping):
        return {k: plain(v) if isinstance(v, Lazy) else v for k, v in value.items()}
    return value


class Blocks:
    """Bytes appended in order, kept in pieces of about ``BLOCK_BYTES`` (one growing ``bytes`` would need a second
    copy of the answer while it grows, a piece per row a Python object per row). Past ``spill_after`` bytes the
    pieces go to an anonymous temporary file (``tempfile.TemporaryFile``: no name, gone when closed or when the
    process ends, however it ends), so a large answer is still whole before any of it is written but is not held in
    memory; if that file cannot be written (no space), the pieces stay in memory."""

    __slots__ = ("_done", "_file", "_held", "_open", "_sizes", "_spill_after")

    def __init__(self, spill_after: int | None = None) -> None:  # None: SPILL_BYTES
        self._done: list[bytes] = []  # closed pieces in memory, after those in the file
        self._open = bytearray()
        self._held = 0  # bytes in ``_done``
        self._spill_after: int | None = SPILL_BYTES if spill_after is None else spill_after
        self._file: IO[bytes] | None = None
        self._sizes: list[int] = []  # the pieces in the file, in order

    def write(self, data: bytes) -> None:
        """Append ``data``; a piece ends only between two writes, so each piece is whole UTF-8."""
        self._open += data
        if len(self._open) >= BLOCK_BYTES:
            self._close_piece()

    def _close_piece(self) -> None:
        self._done.append(bytes(self._open))
        self._held += len(self._open)
        self._open.clear()
        if self._spill_after is not None and self._held > self._spill_after:
            self._spill()

    def _spill(self) -> None:
        """Move the pieces held in memory to the end of the file."""
        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile(buffering=0, prefix="tracectl-answer-")  # noqa: SIM115 (pieces())
            while self._done:
                piece = memoryview(self._done[0])
                while piece:
                    piece = piece[self._file.write(piece) or 0 :]
                self._sizes.append(len(self._done[0]))
                self._held -= len(self._done.pop(0))
        except OSError:  # no space: the rest stays in memory, and what reached the file is read back in order
            self._spill_after = None
            self._done = [*self._read_back(), *self._done]
            self._held = sum(map(len, self._done))

    def _read_back(self) -> Iterator[bytes]:
        if self._file is None:
            return
        file, sizes = self._file, self._sizes
        self._file, self._sizes = None, []
        with file:
            file.seek(0)
            for size in sizes:
                piece = file.read(size) or b""
                while len(piece) < size:  # a short read: read on
                    more = file.read(size - len(piece))
                    if not more:
                        raise OSError(f"temporary file of the answer cut short ({len(piece)} of {size} bytes)")
                    piece += more
                yield piece

    def pieces(self) -> Iterator[bytes]:
        """Everything written, in order, each piece whole UTF-8 (the temporary file, if any, is read and closed)."""
        if self._open:
            self._done.append(bytes(self._open))
            self._open.clear()
        yield from self._read_back()
        done, self._done, self._held = self._done, [], 0
        yield from done


def _key(key: Any) -> bytes:
    """A mapping key as ``OPT_NON_STR_KEYS`` writes it."""
    if isinstance(key, str):
        return orjson.dumps(key)
    return orjson.dumps({key: 0}, option=orjson.OPT_NON_STR_KEYS)[1:-3]  # {"key":0}


class _JsonWriter:
    """Writes a document as ``orjson.dumps(…, OPT_INDENT_2 | OPT_NON_STR_KEYS)`` would, ``Lazy`` arrays as lists."""

    def __init__(self, out: Blocks) -> None:
        self.out = out
        self.pads: list[bytes] = [b"\n"]  # newline and indentation, by level

    def pad(self, level: int) -> bytes:
        while len(self.pads) <= level:
            self.pads.append(self.pads[-1] + b"  ")
        return self.pads[level]

    def value(self, value: Any, level: int) -> None:
        if isinstance(value, Lazy):
            self.array(value, level)
            return
        data = orjson.dumps(value, default=_default, option=_PRETTY)
        # JSON strings never hold a raw newline: every newline is orjson's, and the value sits ``level`` deep
        self.out.write(data.replace(b"\n", self.pad(level)) if level and b"\n" in data else data)

    def mapping(self, mapping: Mapping[Any, Any], level: int) -> None:
        if not mapping:
            self.out.write(b"{}")
            return
        inner = self.pad(level + 1)
        sep = b"{"
        for key, value in mapping.items():
            self.out.write(sep + inner + _key(key) + b": ")
            self.value(value, level + 1)
            sep = b","
        self.out.write(self.pad(level) + b"}")

    def array(self, items: Lazy, level: int) -> None:
        inner = self.pad(level + 1)
        sep = b"["
        for item in items:
            self.out.write(sep + inner)
            if items.walk and isinstance(item, Mapping):
                self.mapping(item, level + 1)
            else:
                self.value(item, level + 1)
            sep = b","
        self.out.write(b"[]" if sep == b"[" else self.pad(level) + b"]")


def json_blocks(document: Mapping[str, Any], schema: str, out: Blocks | None = None) -> Blocks:
    """A whole JSON document, schema first, pretty-printed, newline-terminated, as UTF-8 ``Blocks``."""
    out = Blocks() if out is None else out
    _JsonWriter(out).mapping({"schema": schema, **document}, 0)
    out.write(b"\n")
    return out


def to_json(document: Mapping[str, Any], schema: str) -> str:
    """A whole JSON document, schema first, pretty-printed, newline-terminated (as text)."""
    return b"".join(json_blocks(document, schema).pieces()).decode()


def jsonl_blocks(rows: Iterable[Mapping[str, Any]], out: Blocks | None = None) -> Blocks:
    """One compact JSON document a row, a row a line."""
    out = Blocks() if out is None else out
    for row in rows:
        out.write(orjson.dumps(row, default=_default, option=orjson.OPT_APPEND_NEWLINE))
    return out


def to_jsonl(rows: Iterable[Mapping[str, Any]]) -> str:
    return b"".join(jsonl_blocks(rows).pieces()).decode()


def csv_blocks(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[str], raw: bool = False, out: Blocks | None = None
) -> Blocks:
    """CSV with a header; a text cell starting like a formula (``=``, ``+``, ``-``, ``@``) gets a leading ``'``
    (``safe_text.csv_cell``) unless ``raw``."""
    from tracectl.render.safe_text import csv_cell

    out = Blocks() if out is None else out
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(v) if raw else csv_cell(_csv_cell(v)) for k, v in row.items()})
        if buf.tell() >= BLOCK_BYTES:  # whole rows at a time: no character is cut
            out.write(buf.getvalue().encode())
            buf.seek(0)
            buf.truncate()
    out.write(buf.getvalue().encode())
    return out


def to_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], raw: bool = False) -> str:
    return b"".join(csv_blocks(rows, columns, raw).pieces()).decode()


def _csv_cell(value: Any) -> Any:
    """CSV cells spell booleans and nulls as JSON does, so both outputs read the same."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
