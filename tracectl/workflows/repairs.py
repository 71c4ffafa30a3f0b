"""What the tree had to repair (parent cycles, duplicate span IDs, orphans, absurd times), as warnings for every
result that analysed the tree: ``show`` and ``path`` list them per span; ``blame``, ``diff``, ``triage``, ``logs``
and ``explain`` carry them in their JSON ``warnings`` too, so a number drawn from repaired data says so."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracectl.analysis.tree import SpanTree
    from tracectl.workflows.session import Session

SHOWN_PER_RESULT = 10  # over many traces, the first repairs one by one and then one line for the rest


def repair_warnings(trees: Iterable[SpanTree], session: Session | None = None) -> list[str]:
    """One warning per repair, ``trace <id>: <what was repaired>``; past ``SHOWN_PER_RESULT``, a count of the rest
    with where to see them. Each is also passed to the session's ``warn``."""
    return repairs_said([(tree.trace_id, w.message) for tree in trees for w in tree.warnings], session)


def repairs_said(every: list[tuple[str, str]], session: Session | None = None) -> list[str]:
    """``repair_warnings`` from (trace ID, repair) pairs (what worker processes send back instead of trees)."""
    out = [f"trace {trace_id}: {message}" for trace_id, message in every[:SHOWN_PER_RESULT]]
    rest = every[SHOWN_PER_RESULT:]
    if rest:
        traces = len({trace_id for trace_id, _ in rest})
        out.append(f"{len(rest)} more tree repair(s) in {traces} trace(s) (tracectl show TRACE lists them)")
    if session is not None:
        for warning in out:
            session.warn(warning)
    return out
