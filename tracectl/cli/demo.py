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

    from tracectl.analysis.analyse import analyse_trace
    from tracectl.analysis.logs import match_logs
    from tracectl.analysis.triage import triage
    from tracectl.backends.loki import fetch_trace_logs
    from tracectl.backends.query import SearchQuery
    from tracectl.render.search_view import render_search
    from tracectl.render.tree_rows import make_view
    from tracectl.render.tree_view import render_tree
    from tracectl.render.verdict_view import render_verdict
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
        out.print(Text(SCENARIOS[scenario].description, style="dim"))

        query = SearchQuery(time=resolve_range("35m", None, None), service="api-gateway", limit=requests)
        result = env.backend().search(query)
        shown = type(result)(result.backend, result.query, result.traces[:5], result.warnings)
        out.print(Text("\n1. The slowest requests of the last 30 minutes", style="bold"))
        render_search(shown, out, env.tz)

        with env.progress("fetching traces") as update:
            loaded = env.fetch_many([t.trace_id for t in result.traces], update)
        analyses = [analyse_trace(r.traces[0]) for r in loaded if r is not None]
        verdict = triage(analyses)
        out.print(Text(f"\n2. Slow versus normal, failing versus healthy, over {len(analyses)} traces", style="bold"))
        render_verdict(verdict, out, SCENARIOS[scenario].culprit, truth_known=True)

        example = verdict.examples[0] if verdict.examples else result.traces[0].trace_id
        chosen = next(a for a in analyses if a.tree.trace_id == example)
        view = make_view(chosen, critical_only=True)
        logs = fetch_trace_logs(env.loki(), next(r for r in loaded if r and r.traces[0].trace_id == example).traces[0],
                                env.log_options())  # fmt: skip
        for m in match_logs(chosen.tree, logs.records):
            if m.level in ("warn", "error", "fatal"):
                view.logs.setdefault(m.node, []).append(m)
        out.print(
            Text("\n3. The evidence: critical path of an example trace, with its warnings and errors", style="bold")
        )
        render_tree(view, out, env.tz, f"{backend} trace {example}", [], limit=60)
    finally:
        servers.stop()
    elapsed = time.perf_counter() - started
    out.print(Text(f"\nDone in {elapsed:.1f} s; the sandbox is stopped. Try it by hand:", style="bold"))
    for cmd, what in (
        (f"tracectl sandbox serve --scenario {scenario}", "keeps the sandbox running and prints its URLs"),
        ("tracectl search -s api-gateway --min-duration 100ms", "the slow requests"),
        ("tracectl blame --search -s api-gateway --limit 200 --bucket", "what grows in the tail"),
        (f"tracectl show {example} --critical --logs", "one trace, its critical path and log lines"),
    ):
        out.print(Text.assemble("  ", (cmd, "cyan"), ("   # " + what, "dim")), soft_wrap=True)
