"""The triage workflow as an on-call engineer would do it by hand, shared by ``triage`` and ``demo``.

Gather the window's traces (a backend search, or files), split suspects from baseline, rank the components
that explain the difference, then read the culprit's log lines in the worst traces.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from tracectl.errors import InputError, TracectlError
from tracectl.render.report import TRIAGE_CSV_COLUMNS, TRIAGE_SCHEMA, suspect_rows, triage_document

if TYPE_CHECKING:
    from rich.console import Console

    from tracectl.analysis.analyse import TraceAnalysis
    from tracectl.analysis.logs import MatchedLog
    from tracectl.analysis.triage import Verdict
    from tracectl.backends.query import SearchQuery
    from tracectl.model import Trace
    from tracectl.render.emit import RenderOptions
    from tracectl.workflows.quality import InputCheck
    from tracectl.workflows.session import Session

LOG_SAMPLE = 5  # traces per set whose logs are read


@dataclass(slots=True)
class TriageOptions:
    query: SearchQuery | None  # None: traces come from files
    files: list[str] = field(default_factory=list)
    baseline_query: SearchQuery | None = None  # an earlier window as the baseline
    mode: str = "auto"  # auto | latency | errors
    slo_ns: int | None = None
    percentile: float = 90.0
    by: str = "service"
    logs: bool = True
    quality: bool = False  # compare models' inputs and outputs even when latency or errors explain the difference
    reference: str | None = None  # training data for that comparison (else: suspects against the baseline)


@dataclass(slots=True)
class TriageResult:
    """The verdict, the ranked suspects with their evidence, and what it was computed from."""

    schema: ClassVar[str] = TRIAGE_SCHEMA
    columns: ClassVar[tuple[str, ...]] = TRIAGE_CSV_COLUMNS

    verdict: Verdict
    mode: str
    analyses: list[TraceAnalysis]
    suspects: list[TraceAnalysis]
    baseline: list[TraceAnalysis]
    log_excerpts: list[tuple[str, MatchedLog]] = field(default_factory=list)  # (trace ID, line)
    logs_checked: bool = False
    source: str = ""
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)  # what to run next
    quality: InputCheck | None = None  # inputs and outputs against training data or the baseline

    def worst(self) -> TraceAnalysis | None:
        pool = [a for a in self.suspects if a.tree.trace_id in self.verdict.examples] or self.suspects
        return max(pool, key=lambda a: (a.tree.duration_ns, a.tree.trace_id), default=None)

    @property
    def error_rate(self) -> float:
        failing = sum(1 for a in self.analyses if any(s.is_error for s in a.tree.spans))
        return failing / len(self.analyses) if self.analyses else 0.0

    def document(self, opts: RenderOptions) -> dict[str, Any]:
        return triage_document(self)

    def rows(self, opts: RenderOptions) -> Iterable[Mapping[str, Any]]:
        return suspect_rows(self)

    def table(self, console: Console, opts: RenderOptions) -> None:
        from tracectl.render.verdict_view import render_triage

        render_triage(self, console, opts.tz, truth=opts.extra.get("truth"))


def _fetch_window(session: Session, query: SearchQuery, warnings: list[str]) -> list[Trace]:
    from tracectl.workflows.search import fetch_window

    return fetch_window(session, query, warnings)


def triage(session: Session | None, options: TriageOptions) -> TriageResult:
    """Split, rank and gather evidence; ``session`` may be None when every input is a file and logs are off."""
    from tracectl.analysis.analyse import analyse_trace
    from tracectl.analysis.triage import split_errors, split_latency, verdict_for
    from tracectl.analysis.triage import triage as auto_verdict
    from tracectl.workflows.session import no_progress
    from tracectl.workflows.sources import load_many

    started = time.perf_counter()
    warnings: list[str] = []
    progress = session.progress if session is not None else no_progress
    if options.query is not None:
        if session is None:
            raise InputError("searching a window needs a backend")
        traces = _fetch_window(session, options.query, warnings)
        source = f"{session.backend().name} search"
    else:
        loaded = load_many(options.files, session, skip_bad=True)
        warnings.extend(loaded.warnings)
        traces = loaded.traces
        source = f"{len(options.files)} input(s)"
    if not traces:
        raise InputError("no traces to triage: widen --since or check --service")
    with progress("analysing") as update:
        analyses = []
        for n, t in enumerate(traces, 1):
            analyses.append(analyse_trace(t, options.by))
            update(n, len(traces))
    baseline_given = None
    if options.baseline_query is not None and session is not None:
        earlier = _fetch_window(session, options.baseline_query, warnings)
        baseline_given = [analyse_trace(t, options.by) for t in earlier]

    mode = options.mode
    if mode == "auto" and options.slo_ns is None and baseline_given is None:
        verdict = auto_verdict(analyses)
        mode = verdict.kind if verdict.kind != "none" else "latency"
    if mode == "errors":
        suspects, baseline = split_errors(analyses)
    else:
        mode = "latency"
        suspects, baseline = split_latency(analyses, options.slo_ns, options.percentile)
    if baseline_given is not None:
        baseline = baseline_given
        suspects = suspects if options.slo_ns is not None or mode == "errors" else analyses
    result = TriageResult(verdict_for(mode, suspects, baseline), mode, analyses, suspects, baseline, source=source)
    result.warnings = warnings
    _evidence(session, result, options)
    result.seconds = time.perf_counter() - started
    service = options.query.service if options.query is not None else None
    result.commands = next_commands(result, service, options.query, options.reference)
    return result


def _evidence(session: Session | None, result: TriageResult, options: TriageOptions) -> None:
    """Log lines of the suspects and the baseline; then, when nothing else explains them (or when asked), the
    models' inputs and outputs."""
    if options.logs and session is not None:
        _log_evidence(session, result)
    elif options.logs:
        result.warnings.append("no log evidence: no Loki configured")
    if options.quality or result.verdict.culprit is None:
        _input_evidence(session, result, options)


