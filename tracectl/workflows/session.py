"""The application's one handle on the outside world: settings, backends, Loki, and the caller's callbacks.

A ``Session`` is built once from ``Settings`` and lends every workflow the same clients (one HTTP connection
pool per backend), the same concurrency, and the caller's ``warn``/``progress``/``status`` callbacks. The CLI
passes callbacks that draw on the terminal; a library user passes none and reads the warnings from the
results, which carry every warning that affects them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from tracectl.backends import Backend
    from tracectl.backends.http import Deadline
    from tracectl.backends.loki import LogQueryOptions, LokiClient
    from tracectl.backends.prometheus import PrometheusClient
    from tracectl.config import Settings
    from tracectl.formats.detect import LoadResult

Update = Callable[[int, int], None]  # progress: (done, total)
Progress = Callable[[str], AbstractContextManager[Update]]


@contextmanager
def no_progress(_description: str) -> Iterator[Update]:
    yield lambda _done, _total: None


def _ignore(_message: str) -> None:
    return None


@dataclass
class Session:
    """Settings plus lazily opened clients. Use it as a context manager, or call ``close()``."""

    settings: Settings
    warn: Callable[[str], None] = _ignore  # a warning as it happens (results also carry them)
    progress: Progress = no_progress  # a progress bar for long work
    status: Callable[[str], None] = _ignore  # what is being waited on right now (requests, retries)
    transport: httpx.BaseTransport | None = None  # tests: respx or a mock transport
    started: float = field(default_factory=time.monotonic)  # `timeout` counts from here, for every request
    info: Callable[[str], None] = _ignore  # a note on how a result was made (not a warning)
    _deadline: Deadline | None = field(default=None, repr=False)
    _backend: Backend | None = field(default=None, repr=False)
    _loki: LokiClient | None = field(default=None, repr=False)
    _prometheus: PrometheusClient | None = field(default=None, repr=False)

    @classmethod
    def from_environment(
        cls, flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None, **callbacks: Any
    ) -> Session:
        """Settings as the CLI resolves them (``flags`` > environment > config profile > defaults)."""
        from tracectl.config import resolve_settings

        return cls(resolve_settings(flags or {}, environ), **callbacks)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def deadline(self) -> Deadline:
        """One deadline (``timeout`` seconds from ``started``) shared by every request of every client."""
        if self._deadline is None:
            from tracectl.backends.http import Deadline

            self._deadline = Deadline(self.settings.timeout, started=self.started)
        return self._deadline

    def backend(self) -> Backend:
        """The configured trace backend (Tempo or Jaeger); an error says how to configure one."""
        if self._backend is None:
            from tracectl.backends import open_backend

            self._backend = open_backend(self.settings, self.transport, self.deadline, observer=self.status)
        return self._backend

    def loki(self) -> LokiClient:
        """The configured Loki (``--loki-url`` / ``LOKI_ADDR``); an error says how to set one."""
        if self._loki is None:
            from tracectl.backends import open_http
            from tracectl.backends.loki import LokiClient

            self._loki = LokiClient(open_http(self.settings, "loki", self.transport, self.deadline, self.status))
        return self._loki

    def prometheus(self) -> PrometheusClient:
        """The configured Prometheus (``--prometheus-url`` / ``PROMETHEUS_ADDR``); an error says how to set one."""
        if self._prometheus is None:
            from tracectl.backends import open_http
            from tracectl.backends.prometheus import PrometheusClient

            self._prometheus = PrometheusClient(
                open_http(self.settings, "prometheus", self.transport, self.deadline, self.status)
            )
        return self._prometheus

    def fetch(self, trace_id: str) -> LoadResult:
        """One trace by ID from the configured backend; a PARTIAL trace is noted on the result."""
        return self.backend().get_trace(trace_id)

    def fetch_many(
        self, trace_ids: list[str], progress: Update | None = None, skip_failed: bool = False
    ) -> tuple[list[LoadResult | None], list[str]]:
        """Traces fetched concurrently (``concurrency`` at a time), in input order, and the warnings: with
        ``skip_failed`` a failure is a warning and its slot None; otherwise the first failure is raised."""
        from tracectl.backends import fetch_traces

        warnings: list[str] = []

        def skipped(trace_id: str, exc: Exception) -> None:
            warnings.append(f"skipped trace {trace_id}: {exc}")
            self.warn(warnings[-1])

        results = fetch_traces(
            self.backend(), trace_ids, self.settings.concurrency, progress, skipped if skip_failed else None
        )
        for result in results:
            for note in result.notes if result else ():
                warnings.append(f"{result.source}: {note}")  # type: ignore[union-attr]
                self.warn(warnings[-1])
        return results, warnings

    def log_options(
        self, strategy: str | None = None, margin: str | None = None, limit: int | None = None
    ) -> LogQueryOptions:
        """Log-query settings from the configuration, with per-command overrides (``limit`` 0: every line)."""
        from tracectl.backends.loki import LogQueryOptions
        from tracectl.config import LOG_STRATEGIES
        from tracectl.errors import InputError
        from tracectl.units import parse_duration

        s = self.settings
        chosen = strategy or s.log_strategy
        if chosen not in LOG_STRATEGIES:
            raise InputError(f"--strategy must be one of {', '.join(LOG_STRATEGIES)}, not {chosen!r}")
        if chosen == "template" and not s.log_query_template:
            raise InputError("the template strategy needs log_query_template (or TRACECTL_LOG_QUERY_TEMPLATE)")
        margin_ns = parse_duration(margin, "--margin") if margin else round(s.log_margin * 10**9)
        return LogQueryOptions(
            strategy=chosen, label_map=dict(s.log_label_map), trace_field=s.log_trace_field,
            template=s.log_query_template, margin_ns=margin_ns, limit=5000 if limit is None else limit,
            margin_flag="--margin" if margin else None,
        )  # fmt: skip

    def close(self) -> None:
        for client in (self._backend, self._loki, self._prometheus):
            http = getattr(client, "http", None)
            if http is not None:
                http.close()
        self._backend = self._loki = self._prometheus = None
