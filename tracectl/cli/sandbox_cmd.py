"""``tracectl sandbox``: run the simulated ML serving stack behind Tempo/Jaeger/Loki APIs for hands-on use."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from tracectl.cli.app import Terminated, app, get_env
from tracectl.errors import InputError
from tracectl.units import plural

sandbox_app = typer.Typer(help="The built-in sandbox: Tempo-, Jaeger- and Loki-compatible APIs on 127.0.0.1.",
                          no_args_is_help=True)  # fmt: skip
app.add_typer(sandbox_app, name="sandbox", rich_help_panel="Get started")


def Port(flag: str, what: str) -> Any:
    return typer.Option(flag, min=0, max=65535, help=f"{what} API port (0 = any free port).")


@sandbox_app.command("scenarios")
def scenarios(ctx: typer.Context) -> None:
    """List the scenarios: each injects one known fault (or none)."""
    from tracectl.sandbox import SCENARIOS

    env = get_env(ctx)
    for sc in SCENARIOS.values():
        truth = f"culprit: {sc.culprit or 'none'}" + (f"; explain names: {sc.locus}" if sc.locus else "")
        env.out.print(f"[bold]{sc.name:20}[/bold] {sc.description}  [dim]({truth})[/dim]", soft_wrap=True)


@sandbox_app.command("serve")
def serve(
    ctx: typer.Context,
    scenario: Annotated[
        str, typer.Option("--scenario", help="Injected fault (see `tracectl sandbox scenarios`).")
    ] = "healthy",
    requests: Annotated[
        int, typer.Option("--requests", min=0, help="Requests to simulate (0: start empty, for your own OTLP data).")
    ] = 300,
    tempo_port: Annotated[int, Port("--tempo-port", "Tempo")] = 3200,
    jaeger_port: Annotated[int, Port("--jaeger-port", "Jaeger")] = 16686,
    loki_port: Annotated[int, Port("--loki-port", "Loki")] = 3100,
    duration: Annotated[
        float | None, typer.Option("--duration", help="Stop after this many seconds (default: until Ctrl-C).")
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Workload seed: another seed gives other requests and trace IDs.")
    ] = 42,
    onset: Annotated[
        float | None,
        typer.Option(
            "--onset",
            metavar="FRACTION",
            help="Where in the 30 minutes the fault begins "
            "(0 = from the start, 0.95 = the last 90 s; default: the scenario's, halfway).",
        ),
    ] = None,
    prometheus: Annotated[
        str,
        typer.Option(
            "--prometheus",
            help="auto: a real Prometheus when `prometheus` and `promtool` are on PATH "
            "(history backfilled, then scraping the sandbox's /metrics), else the built-in PromQL subset; "
            "real; builtin.",
        ),
    ] = "auto",
    labels_out: Annotated[
        Path | None,
        typer.Option(
            "--labels-out",
            help="Also write the labelled sample of the NLP model's requests (id, label, time; "
            ".jsonl, .csv or .parquet): the ground truth of a model-quality SLI (docs/slo.md).",
        ),
    ] = None,
) -> None:
    """Serve a scenario on 127.0.0.1 until Ctrl-C, and print the settings that point tracectl at it.

    Requests are spread over the last 30 minutes. The Tempo server is also an OTLP/HTTP receiver: traces on
    /v1/traces, logs on /v1/logs (into the Loki store) and metrics on /v1/metrics, so an OpenTelemetry SDK
    pointed at OTEL_EXPORTER_OTLP_ENDPOINT sends its own telemetry (see examples/house-prices). The Loki server
    also takes /loki/api/v1/push and /otlp/v1/logs.

      tracectl sandbox serve
      tracectl sandbox serve --requests 0 --duration 600
      tracectl sandbox serve --scenario feature-store-gc --requests 3000 --onset 0.95
    """
    import dataclasses

    from tracectl.sandbox import SCENARIOS, SandboxServers, Store, generate

    if scenario not in SCENARIOS:
        raise InputError(f"--scenario: unknown {scenario!r} (one of {', '.join(SCENARIOS)})")
    if prometheus not in ("auto", "real", "builtin"):
        raise InputError(f"--prometheus: {prometheus!r} is not one of auto, real, builtin")
    if onset is not None and not 0 <= onset < 1:
        raise InputError(f"--onset: {onset:g} is not a fraction of the window in [0, 1)")
    env = get_env(ctx)
    chosen = SCENARIOS[scenario] if onset is None else dataclasses.replace(SCENARIOS[scenario], onset=onset)
    workload = generate(chosen, requests, seed, end_ns=time.time_ns())
    if labels_out is not None:
        from tracectl.sandbox.labels import write_labels

        env.info(f"wrote {write_labels(labels_out, workload)} labels to {labels_out}")
    store = Store()
    store.add_traces(workload.traces)
    store.add_logs(workload.logs)
    try:
        servers = SandboxServers(store, ports=(tempo_port, jaeger_port, loki_port)).start()
    except OSError as exc:
        raise InputError(f"cannot listen: {exc.strerror or exc} (choose other ports, or 0 for any free port)") from None
    try:
        prometheus_url, real = _prometheus(servers, prometheus)
    except BaseException:
        servers.stop()
        raise
    try:
        env.out.print(f"[bold]sandbox[/bold] · scenario {scenario} · seed {seed} · "
                      f"{plural(len(workload.traces), 'trace')}, {plural(len(workload.logs), 'log line')}",
                      soft_wrap=True)  # fmt: skip
        hint = "tracectl search -s api-gateway --min-duration 100ms" if requests else "send OTLP: examples/house-prices"
        for line in (f"export TEMPO_ADDR={servers.tempo_url}", f"export JAEGER_ADDR={servers.jaeger_url}",
                     f"export LOKI_ADDR={servers.loki_url}", f"export PROMETHEUS_ADDR={prometheus_url}",
                     f"export OTEL_EXPORTER_OTLP_ENDPOINT={servers.tempo_url}",
                     hint):  # fmt: skip
            env.out.print(line, soft_wrap=True, highlight=False)
        env.err.print("Prometheus: " + ("a real one, its history backfilled with promtool, scraping the sandbox's "
                      "/metrics, evaluating the SLO rules of examples/slo/ml-serving.sloth.yml (its burn alerts: "
                      f"{prometheus_url}/api/v1/alerts)" if real is not None else "the built-in PromQL subset"),
                      highlight=False)  # fmt: skip
        env.err.print("serving; Ctrl-C stops" if duration is None else f"serving for {duration:g} s")
        deadline = None if duration is None else time.monotonic() + duration
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.1 if deadline is None else min(0.1, max(0.0, deadline - time.monotonic())))
    except KeyboardInterrupt as stop:
        if isinstance(stop, Terminated):
            raise  # after the cleanup below: exit 143 (SIGTERM) or 129 (SIGHUP), as documented
    finally:  # Ctrl-C, SIGTERM and SIGHUP alike: the real Prometheus and its folder go with the sandbox
        if real is not None:
            real.stop()
        servers.stop()


def _prometheus(servers: Any, which: str) -> tuple[str, Any]:
    """The Prometheus URL to print, and the real Prometheus started (to stop), or None for the built-in one."""
    from urllib.parse import urlparse

    from tracectl.sandbox.real_prometheus import RealPrometheus, available
    from tracectl.sandbox.slos import rules_yaml

    if which == "builtin" or (which == "auto" and not available()):
        return servers.prometheus_url, None
    # It evaluates the SLO rules of examples/slo/ml-serving.sloth.yml: its /api/v1/alerts shows the burn alerts.
    scrape = urlparse(servers.prometheus_url).netloc
    real = RealPrometheus(servers.metrics.db(), scrape=scrape, rules=rules_yaml()).start()
    return real.url, real


@sandbox_app.command("reference")
def reference(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="File to write: .parquet, .csv or .jsonl.")],
    rows: Annotated[int, typer.Option("--rows", min=1, help="Training rows to write.")] = 5000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (the same seed writes the same rows).")] = 7,
) -> None:
    """Write the sandbox recommender's training data: the reference `tracectl drift` compares its inputs with.

    Columns: session_duration (seconds), items_viewed, device.type and prediction.score, the names of the
    recommender's span attributes without their ml.feature. / ml. prefix. Example:

      tracectl sandbox reference --out train.parquet
      tracectl drift -s recommender --since 35m --reference train.parquet
    """
    from tracectl.sandbox.recommender import write_reference

    written = write_reference(out, rows, seed)
    get_env(ctx).info(f"wrote {written} training rows to {out}")
