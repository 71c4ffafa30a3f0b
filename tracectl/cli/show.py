"""``tracectl show`` and ``tracectl path``: one trace's tree and waterfall, and its critical path."""

from __future__ import annotations

from typing import Annotated

import typer

from tracectl.cli.app import Output, app, emit_result, get_session

Trace = Annotated[
    str,
    typer.Argument(help="Trace file (OTLP JSON/protobuf, Jaeger JSON, Tempo response), - for stdin, or a trace ID."),
]
TraceIdOption = Annotated[
    str | None, typer.Option("--trace-id", help="When the file holds several traces, only this one.")
]
LogsFile = Annotated[
    list[str] | None,
    typer.Option(
        "--logs-file",
        help="Log lines saved from Loki instead of a live Loki: a query_range response (either encoding) or "
        "logcli -o jsonl output; .gz is read as such (repeatable).",
    ),
]


@app.command(rich_help_panel="Inspect a trace")
def show(
    ctx: typer.Context,
    trace: Trace,
    output: Output = "table",
    min_duration: Annotated[
        str | None, typer.Option("--min-duration", help="Hide spans shorter than this (e.g. 1ms), with their children.")
    ] = None,
    max_depth: Annotated[
        int | None, typer.Option("--max-depth", min=0, help="Hide spans deeper than this (root = 0).")
    ] = None,
    trace_id: TraceIdOption = None,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="Rows in the table view (0 = all). JSON is never cut.")
    ] = 1000,
    critical: Annotated[
        bool, typer.Option("--critical", "-c", help="Show only the spans on the critical path (and their parents).")
    ] = False,
    logs: Annotated[
        bool, typer.Option("--logs", help="Interleave the trace's Loki log lines under their spans.")
    ] = False,
    logs_file: LogsFile = None,
    log_limit: Annotated[
        int, typer.Option("--log-limit", min=0, help="With --logs: at most this many lines a trace (0 = all).")
    ] = 5000,
    expand: Annotated[
        bool, typer.Option("--expand", help="One row per span: repeated calls (N+1, retries) not folded.")
    ] = False,
    span: Annotated[
        str | None,
        typer.Option("--span", help="Only this span, whole: attributes, events, links, status, path share, logs."),
    ] = None,
) -> None:
    """Show a trace as a tree with a waterfall, the critical path drawn solid.

    Per span: service (where it changes from the parent's), operation, start offset, duration, self time and
    critical-path time. Siblings with the same service and operation one after another (an N+1 loop, retries)
    are one row, "×24  (sum 312 ms, wall 318 ms)", unless --expand; JSON and CSV have every span.

    Messy data (orphans, duplicate IDs, cycles, clock skew, bad times) is repaired and reported on stderr and
    in the JSON "warnings". Examples:

      tracectl show trace.json
      tracectl show trace.json --min-duration 1ms --max-depth 4
      tracectl show trace.json --critical
      tracectl show trace.json --span 5b8efff798038103
      tracectl show $TRACE_ID --logs --log-limit 0
      tracectl show trace.json.gz --logs-file loki-answer.json
      curl -s "$TEMPO/api/traces/$ID" | tracectl show - -o json | jq '.traces[0].warnings'
    """
    from tracectl.units import parse_duration
    from tracectl.workflows.inspect import show as run

    if span is not None:
        from tracectl.workflows.span_detail import span_detail

        detail = span_detail(get_session(ctx), trace, span, trace_id=trace_id, logs_files=logs_file)
        emit_result(ctx, detail, output)
        return
    min_ns = parse_duration(min_duration, "--min-duration") if min_duration else 0
    shown = run(get_session(ctx), trace, trace_id=trace_id, min_duration_ns=min_ns, max_depth=max_depth,
                critical=critical, logs=logs, logs_files=logs_file, log_limit=log_limit)  # fmt: skip
    emit_result(ctx, shown, output, limit=limit, full_rows=output != "csv", expand=expand)


@app.command(rich_help_panel="Inspect a trace")
def path(ctx: typer.Context, trace: Trace, output: Output = "table", trace_id: TraceIdOption = None) -> None:
    """The critical path: the sections of spans the request actually waited on, in time order.

    Shorten any section and the request finishes sooner. Consecutive sections of one span are merged; a
    span appears again each time the path returns to it between children. Every root of a partial trace
    gets its own path. Examples:

      tracectl path trace.json
      tracectl path trace.json -o csv > path.csv
    """
    from tracectl.workflows.inspect import critical_paths

    emit_result(ctx, critical_paths(get_session(ctx), trace, trace_id=trace_id), output)
