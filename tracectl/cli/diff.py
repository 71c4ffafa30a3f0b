"""``tracectl diff``: what got slower, what appeared or vanished, between two traces or two sets."""

from __future__ import annotations

from typing import Annotated

import typer

from tracectl.cli.app import Output, OutputFormat, app, get_env
from tracectl.cli.common import LogsFile, read_logs_files
from tracectl.cli.sources import load_many


@app.command(rich_help_panel="Find the culprit")
def diff(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="A: a trace (file or ID), a directory, or a quoted glob.")],
    b: Annotated[str, typer.Argument(help="B: the same kinds as A; compared against A.")],
    by: Annotated[str, typer.Option("--by", "-b", help="Component key (as blame --by).")] = "service",
    top: Annotated[int, typer.Option("--top", "-n", min=0, help="Rows per table (0 = all).")] = 15,
    logs_file: LogsFile = None,
    output: Output = OutputFormat.table,
) -> None:
    """Compare two traces, or two sets: what explains B's extra time (the same ranking as triage, B as the
    suspects: growth like with like, edges charged to the side that owns them, new or silenced log lines),
    then critical-path and self time per component (and edge) in A and B, what got faster, calls that
    appeared, vanished or multiplied (retries, N+1 loops, fallbacks), and error changes. Two single traces are
    also shown side by side, span by span. Files may be gzip-compressed.

      tracectl diff good.json slow.json
      tracectl diff 'yesterday/*.json' 'today/*.json' --by operation
      tracectl diff monday.json.gz today.json.gz --logs-file today.logs.json.gz
    """
    from tracectl.analysis.analyse import analyse_trace
    from tracectl.analysis.compare import align, diff_sets
    from tracectl.render import machine
    from tracectl.render.diff_view import (
        DIFF_CSV_COLUMNS,
        DIFF_SCHEMA,
        aligned_rows,
        component_rows,
        diff_document,
        render_diff,
    )

    env = get_env(ctx)

    def side(arg: str) -> list:  # type: ignore[type-arg]
        loaded = load_many([arg], env.fetch, env.fetch_many)
        return [analyse_trace(t, by) for r in loaded for t in r.traces]

    set_a, set_b = side(a), side(b)
    result = diff_sets(set_a, set_b, read_logs_files(logs_file))
    aligned = aligned_rows(align(set_a[0], set_b[0]), set_a[0], set_b[0]) if len(set_a) == len(set_b) == 1 else None
    if output is OutputFormat.json:
        env.write(machine.to_json(diff_document(result, aligned), DIFF_SCHEMA))
    elif output is OutputFormat.jsonl:
        env.write(machine.to_jsonl(component_rows(result.comparison)))
    elif output is OutputFormat.csv:
        env.write(machine.to_csv(component_rows(result.comparison), DIFF_CSV_COLUMNS))
    else:
        render_diff(result, env.out, top, aligned)
