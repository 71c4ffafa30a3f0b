"""The one place that knows about the terminal: streams, TTY, colour, quietness, debug, time zone.

Commands receive an ``Env`` and never look at ``sys.stdout`` or ``os.environ`` themselves, so tests can
fake a terminal or a pipe by building an ``Env`` (or setting ``force_terminal``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


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
    _out: Console | None = field(default=None, repr=False)
    _err: Console | None = field(default=None, repr=False)

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
        from rich.console import Console

        width = self.width or (None if tty else int(os.environ.get("COLUMNS", "0")) or 120)
        return Console(
            file=stream,
            force_terminal=tty,
            no_color=not self.color_allowed,
            color_system="auto" if tty and self.color_allowed else None,
            width=width,
            highlight=False,
            soft_wrap=False,
            emoji=False,
        )

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

    def warn(self, message: str) -> None:
        if not self.quiet:
            from rich.text import Text

            self.err.print(Text.assemble(("warning: ", "yellow"), message), soft_wrap=True)

    def write(self, text: str) -> None:
        """Write machine output (JSON, CSV, …) verbatim to stdout."""
        self.stdout.write(text)
        self.stdout.flush()

    @contextmanager
    def progress(self, description: str) -> Iterator[Callable[[int, int], None]]:
        """A progress bar on stderr when it is a terminal (and not --quiet); yields ``update(done, total)``."""
        if self.quiet or not self.stderr_is_tty:
            yield lambda _done, _total: None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=self.err, transient=True) as bar:
            task = bar.add_task(description, total=None)
            yield lambda done, total: bar.update(task, completed=done, total=total)
