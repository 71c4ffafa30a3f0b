"""The one mapping from errors to exit codes (``report_error``), the ``--debug`` traceback, and the signals that
end a command as Ctrl-C does."""

from __future__ import annotations

import sys

from tracectl.cli.env import Env
from tracectl.errors import ExitCode, TracectlError


class Terminated(KeyboardInterrupt):
    """SIGTERM (``timeout``, Kubernetes) or SIGHUP (a closed terminal): the command ends as on Ctrl-C, every
    ``finally`` runs (no file half-written), and the exit code is 128 + the signal's number (143, 129)."""

    def __init__(self, signum: int) -> None:
        import signal

        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name


def end_like_ctrl_c_on_term_and_hup() -> None:
    """Make SIGTERM and SIGHUP raise ``Terminated`` in the main thread (the console script installs this)."""
    import signal

    def stop(signum: int, _frame: object) -> None:
        raise Terminated(signum)

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), stop)


def report_error(env: Env, exc: BaseException) -> int:
    """Print one line for ``exc`` on stderr and return the exit code it maps to. The only such mapping.

    The line is scrubbed of the configured credentials and its control characters are shown, not executed."""
    from tracectl.render.safe_text import visible

    env.stop_status()
    if isinstance(exc, TracectlError):
        message, label, code = str(exc), "tracectl: error: ", int(exc.exit_code)
    elif isinstance(exc, Terminated):
        env.err.print(f"tracectl: stopped by {exc.name}", soft_wrap=True)
        return 128 + exc.signum
    elif isinstance(exc, KeyboardInterrupt):
        env.err.print("tracectl: interrupted", soft_wrap=True)
        return 130
    else:
        message = f"{type(exc).__name__}: {exc} (run again with --debug for the traceback, and please report it)"
        label, code = "tracectl: internal error: ", int(ExitCode.INTERNAL)
    env.err_line(visible(env.redact(message), one_line=True), label, "red")
    return code


def report_traceback(env: Env, exc: BaseException) -> None:
    """``--debug``: the traceback on stderr (credentials scrubbed, control characters shown), before the error."""
    import traceback

    from rich.text import Text

    env.stop_status()
    env.err.print(Text(env.redact("".join(traceback.format_exception(exc)))), soft_wrap=True)


def _is_click_signal(exc: Exception) -> bool:
    # Usage errors and friends belong to typer's own handling (exit 2 with usage text).
    return type(exc).__module__.startswith(("typer.", "click."))


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # a test runner's stdout has no file descriptor
        pass
