"""``tracectl search``: find traces in Tempo or Jaeger, slowest first."""

from __future__ import annotations

import typer

from tracectl.cli import search_options as so
from tracectl.cli.app import Output, OutputFormat, app, get_env


@app.command(rich_help_panel="Find traces")
def search(
    ctx: typer.Context,
    service: so.Service = None,
    operation: so.Operation = None,
    min_duration: so.MinDuration = None,
    max_duration: so.MaxDuration = None,
    errors: so.Errors = False,
    attr: so.Attr = None,
    traceql: so.TraceQL = None,
    since: so.Since = None,
    start: so.From = None,
    end: so.To = None,
    limit: so.Limit = 20,
    output: Output = OutputFormat.table,
) -> None:
    """Find traces by service, operation, duration, errors and attributes (or raw TraceQL), slowest first.

    -s, --operation and --attr describe one span; --errors and the durations
    describe the whole trace: -s api-gateway --errors finds gateway requests
    that failed in any service. Tempo gets TraceQL built from the flags (values
    escaped and typed, durations fitted to the server's version); Jaeger gets
    its v3 API, or v1 on older servers. Examples:

      tracectl search -s inference-orchestrator --min-duration 2s --since 30m
      tracectl search -s api-gateway --errors --since 1h
      tracectl search -s api-gateway --attr http.response.status_code=500
      tracectl search -s feature-store --attr cache.hit=false
      tracectl search -s geo --attr 'zip="02134"'     # quotes: a string
      tracectl search --traceql '{ trace:duration > 1s }' -o json
    """
    from tracectl.render import machine
    from tracectl.render.search_view import SEARCH_CSV_COLUMNS, SEARCH_SCHEMA, render_search, search_rows

    env = get_env(ctx)
    query = so.build_query(
        service, operation, min_duration, max_duration, errors, attr, traceql, since, start, end, limit
    )
    result = env.backend().search(query)
    for warning in result.warnings:
        env.warn(warning)
    if output is OutputFormat.json:
        doc = {
            "backend": result.backend, "query": result.query, "start_ns": query.time.start_ns,
            "end_ns": query.time.end_ns, "traces": search_rows(result), "warnings": env.warnings,
        }  # fmt: skip
        env.write(machine.to_json(doc, SEARCH_SCHEMA))
    elif output is OutputFormat.jsonl:
        env.write(machine.to_jsonl(search_rows(result)))
    elif output is OutputFormat.csv:
        env.write(machine.to_csv(search_rows(result), SEARCH_CSV_COLUMNS))
    else:
        render_search(result, env.out, env.tz)
