"""Where a ``TRACE`` argument comes from: a file, standard input, or (with a backend) a trace ID.

This is the seam the backends plug into: ``load_trace_arg`` is the only function commands call.
"""

from __future__ import annotations

import glob
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tracectl.errors import InputError
from tracectl.ids import InvalidId, normalize_trace_id

if TYPE_CHECKING:
    from tracectl.formats.detect import LoadResult


def load_trace_arg(arg: str) -> LoadResult:
    """Load the traces named by a command-line ``TRACE`` argument."""
    if arg == "-" or Path(arg).exists():
        from tracectl.formats.detect import read_source  # deferred: keeps `tracectl --help` instant

        return read_source(arg)
    try:
        trace_id = normalize_trace_id(arg)
    except InvalidId:
        raise InputError(f"{arg}: no such file (and not a trace ID)") from None
    raise InputError(
        f"{arg}: no such file; fetching trace {trace_id} by ID needs a backend, which this version of tracectl "
        "cannot query yet: pass a trace file (or - for stdin)"
    )


def expand_trace_args(args: list[str]) -> list[str]:
    """Files, directories (their files, sorted, hidden ones skipped), quoted globs and ``-`` → file list."""
    out: list[str] = []
    for arg in args:
        path = Path(arg)
        if arg == "-" or path.is_file():
            out.append(arg)
        elif path.is_dir():
            files = sorted(str(p) for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            if not files:
                raise InputError(f"{arg}: directory holds no files")
            out.extend(files)
        elif any(c in arg for c in "*?["):
            # glob.glob, not Path.glob: users also quote absolute patterns ('/tmp/traces/*.json')
            matches = sorted(m for m in glob.glob(arg, recursive=True) if Path(m).is_file())  # noqa: PTH207
            if not matches:
                raise InputError(f"{arg}: no file matches this pattern")
            out.extend(matches)
        else:
            out.append(arg)  # a trace ID or a missing file: load_trace_arg says which
    if out.count("-") > 1:
        raise InputError("standard input (-) can be read only once")
    return out


def load_many(
    args: list[str],
    on_loaded: Callable[[int, int], None] | None = None,
    skip_bad: bool = False,
    warn: Callable[[str], None] | None = None,
) -> list[LoadResult]:
    """Load every source named by ``args``; ``on_loaded(done, total)`` reports progress.

    A bad source fails the whole load (exit 2) unless ``skip_bad``, which reports it through ``warn``.
    """
    from tracectl.errors import FormatError

    names = expand_trace_args(args)
    results: list[LoadResult] = []
    for n, name in enumerate(names, 1):
        try:
            results.append(load_trace_arg(name))
        except FormatError as exc:
            if not skip_bad:
                raise
            if warn is not None:
                warn(f"skipped {exc}")
        if on_loaded is not None:
            on_loaded(n, len(names))
    if not results:
        raise InputError("no readable trace among the inputs")
    return results
