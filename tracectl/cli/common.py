"""Small helpers shared by several commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracectl.errors import InputError
from tracectl.ids import InvalidId, normalize_trace_id

if TYPE_CHECKING:
    from tracectl.formats.detect import LoadResult
    from tracectl.model import Trace


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
