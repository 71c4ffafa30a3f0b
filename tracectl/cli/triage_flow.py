"""The triage workflow as an on-call engineer would do it by hand, shared by `triage` and `demo`.

Gather the window's traces (a backend search, or files), split suspects from baseline, rank the components
that explain the difference, then read the culprit's log lines in the worst traces.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracectl.errors import InputError, TracectlError

if TYPE_CHECKING:
    from tracectl.analysis.analyse import TraceAnalysis
    from tracectl.analysis.logs import MatchedLog
    from tracectl.analysis.triage import Verdict
    from tracectl.backends.query import SearchQuery
    from tracectl.cli.env import Env
    from tracectl.model import Trace

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
    warnings: list[str] = field(default_factory=list)  # every warning issued while triaging (also on stderr)

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


def run_triage(env: Env, options: TriageOptions) -> TriageResult:
    from tracectl.analysis.analyse import analyse_trace
    from tracectl.analysis.triage import split_errors, split_latency, triage, verdict_for
    from tracectl.cli.sources import load_many

    started = time.perf_counter()
    first_warning = len(env.warnings)
    if options.query is not None:
        traces = _fetch_window(env, options.query)
        source = f"{env.backend().name} search"
    else:
        loaded = load_many(options.files, env.fetch, None, skip_bad=True, warn=env.warn)
        traces = [t for r in loaded for t in r.traces]
        source = f"{len(options.files)} input(s)"
    if not traces:
        raise InputError("no traces to triage: widen --since or check --service")
    with env.progress("analysing") as update:
        analyses = []
        for n, t in enumerate(traces, 1):
            analyses.append(analyse_trace(t, options.by))
            update(n, len(traces))
    baseline_given = None
    if options.baseline_query is not None:
        baseline_given = [analyse_trace(t, options.by) for t in _fetch_window(env, options.baseline_query)]

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
        suspects = suspects if options.slo_ns is not None or mode == "errors" else analyses
    result = TriageResult(verdict_for(mode, suspects, baseline), mode, analyses, suspects, baseline, source=source)
    if options.logs:
        _log_evidence(env, options, result)
    result.warnings = env.warnings[first_warning:]  # search cut short, traces skipped or PARTIAL, no log evidence
    result.seconds = time.perf_counter() - started
    return result


def _log_evidence(env: Env, options: TriageOptions, result: TriageResult) -> None:
    """Warn/error lines per trace in a sample of suspects and baseline; the culprit's lines as excerpts."""
    from tracectl.analysis.logs import level_counts, match_logs
    from tracectl.analysis.triage import verdict_for
    from tracectl.backends.loki import fetch_trace_logs
    from tracectl.model import Trace

    try:
        client = env.loki()
        log_options = env.log_options()
    except TracectlError as exc:
        env.warn(f"no log evidence: {exc}")
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
        env.warn(f"no log evidence: {exc}")
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
