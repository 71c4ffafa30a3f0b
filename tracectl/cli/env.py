"""The one place that knows about the terminal: streams, TTY, colour, quietness, debug, time zone.

Commands receive an ``Env`` and never look at ``sys.stdout`` or ``os.environ`` themselves, so tests can
fake a terminal or a pipe by building an ``Env`` (or setting ``force_terminal``).
"""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import IO, TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from rich.console import Console

    from tracectl.backends import Backend
    from tracectl.backends.http import Deadline
    from tracectl.backends.loki import LogQueryOptions, LokiClient
    from tracectl.config import Settings
    from tracectl.formats.detect import LoadResult


class HeldOutput(io.TextIOBase):
    """A text stream that keeps what is written (the strings themselves, not a copy of a 100 MB document)."""

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[str] = []

    def write(self, text: str) -> int:
        self._chunks.append(text)
        return len(text)

    def take(self) -> list[str]:
        chunks, self._chunks = self._chunks, []
        return chunks


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
    flags: dict[str, Any] = field(default_factory=dict)  # connection flags as given (None = not given)
    environ: dict[str, str] | None = None  # None = os.environ (tests pass their own)
    transport: Any = None  # an httpx transport for tests (respx or a mock), else real network
    started: float = field(default_factory=time.monotonic)  # when the command began: the deadline counts from here
    _pending: HeldOutput = field(default_factory=HeldOutput, repr=False)  # stdout, until the result is whole
    _deadline: Deadline | None = field(default=None, repr=False)
    _secrets: list[str] | None = field(default=None, repr=False)
    _settings: Settings | None = field(default=None, repr=False)
    _backend: Backend | None = field(default=None, repr=False)
    _loki: LokiClient | None = field(default=None, repr=False)
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
        from tracectl.render.safe_text import SafeConsole

        width = self.width or (None if tty else int(os.environ.get("COLUMNS", "0")) or 120)
        return SafeConsole(
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
        """Console for data on stdout (colour only on a terminal). What it prints is held until the command has
        succeeded (``flush_output``): a failure half-way leaves stdout empty."""
        if self._out is None:
            self._out = self._console(cast("IO[str]", self._pending), self.stdout_is_tty)
        return self._out

    @property
    def err(self) -> Console:
        """Console for progress, warnings and errors on stderr."""
        if self._err is None:
            self._err = self._console(self.stderr, self.stderr_is_tty)
        return self._err

    def warn(self, message: str) -> None:
        """A warning on stderr (not with --quiet): scrubbed of credentials, control characters shown."""
        if not self.quiet:
            from rich.text import Text

            self.err.print(Text.assemble(("warning: ", "yellow"), self.redact(message)), soft_wrap=True)

    def write(self, text: str) -> None:
        """Machine output (JSON, CSV, raw lines) for stdout, verbatim in a pipe; on a terminal, control characters
        from the data are shown, not executed. Held, like ``out``, until ``flush_output``."""
        if self.stdout_is_tty:
            from tracectl.render.safe_text import visible

            text = visible(text)
        self._pending.write(text)

    def flush_output(self) -> None:
        """Write what the command has produced so far to stdout. The CLI calls it once the command has succeeded;
        long-running commands (``sandbox serve``) call it themselves to show what they have."""
        chunks = self._pending.take()
        for chunk in chunks:
            self.stdout.write(chunk)
        if chunks:
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

    def settings(self) -> Settings:
        """Resolved settings (flags > env > profile > defaults), read once, only when a command needs them."""
        if self._settings is None:
            from tracectl.config import resolve_settings

            self._settings = resolve_settings(self.flags, self.environ)
            if self._settings.insecure:
                self.warn("TLS certificate verification is off (--insecure): use only on a trusted network")
            elif self._settings.loki_insecure and self._settings.loki_url:
                self.warn("TLS certificate verification is off for Loki (LOKI_TLS_SKIP_VERIFY): use only on a "
                          "trusted network")  # fmt: skip
        return self._settings

    def deadline(self) -> Deadline:
        """The command's network deadline (``--deadline``), shared by every client: counted from its start."""
        if self._deadline is None:
            from tracectl.backends.http import Deadline

            self._deadline = Deadline(self.settings().deadline, started=self.started)
        return self._deadline

    def redact(self, text: str) -> str:
        """``text`` without any configured credential (for messages and tracebacks)."""
        from tracectl.redact import header_secrets, redact

        if self._settings is None:  # not resolved (or not resolvable): at least the -H values given
            return redact(text, header_secrets(self.flags.get("headers") or {}))
        if self._secrets is None:
            self._secrets = self._settings.secret_values()  # once: it reads the token files
        return redact(text, self._secrets)

    def backend(self) -> Backend:
        if self._backend is None:
            from tracectl.backends import open_backend

            self._backend = open_backend(self.settings(), transport=self.transport, deadline=self.deadline())
        return self._backend

    def fetch(self, trace_id: str) -> LoadResult:
        """Fetch one trace by ID from the configured backend, noting a PARTIAL trace on stderr."""
        result = self.backend().get_trace(trace_id)
        for note in result.notes:
            self.warn(f"{result.source}: {note}")
        return result

    def fetch_many(
        self, trace_ids: list[str], progress: Callable[[int, int], None] | None = None, skip_failed: bool = False
    ) -> list[LoadResult | None]:
        """Fetch traces concurrently (``--concurrency``); with ``skip_failed`` a failure is a warning."""
        from tracectl.backends import fetch_traces

        on_error = (lambda tid, exc: self.warn(f"skipped trace {tid}: {exc}")) if skip_failed else None
        results = fetch_traces(self.backend(), trace_ids, self.settings().concurrency, progress, on_error)
        for result in results:
            for note in result.notes if result else ():
                self.warn(f"{result.source}: {note}")  # type: ignore[union-attr]
        return results

    def loki(self) -> LokiClient:
        if self._loki is None:
            from tracectl.backends import open_loki

            self._loki = open_loki(self.settings(), transport=self.transport, deadline=self.deadline())
        return self._loki

    def log_options(
        self, strategy: str | None = None, margin: str | None = None, limit: int | None = None
    ) -> LogQueryOptions:
        """Log-query settings from the configuration, with command-line overrides."""
        from tracectl.backends.loki import LogQueryOptions
        from tracectl.config import LOG_STRATEGIES
        from tracectl.errors import InputError
        from tracectl.units import parse_duration

        s = self.settings()
        chosen = strategy or s.log_strategy
        if chosen not in LOG_STRATEGIES:
            raise InputError(f"--strategy must be one of {', '.join(LOG_STRATEGIES)}, not {chosen!r}")
        if chosen == "template" and not s.log_query_template:
            raise InputError("the template strategy needs log_query_template (or TRACECTL_LOG_QUERY_TEMPLATE)")
        margin_ns = parse_duration(margin, "--margin") if margin else round(s.log_margin * 10**9)
        return LogQueryOptions(
            strategy=chosen, label_map=dict(s.log_label_map), trace_field=s.log_trace_field,
            template=s.log_query_template, margin_ns=margin_ns, limit=limit or 5000,
        )  # fmt: skip

    def close(self) -> None:
        for client in (self._backend, self._loki):
            http = getattr(client, "http", None)
            if http is not None:
                http.close()
