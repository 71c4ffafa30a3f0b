"""``tracectl triage``: from "it's slow" (or "it fails") to a ranked, evidenced verdict in one command."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer

from tracectl.cli import search_options as so
from tracectl.cli.app import OutputFormat, app, get_env
from tracectl.cli.common import LogsFile
from tracectl.errors import InputError, ThresholdCrossed

_FAIL_ON = re.compile(r"\s*(share|score|ratio|p50|p95|p99|error-rate)\s*(>=|>)\s*([0-9.]+\s*[a-zµ]*%?)\s*")


def parse_fail_on(expr: str) -> tuple[str, str, float]:
    """``share>0.5``, ``p99>2s``, ``error-rate>=5%``, ``ratio>3``: (metric, operator, threshold)."""
    from tracectl.units import parse_duration

    m = _FAIL_ON.fullmatch(expr)
    if not m:
        raise InputError(
            f"--fail-on: {expr!r} is not METRIC>VALUE (metrics: share, score, ratio, p50, p95, p99, error-rate)"
        )
    metric, op, raw = m.groups()
    raw = raw.replace(" ", "")
    if metric.startswith("p"):
        return metric, op, float(parse_duration(raw, "--fail-on"))
    value = float(raw.rstrip("%")) / (100 if raw.endswith("%") else 1)
    return metric, op, value


def check_thresholds(doc: dict[str, Any], rules: list[tuple[str, str, float]]) -> list[str]:
    """The crossed rules, as sentences."""
    top = doc["suspects"][0] if doc["suspects"] and doc["verdict"]["culprit"] else None
    values = {
        "share": top["share_of_excess"] if top else 0.0,
        "score": top["score"] if top else 0.0,
        "ratio": doc["durations_ns"]["ratio"],
        "p50": doc["durations_ns"]["p50"],
        "p95": doc["durations_ns"]["p95"],
        "p99": doc["durations_ns"]["p99"],
        "error-rate": doc["error_rate"],
    }
    crossed = []
    for metric, op, limit in rules:
        value = values[metric]
        if value > limit or (op == ">=" and value == limit):
            crossed.append(f"{metric} {_shown(metric, value)} {op} {_shown(metric, limit)}")
    return crossed


def _shown(metric: str, value: float) -> str:
    from tracectl.units import format_duration

    return format_duration(round(value)) if metric.startswith("p") else f"{value:.3g}"


@app.command(rich_help_panel="Find the culprit")
def triage(
    ctx: typer.Context,
    traces: Annotated[
        list[str] | None, typer.Argument(help="Trace files or directories (instead of searching a backend).")
    ] = None,
    service: so.Service = None,
    operation: so.Operation = None,
    since: so.Since = None,
    start: so.From = None,
    end: so.To = None,
    limit: so.Limit = 500,
    slo: Annotated[
        str | None, typer.Option("--slo", help="Suspects: requests slower than this (baseline: the rest).")
    ] = None,
    percentile: Annotated[
        float,
        typer.Option("--percentile", min=50, max=99.9, help="Suspects: at or above this percentile (default 90)."),
    ] = 90.0,
    errors: Annotated[
        bool, typer.Option("--errors", help="Suspects: requests with an error (baseline: the rest).")
    ] = False,
    baseline_from: Annotated[
        str | None, typer.Option("--baseline-from", help="Baseline: an earlier window (RFC 3339 or now-2h) …")
    ] = None,
    baseline_to: Annotated[str | None, typer.Option("--baseline-to", help="… to this time.")] = None,
    baseline: Annotated[
        list[str] | None,
        typer.Option(
            "--baseline",
            help="Baseline: saved traces of a normal window (files or directories, .gz read as such; repeatable). "
            "The whole suspect window is compared against it.",
        ),
    ] = None,
    by: Annotated[str, typer.Option("--by", "-b", help="Component key (as blame --by).")] = "service",
    logs: Annotated[bool, typer.Option("--logs/--no-logs", help="Read Loki log lines as evidence.")] = True,
    logs_file: LogsFile = None,
    fail_on: Annotated[
        list[str] | None,
        typer.Option("--fail-on", help="Exit 6 when crossed: share>0.5, p99>2s, error-rate>5%, ratio>3 (repeatable)."),
    ] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Also write a report: FILE.md or FILE.html.")] = None,
    output: Annotated[OutputFormat, typer.Option("--output", "-o", help="table or json.")] = OutputFormat.table,
) -> None:
    """Find the slow (or failing) requests, compare them with normal ones, rank what explains the difference,
    and read the culprit's log lines. Prints the culprit, one sentence of why, the numbers, example traces,
    log excerpts and the commands to dig further.

    Suspects are the slowest tenth (or --percentile, or above --slo, or --errors);
    the baseline is the faster half of the same window (or the rest). With a
    baseline window (--baseline-from/--baseline-to, or saved traces with
    --baseline), the whole window is compared against it, like with like: a
    change in the mix of requests is not a slowdown. Log lines come from Loki,
    or from files saved from it (--logs-file). Examples:

      tracectl triage -s api-gateway --since 30m
      tracectl triage -s api-gateway --slo 250ms --report incident.html
      tracectl triage traces/ -o json --fail-on 'p99>1s' --fail-on 'error-rate>2%'
      tracectl triage --baseline monday/ today.json.gz --logs-file today.logs.gz
    """
    from tracectl.backends.query import SearchQuery
    from tracectl.cli.triage_flow import TriageOptions, run_triage
    from tracectl.render import machine
    from tracectl.render.report import TRIAGE_SCHEMA, to_html, to_markdown, triage_document
    from tracectl.timerange import resolve_range
    from tracectl.units import parse_duration

    env = get_env(ctx)
    rules = [parse_fail_on(r) for r in fail_on or []]
    if report is not None and report.suffix.lower() not in (".md", ".html", ".htm"):
        raise InputError(f"--report: {report} must end in .md or .html")
    if errors and slo:
        raise InputError("--errors and --slo choose the suspects in two different ways: give one")
    if baseline and baseline_from:
        raise InputError("--baseline and --baseline-from both give a baseline window: give one")
    query = baseline_query = None
    if not traces:
        if not service:
            raise InputError("give --service (the endpoint's service) or trace files/directories")
        query = SearchQuery(time=resolve_range(since, start, end), service=service, operation=operation, limit=limit)
        if baseline_from:
            baseline_query = SearchQuery(
                time=resolve_range(None, baseline_from, baseline_to), service=service, operation=operation, limit=limit
            )
    options = TriageOptions(
        query=query,
        files=list(traces or []),
        baseline_query=baseline_query,
        baseline_files=list(baseline or []),
        mode="errors" if errors else ("latency" if slo else "auto"),
        slo_ns=parse_duration(slo, "--slo") if slo else None,
        percentile=percentile,
        by=by,
        logs=logs,
        logs_files=list(logs_file or []),
    )
    result = run_triage(env, options)
    for warning in result.warnings:
        env.warn(warning)
    commands = _next_commands(result, service, since or "1h", logs_file)
    doc = triage_document(result, commands)
    failing = sum(1 for a in result.analyses if any(s.is_error for s in a.tree.spans))
    doc["error_rate"] = failing / len(result.analyses) if result.analyses else 0.0
    if report is not None:
        text = (
            to_html(result, commands, env.tz)
            if report.suffix.lower() != ".md"
            else to_markdown(result, commands, env.tz)
        )
        try:
            report.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{report}: cannot write: {exc.strerror or exc}") from None
        if not env.quiet:
            env.err.print(f"report written to {report}")
    if output is OutputFormat.table:
        _render(env, result, commands)
    else:
        env.write(machine.to_json(doc, TRIAGE_SCHEMA))
    crossed = check_thresholds(doc, rules)
    if crossed:
        raise ThresholdCrossed("threshold crossed: " + "; ".join(crossed))


def _next_commands(result: Any, service: str | None, since: str, logs_files: list[str] | None = None) -> list[str]:
    import shlex

    v = result.verdict
    example = v.examples[0] if v.examples else None
    cmds = []
    source = result.sources.get(example) if example else None
    if example and source is not None:  # from a file: name the file, and the saved log lines
        saved = "".join(f" --logs-file {shlex.quote(f)}" for f in logs_files or [])
        where = f"{shlex.quote(source)} --trace-id {example}"
        return [f"tracectl show {where} --critical{saved}", f"tracectl path {where}",
                *([f"tracectl logs {where}{saved} --level warn"] if saved else [])]  # fmt: skip
    if example:
        cmds += [f"tracectl show {example} --critical --logs", f"tracectl path {example}"]
    if service:
        cmds.append(f"tracectl blame --search -s {service} --since {since} --limit 500 --bucket")
        if v.culprit and not v.culprit.count("→"):
            cmds.append(f"tracectl search -s {v.culprit.split(' | ')[0]} --since {since}")
    if example:
        cmds.append(f"tracectl logs {example} --level warn")
    return cmds


def _render(env: Any, result: Any, commands: list[str]) -> None:
    from rich.text import Text

    from tracectl.render.logs_view import log_line_text
    from tracectl.render.tree_rows import make_view
    from tracectl.render.tree_view import render_tree
    from tracectl.render.verdict_view import render_verdict

    render_verdict(result.verdict, env.out)
    worst = result.worst()
    if worst is not None and result.verdict.culprit:
        env.out.print(Text("\nThe worst suspect's critical path", style="bold"))
        render_tree(make_view(worst, critical_only=True), env.out, env.tz, f"trace {worst.tree.trace_id}", [], limit=40)
    if result.log_excerpts:
        env.out.print(Text("\nLog lines", style="bold"))
        for tid, m in result.log_excerpts:
            env.out.print(Text.assemble(log_line_text(m, env.tz, "  "), (f"  {tid[:8]}…", "dim")), soft_wrap=True)
    elif not result.logs_checked:
        env.out.print(Text("\n(no log evidence: Loki not configured or unreachable; --logs-file reads saved lines)",
                           style="dim"))  # fmt: skip
    env.out.print(
        Text(
            f"\n{len(result.analyses)} traces analysed in {result.seconds:.1f} s." + (" Next:" if commands else ""),
            style="bold",
        )
    )
    for cmd in commands:
        env.out.print(Text.assemble("  ", (cmd, "cyan")), soft_wrap=True)
