"""Where a ``TRACE`` argument comes from: a file, standard input, or (with a backend) a trace ID.

This is the seam the backends plug into: ``load_trace_arg`` is the only function commands call.
"""

from __future__ import annotations

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
