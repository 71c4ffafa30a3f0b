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


def is_file_arg(arg: str) -> bool:
    return arg == "-" or Path(arg).exists()


def load_trace_arg(arg: str, fetch: Callable[[str], LoadResult] | None = None) -> LoadResult:
    """Load the traces named by a command-line ``TRACE`` argument: a file, ``-``, or a trace ID (``fetch``)."""
    if is_file_arg(arg):
        from tracectl.formats.detect import read_source  # deferred: keeps `tracectl --help` instant

        return read_source(arg)
    try:
        trace_id = normalize_trace_id(arg)  # validated before it can reach a URL
    except InvalidId:
        raise InputError(f"{arg}: no such file, and not a trace ID (32 hex characters, or base64)") from None
    if fetch is None:
        raise InputError(
            f"{arg}: no such file; to fetch trace {trace_id}, configure a backend (--tempo-url/--jaeger-url)"
        )
    return fetch(trace_id)


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
    fetch: Callable[[str], LoadResult] | None = None,
    fetch_many: Callable[[list[str], Callable[[int, int], None] | None], list[LoadResult | None]] | None = None,
    on_loaded: Callable[[int, int], None] | None = None,
    skip_bad: bool = False,
    warn: Callable[[str], None] | None = None,
) -> list[LoadResult]:
    """Load every source named by ``args`` (files first, then trace IDs fetched concurrently by ``fetch_many``);
    ``on_loaded(done, total)`` reports progress.

    A bad source fails the whole load (exit 2) unless ``skip_bad``, which reports it through ``warn``.
    """
    from tracectl.errors import FormatError

    names = expand_trace_args(args)
    files = [n for n in names if is_file_arg(n)]
    ids = [n for n in names if not is_file_arg(n)]
    results: list[LoadResult] = []
    for n, name in enumerate(files, 1):
        try:
            results.append(load_trace_arg(name))
        except FormatError as exc:
            if not skip_bad:
                raise
            if warn is not None:
                warn(f"skipped {exc}")
        if on_loaded is not None:
            on_loaded(n, len(names))
    if ids:
        if fetch_many is None:
            results.extend(load_trace_arg(i, fetch) for i in ids)
        else:
            for i in ids:  # every ID is checked before any request is made
                normalize_or_fail(i)
            offset = len(files)

            def progress(done: int, _total: int) -> None:
                if on_loaded is not None:
                    on_loaded(offset + done, len(names))

            results.extend(r for r in fetch_many(ids, progress) if r is not None)
    if not results:
        raise InputError("no readable trace among the inputs")
    return results


def normalize_or_fail(arg: str) -> str:
    try:
        return normalize_trace_id(arg)
    except InvalidId:
        raise InputError(f"{arg}: no such file, and not a trace ID (32 hex characters, or base64)") from None
