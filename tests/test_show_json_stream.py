"""``show -o json|jsonl|csv`` made as bytes, a span row at a time (issue 24, memory): the same bytes as the document
built whole and dumped by orjson, nothing on stdout when rendering fails, a large answer spilled whole to an
anonymous temporary file."""

from __future__ import annotations

import io
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tracectl.analysis.logs import MatchedLog
from tracectl.analysis.tree_rows import SHOW_SCHEMA, span_row, trace_document
from tracectl.cli.env import Env
from tracectl.cli.main import app
from tracectl.model import LogRecord
from tracectl.render import machine
from tracectl.render.emit import RenderOptions, document, encoded
from tracectl.render.machine import Blocks, Lazy
from tracectl.workflows.inspect import Shown, show

runner = CliRunner()
PRETTY = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
TRACE_FILES = sorted(p for p in [*FIXTURES.glob("*.json*"), *FIXTURES.glob("*.pb"), *(FIXTURES / "messy").iterdir()])


def whole_document(shown: Shown) -> bytes:
    """The document as ``show -o json`` built it before: every trace's ``trace_document`` (all its span rows as
    dicts) in one dict, dumped by orjson at once."""
    body = {
        "schema": SHOW_SCHEMA,
        "traces": [trace_document(v, shown.source, shown.notes) for v in shown.views],
        "warnings": shown.warnings,
    }
    return orjson.dumps(body, default=machine._default, option=PRETTY) + b"\n"


def written(shown: Shown, fmt: str, **extra: Any) -> bytes:
    return b"".join(encoded(shown, fmt, Env(), RenderOptions(extra=extra)))  # type: ignore[arg-type]


def with_logs(shown: Shown) -> Shown:
    """The first trace with log lines under its first and last visible spans, and one matched to no span."""
    view = shown.views[0]
    first, last = view.order[0], view.order[-1]

    def line(node: int, text: str) -> MatchedLog:
        return MatchedLog(LogRecord(view.tree.start[first] + 5, text), node, "error", "span_id")

    logs = {first: [line(first, "boom \x1b[31m ✗"), line(first, "again")], last: [line(last, "{}")],
            -1: [line(-1, "nobody's")]}  # fmt: skip
    return Shown(shown.source, [replace(view, logs=logs), *shown.views[1:]], shown.notes, ["a warning"])


@pytest.mark.parametrize("path", TRACE_FILES, ids=lambda p: p.name)
def test_json_is_byte_identical_to_the_document_built_whole(path: Path) -> None:
    shown = show(None, str(path))
    assert written(shown, "json") == whole_document(shown)
    as_read = orjson.dumps({"schema": SHOW_SCHEMA, **document(shown)}, default=machine._default, option=PRETTY) + b"\n"
    assert as_read == whole_document(shown)
    assert orjson.loads(written(shown, "json"))["traces"][0]["span_count"] == len(shown.views[0].tree)


def test_json_with_logs_filters_and_a_selected_span_is_byte_identical() -> None:
    ml = str(FIXTURES / "ml-inference.otlp.json")
    plain = show(None, ml)
    logged = with_logs(plain)
    assert b'"unmatched_logs"' in written(logged, "json") and b'"logs": [' in written(logged, "json")
    assert written(logged, "json") == whole_document(logged)
    node = plain.views[0].order[3]
    selected = show(None, ml, critical=True, max_depth=2, min_duration_ns=1)
    assert selected.views[0].hidden > 0
    assert written(selected, "json") == whole_document(selected)
    marked = Shown(plain.source, [replace(plain.views[0], selected=node)], ["a note"], [])
    assert b'"selected": true' in written(marked, "json")
    assert written(marked, "json") == whole_document(marked)
    nothing = Shown("empty", [], [], [])
    assert (
        written(nothing, "json")
        == whole_document(nothing)
        == b'{\n  "schema": "tracectl.show/v1",\n  "traces": [],\n  "warnings": []\n}\n'
    )


def test_library_document_has_lists_not_lazy_arrays() -> None:
    shown = with_logs(show(None, str(FIXTURES / "ml-inference-2-traces.jaeger.json")))
    doc = document(shown)
    assert isinstance(doc["traces"], list) and isinstance(doc["traces"][0]["spans"], list)
    assert doc == {"traces": [trace_document(v, shown.source, shown.notes) for v in shown.views],
                   "warnings": shown.warnings}  # fmt: skip


