"""``tracectl diff``: what got slower, what appeared or vanished, between two traces or two sets."""

from __future__ import annotations

from typing import Annotated

import typer

from tracectl.cli.app import Output, app, emit_result, get_session
from tracectl.cli.blame import By
from tracectl.cli.show import LogsFile


@app.command(rich_help_panel="Find the culprit")
def diff(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="A: a trace (file or ID), a directory, or a quoted glob.")],
    b: Annotated[str, typer.Argument(help="B: the same kinds as A; compared against A.")],
    by: By = "service",
    top: Annotated[int, typer.Option("--top", "-n", min=0, help="Rows per table (0 = all).")] = 15,
    logs_file: LogsFile = None,
    output: Output = "table",
) -> None:
    """What changed between two traces, or two sets of traces, and what explains it.

    First what explains B's extra time: the same ranking as triage, B as the suspects (growth like with like,
    edges charged to the side that owns them, new or silenced log lines with --logs-file). Then critical-path
    and self time per component (and edge) in A and B, what got faster, calls that appeared, vanished or
    multiplied (retries, N+1 loops, fallbacks), and error changes. Two single traces are also shown side by
    side, span by span. Files may be gzip-compressed.

      tracectl diff good.json slow.json
      tracectl diff 'yesterday/*.json' 'today/*.json' --by operation
      tracectl diff monday.json.gz today.json.gz --logs-file today.logs.json.gz
    """
    from tracectl.workflows.diff import diff as run

    emit_result(ctx, run(get_session(ctx), a, b, by=by, logs_files=logs_file), output, top=top)
