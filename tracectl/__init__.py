"""tracectl: from "predictions are slow" to "this component, this span, these log lines".

The library API (the CLI only wraps it)::

    from tracectl import load, analyse_trace
    result = load("trace.json")                  # any supported format, detected
    analysis = analyse_trace(result.traces[0])   # tree, self times, critical path, attribution
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "LoadResult",
    "Span",
    "SpanTree",
    "Trace",
    "TraceAnalysis",
    "TracectlError",
    "__version__",
    "analyse_trace",
    "build_tree",
    "load",
    "read_bytes",
]

if TYPE_CHECKING:
    from tracectl.analysis.analyse import TraceAnalysis, analyse_trace
    from tracectl.analysis.tree import SpanTree, build_tree
    from tracectl.errors import TracectlError
    from tracectl.formats.detect import LoadResult, read_bytes
    from tracectl.formats.detect import read_source as load
    from tracectl.model import Span, Trace

_LAZY = {
    "TraceAnalysis": ("tracectl.analysis.analyse", "TraceAnalysis"),
    "analyse_trace": ("tracectl.analysis.analyse", "analyse_trace"),
    "SpanTree": ("tracectl.analysis.tree", "SpanTree"),
    "build_tree": ("tracectl.analysis.tree", "build_tree"),
    "TracectlError": ("tracectl.errors", "TracectlError"),
    "LoadResult": ("tracectl.formats.detect", "LoadResult"),
    "read_bytes": ("tracectl.formats.detect", "read_bytes"),
    "load": ("tracectl.formats.detect", "read_source"),
    "Span": ("tracectl.model", "Span"),
    "Trace": ("tracectl.model", "Trace"),
}


def __getattr__(name: str) -> Any:
    # Lazy so that `tracectl --help` does not pay for the readers' imports.
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'tracectl' has no attribute {name!r}")
