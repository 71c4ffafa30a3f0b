"""``tracectl export``: write a trace in another format (lossless between OTLP JSON and Jaeger JSON)."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from tracectl.cli.app import app, get_env
from tracectl.cli.common import select_traces
from tracectl.cli.sources import load_trace_arg
from tracectl.errors import InputError


class ExportFormat(enum.StrEnum):
    otlp_json = "otlp-json"
    tempo_json = "tempo-json"
    jaeger_json = "jaeger-json"
    otlp_proto = "otlp-proto"
    md = "md"
    html = "html"
    json = "json"


@app.command(rich_help_panel="Inspect a trace")
def export(
    ctx: typer.Context,
    trace: Annotated[str, typer.Argument(help="Trace file, - for stdin, or a trace ID (fetched from the backend).")],
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="Output format.")] = ExportFormat.otlp_json,
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
    trace_id: Annotated[str | None, typer.Option("--trace-id", help="Export only this trace of the file.")] = None,
) -> None:
    """Convert a trace to OTLP JSON, Tempo JSON, Jaeger JSON or OTLP protobuf, or write it up (md, html, json).

    md and html are postmortem-ready: waterfall with the critical path, the path section by section, where the
    time went (html is one self-contained file with an SVG waterfall); json is the analysed tree (as show -o json).
    OTLP JSON has hex IDs, Tempo JSON base64 IDs; Jaeger JSON is what Jaeger UI's "Download JSON" writes and
    what it opens. OTLP JSON ⇄ Jaeger JSON is lossless (times to the microsecond, Jaeger's resolution).

      tracectl export trace.jaeger.json -f otlp-json > trace.otlp.json
      tracectl export trace.json -f otlp-proto --out trace.pb
    """
    import orjson

    from tracectl.formats import jaeger_json, otlp_json, otlp_proto

    env = get_env(ctx)
    traces = select_traces(load_trace_arg(trace, env.fetch), trace_id)
    if fmt in (ExportFormat.md, ExportFormat.html, ExportFormat.json):
        data = _write_up(traces, fmt, env.tz).encode("utf-8")
    elif fmt is ExportFormat.otlp_proto:
        data = otlp_proto.dump_bytes(traces)
        if out is None and env.stdout_is_tty:
            raise InputError("refusing to write binary protobuf to a terminal: use --out FILE or a pipe")
    else:
        if fmt is ExportFormat.jaeger_json:
            doc = jaeger_json.dump_document(traces)
        elif fmt is ExportFormat.tempo_json:
            doc = {"trace": otlp_json.dump_document(traces, ids="base64")}
        else:
            doc = otlp_json.dump_document(traces)
        data = orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
    if out is not None:
        try:
            out.write_bytes(data)
        except OSError as exc:
            raise InputError(f"{out}: cannot write: {exc.strerror or exc}") from None
        if not env.quiet:
            env.err.print(f"wrote {len(traces)} trace(s) to {out}")
        return
    stream = getattr(env.stdout, "buffer", None)
    if stream is None:  # a text-only stream (tests): JSON is text, protobuf is not
        env.write(data.decode("utf-8", errors="surrogateescape"))
    else:
        stream.write(data)
        stream.flush()


def _write_up(traces: list, fmt: ExportFormat, tz: object) -> str:  # type: ignore[type-arg]
    from tracectl.analysis.analyse import analyse_trace
    from tracectl.render import machine
    from tracectl.render.report import trace_html, trace_markdown
    from tracectl.render.tree_rows import SHOW_SCHEMA, make_view, trace_document

    analyses = [analyse_trace(t) for t in traces]
    if fmt is ExportFormat.json:
        docs = [trace_document(make_view(a), "export", []) for a in analyses]
        return machine.to_json({"traces": docs}, SHOW_SCHEMA)
    render = trace_markdown if fmt is ExportFormat.md else trace_html
    return "\n".join(render(a, tz) for a in analyses)  # type: ignore[arg-type]
