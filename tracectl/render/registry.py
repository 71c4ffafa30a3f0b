"""Each result type's renderer, found by the result's type.

A renderer makes a result's JSON document, its rows (JSON Lines, CSV) and its terminal table, and may offer
extra formats (``logs -o raw``). ``RENDERERS`` names, for each result type (by module and class name, so that
looking one up imports only what it renders), the render module and the name of its ``Renderer``. A result
type not named here (a library user's own) renders itself, with its own ``document``/``rows``/``table`` methods.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from tracectl.results import RenderOptions

Document = Callable[[Any, "RenderOptions"], dict[str, Any]]
Rows = Callable[[Any, "RenderOptions"], Iterable[Mapping[str, Any]]]
Table = Callable[[Any, "Console", "RenderOptions"], None]
Other = Callable[[Any, "RenderOptions"], str]


@dataclass(frozen=True, slots=True)
class Renderer:
    document: Document
    rows: Rows
    table: Table
    others: Mapping[str, Other] = field(default_factory=dict)  # extra formats by name

    def other(self, result: Any, fmt: str) -> Other | None:
        return self.others.get(fmt)


# "module.Class" of a result type -> (render module, name of its Renderer there)
RENDERERS: dict[str, tuple[str, str]] = {
    "tracectl.workflows.search.Found": ("tracectl.render.search_view", "SEARCH"),
    "tracectl.workflows.settings_report.SettingsReport": ("tracectl.render.settings_view", "SETTINGS"),
    "tracectl.workflows.inspect.Shown": ("tracectl.render.tree_view", "SHOW"),
    "tracectl.workflows.inspect.CriticalPaths": ("tracectl.render.path_view", "PATH"),
    "tracectl.workflows.span_detail.SpanDetail": ("tracectl.render.span_view", "SPAN"),
    "tracectl.workflows.logs.TraceLogs": ("tracectl.render.logs_view", "LOGS"),
    "tracectl.workflows.check.CheckResult": ("tracectl.render.check_view", "CHECK"),
    "tracectl.workflows.blame.TraceBlame": ("tracectl.render.blame_view", "TRACE"),
    "tracectl.workflows.blame.AggregateBlame": ("tracectl.render.blame_view", "AGGREGATE"),
    "tracectl.workflows.blame.BucketBlame": ("tracectl.render.blame_view", "BUCKETS"),
    "tracectl.workflows.diff.Difference": ("tracectl.render.diff_view", "DIFF"),
    "tracectl.workflows.explain.Explanation": ("tracectl.render.explain_view", "EXPLAIN"),
    "tracectl.workflows.drift.DriftResult": ("tracectl.render.drift_view", "DRIFT"),
    "tracectl.workflows.metrics.MetricsResult": ("tracectl.render.metrics_view", "METRICS"),
    "tracectl.workflows.triage.TriageResult": ("tracectl.render.triage_report", "TRIAGE"),
    "tracectl.workflows.slo.SloStatusResult": ("tracectl.render.slo_view", "SLO_STATUS"),
    "tracectl.workflows.model_quality.ModelQualityResult": ("tracectl.render.model_quality_view", "MODEL_QUALITY"),
}


@dataclass(frozen=True, slots=True)
class _Own:
    """A result type that renders itself."""

    document: Document = lambda result, opts: result.document(opts)
    rows: Rows = lambda result, opts: result.rows(opts)
    table: Table = lambda result, console, opts: result.table(console, opts)

    def other(self, result: Any, fmt: str) -> Other | None:
        method = getattr(result, f"as_{fmt}", None)
        return None if method is None else lambda _, opts: str(method(opts))


def renderer_for(result: Any) -> Renderer | _Own:
    """The renderer of ``result``'s type (or of the nearest base type that has one)."""
    for cls in type(result).__mro__:
        where = RENDERERS.get(f"{cls.__module__}.{cls.__qualname__}")
        if where is not None:
            renderer: Renderer = getattr(importlib.import_module(where[0]), where[1])
            return renderer
    return _Own()
