"""The triage workflow as an on-call engineer would do it by hand, shared by ``triage`` and ``demo``.

Gather the window's traces (a backend search, or files), split suspects from baseline, rank the components
that explain the difference, then read the culprit's log lines in the worst traces.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracectl.errors import InputError, TracectlError
from tracectl.results import Result

if TYPE_CHECKING:
    from tracectl.analysis.analyse import TraceAnalysis
    from tracectl.analysis.explain import Diagnosis
    from tracectl.analysis.logs import MatchedLog
    from tracectl.analysis.triage import Verdict
    from tracectl.backends.query import SearchQuery
    from tracectl.model import LogRecord, Trace
    from tracectl.timerange import TimeRange
    from tracectl.workflows.quality import InputCheck
    from tracectl.workflows.session import Session
    from tracectl.workflows.sources import InputCounts
    from tracectl.workflows.triage_alert import AlertStart
    from tracectl.workflows.triage_metrics import MetricsWindow
    from tracectl.workflows.triage_pushdown import Pushdown, WindowCount

TRIAGE_SCHEMA = "tracectl.triage/v1"
TRIAGE_CSV_COLUMNS = (
    "rank", "component", "edge", "score", "share_of_excess", "excess_cp_ns", "suspect_cp_mean_ns",
    "baseline_cp_mean_ns", "sentence",
)  # fmt: skip
LOG_SAMPLE = 5  # traces per set whose logs are read from Loki (saved files: every trace)


@dataclass(slots=True)
class TriageOptions:
    query: SearchQuery | None  # None: traces come from files
    files: list[str] = field(default_factory=list)
    baseline_query: SearchQuery | None = None  # an earlier window as the baseline
    baseline_files: list[str] = field(default_factory=list)  # … or saved traces
    mode: str = "auto"  # auto | latency | errors
    slo_ns: int | None = None
    percentile: float = 90.0
    by: str = "service"
    logs: bool = True
    logs_files: list[str] = field(default_factory=list)  # saved log lines instead of Loki
    log_limit: int = 5000  # Loki lines read a trace (0 = all); a cut is a warning
    quality: bool = False  # compare models' inputs and outputs even when latency or errors explain the difference
    reference: str | None = None  # training data for that comparison (else: suspects against the baseline)
    metrics_window: MetricsWindow | None = None  # how the metrics chose the windows (workflows/triage_metrics.py)
    alert: AlertStart | None = None  # the alert that set the service and windows (workflows/triage_alert.py)


@dataclass(slots=True)
class TriageResult(Result, schema=TRIAGE_SCHEMA, columns=TRIAGE_CSV_COLUMNS):
    """The verdict, the ranked suspects with their evidence, and what it was computed from."""

    verdict: Verdict
    mode: str
    analyses: list[TraceAnalysis]
    suspects: list[TraceAnalysis]
    baseline: list[TraceAnalysis]
    log_excerpts: list[tuple[str, MatchedLog]] = field(default_factory=list)  # (trace ID, line)
    excerpts_from_culprit: bool = False  # the excerpts are the culprit's own lines (else: what failed elsewhere)
    logs_checked: bool = False
    source: str = ""
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)  # what to run next
    reproduce: str = ""  # the triage command that gives this result again (absolute windows)
    sources: dict[str, str] = field(default_factory=dict)  # trace ID -> the file it came from
    quality: InputCheck | None = None  # inputs and outputs against training data or the baseline
    metrics_window: MetricsWindow | None = None  # the metrics that chose the windows, or why they did not
    pushdown: Pushdown | None = None  # what Tempo computed over windows larger than --max-traces
    inputs: InputCounts | None = None  # traces asked for, analysed and skipped (window and baseline together)
    window: TimeRange | None = None  # the suspect window (searched, or the traces' extent with files)
    baseline_window: TimeRange | None = None  # a separate baseline window; None: the baseline is in ``window``
    generated_ns: int = 0  # when the result was made (the report says it)
    alert: AlertStart | None = None  # the alert triage started from

    @property
    def alert_start_ns(self) -> int | None:
        """When the alert that started triage began firing (the report's timeline and chart mark it)."""
        return self.alert.alert.starts_ns if self.alert is not None else None

    def worst(self) -> TraceAnalysis | None:
        pool = [a for a in self.suspects if a.tree.trace_id in self.verdict.examples] or self.suspects
        return max(pool, key=lambda a: (a.tree.duration_ns, a.tree.trace_id), default=None)

    def worst_diagnosis(self) -> Diagnosis | None:
        """What ``explain`` finds in the worst suspect: its panel, its report section, JSON ``worst_trace``."""
        from tracectl.analysis.explain import explain_trace

        worst = self.worst()
        return explain_trace(worst) if worst is not None else None

    @property
    def error_rate(self) -> float:
        failing = sum(1 for a in self.analyses if any(s.is_error for s in a.tree.spans))
        return failing / len(self.analyses) if self.analyses else 0.0


def _fetch_window(session: Session, query: SearchQuery, warnings: list[str], over: list[WindowCount],
                  counts: InputCounts) -> list[Trace]:  # fmt: skip
    from tracectl.workflows.triage_pushdown import fetch_window

    return fetch_window(session, query, warnings, over, counts)


def _load_files(session: Session | None, files: list[str], warnings: list[str], counts: InputCounts,
                sources: dict[str, str] | None = None) -> list[Trace]:  # fmt: skip
    from tracectl.workflows.sources import load_many

    loaded = load_many(files, session, skip_bad=True)
    warnings.extend(loaded.warnings)
    counts.add(loaded.counts)
    if sources is not None:
        sources.update({t.trace_id: r.source for r in loaded.results for t in r.traces})
    return loaded.traces


def _analyse(session: Session | None, traces: list[Trace], by: str) -> list[TraceAnalysis]:
    from tracectl.analysis.analyse import analyse_trace
    from tracectl.workflows.session import no_progress

    with (session.progress if session is not None else no_progress)("analysing") as update:
        analyses = []
        for n, t in enumerate(traces, 1):
            analyses.append(analyse_trace(t, by))
            update(n, len(traces))
    return analyses


def _baseline_window(session: Session | None, options: TriageOptions, warnings: list[str],
                     over: list[WindowCount], counts: InputCounts) -> list[Trace] | None:  # fmt: skip
    """The traces of a separate baseline window (saved files and/or a search), or None when there is none."""
    if options.baseline_query is None and not options.baseline_files:
        return None
    found = _load_files(session, options.baseline_files, warnings, counts) if options.baseline_files else []
    if options.baseline_query is not None:
        if session is None:
            raise InputError("searching a baseline window needs a backend")
        found += _fetch_window(session, options.baseline_query, warnings, over, counts)
    if not found:
        raise InputError("no baseline traces: check --baseline (or --baseline-from/--baseline-to)")
    return found


def _window_traces(session: Session | None, options: TriageOptions, warnings: list[str], sources: dict[str, str],
                   over: list[WindowCount], counts: InputCounts) -> tuple[list[Trace], str]:  # fmt: skip
    """The window's traces (a search within --max-traces, or files) and where they came from."""
    if options.query is None:
        return _load_files(session, options.files, warnings, counts, sources), f"{len(options.files)} input(s)"
    if session is None:
        raise InputError("searching a window needs a backend")
    return _fetch_window(session, options.query, warnings, over, counts), f"{session.backend().name} search"


def _pushdown_evidence(session: Session | None, options: TriageOptions, result: TriageResult,
                       over: list[WindowCount]) -> None:  # fmt: skip
    """A window held more traces than --max-traces: what Tempo computes over all of them goes with the result."""
    if over and session is not None and options.query is not None:
        from tracectl.workflows.triage_pushdown import push_down

        result.pushdown = push_down(session, options, options.query, result, over)


def triage(session: Session | None, options: TriageOptions) -> TriageResult:
    """Split (or take the baseline window), rank and gather evidence; ``session`` may be None when every input
    is a file and log lines come from files (or not at all)."""
    from tracectl.analysis.triage import split_errors, split_latency, verdict_for
    from tracectl.analysis.triage import triage as auto_verdict
    from tracectl.workflows.repairs import repair_warnings
    from tracectl.workflows.sources import InputCounts

    started = time.perf_counter()
    warnings: list[str] = []
    sources: dict[str, str] = {}
    over: list[WindowCount] = []  # the windows that held more traces than --max-traces
    counts = InputCounts()
    traces, source = _window_traces(session, options, warnings, sources, over, counts)
    if not traces:
        raise InputError("no traces to triage: widen --since or check --service")
    analyses = _analyse(session, traces, options.by)
    earlier = _baseline_window(session, options, warnings, over, counts)
    baseline_given = _analyse(session, earlier, options.by) if earlier is not None else None
    warnings += repair_warnings((a.tree for a in [*analyses, *(baseline_given or [])]), session)

    mode = options.mode
    # An alert's window holds the healthy requests of its first minutes too: its slow (or failing) requests are
    # the suspects, against the whole window before the alert, rather than window against window.
    alerted = options.alert is not None
    if mode == "auto" and options.slo_ns is None and (baseline_given is None or alerted):
        verdict = auto_verdict(analyses)
        mode = verdict.kind if verdict.kind != "none" else "latency"
    if mode == "errors":
        suspects, baseline = split_errors(analyses)
    else:
        mode = "latency"
        suspects, baseline = split_latency(analyses, options.slo_ns, options.percentile)
    if baseline_given is not None:
        baseline = baseline_given
        if options.slo_ns is None and mode != "errors" and not alerted:
            suspects, mode = analyses, "windows"  # the whole suspect window against the baseline window
    records = _log_records(session, options, suspects, baseline, warnings)
    evidence = None
    if records is not None:
        from tracectl.analysis.logevidence import evidence_from_records

        evidence = evidence_from_records(suspects, baseline, records)
    verdict = verdict_for(mode, suspects, baseline, evidence)
    result = TriageResult(verdict, mode, analyses, suspects, baseline, source=source, warnings=warnings,
                          sources=sources, inputs=counts, alert=options.alert)  # fmt: skip
    if records is not None:
        result.logs_checked = True
        result.log_excerpts, result.excerpts_from_culprit = _excerpts(result, records)
    # Nothing else explains the suspects: did the models' inputs drift? That takes something to drift from, a
    # training file or an earlier window; slow against fast requests of one window differ in whatever goes with
    # latency, which is no drift (--quality asks for that comparison anyway).
    drift_reference = options.reference is not None or baseline_given is not None
    if options.quality or (result.verdict.culprit is None and drift_reference):
        _input_evidence(session, result, options)
    _metrics_evidence(result, options.metrics_window)
    _pushdown_evidence(session, options, result, over)
    _finish(result, options, baseline_given, started)
    return result


def _finish(result: TriageResult, options: TriageOptions, baseline_given: list[TraceAnalysis] | None,
            started: float) -> None:  # fmt: skip
    """What a report needs beside the evidence: the time taken, the windows, when it was made, the commands."""
    from tracectl.workflows.triage_commands import reproduce_command

    result.seconds = time.perf_counter() - started
    result.window, result.baseline_window = _windows(options, result.analyses, baseline_given)
    result.generated_ns = time.time_ns()
    result.commands = next_commands(result, options)
    result.reproduce = reproduce_command(result, options)


def _windows(options: TriageOptions, analyses: list[TraceAnalysis],
             baseline: list[TraceAnalysis] | None) -> tuple[TimeRange | None, TimeRange | None]:  # fmt: skip
    """The suspect window and the baseline window (None: the baseline is part of the suspect window): searched,
    or from files the extent of their traces."""
    from tracectl.timerange import TimeRange

    def extent(found: list[TraceAnalysis]) -> TimeRange | None:
        if not found:
            return None
        return TimeRange(min(a.tree.wall_start for a in found), max(a.tree.wall_start + a.tree.duration_ns
                                                                      for a in found))  # fmt: skip

    window = options.query.time if options.query is not None else extent(analyses)
    if options.baseline_query is not None:
        return window, options.baseline_query.time
    return window, extent(baseline) if baseline is not None else None


def _metrics_evidence(result: TriageResult, window: MetricsWindow | None) -> None:
    """The metrics that chose the windows go with the result, and what they say into the verdict's sentence."""
    result.metrics_window = window
    evidence = window.evidence() if window is not None else ""
    if evidence:
        sentence = result.verdict.sentence.rstrip()
        result.verdict.sentence = f"{sentence}{'' if sentence.endswith(('.', '!', '?')) else '.'} {evidence}"


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


def _loki_records(session: Session, suspects: list[TraceAnalysis], baseline: list[TraceAnalysis], limit: int,
                  warnings: list[str]) -> list[LogRecord]:  # fmt: skip
    """The lines of a sample of suspect (the slowest) and baseline (around the median) traces, from Loki; a trace
    whose lines were cut at ``limit`` is said in ``warnings`` (and on stderr)."""
    from tracectl.analysis.logs import log_window
    from tracectl.backends.loki import fetch_trace_logs
    from tracectl.model import Trace
    from tracectl.workflows.logs import cut_warning

    client = session.loki()
    log_options = session.log_options(limit=limit)
    chosen = sorted(suspects, key=lambda a: -a.tree.duration_ns)[:LOG_SAMPLE]
    chosen += sorted(baseline[len(baseline) // 2 :], key=lambda a: a.tree.duration_ns)[:LOG_SAMPLE]
    records: list[LogRecord] = []
    for a in chosen:
        trace, window = Trace(a.tree.trace_id, tuple(a.tree.spans)), log_window(a.tree, log_options.margin_ns)
        result = fetch_trace_logs(client, trace, log_options, window=window)
        records.extend(result.records)
        cut = cut_warning(result, "--log-limit", a.tree.trace_id)
        if cut:
            warnings.append(f"log evidence: {cut}")
            session.warn(warnings[-1])
    return records


def _log_records(session: Session | None, options: TriageOptions, suspects: list[TraceAnalysis],
                 baseline: list[TraceAnalysis], warnings: list[str]) -> list[LogRecord] | None:  # fmt: skip
    """Saved lines (``--logs-file``: a bad file is the user's error), else Loki's (unreachable: a warning)."""
    from tracectl.backends.logfiles import read_log_files

    if options.logs_files:
        return read_log_files(options.logs_files)
    if not options.logs:
        return None
    if session is None:
        warnings.append("no log evidence: no Loki configured (--logs-file reads saved lines)")
        return None
    try:
        return _loki_records(session, suspects, baseline, options.log_limit, warnings)
    except TracectlError as exc:
        warnings.append(f"no log evidence: {exc}")
        session.warn(warnings[-1])
        return None


def _excerpts(result: TriageResult, records: list[LogRecord]) -> tuple[list[tuple[str, MatchedLog]], bool]:
    """Warning-or-worse lines of the slowest suspects: the culprit's own (True), else whatever failed (False)."""
    from collections import defaultdict

    from tracectl.analysis.logs import match_logs, trace_events

    top = next((s for s in result.verdict.suspects if s.component == result.verdict.culprit), None)
    culprit_services = set(top.services) if top is not None else set()
    severity = {"fatal": 0, "error": 1, "warn": 2}
    by_trace: dict[str, list[LogRecord]] = defaultdict(list)
    for e in trace_events(records, [a.tree for a in result.suspects]):
        if e.trace_id is not None and e.level in severity:
            by_trace[e.trace_id].append(e.record)
    serious = [
        (a, m)
        for a in sorted(result.suspects, key=lambda a: -a.tree.duration_ns)
        if a.tree.trace_id in by_trace
        for m in match_logs(a.tree, by_trace[a.tree.trace_id])
    ]
    own = [(a, m) for a, m in serious if m.node >= 0 and a.tree.spans[m.node].service in culprit_services]
    picked = [(a.tree.trace_id, m) for a, m in (own or serious)]
    picked.sort(key=lambda tm: (severity.get(tm[1].level, 3), tm[1].record.time_ns))
    return picked[:8], bool(own)


def next_commands(result: TriageResult, options: TriageOptions) -> list[str]:
    """What to run next to dig into the verdict: for a trace from a file, the file (and the saved log lines)."""
    import shlex

    v = result.verdict
    example = v.examples[0] if v.examples else None
    source = result.sources.get(example) if example else None
    if example and source is not None:
        saved = "".join(f" --logs-file {shlex.quote(f)}" for f in options.logs_files)
        where = f"{shlex.quote(source)} --trace-id {example}"
        return [f"tracectl show {where} --critical{saved}", f"tracectl path {where}",
                *([f"tracectl logs {where}{saved} --level warn"] if saved else [])]  # fmt: skip
    from tracectl.timerange import TimeRange, window_flags

    query = options.query
    service = query.service if query is not None else None
    since = window_flags(query.time) if query is not None else ""  # absolute: the same window tomorrow
    cmds = []
    if v.kind == "drift":  # every input and output of the model, with histograms
        day = 86400 * 10**9
        earlier = options.baseline_query.time if options.baseline_query is not None else (
            TimeRange(query.time.start_ns - day, query.time.end_ns - day) if query is not None else None)  # fmt: skip
        against = f" --reference {options.reference}" if options.reference else (
            window_flags(earlier, "baseline-") if earlier is not None else "")  # fmt: skip
        cmds.append(f"tracectl drift -s {v.culprit}{since}{against}")
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

    v = result.verdict
    top = v.suspects[0] if v.suspects and v.culprit and v.kind != "drift" else None
    values = {
        "share": top.share_of_excess if top else 0.0, "score": top.score if top else 0.0,
        "ratio": v.numbers.get("ratio", 0.0), **duration_percentiles(result.analyses), "error-rate": result.error_rate,
    }  # fmt: skip

    def shown(metric: str, value: float) -> str:
        return format_duration(round(value)) if metric.startswith("p") else f"{value:.3g}"

    return [
        f"{metric} {shown(metric, values[metric])} {op} {shown(metric, limit)}"
        for metric, op, limit in rules
        if values[metric] > limit or (op == ">=" and values[metric] == limit)
    ]


def duration_percentiles(analyses: list[TraceAnalysis]) -> dict[str, float]:
    """p50, p95 and p99 of the traces' durations (ns), interpolated (JSON ``durations_ns``, ``--fail-on``)."""
    durations = sorted(a.tree.duration_ns for a in analyses)
    if not durations:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0}

    def q(p: float) -> float:
        pos = (len(durations) - 1) * p
        lo, hi = int(pos), min(int(pos) + 1, len(durations) - 1)
        return durations[lo] + (durations[hi] - durations[lo]) * (pos - lo)

    return {"p50": q(0.5), "p95": q(0.95), "p99": q(0.99)}
