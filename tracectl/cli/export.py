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
    fmt: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            "--format",
            "-f",
            metavar="FORMAT",
            help="Output format: " + ", ".join(f.value for f in ExportFormat) + " (-f/--format: the same).",
        ),
    ] = ExportFormat.otlp_json.value,
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
    trace_id: TraceIdOption = None,
) -> None:
    """Convert a trace to OTLP JSON, Tempo JSON, Jaeger JSON or OTLP protobuf, or write it up (md, html, json).

    md and html are postmortem-ready: waterfall with the critical path, the path section by section, where the
    time went (html is one self-contained file with an SVG waterfall); json is the analysed tree (as show -o json).
    OTLP JSON has hex IDs, Tempo JSON base64 IDs; Jaeger JSON is what Jaeger UI's "Download JSON" writes and
    what it opens. OTLP JSON ⇄ Jaeger JSON is lossless (times to the microsecond, Jaeger's resolution).

    As everywhere, -o is the format and --out the file.

      tracectl export trace.jaeger.json -o otlp-json > trace.otlp.json
      tracectl export trace.json -o otlp-proto --out trace.pb
      tracectl export 4bf92f3577b34da6a3ce929d0e0e4736 -o html --out incident-trace.html
    """
    from tracectl.render.export import export as run

    env = get_env(ctx)
    fmt = export_format(fmt)
    if fmt == "otlp-proto" and out is None and env.stdout_is_tty:
        raise InputError("refusing to write binary protobuf to a terminal: use --out FILE or a pipe")
    session = get_session(ctx)
    exported = run(session, trace, fmt, trace_id=trace_id, tz=env.tz, ui_url=session.settings.ui_url)
    if out is not None:
        from tracectl.atomic import write_atomically

        write_atomically(out, exported.data)  # whole or absent, an earlier file intact until then
        env.info(f"wrote {exported.traces} trace(s) to {out}")
        return
    env.write_bytes(exported.data)


def export_format(value: str) -> str:
    """The format ``-o`` names; a file name there (``-o trace.pb``) is a one-line error pointing at ``--out``."""
    names = [f.value for f in ExportFormat]
    if value.lower() in names:
        return value.lower()
    if "/" in value or "." in value:
        raise InputError(f"-o is the format ({', '.join(names)}), not a file: write {value} with --out {value}")
    raise InputError(f"-o: {value!r} is not a format (formats: {', '.join(names)})")
