"""One small exception hierarchy and the exit codes it maps to.

The library raises these; only the CLI turns them into exit codes and one-line messages
(``tracectl.cli.errors``). Messages must never contain credentials.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit codes. Documented in the README and in ``tracectl --help``."""

    OK = 0
    INTERNAL = 1  # a bug in tracectl
    USAGE = 2  # bad flags or bad input (malformed file, wrong ID, impossible time range)
    UNREACHABLE = 3  # backend unreachable or timed out
    NOT_FOUND = 4  # trace not found
    BACKEND_ERROR = 5  # backend answered with an error
    THRESHOLD = 6  # a --fail-on threshold was crossed


class TracectlError(Exception):
    """Base of every error tracectl reports to a user. ``str(e)`` is the one-line message."""

    exit_code: ExitCode = ExitCode.INTERNAL
    keeps_output: bool = False  # True when the result was whole and printed before this was raised


class InputError(TracectlError):
    """The user gave something unusable: a bad flag value, a bad ID, an unreadable file."""

    exit_code = ExitCode.USAGE


class FormatError(InputError):
    """A file or payload could not be read as a trace. Names the source and, where known, the place."""

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}")


class BackendUnreachable(TracectlError):
    exit_code = ExitCode.UNREACHABLE


class DeadlineExceeded(BackendUnreachable):
    """The command's network deadline ran out (``--timeout``): slow servers, retries and waits all count."""


class TraceNotFound(TracectlError):
    exit_code = ExitCode.NOT_FOUND


class BackendError(TracectlError):
    exit_code = ExitCode.BACKEND_ERROR


class ResponseTooLarge(BackendError):
    """A response went over its byte budget (``--max-response-mb``): reading stopped there."""


class ThresholdCrossed(TracectlError):
    exit_code = ExitCode.THRESHOLD
    keeps_output = True


class TooManySkipped(TracectlError):
    """More inputs than ``--max-skipped`` allows gave no trace: the result (printed) rests on too little data."""

    exit_code = ExitCode.NOT_FOUND
    keeps_output = True
