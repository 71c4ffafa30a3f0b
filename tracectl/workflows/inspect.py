"""One trace at a time: its tree (``show``), its critical path (``path``), and exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracectl.analysis.tree_rows import SHOW_SCHEMA, SPAN_CSV_COLUMNS, make_view
from tracectl.results import Result
from tracectl.workflows.sources import load_trace_arg, select_traces, selected_span

if TYPE_CHECKING:
    from tracectl.analysis.analyse import TraceAnalysis
    from tracectl.analysis.tree_rows import TreeView
    from tracectl.workflows.session import Session


@dataclass(slots=True)
class Shown(Result, schema=SHOW_SCHEMA, columns=SPAN_CSV_COLUMNS):
    """The traces of one source as trees, with the source's notes and every warning about the data."""

    source: str
    views: list[TreeView]
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # Loki and other problems met on the way


def show(
    session: Session | None, trace: str, *, trace_id: str | None = None, min_duration_ns: int = 0,
    max_depth: int | None = None, critical: bool = False, logs: bool = False, logs_files: list[str] | None = None,
    log_limit: int = 5000,
) -> Shown:  # fmt: skip
    """Rebuild and analyse the traces of ``trace`` (a file or an ID); with ``logs``, attach their Loki lines (at
    most ``log_limit`` a trace, 0 = all; a cut is a warning), or the lines saved in ``logs_files``."""
    from tracectl.analysis.analyse import analyse_trace
    from tracectl.analysis.explain import explain_trace, marks

    loaded = load_trace_arg(trace, session)
    span_id = selected_span(trace, trace_id)
    views = []
    for t in select_traces(loaded, trace_id):
        analysis = analyse_trace(t)
        node = analysis.tree.keys.index(span_id) if span_id in analysis.tree.keys else -1
        found = marks(explain_trace(analysis))  # where a failure began, N+1 loops, retries
        views.append(make_view(analysis, min_duration_ns, max_depth, critical, selected=node, marks=found))
    shown = Shown(loaded.source, views, list(loaded.notes))
    if span_id is not None and all(v.selected < 0 for v in views):
        shown.warnings.append(f"span {span_id} of the traceparent is not in the trace (not received, or not exported)")
        session_warn(session, shown.warnings[-1])
    for note in loaded.notes:
        shown.warnings.append(f"{loaded.source}: {note}")
        session_warn(session, shown.warnings[-1])
    if logs_files:
        from tracectl.workflows.logs import attach_saved_logs

        attach_saved_logs(views, logs_files)
    elif logs and session is not None:
        from tracectl.workflows.logs import attach_logs

        for view in views:
            shown.warnings.extend(attach_logs(session, view, log_limit))
    for view in views:
        for warning in view.tree.warnings:
            session_warn(session, f"trace {view.tree.trace_id}: {warning.message}")
    return shown


def session_warn(session: Session | None, message: str) -> None:
    if session is not None:
        session.warn(message)


PATH_SCHEMA = "tracectl.path/v1"
PATH_CSV_COLUMNS = (
    "trace_id", "root", "step", "span_id", "service", "name", "offset_ns", "start_ns", "end_ns", "duration_ns", "share",
)  # fmt: skip


@dataclass(slots=True)
class CriticalPaths(Result, schema=PATH_SCHEMA, columns=PATH_CSV_COLUMNS):
    """The critical path of each trace of one source, section by section."""

    source: str
    analyses: list[TraceAnalysis]
    warnings: list[str] = field(default_factory=list)


def critical_paths(session: Session | None, trace: str, *, trace_id: str | None = None) -> CriticalPaths:
    from tracectl.analysis.analyse import analyse_trace

    loaded = load_trace_arg(trace, session)
    warnings = [f"{loaded.source}: {note}" for note in loaded.notes]
    for warning in warnings:
        session_warn(session, warning)
    return CriticalPaths(loaded.source, [analyse_trace(t) for t in select_traces(loaded, trace_id)], warnings)


CONVERSIONS = ("otlp-json", "tempo-json", "jaeger-json", "otlp-proto")
WRITE_UPS = ("md", "html", "json")  # written up by ``tracectl.export`` (render/export.py)
EXPORT_FORMATS = CONVERSIONS + WRITE_UPS


@dataclass(frozen=True, slots=True)
class Exported:
    data: bytes
    traces: int
    binary: bool


def convert(session: Session | None, trace: str, fmt: str, *, trace_id: str | None = None) -> Exported:
    """The traces of ``trace`` in another format of ``CONVERSIONS`` (lossless between OTLP JSON and Jaeger JSON);
    ``tracectl.export`` also writes them up (``WRITE_UPS``)."""
    import orjson

    from tracectl.formats import jaeger_json, otlp_json, otlp_proto

    traces = select_traces(load_trace_arg(trace, session), trace_id)
    if fmt == "otlp-proto":
        return Exported(otlp_proto.dump_bytes(traces), len(traces), binary=True)
    if fmt == "jaeger-json":
        doc: Any = jaeger_json.dump_document(traces)
    elif fmt == "tempo-json":
        doc = {"trace": otlp_json.dump_document(traces, ids="base64")}
    else:
        doc = otlp_json.dump_document(traces)
    return Exported(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n", len(traces), binary=False)
