"""Where a ``TRACE`` argument comes from: a file, standard input, or (with a backend) a trace ID.

This is the seam the backends plug into: ``load_trace_arg`` is the only function commands call.
"""

from __future__ import annotations

from pathlib import Path

from tracectl.errors import InputError
from tracectl.formats.detect import LoadResult, read_source
from tracectl.ids import InvalidId, normalize_trace_id


def load_trace_arg(arg: str) -> LoadResult:
    """Load the traces named by a command-line ``TRACE`` argument."""
    if arg == "-" or Path(arg).exists():
        return read_source(arg)
    try:
        trace_id = normalize_trace_id(arg)
    except InvalidId:
        raise InputError(f"{arg}: no such file (and not a trace ID)") from None
    raise InputError(
        f"{arg}: no such file; fetching trace {trace_id} by ID needs a backend, which this version of tracectl "
        "cannot query yet: pass a trace file (or - for stdin)"
    )
