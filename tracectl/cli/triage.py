"""``tracectl triage``: from "it's slow" (or "it fails") to a ranked, evidenced verdict in one command."""

from __future__ import annotations

import typer

from tracectl.cli import search_options as so
from tracectl.cli import triage_options as to
from tracectl.cli.app import Output, app, emit_result, get_env, get_session
from tracectl.cli.blame import By
from tracectl.cli.show import LogsFile
from tracectl.cli.skipped import DEFAULT_MAX_SKIPPED, MaxSkipped, finish, parse_max_skipped
from tracectl.errors import InputError, ThresholdCrossed


@app.command(rich_help_panel="Find the culprit")
@so.takes_window(limit_option=to.MaxTraces, limit=500)
def triage(
    ctx: typer.Context,
    traces: so.WindowTraces = None,
    window: so.SearchFlags = so.FLAGS,
    slo: to.Slo = None,
    percentile: to.Percentile = 90.0,
    errors: to.Errors = False,
    baseline_from: so.BaselineFrom = None,
    baseline_to: so.BaselineTo = None,
    baseline: to.Baseline = None,
    by: By = "service",
    logs: to.Logs = True,
    logs_file: LogsFile = None,
    log_limit: to.LogLimit = 5000,
    quality: to.Quality = False,
    reference: to.Reference = None,
    fail_on: to.FailOn = None,
    report: to.Report = None,
    alert: to.Alert = None,
    alert_index: to.AlertIndex = None,
    slo_spec: to.SloSpec = None,
    output: Output = "table",
    max_skipped: MaxSkipped = DEFAULT_MAX_SKIPPED,
) -> None:
    """Name the culprit: slow (or failing) requests against normal ones, ranked evidence, log lines.

    Finds the slow (or failing) requests, compares them with normal ones, ranks what explains the difference,
    and reads the culprit's log lines. Prints the culprit, one sentence of why, the numbers, example traces,
    log excerpts and the commands to dig further (-o jsonl/csv: the ranked suspects, one per row).

    Suspects are the slowest tenth (or --percentile, or above --slo, or --errors); the baseline is the faster
    half of the same window (or the rest). With a baseline window (--baseline-from/--baseline-to, or saved
    traces with --baseline), the whole window is compared against it, like with like: a change in the mix of
    requests is not a slowdown. Log lines come from Loki, or from files saved from it (--logs-file).

    With no window given (no --since/--from/--to, no baseline), triage starts from the metrics (Prometheus, else
    Tempo's TraceQL metrics or Jaeger's metrics API): the suspect window begins where the latency or errors rose,
    the baseline is the hour before, and the first panel says so with what lined up (see docs/metrics.md).

    Examples:

      tracectl triage -s api-gateway --since 30m
      tracectl triage -s api-gateway --slo 250ms --report incident.html
      tracectl triage -s api-gateway --since 15m --baseline-from now-1d --baseline-to now-23h
      tracectl triage traces/ -o json --fail-on 'p99>1s' --fail-on 'error-rate>2%'
      tracectl triage --baseline monday/ today.json.gz --logs-file today.logs.gz
      tracectl triage -s api-gateway --since 30m --reference train.parquet
      tracectl triage -s api-gateway --since 1h --max-traces 500
      tracectl triage --alert - --slo-spec slos.sloth.yml --report incident.html   (an Alertmanager webhook)

    A window with more traces than --max-traces (Tempo counts them) is not downloaded whole: Tempo computes the
    span latency by service and the over-represented attributes over all of them, and a sample of --max-traces
    traces, spread over the window, gives the critical paths and the verdict (stderr and JSON "pushdown" say it).

    When neither latency nor errors explain the suspects and there is something to compare with (--reference
    training data, or an earlier window), or with --quality, the models' inputs and outputs read from span
    attributes are compared too (`tracectl drift`): a drifted input becomes the verdict.

    With --alert, the page starts it: the service comes from the alert's labels (service.name, service_name,
    service, sloth_service, job; -s overrides), the suspects from its startsAt to its endsAt (or now), the
    baseline from the window before; with --slo-spec, the SLO it names chooses the suspects (docs/slo.md).
    """
    from tracectl.cli.drift_options import checked_reference
    from tracectl.render.trace_report import report_kind
    from tracectl.render.triage_report import write_report
    from tracectl.workflows.triage import crossed_thresholds, parse_fail_on
    from tracectl.workflows.triage import triage as run

    rules = [parse_fail_on(r) for r in fail_on or []]
    if report is not None:
        report_kind(report)
    paged = to.read_alert(ctx, alert, alert_index, window.service, slo_spec) if alert is not None else None
    if slo_spec and paged is None:
        raise InputError("--slo-spec goes with --alert (the SLO the alert names)")
    window_given = bool(window.since or window.start or window.end or baseline_from or baseline)
    service = paged.service if paged is not None else window.service
    options = to.triage_options(ctx, traces, service, window.operation, window.since, window.start, window.end,
                                window.limit, slo, percentile, errors, baseline_from, baseline_to, baseline, by,
                                logs, logs_file)  # fmt: skip
    options.quality, options.reference = quality, checked_reference(reference)
    options.log_limit = log_limit
    if paged is not None:
        from tracectl.workflows.triage_alert import apply_alert

        options = apply_alert(options, paged, window_given, bool(slo or errors))
    options = to.window_from_metrics(ctx, options, window_given or paged is not None)
    parse_max_skipped(max_skipped)  # a bad value fails before anything is fetched
    result = run(get_session(ctx), options)
    if report is not None:
        write_report(result, report, get_env(ctx).tz, get_session(ctx).settings.ui_url)
        get_env(ctx).info(f"report written to {report}")
    emit_result(ctx, result, output)
    finish(ctx, getattr(result, "inputs", None), max_skipped)
    crossed = crossed_thresholds(result, rules)
    if crossed:
        raise ThresholdCrossed("threshold crossed: " + "; ".join(crossed))
