"""``tracectl drift``: are the model's inputs and outputs, read from its spans, still like its training data?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tracectl.cli import search_options as so
from tracectl.cli.app import Output, app, emit_result, get_env, get_session
from tracectl.cli.skipped import DEFAULT_MAX_SKIPPED, MaxSkipped, finish, parse_max_skipped
from tracectl.errors import ThresholdCrossed


@app.command(rich_help_panel="Find the culprit")
@so.takes_window(limit=500)
def drift(
    ctx: typer.Context,
    traces: so.WindowTraces = None,
    window: so.SearchFlags = so.FLAGS,
    reference: Annotated[
        str | None, typer.Option("--reference", help="Training data: FILE.parquet, .csv or .jsonl.")
    ] = None,
    baseline_from: so.BaselineFrom = None,
    baseline_to: so.BaselineTo = None,
    feature: Annotated[
        list[str] | None, typer.Option("--feature", help="Input attribute KEY or KEY=COLUMN (repeatable).")
    ] = None,
    prediction: Annotated[
        list[str] | None, typer.Option("--prediction", help="Output attribute KEY or KEY=COLUMN (repeatable).")
    ] = None,
    alpha: Annotated[
        float, typer.Option("--alpha", min=1e-9, max=0.5, help="False-alarm rate of the whole comparison.")
    ] = 0.05,
    top: Annotated[int, typer.Option("--top", "-n", min=0, help="Show only the first N features (0 = all).")] = 0,
    fail_on: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-on",
            help="Exit 6 when crossed: drift-share>0.3, drifted>0, psi:FEATURE>0.2, "
            "missing:FEATURE>5%, out-of-range:FEATURE>1% (repeatable).",
        ),
    ] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Also write a report: FILE.html or FILE.md.")] = None,
    output: Output = "table",
    max_skipped: MaxSkipped = DEFAULT_MAX_SKIPPED,
) -> None:
    """Compare the inputs and outputs of a model, read from its service's span attributes, with its training
    data (--reference) or an earlier window (--baseline-from). Per feature: the test that suits its type and
    sample size (KS or Wasserstein for numbers, chi-square or Jensen-Shannon for categories), PSI, missing and
    out-of-range shares, and reference vs current histograms; drifted features first.

    Features: attributes matching a reference column (ml.feature.x matches x).

    With --baseline-from: attributes under ml.feature. or app.; ml.prediction.* are outputs.

    Examples:

      tracectl drift -s recommender --since 1h --reference train.parquet
      tracectl drift -s recommender --since 15m --baseline-from now-1d
      tracectl drift -s reco --reference t.csv --feature app.len=session_duration
      tracectl drift traces/ --reference t.parquet --fail-on 'drift-share>0.3'
    """
    from tracectl.cli.drift_options import drift_options
    from tracectl.render.trace_report import report_kind
    from tracectl.workflows.drift import crossed_thresholds, parse_fail_on
    from tracectl.workflows.drift import drift as run

    rules = [parse_fail_on(r) for r in fail_on or []]
    if report is not None:
        report_kind(report)
    options = drift_options(ctx, traces, window.service, window.operation, window.since, window.start,
                            window.end, window.limit, reference, baseline_from, baseline_to, feature, prediction,
                            alpha)  # fmt: skip
    parse_max_skipped(max_skipped)  # a bad value fails before anything is fetched
    result = run(get_session(ctx), options)
    if report is not None:
        from tracectl.render.drift_report import write_drift_report

        write_drift_report(result, report, get_env(ctx).tz)
        get_env(ctx).info(f"report written to {report}")
    emit_result(ctx, result, output, top=top)
    finish(ctx, result.inputs, max_skipped)
    crossed = crossed_thresholds(result, rules)
    if crossed:
        raise ThresholdCrossed("threshold crossed: " + "; ".join(crossed))
