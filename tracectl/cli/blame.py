"""``tracectl blame``: latency attribution by component, for one trace or aggregated over many."""

from __future__ import annotations

from typing import Annotated

import typer

from tracectl.cli import search_options as so
from tracectl.cli.app import Output, app, emit_result, get_session
from tracectl.cli.skipped import DEFAULT_MAX_SKIPPED, Jobs, MaxSkipped, SkipBad, Traces, finish, parse_max_skipped

By = Annotated[
    str,
    typer.Option("--by", "-b", help="Component key: service, operation, name, kind, attr:KEY, resource:KEY, or a,b."),
]


@app.command(rich_help_panel="Find the culprit")
@so.takes_search(limit=100)
def blame(
    ctx: typer.Context,
    traces: Traces = None,
    by: By = "service",
    top: Annotated[int, typer.Option("--top", "-n", min=0, help="Show only the N largest rows (0 = all).")] = 0,
    bucket: Annotated[
        bool, typer.Option("--bucket", help="Compare the typical traces (near the median) with the tail (≥ p99).")
    ] = False,
    output: Output = "table",
    max_skipped: MaxSkipped = DEFAULT_MAX_SKIPPED,
    skip_bad: SkipBad = False,
    jobs: Jobs = None,
    search: Annotated[
        bool,
        typer.Option(
            "--search",
            help="Aggregate over the traces a search returns (the Search options below).",
            rich_help_panel=so.PANEL,
        ),
    ] = False,
    flags: so.SearchFlags = so.FLAGS,
) -> None:
    """Where the time goes, by component: self time and critical-path time.

    With one trace: the attribution table. With many: per component, the traces it appears in, error rate,
    its share of all critical-path time, and mean/p50/p95/p99 of its per-trace critical-path time. A row
    "a → b" is time a's client spent outside b's server span: network, connection set-up, the callee's queue.
    Examples:

      tracectl blame trace.json
      tracectl blame traces/ --by operation --top 10
      tracectl blame 'traces/*.json' --by service,attr:ml.model.name --bucket
      tracectl blame --search -s api-gateway --min-duration 2s --since 1h --limit 200
    """
    from tracectl.workflows.blame import blame as run

    query = None
    if search:
        query = so.build_query(ctx, flags)
    parse_max_skipped(max_skipped)  # a bad value fails before anything is fetched
    result = run(get_session(ctx), traces, query=query, by=by, bucket=bucket, skip_bad=skip_bad, jobs=jobs)
    emit_result(ctx, result, output, top=top)
    finish(ctx, getattr(result, "inputs", None), max_skipped)
