"""The triage workflow as an on-call engineer would do it by hand, shared by `triage` and `demo`.

Gather the window's traces (a backend search, or files), split suspects from baseline (or take a second window
as the baseline: a search, or files), rank the components that explain the difference, with the log lines of
both sets as evidence (from saved files, or from Loki for a sample of traces), then show the culprit's lines.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracectl.errors import InputError, TracectlError

if TYPE_CHECKING:
    from tracectl.analysis.analyse import TraceAnalysis
    from tracectl.analysis.logs import MatchedLog
    from tracectl.analysis.triage import Verdict
    from tracectl.backends.query import SearchQuery
    from tracectl.cli.env import Env
    from tracectl.model import LogRecord, Trace

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


@dataclass(slots=True)
class TriageResult:
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
    sources: dict[str, str] = field(default_factory=dict)  # trace ID -> the file it came from

    def worst(self) -> TraceAnalysis | None:
        pool = [a for a in self.suspects if a.tree.trace_id in self.verdict.examples] or self.suspects
        return max(pool, key=lambda a: (a.tree.duration_ns, a.tree.trace_id), default=None)


def _fetch_window(env: Env, query: SearchQuery) -> list[Trace]:
    result = env.backend().search(query)
    for warning in result.warnings:
        env.warn(warning)
    with env.progress(f"fetching {len(result.traces)} traces") as update:
        loaded = env.fetch_many([t.trace_id for t in result.traces], update, skip_failed=True)
    return [t for r in loaded if r is not None for t in r.traces]


def _load_files(env: Env, files: list[str], sources: dict[str, str] | None = None) -> list[Trace]:
    from tracectl.cli.sources import load_many

    loaded = load_many(files, env.fetch, None, skip_bad=True, warn=env.warn)
    if sources is not None:
        sources.update({t.trace_id: r.source for r in loaded for t in r.traces})
    return [t for r in loaded for t in r.traces]


def run_triage(env: Env, options: TriageOptions) -> TriageResult:
    from tracectl.analysis.analyse import analyse_trace
    from tracectl.analysis.triage import split_errors, split_latency, triage, verdict_for

    started = time.perf_counter()
    sources: dict[str, str] = {}
    if options.query is not None:
        traces = _fetch_window(env, options.query)
        source = f"{env.backend().name} search"
    else:
        traces = _load_files(env, options.files, sources)
        source = f"{len(options.files)} input(s)"
    if not traces:
        raise InputError("no traces to triage: widen --since or check --service")
    with env.progress("analysing") as update:
        analyses = []
        for n, t in enumerate(traces, 1):
            analyses.append(analyse_trace(t, options.by))
            update(n, len(traces))
    baseline_given = None
    if options.baseline_query is not None or options.baseline_files:
        found = _load_files(env, options.baseline_files) if options.baseline_files else []
        if options.baseline_query is not None:
            found += _fetch_window(env, options.baseline_query)
        if not found:
            raise InputError("no baseline traces: check --baseline (or --baseline-from/--baseline-to)")
        baseline_given = [analyse_trace(t, options.by) for t in found]

    mode = options.mode
    if mode == "auto" and options.slo_ns is None and baseline_given is None:
        verdict = triage(analyses)
        mode = verdict.kind if verdict.kind != "none" else "latency"
    if mode == "errors":
        suspects, baseline = split_errors(analyses)
    else:
        mode = "latency"
        suspects, baseline = split_latency(analyses, options.slo_ns, options.percentile)
    if baseline_given is not None:
        baseline = baseline_given
        if options.slo_ns is None and mode != "errors":
            suspects, mode = analyses, "windows"  # the whole suspect window against the baseline window
    warnings: list[str] = []
    records = _log_records(env, options, suspects, baseline, warnings) if options.logs or options.logs_files else None
    evidence = None
    if records is not None:
        from tracectl.analysis.logevidence import evidence_from_records

        evidence = evidence_from_records(suspects, baseline, records)
    verdict = verdict_for(mode, suspects, baseline, evidence)
    result = TriageResult(verdict, mode, analyses, suspects, baseline, source=source, warnings=warnings,
                          sources=sources)  # fmt: skip
    if records is not None:
        result.logs_checked = True
        result.log_excerpts = _excerpts(result, records)
    result.seconds = time.perf_counter() - started
    return result


def _loki_records(env: Env, suspects: list[TraceAnalysis], baseline: list[TraceAnalysis]) -> list[LogRecord]:
    """The lines of a sample of suspect (the slowest) and baseline (around the median) traces, from Loki."""
    from tracectl.backends.loki import fetch_trace_logs
    from tracectl.model import Trace

    client = env.loki()
    log_options = env.log_options()
    chosen = sorted(suspects, key=lambda a: -a.tree.duration_ns)[:LOG_SAMPLE]
    chosen += sorted(baseline[len(baseline) // 2 :], key=lambda a: a.tree.duration_ns)[:LOG_SAMPLE]
    records: list[LogRecord] = []
    for a in chosen:
        records.extend(fetch_trace_logs(client, Trace(a.tree.trace_id, tuple(a.tree.spans)), log_options).records)
    return records


def _log_records(env: Env, options: TriageOptions, suspects: list[TraceAnalysis], baseline: list[TraceAnalysis],
                 warnings: list[str]) -> list[LogRecord] | None:  # fmt: skip
    """Saved lines (``--logs-file``: a bad file is the user's error), else Loki's (unreachable: a warning)."""
    from tracectl.cli.common import read_logs_files

    if options.logs_files:
        return read_logs_files(options.logs_files)
    try:
        return _loki_records(env, suspects, baseline)
    except TracectlError as exc:
        warnings.append(f"no log evidence: {exc}")
        return None


def _excerpts(result: TriageResult, records: list[LogRecord]) -> list[tuple[str, MatchedLog]]:
    """Warning-or-worse lines of the slowest suspects: the culprit's own, else whatever failed."""
    from collections import defaultdict

    from tracectl.analysis.logs import match_logs, trace_events

    culprit = (result.verdict.culprit or "").split(" → ")[-1].split(" | ")[0]
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
    own = [(a, m) for a, m in serious if m.node >= 0 and a.tree.spans[m.node].service == culprit]
    picked = [(a.tree.trace_id, m) for a, m in (own or serious)]
    picked.sort(key=lambda tm: (severity.get(tm[1].level, 3), tm[1].record.time_ns))
    return picked[:8]
