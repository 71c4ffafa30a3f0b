"""``tracectl logs``: the Loki log lines of a trace, grouped by span."""

from __future__ import annotations

from typing import Annotated

import typer

from tracectl.cli.app import app, emit_result, get_session, output_option
from tracectl.cli.show import LogsFile, Trace, TraceIdOption


@app.command(rich_help_panel="Inspect a trace")
def logs(
    ctx: typer.Context,
    trace: Trace,
    span: Annotated[str | None, typer.Option("--span", help="Only the lines of this span (span ID).")] = None,
    level: Annotated[
        str | None, typer.Option("--level", help="Only this level and above: debug, info, warn, error, fatal.")
    ] = None,
    grep: Annotated[
        str | None,
        typer.Option("--grep", help="Only lines matching this regular expression (RE2, as Loki reads it)."),
    ] = None,
    strategy: Annotated[
        str | None,
        typer.Option("--strategy", help="How lines are found: line (default), metadata, json, template."),
    ] = None,
    margin: Annotated[
        str | None, typer.Option("--margin", help="Widen the trace's time window by this on both sides (default 5s).")
    ] = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", min=0, help="At most this many (matching) lines, 0 = all; paged past Loki's own limit."
        ),
    ] = 5000,
    trace_id: TraceIdOption = None,
    logs_file: LogsFile = None,
    output: output_option("table", "raw", "json", "jsonl", "csv") = "table",  # type: ignore[valid-type]
) -> None:
    """Loki log lines correlated to a trace, matched to spans by span ID or by service and time.

    The query comes from the trace's services (resource attribute → Loki label, default service.name →
    service_name) and the strategy: a line filter on the trace ID (works everywhere), OTLP structured metadata,
    a parsed JSON field, or your own template. --grep and --level are sent to Loki, so --limit counts matching
    lines; a read cut by --limit is said on stderr and in the JSON "warnings". Examples:

      tracectl logs 2f3e0cee77ae5dc9c17ade3689eb2e54
      tracectl logs trace.json --level warn --grep timeout
      tracectl logs $ID --strategy metadata -o jsonl | jq .line
      tracectl logs trace.json --logs-file saved-loki-answer.json.gz --level error
    """
    from tracectl.workflows.logs import trace_logs

    result = trace_logs(get_session(ctx), trace, trace_id=trace_id, span=span, level=level, grep=grep,
                        strategy=strategy, margin=margin, limit=limit, logs_files=logs_file)  # fmt: skip
    emit_result(ctx, result, output)
