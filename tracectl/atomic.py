"""Every file tracectl writes is whole or absent: the one way reports and exports reach the disk.

The bytes go to a hidden temporary file in the target's own folder (so the final rename never crosses file
systems), are flushed to disk, and the file is renamed over the target in one step. Until that rename an
earlier file at the path is untouched; if anything interrupts the write (an error, Ctrl-C, SIGTERM from
``timeout`` or Kubernetes, SIGHUP), the temporary file is removed and the earlier file stays as it was.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tracectl.errors import InputError


def _new_file_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give a new file: 0o666 less the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP while the temporary file is made: one arriving inside ``mkstemp`` (the file made,
    its name not yet returned) would leave it behind. A held signal is raised when this ends."""
    block = getattr(signal, "pthread_sigmask", None)
    if block is None:  # not POSIX
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])}
    previous = block(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        block(signal.SIG_SETMASK, previous)


def write_atomically(path: Path, data: bytes | str) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8) in one rename; a path that cannot be written is
    the user's error (exit 2). An existing file keeps its permissions."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    folder = path.parent if str(path.parent) else Path()
    temporary = ""
    try:
        mode = path.stat().st_mode & 0o7777 if path.exists() else _new_file_mode()
        with _signals_held():  # a signal held here is raised inside this try, when the name is known
            fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)  # noqa: PTH101 (a str path from mkstemp)
        os.replace(temporary, path)  # noqa: PTH105 (one rename, the step that makes the file whole)
    except BaseException as exc:  # KeyboardInterrupt and SIGTERM too: leave nothing half-written behind
        if temporary:
            with contextlib.suppress(OSError):
                os.unlink(temporary)  # noqa: PTH108
        if isinstance(exc, OSError):
            raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from None
        raise
