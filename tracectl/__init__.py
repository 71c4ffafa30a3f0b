"""tracectl: from "predictions are slow" to "this component, this span, these log lines".

The library API (the CLI only wraps it)::

    from tracectl import load, analyse_trace
    result = load("trace.json")                  # any supported format, detected
    analysis = analyse_trace(result.traces[0])   # tree, self times, critical path, attribution

    from tracectl import Session, Settings, SearchQuery, TriageOptions, resolve_range, triage
    with Session(Settings(tempo_url="http://localhost:3200")) as session:   # what `tracectl triage` does
        window = resolve_range("30m", None, None)
        verdict = triage(session, TriageOptions(SearchQuery(window, service="checkout"))).verdict

See docs/library.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "DriftOptions",
    "LoadResult",
    "MetricsRequest",
    "SearchQuery",
    "Session",
    "Settings",
    "Span",
    "SpanTree",
    "Trace",
    "TraceAnalysis",
    "TracectlError",
    "TriageOptions",
    "__version__",
    "analyse_trace",
    "blame",
    "build_tree",
    "check",
    "check_traces",
    "critical_paths",
    "diff",
    "drift",
    "emit",
    "explain",
    "explain_trace",
    "export",
    "load",
    "metrics",
    "parse_traceparent",
    "read_bytes",
    "resolve_range",
    "search",
    "show",
    "trace_logs",
    "triage",
]

if TYPE_CHECKING:
    from tracectl.analysis.analyse import TraceAnalysis, analyse_trace
    from tracectl.analysis.checks import check_traces
    from tracectl.analysis.explain import explain_trace
    from tracectl.analysis.tree import SpanTree, build_tree
    from tracectl.backends.query import SearchQuery
    from tracectl.config import Settings
    from tracectl.errors import TracectlError
    from tracectl.formats.detect import LoadResult, read_bytes
    from tracectl.formats.detect import read_source as load
    from tracectl.model import Span, Trace
    from tracectl.render.emit import emit
    from tracectl.render.export import export
    from tracectl.timerange import resolve_range
    from tracectl.workflows.blame import blame
    from tracectl.workflows.check import check
    from tracectl.workflows.diff import diff
    from tracectl.workflows.drift import DriftOptions, drift
    from tracectl.workflows.explain import explain
    from tracectl.workflows.inspect import critical_paths, show
    from tracectl.workflows.logs import trace_logs
    from tracectl.workflows.metrics import MetricsRequest, metrics
    from tracectl.workflows.search import search
    from tracectl.workflows.session import Session
    from tracectl.workflows.sources import parse_traceparent
    from tracectl.workflows.triage import TriageOptions, triage

_LAZY = {
    "TraceAnalysis": ("tracectl.analysis.analyse", "TraceAnalysis"),
    "analyse_trace": ("tracectl.analysis.analyse", "analyse_trace"),
    "SpanTree": ("tracectl.analysis.tree", "SpanTree"),
    "build_tree": ("tracectl.analysis.tree", "build_tree"),
    "check_traces": ("tracectl.analysis.checks", "check_traces"),
    "TracectlError": ("tracectl.errors", "TracectlError"),
    "LoadResult": ("tracectl.formats.detect", "LoadResult"),
    "read_bytes": ("tracectl.formats.detect", "read_bytes"),
    "load": ("tracectl.formats.detect", "read_source"),
    "Span": ("tracectl.model", "Span"),
    "Trace": ("tracectl.model", "Trace"),
    "SearchQuery": ("tracectl.backends.query", "SearchQuery"),
    "Settings": ("tracectl.config", "Settings"),
    "emit": ("tracectl.render.emit", "emit"),
    "resolve_range": ("tracectl.timerange", "resolve_range"),
    "Session": ("tracectl.workflows.session", "Session"),
    "blame": ("tracectl.workflows.blame", "blame"),
    "check": ("tracectl.workflows.check", "check"),
    "critical_paths": ("tracectl.workflows.inspect", "critical_paths"),
    "diff": ("tracectl.workflows.diff", "diff"),
    "DriftOptions": ("tracectl.workflows.drift", "DriftOptions"),
    "drift": ("tracectl.workflows.drift", "drift"),
    "explain": ("tracectl.workflows.explain", "explain"),
    "explain_trace": ("tracectl.analysis.explain", "explain_trace"),
    "export": ("tracectl.render.export", "export"),
    "search": ("tracectl.workflows.search", "search"),
    "show": ("tracectl.workflows.inspect", "show"),
    "parse_traceparent": ("tracectl.workflows.sources", "parse_traceparent"),
    "trace_logs": ("tracectl.workflows.logs", "trace_logs"),
    "MetricsRequest": ("tracectl.workflows.metrics", "MetricsRequest"),
    "metrics": ("tracectl.workflows.metrics", "metrics"),
    "TriageOptions": ("tracectl.workflows.triage", "TriageOptions"),
    "triage": ("tracectl.workflows.triage", "triage"),
}


def __getattr__(name: str) -> Any:
    # Lazy so that `tracectl --help` does not pay for the readers' imports.
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'tracectl' has no attribute {name!r}")
