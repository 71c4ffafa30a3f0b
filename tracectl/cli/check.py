"""``tracectl check``: instrumentation quality over many traces, per service, with a 0–100 score."""

from __future__ import annotations

from typing import Annotated

import typer

from tracectl.cli import search_options as so
from tracectl.cli.app import Output, app, emit_result, get_session
from tracectl.cli.skipped import DEFAULT_MAX_SKIPPED, Jobs, MaxSkipped, SkipBad, Traces, finish, parse_max_skipped
from tracectl.errors import ThresholdCrossed


@app.command(rich_help_panel="Find the culprit")
@so.takes_search(limit=500)
def check(
    ctx: typer.Context,
    traces: Traces = None,
    output: Output = "table",
    max_skipped: MaxSkipped = DEFAULT_MAX_SKIPPED,
    fail_on: Annotated[
        list[str] | None,
        typer.Option("--fail-on", help="Exit 6 when crossed: score<80 (any service), critical>0, findings>0."),
    ] = None,
    top: Annotated[int, typer.Option("--top", "-n", min=0, help="Show only the N first findings (0 = all).")] = 0,
    skip_bad: SkipBad = False,
    jobs: Jobs = None,
    search: Annotated[
        bool,
        typer.Option(
            "--search", help="Check the traces a search returns (the Search options).", rich_help_panel=so.PANEL
        ),
    ] = False,
    flags: so.SearchFlags = so.FLAGS,
) -> None:
    """Can these traces be trusted? Instrumentation rules per service, each with an impact level, and a 0–100
    score per service in the spirit of the OpenTelemetry Instrumentation Score.

    Rules: broken propagation (one request split across traces: calls made outside the request's context, or
    sent without traceparent), missing or default service.name, missing span kinds, IDs in span names, missing
    semantic-convention attributes (http.route, http.response.status_code, db.system…), errors recorded without
    ERROR status or cause, parents that never arrived, clock skew between hosts, unended or zero-length spans.
    Each finding names the rule, its impact, how many spans fail, an example and the fix (docs/check.md).

    A split is found only when both halves are checked: with --search, leave out -s (the second half holds no
    span of the caller) and allow for two traces per request in --limit. Examples:

      tracectl check traces/
      tracectl check --search --since 15m --limit 1000
      tracectl check traces/ -o json --fail-on 'score<80' --fail-on 'critical>0'
    """
    from tracectl.workflows.check import check as run
    from tracectl.workflows.check import crossed_thresholds, parse_fail_on

    rules = [parse_fail_on(r) for r in fail_on or []]
    query = None
    if search:
        query = so.build_query(ctx, flags)
    parse_max_skipped(max_skipped)  # a bad value fails before anything is fetched
    result = run(get_session(ctx), traces, query=query, skip_bad=skip_bad, jobs=jobs)
    emit_result(ctx, result, output, top=top)
    finish(ctx, getattr(result, "inputs", None), max_skipped)
    crossed = crossed_thresholds(result, rules)
    if crossed:
        raise ThresholdCrossed("threshold crossed: " + "; ".join(crossed))