def test_jsonl_and_csv_are_the_rows_as_before() -> None:
    shown = show(None, str(FIXTURES / "ml-inference-2-traces.jaeger.json"))
    rows = [span_row(v, i, full=True) for v in shown.views for i in v.order]
    expected = b"".join(orjson.dumps(r, default=machine._default) + b"\n" for r in rows)
    assert written(shown, "jsonl", full_rows=True) == expected
    csv_text = written(shown, "csv", full_rows=False).decode()
    assert csv_text.splitlines()[0] == ",".join(Shown.columns)
    assert len(csv_text.splitlines()) == 1 + sum(len(v.order) for v in shown.views)


# ------------------------------------------------------------------------------------- the writer alone


def random_value(rng: random.Random, depth: int) -> Any:
    kind = rng.randrange(9 if depth < 4 else 5)
    if kind == 0:
        return rng.choice([None, True, False, 0, -3, 2**63 - 1, 1.5, -0.0])
    if kind == 1:
        return rng.choice(["", "a", 'quote " and \\ and \n newline', "ünï ✓ \x1b[1m", "\u2028"])
    if kind == 2:
        return rng.choice([b"\x00\xff", (1, "two"), ()])
    if kind in (3, 4):
        return rng.randrange(-5, 5)
    if kind == 5:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 6:
        keys = [rng.choice(["k", "spans", "é", 7, "x y"]) for _ in range(rng.randrange(4))]
        return {k: random_value(rng, depth + 1) for k in keys}
    items = [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return Lazy(lambda: iter(items), walk=rng.random() < 0.5)


@pytest.mark.parametrize("seed", range(200))
def test_lazy_arrays_write_what_orjson_writes_for_lists(seed: int) -> None:
    rng = random.Random(seed)
    doc = {rng.choice(["a", "b", "c", 1, "traces"]): random_value(rng, 0) for _ in range(rng.randrange(1, 5))}
    expected = orjson.dumps({"schema": "s", **machine.plain(doc)}, default=machine._default, option=PRETTY) + b"\n"
    assert b"".join(machine.json_blocks(doc, "s").pieces()) == expected
    assert machine.to_json(doc, "s") == expected.decode()


def test_lazy_arrays_are_made_while_written_not_before() -> None:
    made: list[int] = []

    def rows() -> Any:
        for i in range(3):
            made.append(i)
            yield {"i": i}

    out = Blocks()
    machine.json_blocks({"rows": Lazy(rows)}, "s", out)
    assert made == [0, 1, 2]
    assert orjson.loads(b"".join(out.pieces())) == {"schema": "s", "rows": [{"i": 0}, {"i": 1}, {"i": 2}]}


def test_pieces_are_whole_utf8_and_spill_to_an_anonymous_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(machine, "BLOCK_BYTES", 10)
    monkeypatch.setattr(machine.tempfile, "tempdir", str(tmp_path))
    out = Blocks(spill_after=25)
    parts = [("✓" * n + str(n)).encode() for n in range(40)]
    for part in parts:
        out.write(part)
    assert out._file is not None and out._done == [] and list(tmp_path.iterdir()) == []  # on disk, and nameless
    pieces = list(out.pieces())
    assert b"".join(pieces) == b"".join(parts)
    assert all(len(p) >= 10 for p in pieces[:-1]) and [p.decode() for p in pieces]  # cut between writes only
    assert out._file is None and list(out.pieces()) == []


class FullDisk(io.RawIOBase):
    """A temporary file that takes ``room`` bytes, then fails as a full disk does."""

    def __init__(self, room: int) -> None:
        self.data, self.room, self.at = bytearray(), room, 0

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        if len(self.data) + len(b) > self.room:
            take = self.room - len(self.data)
            if take <= 0:
                raise OSError(28, "No space left on device")
            self.data += bytes(b[:take])
            return take
        self.data += bytes(b)
        return len(b)

    def seek(self, pos: int, whence: int = 0) -> int:
        self.at = pos
        return pos

    def read(self, size: int = -1) -> bytes:
        got = bytes(self.data[self.at : self.at + min(size, 7)])  # short reads, to be read on
        self.at += len(got)
        return got


def test_a_full_disk_keeps_the_answer_whole_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(machine, "BLOCK_BYTES", 10)
    monkeypatch.setattr(machine.tempfile, "TemporaryFile", lambda **_kw: FullDisk(room=45))
    out = Blocks(spill_after=25)
    parts = [f"part {n:03d};".encode() for n in range(30)]
    for part in parts:
        out.write(part)
    assert out._file is None and out._spill_after is None  # gave up spilling: the rest stayed in memory
    assert b"".join(out.pieces()) == b"".join(parts)


# ------------------------------------------------------------------------------------------- to stdout


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
@pytest.mark.parametrize("spill", [False, True])
def test_an_error_mid_render_leaves_stdout_empty(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fmt: str, spill: bool
) -> None:
    from tracectl.render import tree_view

    calls = []
    opened: list[int] = []

    def failing_row(view: Any, node: int, full: bool) -> dict[str, Any]:
        calls.append(node)
        if len(calls) == 20:
            raise RuntimeError("row 20 broke")
        return span_row(view, node, full)

    if spill:  # the first rows are already in the temporary file when the error comes
        monkeypatch.setattr(machine, "BLOCK_BYTES", 64)
        monkeypatch.setattr(machine, "SPILL_BYTES", 128)
        monkeypatch.setattr(machine.tempfile, "tempdir", str(tmp_path))
        real = machine.tempfile.TemporaryFile
        monkeypatch.setattr(machine.tempfile, "TemporaryFile", lambda **kw: opened.append(1) or real(**kw))
    ml = str(FIXTURES / "ml-inference-2-traces.jaeger.json")
    good = runner.invoke(app, ["show", ml, "-o", fmt])
    assert good.exit_code == 0 and len(good.stdout_bytes) > 2000
    monkeypatch.setattr(tree_view, "span_row", failing_row)
    result = runner.invoke(app, ["show", ml, "-o", fmt])
    assert len(calls) == 20
    assert len(opened) == 2 * spill  # the good answer and the broken one were both spilled
    assert result.exit_code == 1 and "row 20 broke" in result.stderr
    assert result.stdout_bytes == b""
    assert list(tmp_path.iterdir()) == []


def test_cli_writes_the_bytes_the_renderer_made() -> None:
    ml = str(FIXTURES / "ml-inference.otlp.json")
    result = runner.invoke(app, ["show", ml, "-o", "json"])
    assert result.exit_code == 0
    assert result.stdout_bytes == whole_document(show(None, ml))


def utf8_pipe(encoding: str = "utf-8") -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding, newline="\n")


