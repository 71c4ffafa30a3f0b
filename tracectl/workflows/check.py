"""``tracectl check``: how far the instrumentation behind some traces can be trusted, per service."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracectl.errors import InputError
from tracectl.results import Result
from tracectl.units import plural
from tracectl.workflows.sources import InputCounts, load_inputs

if TYPE_CHECKING:
    from tracectl.analysis.checks import CheckReport, TreeFacts
    from tracectl.backends.query import SearchQuery
    from tracectl.model import Trace
    from tracectl.workflows.session import Session


CHECK_SCHEMA = "tracectl.check/v1"
CHECK_CSV_COLUMNS = (
    "service", "score", "category", "rule", "impact", "weight", "checked", "failed", "passing", "cause",
    "example_trace_id", "example_span_id", "fix",
)  # fmt: skip


@dataclass(slots=True)
class CheckResult(Result, schema=CHECK_SCHEMA, columns=CHECK_CSV_COLUMNS):
    """Per service a 0–100 score, and the findings: rule, impact, spans failing, an example, the fix."""

    report: CheckReport
    source: str
    warnings: list[str] = field(default_factory=list)
    inputs: InputCounts = field(default_factory=InputCounts)


def check(
    session: Session | None, traces: list[str] | None = None, *, query: SearchQuery | None = None,
    skip_bad: bool = False, jobs: int | None = None,
) -> CheckResult:  # fmt: skip
    """Judge the instrumentation behind ``traces`` (files, directories, globs, IDs) or what ``query`` finds.

    ``jobs``: processes reading many files, this one included (default: one per processor; 1: this one only).
    """
    from tracectl.analysis.checks import check_facts, check_traces
    from tracectl.workflows import pool
    from tracectl.workflows.session import no_progress

    progress = session.progress if session is not None else no_progress
    files, listed = pool.named_files(traces, query)
    if files:
        merged = pool.over_files(session, files, facts_of, jobs=jobs, skip_bad=skip_bad, listed=listed,
                                   label="reading and checking")  # fmt: skip
        with progress("checking") as update:
            report = check_facts(merged.results)
            update(1, 1)
        return CheckResult(report, _source(merged.sources), merged.warnings, merged.counts)
    loaded = load_inputs(session, traces, query, skip_bad)
    with progress("checking") as update:
        report = check_traces(loaded.traces)
        update(1, 1)
    if query is not None and session is not None:
        source = f"{session.backend().name} search: {plural(len(loaded.results), 'trace')} fetched"
    else:
        source = _source([r.source for r in loaded.results])
    return CheckResult(report, source, list(loaded.warnings), loaded.counts)


def facts_of(trace: Trace) -> TreeFacts:
    """What checking one trace gives the report (``check_facts``): what a worker process sends back for it."""
    from tracectl.analysis.checks import tree_facts
    from tracectl.analysis.tree import build_tree

    return tree_facts(build_tree(trace))


def _source(sources: list[str]) -> str:
    return sources[0] if len(sources) == 1 else f"{len(sources)} sources"


# ------------------------------------------------------------------------------------------------ --fail-on

_FAIL_ON = re.compile(r"\s*(score|findings|critical|important)\s*(<=|<|>=|>)\s*([0-9.]+)\s*")
_LOWER_IS_WORSE = {"score"}


def parse_fail_on(expr: str) -> tuple[str, str, float]:
    """``score<80`` (any service below), ``findings>0``, ``critical>0``, ``important>=2``: (metric, op, value)."""
    m = _FAIL_ON.fullmatch(expr)
    if not m:
        raise InputError(f"--fail-on: {expr!r} is not score<N, findings>N, critical>N or important>N")
    metric, op, raw = m.groups()
    if (metric in _LOWER_IS_WORSE) != op.startswith("<"):
        want = "<" if metric in _LOWER_IS_WORSE else ">"
        raise InputError(f"--fail-on: {metric} fails when it is too {'low' if want == '<' else 'high'}: use {want}")
    try:
        return metric, op, float(raw)
    except ValueError:
        raise InputError(f"--fail-on: {raw!r} is not a number") from None


def crossed_thresholds(result: CheckResult, rules: list[tuple[str, str, float]]) -> list[str]:
    """The crossed ``--fail-on`` rules, as sentences naming the services that crossed them."""
    report = result.report
    findings = report.findings
    counts = {"findings": len(findings), "critical": sum(f.rule.impact == "critical" for f in findings),
              "important": sum(f.rule.impact == "important" for f in findings)}  # fmt: skip
    crossed: list[str] = []
    for metric, op, limit in rules:
        if metric == "score":
            low = [s for s in report.services if s.score < limit or (op == "<=" and s.score == limit)]
            crossed.extend(f"{s.service} scores {s.score:.1f} {op} {limit:g}" for s in low)
        elif counts[metric] > limit or (op == ">=" and counts[metric] == limit):
            what = metric if metric == "findings" else f"{metric} findings"
            crossed.append(f"{counts[metric]} {what} {op} {limit:g}")
    return crossed
