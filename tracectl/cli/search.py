"""``tracectl search``: find traces in Tempo or Jaeger, slowest first."""

from __future__ import annotations

import typer

from tracectl.cli import search_options as so
from tracectl.cli.app import Output, app, emit_result, get_session


@app.command(rich_help_panel="Find traces")
@so.takes_search(limit=20)
def search(
    ctx: typer.Context,
    flags: so.SearchFlags = so.FLAGS,
    order: so.Order = "slowest",
    output: Output = "table",
) -> None:
    """Find traces by service, operation, duration, errors and attributes (or raw TraceQL), slowest first.

    -s, --operation and --attr describe one span; --errors and the durations describe the whole trace:
    -s api-gateway --errors finds gateway requests that failed in any service. Tempo gets TraceQL built from the
    flags (values escaped and typed, durations fitted to the server's version); Jaeger gets its v3 API, or v1 on
    older servers. A backend returns the first --limit matches it finds, not the slowest: with --order slowest
    (the default) tracectl asks for slower ones (a TraceQL metrics quantile on Tempo, then duration-bounded
    searches; duration bisection on Jaeger) until one answer holds them all, and says how the list was made.
    Examples:

      tracectl search -s inference-orchestrator --min-duration 2s --since 30m
      tracectl search -s api-gateway --errors --since 1h
      tracectl search -s api-gateway --order recent --limit 50
      tracectl search -s api-gateway --attr http.response.status_code=500
      tracectl search -s feature-store --attr cache.hit=false
      tracectl search -s geo --attr 'zip="02134"'     # quotes: a string
      tracectl search --traceql '{ trace:duration > 1s }' -o json
    """
    from tracectl.workflows.search import search as run

    query = so.build_query(ctx, flags)
    emit_result(ctx, run(get_session(ctx), query, order=order), output)
