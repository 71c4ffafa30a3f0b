"""``tracectl slo``: SLOs from Sloth or OpenSLO specs — their status against Prometheus, and the Prometheus rules
and Grafana dashboard that watch them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tracectl.cli.app import Output, app, emit_result, get_env, get_session
from tracectl.errors import InputError, ThresholdCrossed

slo_app = typer.Typer(
    help="SLOs from Sloth (prometheus/v1) or OpenSLO (v1) specs: status, burn rates and alerts; Prometheus rules.",
    no_args_is_help=True,
)
app.add_typer(slo_app, name="slo", rich_help_panel="Find the culprit")

Specs = Annotated[
    list[Path],
    typer.Argument(help="Spec files: Sloth prometheus/v1 or OpenSLO v1 (kind: SLO), several documents each.",
                   show_default=False),
]  # fmt: skip
Period = Annotated[
    str,
    typer.Option("--period", help="The SLO period of specs that do not name one (Sloth's never do): 30d, 28d, 4w."),
]


def _load(specs: list[Path], period: str) -> Any:
    from tracectl.slo.spec import load_specs
    from tracectl.units import parse_duration

    seconds = parse_duration(period, "--period") // 10**9
    if seconds < 3600:
        raise InputError(f"--period: {period!r} is shorter than an hour")
    return load_specs(specs, default_period_seconds=seconds)


@slo_app.command("rules")
def rules(
    ctx: typer.Context,
    specs: Specs,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the rules to FILE (atomically) instead of stdout.")
    ] = None,
    grafana_dashboard: Annotated[
        Path | None,
        typer.Option(
            "--grafana-dashboard",
            help="Also write a Grafana dashboard (JSON to import): budget, burn rates and SLI over time, per SLO.",
        ),
    ] = None,
    period: Period = "30d",
) -> None:
    """Prometheus rules for the SLOs: recordings and multiwindow multi-burn-rate alerts, as Sloth names them.

    Recording rules hold the SLI's error ratio over 5m … 3d and the period, the SLO's objective, budget and burn
    rates; the alerts are page (2 % of the budget in 1h
    and 5m, or 5 % in 6h and 30m) and ticket (10 % in 1d and 2h, or in 3d and 6h), with factors computed from
    the period. Names and labels are Sloth's: slo:sli_error:ratio_rate<window>, sloth_service, sloth_slo,
    sloth_severity, plus the spec's labels; the alert is the spec's alerting.name.

    Model-quality SLOs get a comment: tracectl computes them (run `tracectl slo status --fail-on burning` from cron).

    Examples:

      tracectl slo rules examples/slo/ml-serving.sloth.yml | promtool check rules /dev/stdin
      tracectl slo rules slos/*.yml --out /etc/prometheus/rules/slos.yml --grafana-dashboard slos.json
      tracectl slo rules checkout.openslo.yml --period 28d
    """
    from tracectl.atomic import write_atomically
    from tracectl.slo.rules import to_yaml

    slos = _load(specs, period)
    text = to_yaml(slos, [str(s) for s in specs])
    env = get_env(ctx)
    if grafana_dashboard is not None:
        import orjson

        from tracectl.slo.dashboard import dashboard

        write_atomically(grafana_dashboard, orjson.dumps(dashboard(slos), option=orjson.OPT_INDENT_2).decode())
        env.info(f"Grafana dashboard written to {grafana_dashboard}")
    if out is None:
        env.write(text)
    else:
        write_atomically(out, text)
        env.info(f"rules for {len(slos)} SLOs written to {out}")


def _fail_on(value: str | None) -> str | None:
    if value is not None and value not in ("burning", "page", "ticket", "budget"):
        raise InputError(f"--fail-on: {value!r} is not one of burning, page, ticket, budget")
    return value


@slo_app.command("status")
def status(
    ctx: typer.Context,
    specs: Specs,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit 6 when: burning (any alert fires, or a model-quality SLI breaches), page (a page fires), "
            "ticket (any alert fires), budget (a budget is spent). For cron and CI.",
        ),
    ] = None,
    period: Period = "30d",
    history: Annotated[
        str, typer.Option("--history", help="How far back to look for when a firing alert began (and the sparkline).")
    ] = "6h",
    triage: Annotated[
        bool,
        typer.Option(
            "--triage",
            help="Then triage each burning SLO as its page would be: its service, since its "
            "alert began, against the window before (the result follows the status; -o json: 'triage').",
        ),
    ] = False,
    output: Output = "table",
) -> None:
    """Each SLO now: SLI, error budget left, burn rates, which multiwindow alerts fire and since when.

    Read from Prometheus (--prometheus-url or PROMETHEUS_ADDR): the SLI over 5m, the objective, the error budget
    left over the period, burn rates over 5m, 30m, 1h, 2h, 6h, 1d and 3d, and the page and ticket alerts. One
    line per SLO in a terminal (budget bar, burn sparkline); -o json for scripts (schema tracectl.slo/v1);
    --fail-on exits 6 for cron and CI.

    A burn rate of 1 spends the budget exactly over the period; the page alert fires at 14.4 over 1h and 5m on a
    30-day period (13.44 on 28 days). Model-quality SLIs are computed by tracectl from spans and labels.

    Examples:

      tracectl slo status examples/slo/ml-serving.sloth.yml
      tracectl slo status slos/*.yml -o json | jq '.slos[] | {name, burn_rates}'
      tracectl slo status slos/*.yml --fail-on page -q || page-someone
      tracectl slo status examples/slo/ml-serving.sloth.yml --triage
    """
    from tracectl.units import parse_duration
    from tracectl.workflows.slo import SloStatusRequest, crossed, slo_status

    rule = _fail_on(fail_on)
    slos = _load(specs, period)
    request = SloStatusRequest(slos, history_ns=parse_duration(history, "--history"))
    session = get_session(ctx)
    result = slo_status(session, request)
    if triage:
        from tracectl.workflows.slo_triage import triage_burning

        result.triaged = triage_burning(session, result, result.at_ns)
        for t in result.triaged:
            if t.result is None:
                session.warn(f"SLO {t.slo}: not triaged: {t.note}")
    emit_result(ctx, result, output)
    reasons = crossed(result, rule) if rule else []
    if reasons:
        raise ThresholdCrossed("threshold crossed: " + "; ".join(reasons))
