"""Small helpers shared by several commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tracectl.errors import InputError
from tracectl.ids import InvalidId, normalize_trace_id

if TYPE_CHECKING:
    from tracectl.formats.detect import LoadResult
    from tracectl.model import LogRecord, Trace

LogsFile = Annotated[
    list[str] | None,
    typer.Option(
        "--logs-file",
        help="Log lines saved from Loki instead of a live Loki: a query_range response (either encoding) or "
        "logcli -o jsonl output; .gz is read as such (repeatable).",
    ),
]


def read_logs_files(paths: list[str] | None) -> list[LogRecord] | None:
    """The records of every ``--logs-file``, or None when none was given."""
    if not paths:
        return None
    from tracectl.backends.logfiles import read_log_files

    return read_log_files(paths)


def select_traces(loaded: LoadResult, trace_id: str | None) -> list[Trace]:
    """All traces of a source, or the one ``--trace-id`` names (in any ID encoding)."""
    if trace_id is None:
        return loaded.traces
    try:
        wanted = normalize_trace_id(trace_id)
    except InvalidId as exc:
        raise InputError(f"--trace-id: {exc}") from None
    chosen = [t for t in loaded.traces if t.trace_id == wanted]
    if not chosen:
        have = ", ".join(t.trace_id for t in loaded.traces[:5])
        raise InputError(f"{loaded.source}: no trace {wanted} in this file (it holds {have})")
    return chosen
