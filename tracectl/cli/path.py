"""``tracectl path``: the critical path of a trace, section by section."""

from __future__ import annotations

from typing import Annotated

import typer

from tracectl.cli.app import Output, OutputFormat, app, get_env
from tracectl.cli.common import select_traces
from tracectl.cli.sources import load_trace_arg


@app.command(rich_help_panel="Inspect a trace")
def path(
    ctx: typer.Context,
    trace: Annotated[str, typer.Argument(help="Trace file, - for stdin, or a trace ID (fetched from the backend).")],
    output: Output = OutputFormat.table,
    trace_id: Annotated[
        str | None, typer.Option("--trace-id", help="When the file holds several traces, only this one.")
    ] = None,
) -> None:
    """The critical path: the sections of spans the request actually waited on, in time order.

    Shorten any section and the request finishes sooner. Consecutive sections of one span are merged; a
    span appears again each time the path returns to it between children. Every root of a partial trace
    gets its own path. Examples:

      tracectl path trace.json
      tracectl path trace.json -o csv > path.csv
    """
    from tracectl.analysis.analyse import analyse_trace
    from tracectl.render import machine
    from tracectl.render.path_view import PATH_CSV_COLUMNS, PATH_SCHEMA, path_document, path_rows, render_path

    env = get_env(ctx)
    loaded = load_trace_arg(trace, env.fetch)
    analyses = [analyse_trace(t) for t in select_traces(loaded, trace_id)]
    if output is OutputFormat.json:
        docs = [path_document(a, loaded.source) for a in analyses]
        env.write(machine.to_json({"traces": docs, "warnings": env.warnings}, PATH_SCHEMA))
    elif output is OutputFormat.jsonl:
        env.write(machine.to_jsonl(row for a in analyses for row in path_rows(a)))
    elif output is OutputFormat.csv:
        env.write(machine.to_csv((row for a in analyses for row in path_rows(a)), PATH_CSV_COLUMNS))
    else:
        for n, analysis in enumerate(analyses):
            if n:
                env.out.print()
            render_path(analysis, env.out, env.tz, loaded.source)
