"""The one place that knows about the terminal: streams, TTY, colour, quietness, debug, time zone, width.

Commands receive an ``Env`` and never look at ``sys.stdout`` themselves, so tests can fake a terminal or a
pipe by building an ``Env`` (or setting ``force_terminal``). Data goes to stdout in one write per command;
warnings, progress bars and the "waiting for …" line go to stderr, the latter two only on a terminal.
"""

from __future__ import annotations

import codecs
import io
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import IO, TYPE_CHECKING, Any

from tracectl.render.safe_text import visible

if TYPE_CHECKING:
    from rich.console import Console


def _console_class() -> type[Console]:
    from tracectl.render.safe_console import SafeConsole

    class TerminalConsole(SafeConsole):
        """Shows control characters instead of executing them (``SafeConsole``), and lets a closed pipe surface as
        BrokenPipeError (rich itself exits 1 on it)."""

        def on_broken_pipe(self) -> None:
            raise BrokenPipeError

    return TerminalConsole


def _columns() -> int:
    raw = os.environ.get("COLUMNS", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else 0


def _unchanged(text: str) -> str:
    return text


@dataclass
class Env:
    stdout_stream: IO[str] | None = None  # None: sys.stdout at the time of use (so test runners can swap it)
    stderr_stream: IO[str] | None = None
    no_color: bool = False
    quiet: bool = False
    debug: bool = False
    tz: tzinfo | None = None  # None = local
    force_terminal: bool | None = None  # None = detect
    width: int | None = None
    csv_raw: bool = False  # --csv-raw: CSV cells as they are, formula starters included
    redact: Callable[[str], str] = _unchanged  # scrubs the configured credentials from messages (set with the session)
    _out: Console | None = field(default=None, repr=False)
    _err: Console | None = field(default=None, repr=False)
    _live: Any = field(default=None, repr=False)  # the active rich Progress or Status on stderr
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def stdout(self) -> IO[str]:
        return self.stdout_stream or sys.stdout

    @property
    def stderr(self) -> IO[str]:
        return self.stderr_stream or sys.stderr

    @property
    def color_allowed(self) -> bool:
        return not self.no_color and "NO_COLOR" not in os.environ

    @property
    def stdout_is_tty(self) -> bool:
        if self.force_terminal is not None:
            return self.force_terminal
        return bool(getattr(self.stdout, "isatty", lambda: False)())

    @property
    def stderr_is_tty(self) -> bool:
        if self.force_terminal is not None:
            return self.force_terminal
        return bool(getattr(self.stderr, "isatty", lambda: False)())

    def _console(self, stream: IO[str], tty: bool) -> Console:
        width = self.width or (None if tty else _columns() or 80)  # a pipe: $COLUMNS, else a terminal's 80
        return _console_class()(
            file=stream, force_terminal=tty, no_color=not self.color_allowed,
            color_system="auto" if tty and self.color_allowed else None, width=width, highlight=False,
            soft_wrap=False, emoji=False,
        )  # fmt: skip

    @property
    def out(self) -> Console:
        """Console for data on stdout (colour only on a terminal)."""
        if self._out is None:
            self._out = self._console(self.stdout, self.stdout_is_tty)
        return self._out

    @property
    def err(self) -> Console:
        """Console for progress, warnings and errors on stderr."""
        if self._err is None:
            self._err = self._console(self.stderr, self.stderr_is_tty)
        return self._err

    def buffer_console(self, buffer: io.StringIO) -> Console:
        """A console like ``out`` (same width, colours, terminal-ness) that writes into ``buffer``."""
        out = self.out
        colour = out.is_terminal and self.color_allowed
        return _console_class()(
            file=buffer, force_terminal=out.is_terminal, no_color=out.no_color,
            color_system="auto" if colour else None,
            width=out.width, highlight=False, soft_wrap=False, emoji=False,
        )  # fmt: skip

    def warn(self, message: str) -> None:
        """A warning on stderr (not with --quiet): scrubbed of credentials, control characters shown."""
        if not self.quiet:
            self.err_line(self.redact(message), "warning: ", "yellow")

    def info(self, message: str) -> None:
        """A note for the user on stderr (a file written, …); silent with --quiet."""
        if not self.quiet:
            self.err_line(message)

    def err_line(self, text: str, label: str = "", style: str = "") -> None:
        """``label`` (in ``style`` on a terminal) and ``text`` as a line on stderr, control characters shown, never
        wrapped. On a terminal through the rich console; elsewhere written as the console would write it (the
        characters made visible, no colour), without importing rich for one line, unless a tab needs its layout
        (rich expands tabs by cell width)."""
        if "\t" in text or "\t" in label or self.stderr_is_tty:
            from rich.text import Text

            self.err.print(Text.assemble((label, style), visible(text)), soft_wrap=True)
            return
        self.stop_status()
        self.stderr.write(f"{visible(label)}{visible(text)}\n")
        self.stderr.flush()

    def write(self, text: str, styled: bool = False) -> None:
        """Write a whole answer to stdout (after clearing any "waiting for …" line): verbatim in a pipe; on a
        terminal, control characters from the data are shown, not executed. ``styled``: drawn by this ``Env``'s
        own consoles, which already show the data's control characters and whose escapes are colours."""
        self.stop_status()
        if self.stdout_is_tty and not styled:
            text = visible(text)
        self.stdout.write(text)
        self.stdout.flush()

    def write_utf8(self, pieces: Iterable[bytes]) -> None:
        """Write a whole answer made as UTF-8 pieces (JSON, JSON Lines, CSV), as ``write`` would write its text: to
        a pipe or file as the bytes themselves (no text copy of a large answer); on a terminal decoded, its
        control characters shown; to a stream that is not plain UTF-8 bytes underneath (tests, another encoding,
        newline translation) decoded and written as text."""
        stream = getattr(self.stdout, "buffer", None)
        encoding = getattr(self.stdout, "encoding", None)
        plain_utf8 = isinstance(encoding, str) and encoding != "" and codecs.lookup(encoding).name == "utf-8"
        plain_utf8 = plain_utf8 and os.linesep == "\n"
        if stream is None or self.stdout_is_tty or not plain_utf8:
            self.stop_status()
            for piece in pieces:  # each piece is whole UTF-8 (machine.Blocks)
                text = piece.decode()
                if self.stdout_is_tty:
                    text = visible(text)
                self.stdout.write(text)
            self.stdout.flush()
            return
        self.stop_status()
        self.stdout.flush()  # anything already written as text goes first
        for piece in pieces:
            stream.write(piece)
        stream.flush()

    def write_bytes(self, data: bytes) -> None:
        """Write binary output (protobuf) to stdout; a text-only stream (tests) gets it decoded."""
        self.stop_status()
        stream = getattr(self.stdout, "buffer", None)
        if stream is None:
            self.stdout.write(data.decode("utf-8", errors="surrogateescape"))
        else:
            stream.write(data)
            stream.flush()

    @contextmanager
    def progress(self, description: str) -> Iterator[Callable[[int, int], None]]:
        """A progress bar on stderr when it is a terminal (and not --quiet); yields ``update(done, total)``."""
        if self.quiet or not self.stderr_is_tty:
            yield lambda _done, _total: None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.stop_status()
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=self.err, transient=True) as bar:
            task = bar.add_task(description, total=None)
            self._live = bar
            try:
                yield lambda done, total: bar.update(task, completed=done, total=total)
            finally:
                self._live = None

    def status(self, message: str) -> None:
        """What is being waited on (a request, a retry), as a transient line on a terminal; nothing in a pipe.
        A retry is also kept as a line, so the user sees how often the backend failed."""
        if self.quiet or not self.stderr_is_tty:
            return
        from rich.status import Status
        from rich.text import Text

        with self._lock:
            live = self._live
            message = self.redact(message)
            if "retry" in message:
                (live.console if live is not None else self.err).print(Text(message, style="dim"), soft_wrap=True)
            if live is None:
                self._live = Status(Text(message, style="dim"), console=self.err, spinner="dots")
                self._live.start()
            elif isinstance(live, Status):
                live.update(Text(message, style="dim"))

    def stop_status(self) -> None:
        with self._lock:
            if self._live is None:  # nothing shown (a pipe, --quiet): rich's live display not even imported
                return
            from rich.status import Status

            if isinstance(self._live, Status):
                self._live.stop()
                self._live = None
