"""``tracectl demo``: see tracectl work with no setup."""

from __future__ import annotations

from typing import Annotated

import typer

from tracectl.cli.app import app, get_env


@app.command(rich_help_panel="Get started")
def demo(
    ctx: typer.Context,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulated request.")] = 7,
) -> None:
    """Show a simulated ML inference request as tracectl sees it; no setup, no backend.

    The request goes gateway → orchestrator → feature store → NLP ∥ CV models → post-processing, with an
    async audit hop. The sandbox stack (Tempo/Jaeger/Loki on loopback) and the full triage flow will replace this view.
    """
    from rich.text import Text

    from tracectl.analysis.analyse import analyse_trace
    from tracectl.render.tree_rows import make_view
    from tracectl.render.tree_view import render_tree
    from tracectl.synth import ml_inference_trace

    env = get_env(ctx)
    trace = ml_inference_trace(seed)
    render_tree(make_view(analyse_trace(trace)), env.out, env.tz, "(simulated request)", [], limit=0)
    env.out.print()
    env.out.print(Text("Try it on your own traces:", style="bold"))
    for cmd, what in (
        ("tracectl show trace.json", "any OTLP JSON/protobuf, Jaeger JSON or Tempo response"),
        ("tracectl show trace.json --min-duration 1ms", "hide the small stuff"),
        ("tracectl show trace.json -o json | jq .traces[0].warnings", "what was repaired in messy data"),
        ("tracectl export trace.jaeger.json -f otlp-json", "convert between formats"),
    ):
        env.out.print(Text.assemble("  ", (cmd, "cyan"), ("   # " + what, "dim")))
