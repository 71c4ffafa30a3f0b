"""What one run of the CLI holds (``CliState``) and how a command reaches it: the terminal (``get_env``) and the
session built on first use (``get_session``)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import typer

from tracectl.cli.env import Env


@dataclass
class CliState:
    """What one run of the CLI holds: the terminal, the connection flags as given, and the session built from
    them on first use. Tests may pass one (or just an ``Env``) as typer's ``obj``."""

    env: Env = field(default_factory=Env)
    flags: dict[str, Any] = field(default_factory=dict)
    environ: Mapping[str, str] | None = None  # None: os.environ
    transport: Any = None  # an httpx transport (tests)
    started: float = field(default_factory=time.monotonic)  # the command's start: --timeout counts from here
    _session: Any = None

    def session(self) -> Any:
        """The session for this run, built on first use; from then on messages are scrubbed of its credentials."""
        if self._session is None:
            from tracectl.config import resolve_settings
            from tracectl.redact import header_secrets, redact
            from tracectl.workflows.session import Session

            env = self.env
            given = header_secrets(
                self.flags.get("headers") or {}
            )  # at least the -H values, even if what follows fails
            env.redact = lambda text: redact(text, given)
            settings = resolve_settings(self.flags, self.environ)
            secrets = settings.secret_values()  # once: it reads the token files
            env.redact = lambda text: redact(text, secrets)
            self._session = Session(settings, warn=env.warn, progress=env.progress, status=env.status,
                                    transport=self.transport, started=self.started, info=env.info)  # fmt: skip
            for warning in settings.warnings:
                env.warn(warning)
            if settings.insecure:
                env.warn("TLS certificate verification is off (--insecure): use only on a trusted network")
            elif settings.loki_insecure and settings.loki_url:
                env.warn("TLS certificate verification is off for Loki (LOKI_TLS_SKIP_VERIFY): use only on a "
                         "trusted network")  # fmt: skip
        return self._session

    def close(self) -> None:
        self.env.stop_status()
        if self._session is not None:
            self._session.close()


def cli_state(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    if isinstance(obj, CliState):
        return obj
    return CliState(env=obj if isinstance(obj, Env) else Env())


def get_env(ctx: typer.Context) -> Env:
    return cli_state(ctx).env


def get_session(ctx: typer.Context) -> Any:
    """The workflow session for this run (settings resolved on first use)."""
    return cli_state(ctx).session()