def test_write_utf8_to_a_pipe_a_terminal_and_another_encoding() -> None:
    pieces = ['{"a": "\x1b[31m ✓"'.encode(), b"}\n"]
    pipe = utf8_pipe()
    pipe.write("before ")  # text already written goes first
    Env(stdout_stream=pipe).write_utf8(pieces)
    assert pipe.buffer.getvalue() == b"before " + b"".join(pieces)  # type: ignore[attr-defined]
    terminal = utf8_pipe()
    Env(stdout_stream=terminal, force_terminal=True).write_utf8(iter(pieces))
    shown = terminal.buffer.getvalue().decode()  # type: ignore[attr-defined]
    assert "\x1b" not in shown and "✓" in shown and shown.endswith("}\n")  # control characters shown, not run
    latin = utf8_pipe("latin-1")
    Env(stdout_stream=latin).write_utf8([b'"\xc3\xa9"\n'])
    assert latin.buffer.getvalue() == b'"\xe9"\n'  # type: ignore[attr-defined]  # as text in the stream's encoding
    text_only = io.StringIO()
    Env(stdout_stream=text_only).write_utf8(pieces)
    assert text_only.getvalue() == b"".join(pieces).decode()


def test_export_json_is_the_document_built_whole(tmp_path: Path) -> None:
    from tracectl.analysis.analyse import analyse_trace
    from tracectl.analysis.tree_rows import make_view
    from tracectl.formats.detect import read_source
    from tracectl.render.export import write_up

    path = FIXTURES / "ml-inference-3-traces.otlp.jsonl"
    traces = read_source(str(path)).traces
    docs = [trace_document(make_view(analyse_trace(t)), "export", []) for t in traces]
    expected = orjson.dumps({"schema": SHOW_SCHEMA, "traces": docs}, default=machine._default, option=PRETTY) + b"\n"
    assert write_up(traces, "json") == expected.decode()
    out = tmp_path / "trace.json"
    result = runner.invoke(app, ["export", str(path), "-o", "json", "--out", str(out)])
    assert result.exit_code == 0 and out.read_bytes() == expected
    assert runner.invoke(app, ["export", str(path), "-o", "json"]).stdout_bytes == expected


def test_a_target_without_write_utf8_gets_the_same_text() -> None:
    from tracectl.render.emit import emit

    class TextTarget:
        def __init__(self) -> None:
            self.written: list[tuple[str, bool]] = []

        def buffer_console(self, buffer: io.StringIO) -> Any:
            raise AssertionError("not for json")

        def write(self, text: str, styled: bool = False) -> None:
            self.written.append((text, styled))

    shown = show(None, str(FIXTURES / "ml-inference.otlp.json"))
    target = TextTarget()
    emit(shown, "json", target)
    assert target.written == [(whole_document(shown).decode(), False)]
