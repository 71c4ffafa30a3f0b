"""``tracectl show``: the span tree and waterfall of a trace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tracectl.cli.app import Output, OutputFormat, app, get_env
from tracectl.cli.common import LogsFile, read_logs_files, select_traces
from tracectl.cli.sources import load_trace_arg

if TYPE_CHECKING:
    from tracectl.cli.env import Env
    from tracectl.model import LogRecord
    from tracectl.render.tree_rows import TreeView

SPAN_CSV_COLUMNS = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "depth",
    "service",
    "name",
    "kind",
    "status",
    "start_ns",
    "offset_ns",
    "duration_ns",
    "self_ns",
    "cp_ns",
    "orphan",
)


@app.command(rich_help_panel="Inspect a trace")
def show(
    ctx: typer.Context,
    trace: Annotated[
        str,
        typer.Argument(
            help="Trace file (OTLP JSON/protobuf, Jaeger JSON, Tempo response), - for stdin, or a trace ID."
        ),
    ],
    output: Output = OutputFormat.table,
    min_duration: Annotated[
        str | None, typer.Option("--min-duration", help="Hide spans shorter than this (e.g. 1ms), with their children.")
    ] = None,
    max_depth: Annotated[
        int | None, typer.Option("--max-depth", min=0, help="Hide spans deeper than this (root = 0).")
    ] = None,
    trace_id: Annotated[
        str | None, typer.Option("--trace-id", help="When the file holds several traces, show only this one.")
    ] = None,
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
) -> None:
    """Show a trace as a tree with a waterfall, the critical path drawn solid.

    Per span: service, operation, start offset, duration, self time and critical-path time.

    Messy data (orphans, duplicate IDs, cycles, clock skew, bad times) is repaired and listed under the tree
    and in the JSON "warnings". Examples:

      tracectl show trace.json
      tracectl show trace.json --min-duration 1ms --max-depth 4
      tracectl show trace.json --critical
      tracectl show $TRACE_ID --logs
      tracectl show trace.json.gz --logs-file loki-answer.json
      curl -s "$TEMPO/api/traces/$ID" | tracectl show - -o json | jq '.traces[0].warnings'
    """
    from tracectl.analysis.analyse import analyse_trace
    from tracectl.render import machine
    from tracectl.render.tree_rows import SHOW_SCHEMA, make_view, span_row, trace_document
    from tracectl.units import parse_duration

    env = get_env(ctx)
    min_ns = parse_duration(min_duration, "--min-duration") if min_duration else 0
    loaded = load_trace_arg(trace, env.fetch)
    views = [make_view(analyse_trace(t), min_ns, max_depth, critical) for t in select_traces(loaded, trace_id)]
    saved = read_logs_files(logs_file)
    if logs or saved is not None:
        for view in views:
            attach_logs(env, view, saved)

    if output is OutputFormat.json:
        docs = [trace_document(v, loaded.source, loaded.notes) for v in views]
        env.write(machine.to_json({"traces": docs}, SHOW_SCHEMA))
    elif output is OutputFormat.jsonl:
        env.write(machine.to_jsonl(span_row(v, i, full=True) for v in views for i in v.order))
    elif output is OutputFormat.csv:
        env.write(machine.to_csv((span_row(v, i, full=False) for v in views for i in v.order), SPAN_CSV_COLUMNS))
    else:
        from tracectl.render.tree_view import render_tree

        for n, view in enumerate(views):
            if n:
                env.out.print()
            render_tree(view, env.out, env.tz, loaded.source, loaded.notes, limit)
    if output is not OutputFormat.table:
        for view in views:
            for warning in view.tree.warnings:
                env.warn(f"trace {view.tree.trace_id}: {warning.message}")


def attach_logs(env: Env, view: TreeView, saved: list[LogRecord] | None = None) -> None:
    """Attach the trace's log lines, from saved files or fetched from Loki (a Loki failure is a warning, never the
    end of `show`)."""
    from tracectl.analysis.logs import match_logs, records_of
    from tracectl.backends.loki import fetch_trace_logs
    from tracectl.errors import TracectlError
    from tracectl.model import Trace

    if saved is not None:
        for m in match_logs(view.tree, records_of(view.tree, saved)):
            view.logs.setdefault(m.node, []).append(m)
        return
    try:
        trace = Trace(view.tree.trace_id, tuple(view.tree.spans))
        result = fetch_trace_logs(env.loki(), trace, env.log_options())
    except TracectlError as exc:
        env.warn(f"logs unavailable, showing the tree without them: {exc}")
        return
    for warning in result.warnings:
        env.warn(f"Loki: {warning}")
    for m in match_logs(view.tree, result.records):
        view.logs.setdefault(m.node, []).append(m)
