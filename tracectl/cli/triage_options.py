"""Turning ``triage``'s flags into ``TriageOptions``: the windows, the way suspects are chosen."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tracectl.cli.search_options import windows
from tracectl.errors import InputError
from tracectl.units import parse_duration

if TYPE_CHECKING:
    from tracectl.workflows.triage import TriageOptions
    from tracectl.workflows.triage_alert import AlertStart

Slo = Annotated[str | None, typer.Option("--slo", help="Suspects: requests slower than this (baseline: the rest).")]
Percentile = Annotated[
    float, typer.Option("--percentile", min=50, max=99.9, help="Suspects: at or above this percentile (default 90).")
]
Errors = Annotated[bool, typer.Option("--errors", help="Suspects: requests with an error (baseline: the rest).")]
Baseline = Annotated[
    list[str] | None,
    typer.Option(
        "--baseline",
        help="Baseline: saved traces of a normal window (files or directories, .gz read as such; repeatable). "
        "The whole suspect window is compared against it.",
    ),
]
MaxTraces = Annotated[
    int,
    typer.Option(
        "--max-traces", "--limit", min=1,
        help="Fetch budget: at most this many traces per window. A Tempo window holding more is sampled, and the "
        "span latency by service and the attribute comparison are computed by Tempo over all of them "
        "(TraceQL metrics); Jaeger says the sample was cut.",
    ),
]  # fmt: skip
Logs = Annotated[bool, typer.Option("--logs/--no-logs", help="Read Loki log lines as evidence.")]
LogLimit = Annotated[
    int, typer.Option("--log-limit", min=0, help="Loki log lines read a trace (0 = all); a cut is said.")
]
Quality = Annotated[
    bool,
    typer.Option(
        "--quality", help="Compare models' inputs and outputs too (done unasked when nothing else explains the "
        "suspects and there is training data or an earlier window to compare with).",
    ),
]  # fmt: skip
Reference = Annotated[
    str | None,
    typer.Option(
        "--reference",
        help="Training data (FILE.parquet, .csv, .jsonl) for that comparison; without it, the earlier window.",
    ),
]
FailOn = Annotated[
    list[str] | None,
    typer.Option("--fail-on", help="Exit 6 when crossed: share>0.5, p99>2s, error-rate>5%, ratio>3 (repeatable)."),
]
Report = Annotated[Path | None, typer.Option("--report", help="Also write a report: FILE.md or FILE.html.")]
Alert = Annotated[
    str | None,
    typer.Option(
        "--alert", help="Start from an alert: an Alertmanager webhook payload (version 4) or Grafana's, FILE or - "
        "(stdin). Service from its labels, suspects from startsAt to endsAt (or now), the baseline before.",
    ),
]  # fmt: skip
AlertIndex = Annotated[
    int | None,
    typer.Option(
        "--alert-index", min=0, help="Which of the payload's alerts[] (from 0; default: the earliest firing one)."
    ),
]
SloSpec = Annotated[
    list[str] | None,
    typer.Option(
        "--slo-spec", help="Sloth or OpenSLO spec: the SLO the alert names sets the suspects (its latency threshold, "
        "or its failures). Repeatable.",
    ),
]  # fmt: skip


def triage_options(
    ctx: typer.Context, traces: list[str] | None, service: str | None, operation: str | None, since: str | None,
    start: str | None, end: str | None, limit: int, slo: str | None, percentile: float, errors: bool,
    baseline_from: str | None, baseline_to: str | None, baseline: list[str] | None, by: str, logs: bool,
    logs_file: list[str] | None,
) -> TriageOptions:  # fmt: skip
    from tracectl.workflows.triage import TriageOptions  # deferred: `tracectl --help` stays light

    if errors and slo:
        raise InputError("--errors and --slo choose the suspects in two different ways: give one")
    if baseline and baseline_from:
        raise InputError("--baseline and --baseline-from both give a baseline window: give one")
    query, baseline_query = windows(ctx, traces, service, operation, since, start, end, limit, baseline_from,
                                    baseline_to, "the endpoint's service")  # fmt: skip
    return TriageOptions(
        query=query, files=list(traces or []), baseline_query=baseline_query, baseline_files=list(baseline or []),
        logs_files=list(logs_file or []),
        mode="errors" if errors else ("latency" if slo else "auto"),
        slo_ns=parse_duration(slo, "--slo") if slo else None, percentile=percentile, by=by, logs=logs,
    )  # fmt: skip


def window_from_metrics(ctx: typer.Context, options: TriageOptions, window_given: bool) -> TriageOptions:
    """No window given (--since, --from, --to, a baseline) for a search: the metrics choose it, or say why not."""
    if window_given or options.query is None:
        return options
    from tracectl.cli.app import get_env, get_session
    from tracectl.workflows.triage_metrics import start_from_metrics

    return start_from_metrics(get_session(ctx), options, get_env(ctx).tz)


def read_alert(ctx: typer.Context, alert: str, index: int | None, service: str | None,
               slo_spec: list[str] | None) -> AlertStart:  # fmt: skip
    """The alert to start from (``-``: stdin), with its service, windows and the SLO it names."""
    import sys
    import time

    from tracectl.formats.alertmanager import parse_alert_payload
    from tracectl.workflows.triage_alert import load_alert_slos, start_from_alert

    source = "--alert: stdin" if alert == "-" else f"--alert: {alert}"
    try:
        data = sys.stdin.buffer.read() if alert == "-" else Path(alert).read_bytes()
    except OSError as exc:
        raise InputError(f"{source}: cannot read it ({exc.strerror or exc})") from None
    payload = parse_alert_payload(data, source)
    slos = load_alert_slos(slo_spec) if slo_spec else None
    return start_from_alert(payload, time.time_ns(), index, service, slos, source)
