"""``tracectl export``: a trace converted (``workflows/inspect.convert``) or written up (md, html, json)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracectl.workflows.inspect import WRITE_UPS, Exported, convert

if TYPE_CHECKING:
    from tracectl.model import Trace
    from tracectl.render.machine import Blocks
    from tracectl.workflows.session import Session


def export(session: Session | None, trace: str, fmt: str, *, trace_id: str | None = None, tz: Any = None,
           ui_url: str | None = None) -> Exported:  # fmt: skip
    """The traces of ``trace`` in another format (lossless between OTLP JSON and Jaeger JSON), or written up."""
    if fmt not in WRITE_UPS:
        return convert(session, trace, fmt, trace_id=trace_id)
    from tracectl.workflows.sources import load_trace_arg, select_traces

    traces = select_traces(load_trace_arg(trace, session), trace_id)
    if fmt == "json":  # made as bytes, a span row at a time (as show -o json)
        return Exported(b"".join(json_write_up(traces).pieces()), len(traces), binary=False)
    return Exported(write_up(traces, fmt, tz, ui_url).encode("utf-8"), len(traces), binary=False)


def json_write_up(traces: list[Trace]) -> Blocks:
    """``show -o json``'s document of ``traces``, each analysed in turn as its document is written."""
    from tracectl.analysis.analyse import analyse_trace
    from tracectl.analysis.tree_rows import SHOW_SCHEMA, make_view
    from tracectl.render.machine import Lazy, json_blocks
    from tracectl.render.tree_view import streamed_trace_document

    docs = Lazy(lambda: (streamed_trace_document(make_view(analyse_trace(t)), "export", []) for t in traces), walk=True)
    return json_blocks({"traces": docs}, SHOW_SCHEMA)


def write_up(traces: list[Trace], fmt: str, tz: Any = None, ui_url: str | None = None) -> str:
    """``traces`` analysed and written up as Markdown, HTML or JSON (``show -o json``'s document)."""
    from tracectl.analysis.analyse import analyse_trace
    from tracectl.render.trace_report import trace_html, trace_markdown

    if fmt == "json":
        return b"".join(json_write_up(traces).pieces()).decode()
    analyses = [analyse_trace(t) for t in traces]
    render = trace_markdown if fmt == "md" else trace_html
    return "\n".join(render(a, tz, ui_url) for a in analyses)
