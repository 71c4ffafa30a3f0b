"""The application as a library: a ``Session`` and the functions every command calls, each returning a typed
result (with its ``warnings``) that ``tracectl.render.emit`` writes as a table, JSON, JSON Lines or CSV.

    from tracectl.workflows import Session, search, triage
    with Session.from_environment({"tempo_url": "http://localhost:3200"}) as session:
        found = search(session, SearchQuery(time=resolve_range("1h", None, None), service="checkout"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "DriftOptions",
    "Session",
    "blame",
    "critical_paths",
    "diff",
    "drift",
    "export",
    "load_many",
    "load_trace_arg",
    "search",
    "show",
    "trace_logs",
    "triage",
]

if TYPE_CHECKING:
    from tracectl.workflows.blame import blame
    from tracectl.workflows.diff import diff
    from tracectl.workflows.drift import DriftOptions, drift
    from tracectl.workflows.inspect import critical_paths, export, show
    from tracectl.workflows.logs import trace_logs
    from tracectl.workflows.search import search
    from tracectl.workflows.session import Session
    from tracectl.workflows.sources import load_many, load_trace_arg
    from tracectl.workflows.triage import triage

_WHERE = {
    "Session": "session", "blame": "blame", "critical_paths": "inspect", "diff": "diff", "drift": "drift",
    "DriftOptions": "drift", "export": "inspect", "load_many": "sources", "load_trace_arg": "sources",
    "search": "search", "show": "inspect", "trace_logs": "logs", "triage": "triage",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"tracectl.workflows.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'tracectl.workflows' has no attribute {name!r}")
