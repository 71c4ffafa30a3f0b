"""``tracectl demo``: the whole flow against the built-in sandbox, no setup."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from tracectl.cli.app import app, get_env
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
    """Run tracectl end to end against the built-in sandbox: a simulated ML serving stack with an injected fault,
    served through Tempo-, Jaeger- and Loki-compatible APIs on 127.0.0.1. Finds the slow or failing requests,
    compares them with normal ones, names the culprit, and shows the evidence: the worst trace's critical path
    and its log lines.
    """
    from rich.rule import Rule
    from rich.text import Text

    from tracectl.backends.query import SearchQuery
    from tracectl.cli.triage import _next_commands, _render
    from tracectl.cli.triage_flow import TriageOptions, run_triage
    from tracectl.sandbox import SCENARIOS, start_sandbox
    from tracectl.timerange import resolve_range

    if scenario not in SCENARIOS:
        raise InputError(f"--scenario: unknown {scenario!r} (one of {', '.join(SCENARIOS)})")
    if backend not in ("tempo", "jaeger"):
        raise InputError("--backend must be tempo or jaeger")
    env = get_env(ctx)
    out = env.out
    started = time.perf_counter()
    servers, _workload = start_sandbox(scenario, requests, end_ns=time.time_ns())
    try:
        env.flags.update({"backend": backend, "tempo_url": servers.tempo_url, "jaeger_url": servers.jaeger_url,
                          "loki_url": servers.loki_url, "profile": None})  # fmt: skip
        env.environ = {}  # the demo ignores the user's environment and config: it talks to its own sandbox
        out.print(Rule(f"tracectl demo · scenario {scenario} · {backend} at {getattr(servers, backend + '_url')}"))
        out.print(Text(SCENARIOS[scenario].description + "\n", style="dim"))
        out.print(Text("$ tracectl triage -s api-gateway --since 35m", style="bold"))
        env.flush_output()  # a demo shows its steps as they happen
        query = SearchQuery(time=resolve_range("35m", None, None), service="api-gateway", limit=requests)
        result = run_triage(env, TriageOptions(query=query))
        _render(env, result, _next_commands(result, "api-gateway", "35m")[:0])
        truth = SCENARIOS[scenario].culprit
        right = result.verdict.culprit == truth
        out.print(Text(("✓ " if right else "✗ ") + f"sandbox ground truth: {truth or 'no fault injected'}",
                       style="bold green" if right else "bold red"))  # fmt: skip
        example = result.verdict.examples[0] if result.verdict.examples else None
    finally:
        servers.stop()
    elapsed = time.perf_counter() - started
    out.print(Text(f"\nDone in {elapsed:.1f} s; the sandbox is stopped. Try it by hand:", style="bold"))
    steps = [(f"tracectl sandbox serve --scenario {scenario}", "keeps the sandbox running and prints its URLs"),
             ("tracectl triage -s api-gateway --since 35m --report incident.html", "the verdict, as a report"),
             ("tracectl blame --search -s api-gateway --limit 200 --bucket", "what grows in the tail")]  # fmt: skip
    if example:
        steps.append((f"tracectl show {example} --critical --logs", "one trace, its critical path and log lines"))
    for cmd, what in steps:
        out.print(Text.assemble("  ", (cmd, "cyan"), ("   # " + what, "dim")), soft_wrap=True)
