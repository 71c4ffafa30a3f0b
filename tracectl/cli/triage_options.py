"""Turning ``triage``'s flags into ``TriageOptions``: the windows, the way suspects are chosen."""

from __future__ import annotations

import typer

from tracectl.cli.search_options import windows
from tracectl.errors import InputError
from tracectl.units import parse_duration
from tracectl.workflows.triage import TriageOptions


def triage_options(
    ctx: typer.Context, traces: list[str] | None, service: str | None, operation: str | None, since: str | None,
    start: str | None, end: str | None, limit: int, slo: str | None, percentile: float, errors: bool,
    baseline_from: str | None, baseline_to: str | None, baseline: list[str] | None, by: str, logs: bool,
    logs_file: list[str] | None,
) -> TriageOptions:  # fmt: skip
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
