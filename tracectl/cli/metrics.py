"""``tracectl metrics``: a service's RED from Prometheus, when it changed, which edge grew and what lined up."""

from __future__ import annotations

from typing import Annotated

import typer

from tracectl.cli import search_options as so
from tracectl.cli.app import Output, app, emit_result, get_session
from tracectl.errors import InputError


@app.command(rich_help_panel="Find the culprit")
def metrics(
    ctx: typer.Context,
    service: so.Service = None,
    operation: Annotated[
        str | None, typer.Option("--operation", help="Span name, or an HTTP route: 'POST /v1/predict'.")
    ] = None,
    since: so.Since = None,
    start: so.From = None,
    end: so.To = None,
    step: Annotated[
        str | None, typer.Option("--step", help="One point per STEP (default: about 180 points over the window).")
    ] = None,
    metric: Annotated[
        str | None,
        typer.Option("--metric", help="Read this request-duration histogram: NAME, NAME:s or NAME:ms (its unit)."),
    ] = None,
    output: Output = "table",
) -> None:
    """A service's requests/s, error ratio and p50/p95/p99 latency from Prometheus (--prometheus-url or
    PROMETHEUS_ADDR; without one, from Tempo's TraceQL metrics), with when the latency or errors changed
    (Pettitt's change-point test), which downstream service-graph edge grew, and whether a deployment or a
    traffic change lined up with it.

    The metric family is found without configuration (OpenTelemetry HTTP server duration, Tempo span metrics,
    the Collector's spanmetrics connector) and named in the output; --metric names another. See docs/metrics.md.

    Examples:

      tracectl metrics -s api-gateway --since 6h
      tracectl metrics -s checkout --operation 'POST /cart' --since 1d --step 5m
      tracectl metrics -s api-gateway --since 1h -o json | jq .sentences
    """
    from tracectl.units import parse_duration
    from tracectl.workflows.metrics import MetricsRequest
    from tracectl.workflows.metrics import metrics as run

    if not service:
        raise InputError("metrics needs a service: -s SERVICE")
    time = so.time_range(ctx, since, start, end)
    step_ns = parse_duration(step, "--step") if step else None
    request = MetricsRequest(service, time, operation, step_ns, metric)
    emit_result(ctx, run(get_session(ctx), request), output)