def _input_evidence(session: Session | None, result: TriageResult, options: TriageOptions) -> None:
    """Compare the models' inputs and outputs; a drift explains what latency and errors did not."""
    from tracectl.analysis.triage import Verdict
    from tracectl.workflows.drift import open_reference
    from tracectl.workflows.quality import check_inputs

    table = open_reference(options.reference) if options.reference else None
    if table is not None:
        compared = f"every request against {table.path.name}"
    else:
        earlier = "the baseline window" if options.baseline_query is not None else "the baseline requests"
        compared = f"{'the window' if options.baseline_query is not None else 'suspect requests'} against {earlier}"
    notes: list[str] = []
    check = check_inputs(result.analyses, result.suspects, result.baseline, table, compared, notes)
    for note in notes:
        result.warnings.append(note)
        if session is not None:
            session.warn(note)
    result.quality = check
    v = result.verdict
    if v.culprit is None and check.culprit is not None:
        result.verdict = Verdict("drift", check.culprit, check.sentence, v.suspects, check.examples, v.numbers)


def _log_evidence(session: Session, result: TriageResult) -> None:
    """Warn/error lines per trace in a sample of suspects and baseline; the culprit's lines as excerpts."""
    from tracectl.analysis.logs import level_counts, match_logs
    from tracectl.analysis.triage import verdict_for
    from tracectl.backends.loki import fetch_trace_logs
    from tracectl.model import Trace

    try:
        client = session.loki()
        log_options = session.log_options()
    except TracectlError as exc:
        result.warnings.append(f"no log evidence: {exc}")
        return

    def sample_counts(
        group: list[TraceAnalysis], worst_first: bool
    ) -> tuple[dict[tuple[str, str], float], list[tuple[TraceAnalysis, MatchedLog]]]:
        chosen = sorted(group, key=lambda a: -a.tree.duration_ns if worst_first else a.tree.duration_ns)[:LOG_SAMPLE]
        total: Counter[tuple[str, str]] = Counter()
        matched_all: list[tuple[TraceAnalysis, MatchedLog]] = []
        for a in chosen:
            logs = fetch_trace_logs(client, Trace(a.tree.trace_id, tuple(a.tree.spans)), log_options)
            matched = match_logs(a.tree, logs.records)
            total.update(level_counts(matched, a.tree))
            matched_all.extend((a, m) for m in matched)
        return {k: v / max(len(chosen), 1) for k, v in total.items()}, matched_all

    try:
        s_counts, s_lines = sample_counts(result.suspects, True)
        b_counts, _ = sample_counts(result.baseline[len(result.baseline) // 2 :], False)
    except TracectlError as exc:
        result.warnings.append(f"no log evidence: {exc}")
        return
    result.logs_checked = True
    result.verdict = verdict_for(result.mode, result.suspects, result.baseline, s_counts, b_counts)
    culprit = (result.verdict.culprit or "").split(" → ")[-1].split(" | ")[0]
    severity = {"fatal": 0, "error": 1, "warn": 2}
    serious = [(a, m) for a, m in s_lines if m.level in severity]
    mine = [(a, m) for a, m in serious if m.node >= 0 and a.tree.spans[m.node].service == culprit]
    picked = [(a.tree.trace_id, m) for a, m in (mine or serious)]  # the culprit's own lines, else what failed
    picked.sort(key=lambda tm: (severity[tm[1].level], tm[1].record.time_ns))
    result.log_excerpts = picked[:8]


def next_commands(
    result: TriageResult, service: str | None, query: SearchQuery | None, reference: str | None = None
) -> list[str]:
    """What to run next to dig into the verdict."""
    v = result.verdict
    example = v.examples[0] if v.examples else None
    since = ""
    if query is not None:
        since = f" --since {max(1, round(query.time.duration_ns / 60e9))}m"
    cmds = []
    if v.kind == "drift":  # every input and output of the model, with histograms
        against = f"--reference {reference}" if reference else "--baseline-from now-1d --baseline-to now-23h"
        cmds.append(f"tracectl drift -s {v.culprit}{since} {against}")
    if example:
        cmds += [f"tracectl show {example} --critical --logs", f"tracectl path {example}"]
    if service:
        cmds.append(f"tracectl blame --search -s {service}{since} --limit 500 --bucket")
        if v.culprit and not v.culprit.count("→"):
            cmds.append(f"tracectl search -s {v.culprit.split(' | ')[0]}{since}")
    if example:
        cmds.append(f"tracectl logs {example} --level warn")
    return cmds


# ------------------------------------------------------------------------------------------------ --fail-on

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


def crossed_thresholds(result: TriageResult, rules: list[tuple[str, str, float]]) -> list[str]:
    """The crossed ``--fail-on`` rules, as sentences."""
    from tracectl.units import format_duration

    doc = triage_document(result)
    top = (
        doc["suspects"][0]
        if doc["suspects"] and doc["verdict"]["culprit"] and doc["verdict"]["kind"] != "drift"
        else None
    )
    values = {
        "share": top["share_of_excess"] if top else 0.0, "score": top["score"] if top else 0.0,
        "ratio": doc["durations_ns"]["ratio"], "p50": doc["durations_ns"]["p50"], "p95": doc["durations_ns"]["p95"],
        "p99": doc["durations_ns"]["p99"], "error-rate": doc["error_rate"],
    }  # fmt: skip

    def shown(metric: str, value: float) -> str:
        return format_duration(round(value)) if metric.startswith("p") else f"{value:.3g}"

    return [
        f"{metric} {shown(metric, values[metric])} {op} {shown(metric, limit)}"
        for metric, op, limit in rules
        if values[metric] > limit or (op == ">=" and values[metric] == limit)
    ]
