"""``tracectl demo``: the whole flow against the built-in sandbox, no setup."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from tracectl.cli.app import app, emit_result, get_env
from tracectl.errors import InputError


@app.command(rich_help_panel="Get started")
def demo(
    ctx: typer.Context,
    scenario: Annotated[
        str, typer.Option("--scenario", help="Injected fault; `tracectl sandbox scenarios` lists them.")
    ] = "feature-store-gc",
    backend: Annotated[str, typer.Option("--backend", help="Query the sandbox as tempo or jaeger.")] = "tempo",
    requests: Annotated[int, typer.Option("--requests", min=20, help="Requests to simulate.")] = 300,
) -> None:
    """Triage a simulated incident end to end, with no setup.

    Runs tracectl against the built-in sandbox: a simulated ML serving stack with an injected fault, served
    through Tempo-, Jaeger- and Loki-compatible APIs on 127.0.0.1. Finds the slow or failing requests, compares
    them with normal ones, names the culprit, and shows the evidence: the worst trace's critical path and its
    log lines. Your own settings and environment are not used: the demo talks only to its sandbox.
    """
    from rich.rule import Rule
    from rich.text import Text

    from tracectl.sandbox import SCENARIOS
    from tracectl.sandbox.demo import run_demo

    if scenario not in SCENARIOS:
        raise InputError(f"--scenario: unknown {scenario!r} (one of {', '.join(SCENARIOS)})")
    if backend not in ("tempo", "jaeger"):
        raise InputError("--backend must be tempo or jaeger")
    env = get_env(ctx)
    started = time.perf_counter()

    def announce(url: str) -> None:
        env.out.print(Rule(f"tracectl demo · scenario {scenario} · {backend} at {url}"))
        env.out.print(Text(SCENARIOS[scenario].description + "\n", style="dim"))
        env.out.print(Text("0. SLOs: what burns", style="bold"))
        env.out.print(Text("$ tracectl slo status examples/slo/ml-serving.sloth.yml --history 35m", style="bold"))

    def show_slos(status: object) -> None:
        emit_result(ctx, status, "table")
        env.out.print(Text("\n1. Metrics: the spike, when it began, what lined up", style="bold"))
        env.out.print(Text("$ tracectl metrics -s api-gateway --since 35m", style="bold"))

    def show_metrics(found: object) -> None:
        emit_result(ctx, found, "table")
        env.out.print(Text("\n2. Triage: which component, and why", style="bold"))
        env.out.print(Text("$ tracectl triage -s api-gateway --since 35m --reference train.csv", style="bold"))

    result = run_demo(scenario, backend, requests, announce, show_metrics, show_slos, warn=env.warn,
                      progress=env.progress)  # fmt: skip
    emit_result(ctx, result, "table", truth=(SCENARIOS[scenario].culprit or "",))
    env.out.print(Text(f"\nDone in {time.perf_counter() - started:.1f} s; the sandbox is stopped. Try it by hand:",
                       style="bold"))  # fmt: skip
    example = result.verdict.examples[0] if result.verdict.examples else None
    steps = [(f"tracectl sandbox serve --scenario {scenario}", "keeps the sandbox running and prints its URLs"),
             ("tracectl triage -s api-gateway --since 35m --report incident.html", "the verdict, as a report"),
             ("tracectl blame --search -s api-gateway --limit 200 --bucket", "what grows in the tail")]  # fmt: skip
    if result.verdict.kind == "drift":
        steps += [("tracectl sandbox reference --out train.csv", "the model's training data"),
                  (f"tracectl drift -s {result.verdict.culprit} --since 35m --reference train.csv",
                   "every input and output against it")]  # fmt: skip
    if example:
        steps.append((f"tracectl show {example} --critical --logs", "one trace, its critical path and log lines"))
    for cmd, what in steps:
        env.out.print(Text.assemble("  ", (cmd, "cyan"), ("   # " + what, "dim")), soft_wrap=True)
