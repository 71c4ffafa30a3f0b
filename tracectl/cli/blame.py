"""``tracectl blame``: latency attribution by component, for one trace or aggregated over many."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracectl.cli import search_options as so
from tracectl.cli.app import Output, OutputFormat, app, get_env
from tracectl.cli.sources import load_many
from tracectl.errors import InputError

if TYPE_CHECKING:
    from tracectl.formats.detect import LoadResult


@app.command(rich_help_panel="Find the culprit")
def blame(
    ctx: typer.Context,
    traces: Annotated[
        list[str] | None,
        typer.Argument(help="Trace files, directories, quoted globs ('traces/*.json'), - for stdin, or trace IDs."),
    ] = None,
    by: Annotated[
        str,
        typer.Option(
            "--by", "-b", help="Component key: service, operation, name, kind, attr:KEY, resource:KEY, or a,b."
        ),
    ] = "service",
    top: Annotated[int, typer.Option("--top", "-n", min=0, help="Show only the N largest rows (0 = all).")] = 0,
    bucket: Annotated[
        bool, typer.Option("--bucket", help="Compare the typical traces (near the median) with the tail (≥ p99).")
    ] = False,
    output: Output = OutputFormat.table,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Warn about unreadable files or failed fetches and go on.")
    ] = False,
    search: Annotated[
        bool,
        typer.Option(
            "--search",
            help="Aggregate over the traces a search returns (the Search options below).",
            rich_help_panel=so.PANEL,
        ),
    ] = False,
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
    limit: so.Limit = 100,
) -> None:
    """Which components the time goes to: self time and critical-path time per component.

    With one trace: the attribution table. With many: per component, the traces it appears in, error rate,
    its share of all critical-path time, and mean/p50/p95/p99 of its per-trace critical-path time. A row
    "a → b" is time a's client spent outside b's server span: network, connection set-up, the callee's queue.
    Examples:

      tracectl blame trace.json
      tracectl blame traces/ --by operation --top 10
      tracectl blame 'traces/*.json' --by service,attr:ml.model.name --bucket
      tracectl blame --search -s api-gateway --min-duration 2s --since 1h --limit 200
    """
    from tracectl.analysis.analyse import analyse_trace
    from tracectl.analysis.attribution import parse_key
    from tracectl.render import blame_view as view
    from tracectl.render import machine

    env = get_env(ctx)
    key = parse_key(by)
    if search:
        if traces:
            raise InputError("give trace files/IDs or --search, not both")
        query = so.build_query(
            service, operation, min_duration, max_duration, errors, attr, traceql, since, start, end, limit
        )
        found = env.backend().search(query)
        for warning in found.warnings:
            env.warn(warning)
        if not found.traces:
            raise InputError(f"the search found no traces ({found.query}); widen --since or relax the filters")
        traces = [t.trace_id for t in found.traces]
    elif not traces:
        raise InputError("give trace files, directories, trace IDs, or --search with search options")

    def fetch_many(ids: list[str], progress: Callable[[int, int], None] | None) -> list[LoadResult | None]:
        return env.fetch_many(ids, progress, skip_failed=skip_bad)

    with env.progress("loading traces") as update:
        loaded = load_many(traces, env.fetch, fetch_many, on_loaded=update, skip_bad=skip_bad, warn=env.warn)
    all_traces = [t for result in loaded for t in result.traces]
    with env.progress("analysing") as update:
        attributions = []
        for n, trace in enumerate(all_traces, 1):
            attributions.append(analyse_trace(trace, key).attribution)
            update(n, len(all_traces))

    doc: dict[str, Any]
    columns: tuple[str, ...]
    render: Callable[[], None]
    if len(attributions) == 1 and not bucket:
        (single,) = attributions
        doc = {"mode": "trace", "trace_id": single.trace_id, "by": single.by, "duration_ns": single.duration_ns,
               "cp_length_ns": single.cp_length_ns, "rows": view.trace_rows(single, top)}  # fmt: skip
        columns = view.TRACE_CSV_COLUMNS
        render = lambda: view.render_trace(single, env.out, top)  # noqa: E731
    elif bucket:
        from tracectl.analysis.aggregate import compare_buckets

        cmp = compare_buckets(attributions)
        doc = {"mode": "buckets", "by": cmp.by, "traces": len(attributions), "typical_traces": cmp.typical_traces,
               "tail_traces": cmp.tail_traces, "typical_duration_mean_ns": cmp.typical_duration_mean,
               "tail_duration_mean_ns": cmp.tail_duration_mean, "rows": view.bucket_rows(cmp, top)}  # fmt: skip
        columns = view.BUCKET_CSV_COLUMNS
        render = lambda: view.render_buckets(cmp, env.out, top)  # noqa: E731
    else:
        from tracectl.analysis.aggregate import aggregate

        agg = aggregate(attributions)
        doc = {"mode": "aggregate", "by": agg.by, "traces": agg.traces, "total_cp_ns": agg.total_cp_ns,
               "duration_p50_ns": agg.duration_p50, "duration_p95_ns": agg.duration_p95,
               "duration_p99_ns": agg.duration_p99, "rows": view.aggregate_rows(agg, top)}  # fmt: skip
        columns = view.AGG_CSV_COLUMNS
        render = lambda: view.render_aggregate(agg, env.out, top)  # noqa: E731

    rows: list[dict[str, Any]] = doc["rows"]
    doc["warnings"] = env.warnings  # search stopped early, skipped or PARTIAL traces: they bear on the numbers
    if output is OutputFormat.json:
        env.write(machine.to_json(doc, view.BLAME_SCHEMA))
    elif output is OutputFormat.jsonl:
        env.write(machine.to_jsonl(rows))
    elif output is OutputFormat.csv:
        env.write(machine.to_csv(rows, columns))
    else:
        render()
