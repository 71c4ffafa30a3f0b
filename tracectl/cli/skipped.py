"""What a command over many traces (``blame``, ``check``) takes: the traces, ``--skip-bad``, ``--max-skipped``
and ``--jobs``. A multi-trace result that lost more of its inputs than ``--max-skipped`` ends in exit 4, and
every multi-trace result says on stderr how many traces it was asked for and how many it analysed."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

import typer

from tracectl.cli.app import get_env
from tracectl.errors import InputError, TooManySkipped

if TYPE_CHECKING:
    from tracectl.workflows.sources import InputCounts

DEFAULT_MAX_SKIPPED = "10%"

Traces = Annotated[
    list[str] | None,
    typer.Argument(
        help="Trace files, directories, quoted globs ('traces/*.json'), - for stdin, trace IDs or traceparents."
    ),
]
SkipBad = Annotated[bool, typer.Option("--skip-bad", help="Warn about unreadable files or failed fetches and go on.")]
Jobs = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        min=1,
        help="Processes reading many files, this one included (default: one per processor; 1: this one only). "
        "Files are read one at a time either way: memory does not grow with their number.",
    ),
]

MaxSkipped = Annotated[
    str,
    typer.Option(
        "--max-skipped", metavar="N|P%",
        help="Exit 4 (after printing the result) when more inputs than this gave no trace (failed fetches, "
        "unreadable files): a count, or a share of the traces asked for. Default 10%.",
    ),
]  # fmt: skip

_LIMIT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(%?)\s*")


def parse_max_skipped(text: str) -> tuple[float, bool]:
    """``5`` → (5, False): at most 5 inputs; ``10%`` → (0.1, True): at most a tenth of them."""
    m = _LIMIT.fullmatch(text)
    if m is None or (not m.group(2) and "." in m.group(1)):
        raise InputError(f"--max-skipped: {text!r} is not a count (5) or a share (10%)")
    value, share = float(m.group(1)), bool(m.group(2))
    if share and value > 100:
        raise InputError(f"--max-skipped: {text!r} is more than 100%")
    return (value / 100, True) if share else (value, False)


def too_many_skipped(counts: InputCounts, limit: tuple[float, bool]) -> bool:
    value, share = limit
    lost = len(counts.skipped)
    return lost / counts.requested > value if share and counts.requested else (not share and lost > value)


def finish(ctx: typer.Context, counts: InputCounts | None, max_skipped: str) -> None:
    """After the result is printed: the one-line summary on stderr, then exit 4 if too much was skipped."""
    if counts is None:
        return
    get_env(ctx).info(counts.summary())
    if too_many_skipped(counts, parse_max_skipped(max_skipped)):
        raise TooManySkipped(f"{counts.summary()}: more skipped than --max-skipped {max_skipped.strip()} allows; "
                             "the result rests on too little data (raise --max-skipped to accept it)")  # fmt: skip
