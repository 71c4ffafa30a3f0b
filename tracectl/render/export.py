"""``tracectl export``: a trace converted (``workflows/inspect.convert``) or written up (md, html, json)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracectl.workflows.inspect import WRITE_UPS, Exported, convert

if TYPE_CHECKING:
    from tracectl.model import Trace
    from tracectl.workflows.session import Session


def export(session: Session | None, trace: str, fmt: str, *, trace_id: str | None = None, tz: Any = None,
           ui_url: str | None = None) -> Exported:  # fmt: skip
    """The traces of ``trace`` in another format (lossless between OTLP JSON and Jaeger JSON), or written up."""
    if fmt not in WRITE_UPS:
        return convert(session, trace, fmt, trace_id=trace_id)
    from tracectl.workflows.sources import load_trace_arg, select_traces

    traces = select_traces(load_trace_arg(trace, session), trace_id)
    return Exported(write_up(traces, fmt, tz, ui_url).encode("utf-8"), len(traces), binary=False)


def write_up(traces: list[Trace], fmt: str, tz: Any = None, ui_url: str | None = None) -> str:
    """``traces`` analysed and written up as Markdown, HTML or JSON (``show -o json``'s document)."""
    from tracectl.analysis.analyse import analyse_trace
    from tracectl.analysis.tree_rows import SHOW_SCHEMA, make_view, trace_document
    from tracectl.render import machine
    from tracectl.render.trace_report import trace_html, trace_markdown

    analyses = [analyse_trace(t) for t in traces]
    if fmt == "json":
        docs = [trace_document(make_view(a), "export", []) for a in analyses]
        return machine.to_json({"traces": docs}, SHOW_SCHEMA)
    render = trace_markdown if fmt == "md" else trace_html
    return "\n".join(render(a, tz, ui_url) for a in analyses)
