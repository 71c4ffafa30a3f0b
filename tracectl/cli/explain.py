"""``tracectl explain``: one slow or failed request, one verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tracectl.cli.app import Output, app, emit_result, get_env, get_session
from tracectl.cli.show import Trace, TraceIdOption


@app.command(rich_help_panel="Inspect a trace")
def explain(
    ctx: typer.Context,
    trace: Trace,
    output: Output = "table",
    trace_id: TraceIdOption = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Also list the minor findings (under 5% of the critical path).")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Findings in the table view (0 = all).")] = 10,
    report: Annotated[Path | None, typer.Option("--report", help="Also write a report: FILE.md or FILE.html.")] = None,
) -> None:
    """Explain one slow or failed request: what went wrong, where, and what it cost.

    One plain sentence, then the findings, ranked by the time they cost on the critical path (a failure first):
    where the failure began (a timeout that masks a slow callee, the first of several failures), N+1 loops,
    retries, independent lookups made one after another, queueing gaps no span accounts for, and the span that
    holds most of the critical path. Each names its spans (IDs, service, operation) and its numbers. TRACE is a
    file, a trace ID or a W3C traceparent; of a file with several traces, the slowest is explained. Examples:

      tracectl explain trace.json
      tracectl explain $TRACE_ID --report incident.html
      tracectl explain 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
      tracectl explain traces.jsonl.gz --trace-id 4bf92f3577b34da6a3ce929d0e0e4736 -o json | jq '.findings[0]'
    """
    from tracectl.render.explain_report import write_report
    from tracectl.render.trace_report import report_kind
    from tracectl.workflows.explain import explain as run

    if report is not None:
        report_kind(report)
    result = run(get_session(ctx), trace, trace_id=trace_id, keep_minor=everything)
    if report is not None:
        write_report(result, report, get_env(ctx).tz)
        get_env(ctx).info(f"report written to {report}")
    emit_result(ctx, result, output, limit=limit)
