"""Every file written is whole or absent: reports and exports are renamed into place, and SIGTERM or SIGHUP ends
a command like Ctrl-C (143, 129), with the earlier file at the path intact and no temporary file left."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from tests.builders import span, trace
from tracectl.atomic import write_atomically
from tracectl.cli.app import Terminated
from tracectl.errors import InputError
from tracectl.formats import otlp_json

EARLIER = b'{"an": "earlier, good export"}\n'


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_a_write_replaces_the_file_and_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_bytes(EARLIER)
    target.chmod(0o640)
    write_atomically(target, "new ✓")
    assert target.read_text(encoding="utf-8") == "new ✓" and target.stat().st_mode & 0o777 == 0o640
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("interrupt", [Terminated(signal.SIGTERM), KeyboardInterrupt(), OSError(28, "No space")])
def test_an_interrupted_write_leaves_the_earlier_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interrupt: BaseException
) -> None:
    target = tmp_path / "r.json"
    target.write_bytes(EARLIER)

    def fail(_fd: int) -> None:
        raise interrupt

    monkeypatch.setattr(os, "fsync", fail)  # the bytes are in the temporary file, not yet renamed
    with pytest.raises(InputError if isinstance(interrupt, OSError) else type(interrupt)):
        write_atomically(target, b"x" * 1_000_000)
    assert target.read_bytes() == EARLIER and leftovers(tmp_path) == []


def test_a_folder_that_cannot_be_written_is_exit_2_and_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing/r\.md: cannot write"):
        write_atomically(tmp_path / "missing" / "r.md", "x")


# ---------------------------------------------------------------------------------------- a real process


@pytest.fixture(scope="module")
def big_trace() -> bytes:
    """An OTLP JSON trace of 40,000 spans (a few MB): reading, analysing and writing it takes a while."""
    root = span("root", 0, 40_000_000, service="api")
    spans = [root] + [span(f"s{n}", n * 1000, n * 1000 + 900, parent="root", service=f"svc{n % 50}")
                      for n in range(40_000)]  # fmt: skip
    return orjson.dumps(otlp_json.dump_document([trace(*spans)]))


def tracectl(*args: str, **kw: object) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TEMPO_ADDR": "", "JAEGER_ADDR": "", "NO_COLOR": "1"}
    return subprocess.Popen([sys.executable, "-m", "tracectl", *args], env=env, stderr=subprocess.PIPE, **kw)  # type: ignore[call-overload]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_reading_ends_the_command_like_ctrl_c(tmp_path: Path, big_trace: bytes, signum: int) -> None:
    target = tmp_path / "r.md"
    target.write_bytes(EARLIER)
    proc = tracectl("export", "-", "-f", "md", "--out", str(target), stdin=subprocess.PIPE)
    assert proc.stdin is not None and proc.stderr is not None
    # More than a pipe holds: this write returns only once tracectl is reading, its handlers in place.
    proc.stdin.write(big_trace[: len(big_trace) // 2])
    proc.stdin.flush()
    proc.send_signal(signum)
    with contextlib.suppress(BrokenPipeError):  # it may have stopped reading already
        proc.stdin.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 128 + signum
    assert err.strip() == f"tracectl: stopped by {signal.Signals(signum).name}" and "Traceback" not in err
    assert target.read_bytes() == EARLIER and leftovers(tmp_path) == []


def test_sigterm_during_a_large_export_leaves_the_earlier_file_or_the_whole_new_one(
    tmp_path: Path, big_trace: bytes
) -> None:
    source = tmp_path / "big.json"
    source.write_bytes(big_trace)
    whole = tmp_path / "whole.md"
    first = tracectl("export", str(source), "-f", "md", "--out", str(whole))
    assert first.wait(timeout=300) == 0
    target = tmp_path / "r.md"
    target.write_bytes(EARLIER)
    proc = tracectl("export", str(source), "-f", "md", "--out", str(target))
    while proc.poll() is None and not leftovers(tmp_path):  # the moment the temporary file exists: mid-write
        time.sleep(0.001)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) in (0, 143)  # 0: the rename came first
    assert target.read_bytes() in (EARLIER, whole.read_bytes())
    assert leftovers(tmp_path) == []
