"""``tracectl diff``: what got slower, what appeared or vanished, between two traces or two sets."""

from __future__ import annotations

from typing import Annotated

import typer

from tracectl.cli.app import Output, OutputFormat, app, get_env
from tracectl.cli.sources import load_many


@app.command(rich_help_panel="Find the culprit")
def diff(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="A: a trace (file or ID), a directory, or a quoted glob.")],
    b: Annotated[str, typer.Argument(help="B: the same kinds as A; compared against A.")],
    by: Annotated[str, typer.Option("--by", "-b", help="Component key (as blame --by).")] = "service",
    top: Annotated[int, typer.Option("--top", "-n", min=0, help="Rows per table (0 = all).")] = 15,
    output: Output = OutputFormat.table,
) -> None:
    """Compare two traces, or two sets: critical-path and self time per component (and edge) in A and B, calls
    that appeared, vanished or multiplied (retries, N+1 loops, fallbacks), and error changes. Two single
    traces are also shown side by side, span by span.

      tracectl diff good.json slow.json
      tracectl diff 'yesterday/*.json' 'today/*.json' --by operation
    """
    from tracectl.analysis.analyse import analyse_trace
    from tracectl.analysis.compare import align, compare
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
    cmp = compare(set_a, set_b)
    aligned = aligned_rows(align(set_a[0], set_b[0]), set_a[0], set_b[0]) if len(set_a) == len(set_b) == 1 else None
    if output is OutputFormat.json:
        env.write(machine.to_json(diff_document(cmp, aligned), DIFF_SCHEMA))
    elif output is OutputFormat.jsonl:
        env.write(machine.to_jsonl(component_rows(cmp)))
    elif output is OutputFormat.csv:
        env.write(machine.to_csv(component_rows(cmp), DIFF_CSV_COLUMNS))
    else:
        render_diff(cmp, env.out, top, aligned)
