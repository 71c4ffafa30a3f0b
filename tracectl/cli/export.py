"""``tracectl export``: write a trace in another format (lossless between OTLP JSON and Jaeger JSON)."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from tracectl.cli.app import app, get_env, get_session
from tracectl.cli.show import Trace, TraceIdOption
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
    trace: Trace,
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="Output format.")] = ExportFormat.otlp_json,
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
    trace_id: TraceIdOption = None,
) -> None:
    """Convert a trace to OTLP JSON, Tempo JSON, Jaeger JSON or OTLP protobuf, or write it up (md, html, json).

    md and html are postmortem-ready: waterfall with the critical path, the path section by section, where the
    time went (html is one self-contained file with an SVG waterfall); json is the analysed tree (as show -o json).
    OTLP JSON has hex IDs, Tempo JSON base64 IDs; Jaeger JSON is what Jaeger UI's "Download JSON" writes and
    what it opens. OTLP JSON ⇄ Jaeger JSON is lossless (times to the microsecond, Jaeger's resolution).

      tracectl export trace.jaeger.json -f otlp-json > trace.otlp.json
      tracectl export trace.json -f otlp-proto --out trace.pb
    """
    from tracectl.workflows.inspect import export as run

    env = get_env(ctx)
    if str(fmt) == "otlp-proto" and out is None and env.stdout_is_tty:
        raise InputError("refusing to write binary protobuf to a terminal: use --out FILE or a pipe")
    exported = run(get_session(ctx), trace, str(fmt), trace_id=trace_id, tz=env.tz)
    if out is not None:
        from tracectl.atomic import write_atomically

        write_atomically(out, exported.data)  # whole or absent, an earlier file intact until then
        env.info(f"wrote {exported.traces} trace(s) to {out}")
        return
    env.write_bytes(exported.data)
