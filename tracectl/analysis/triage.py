"""Root cause as a comparison: a suspect set against a baseline set (ANALYSIS.md section 5). Pure.

Per component (edges ``caller → callee`` included) the evidence is:
- latency: mean critical-path time per suspect trace minus per baseline trace, and its share of the total excess;
- errors: the share of suspect traces with an error span of the component on the critical path (errors
  retried away or off the path count for less) against the baseline's;
- structure: operations whose count per trace grows, or that appear only in suspects (retries, fallbacks,
  cold starts, N+1 loops);
- attributes: span attribute values over-represented among suspects (BubbleUp-style: pod, model version…);
- logs: error and warning lines per trace against the baseline's (faults that move no latency show here).

Score = max(latency share, error delta, 1.5 × attribute contrast) + 0.25 × (structure or log evidence). Errors
propagate to callers and validators, so where a failure surfaces is often a symptom; an attribute value carried
by nearly all suspects and few baseline traces names *which* thing differs, the more specific explanation, hence
a weight above any error site's score with its supporting evidence (1.0 + 0.25). A verdict names a culprit
only when the suspects are markedly slower (latency mode) or fail (error mode) and the top score is clear;
otherwise it says nothing stands out.
Ranking is deterministic: ties break on the component name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tracectl.analysis.analyse import TraceAnalysis
from tracectl.analysis.attribution import EDGE_ARROW
from tracectl.units import format_duration

ATTRIBUTE_WEIGHT = 1.5
SKIP_ATTRIBUTES = frozenset({"k8s.pod.name", "service.instance.id", "host.name", "http.request.id"})
LogCounts = Mapping[tuple[str, str], float]  # (service, level) -> lines per trace


@dataclass(frozen=True, slots=True)
class AttributeSignal:
    service: str
    key: str
    value: str
    in_suspects: float  # share of suspect traces that carry it
    in_baseline: float


@dataclass(slots=True)
class Suspect:
    component: str
    edge: bool
    score: float
    sentence: str
    excess_ns: float = 0.0
    share_of_excess: float = 0.0
    suspect_cp_ns: float = 0.0
    baseline_cp_ns: float = 0.0
    errors_on_path_suspect: float = 0.0  # share of traces with an error span of it on the critical path
    errors_on_path_baseline: float = 0.0
    new_operations: list[str] = field(default_factory=list)
    grown_operations: list[tuple[str, float, float]] = field(default_factory=list)  # (op, suspect, baseline) per trace
    attributes: list[AttributeSignal] = field(default_factory=list)
    log_lines: dict[str, tuple[float, float]] = field(default_factory=dict)  # level -> (suspect, baseline) per trace


@dataclass(slots=True)
class Verdict:
    kind: str  # "latency" | "errors" | "none"
    culprit: str | None
    sentence: str
    suspects: list[Suspect] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    numbers: dict[str, float] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------ sets


def split_latency(analyses: Sequence[TraceAnalysis], slo_ns: int | None = None, percentile: float = 90.0,
                  ) -> tuple[list[TraceAnalysis], list[TraceAnalysis]]:  # fmt: skip
    """Suspects above the SLO (baseline: the rest), or at/above the percentile (baseline: at/below the median)."""
    ordered = sorted(analyses, key=lambda a: (a.tree.duration_ns, a.tree.trace_id))
    if slo_ns is not None:
        return [a for a in ordered if a.tree.duration_ns > slo_ns], [a for a in ordered if a.tree.duration_ns <= slo_ns]
    n = len(ordered)
    cut = min(n - 1, int(n * percentile / 100)) if n else 0
    return ordered[cut:], ordered[: max(1, n // 2)]


def split_errors(analyses: Sequence[TraceAnalysis]) -> tuple[list[TraceAnalysis], list[TraceAnalysis]]:
    failing = [a for a in analyses if any(s.is_error for s in a.tree.spans)]
    failed_ids = {a.tree.trace_id for a in failing}
    return failing, [a for a in analyses if a.tree.trace_id not in failed_ids]


# -------------------------------------------------------------------------------------------- evidence


def _mean_cp(group: Sequence[TraceAnalysis]) -> dict[tuple[str, bool], float]:
    totals: Counter[tuple[str, bool]] = Counter()
    for a in group:
        for row in a.attribution.rows:
            totals[(row.key, row.edge)] += row.cp_ns
    return {k: v / len(group) for k, v in totals.items()} if group else {}


def _errors_on_path(group: Sequence[TraceAnalysis]) -> Counter[str]:
    """Service → number of traces with an error span of that service on the critical path."""
    out: Counter[str] = Counter()
    for a in group:
        services = {a.tree.spans[i].service for i, cp in enumerate(a.cp_ns) if cp > 0 and a.tree.spans[i].is_error}
        out.update(services)
    return out


def _operations(group: Sequence[TraceAnalysis]) -> Counter[str]:
    """``service | name`` → spans per trace."""
    counts: Counter[str] = Counter()
    for a in group:
        counts.update(f"{s.service} | {s.name}" for s in a.tree.spans)
    return Counter({k: v / len(group) for k, v in counts.items()}) if group else Counter()


def rank_attributes(suspects: Sequence[TraceAnalysis], baseline: Sequence[TraceAnalysis]) -> list[AttributeSignal]:
    """(service, attribute, value) by how much more often suspect traces carry them than baseline ones."""

    def presence(group: Sequence[TraceAnalysis]) -> Counter[tuple[str, str, str]]:
        seen: Counter[tuple[str, str, str]] = Counter()
        for a in group:
            seen.update({(s.service, k, str(v)) for s in a.tree.spans for k, v in s.attributes.items()
                         if k not in SKIP_ATTRIBUTES and isinstance(v, str | int | bool)})  # fmt: skip
        return seen

    bad, good = presence(suspects), presence(baseline)
    signals = [
        AttributeSignal(svc, key, value, count / len(suspects), good.get((svc, key, value), 0) / max(len(baseline), 1))
        for (svc, key, value), count in bad.items()
    ]
    signals.sort(key=lambda s: (-(s.in_suspects - s.in_baseline), s.service, s.key, s.value))
    return signals


def _service_of(component: str) -> str:
    """The service a component row is about: the callee for an edge, the first key part otherwise."""
    part = component.rsplit(EDGE_ARROW, maxsplit=1)[-1]
    return part.split(" | ")[0]


def rank(
    suspects: Sequence[TraceAnalysis],
    baseline: Sequence[TraceAnalysis],
    suspect_logs: LogCounts | None = None,
    baseline_logs: LogCounts | None = None,
) -> list[Suspect]:
    """Every component, ranked by how much it explains the difference between the two sets."""
    s_cp, b_cp = _mean_cp(suspects), _mean_cp(baseline)
    keys = set(s_cp) | set(b_cp)
    excess = {k: s_cp.get(k, 0.0) - b_cp.get(k, 0.0) for k in keys}
    total_excess = sum(v for v in excess.values() if v > 0) or 1.0
    s_err, b_err = _errors_on_path(suspects), _errors_on_path(baseline)
    s_ops, b_ops = _operations(suspects), _operations(baseline)
    attributes = rank_attributes(suspects, baseline)
    ns, nb = max(len(suspects), 1), max(len(baseline), 1)
    numbers = _numbers(suspects, baseline)
    slower = numbers["ratio"] >= 1.2  # otherwise excess latency is noise (error-only faults): it does not count
    out = []
    for key, edge in keys:
        service = _service_of(key)
        r = Suspect(key, edge, 0.0, "", excess[(key, edge)], max(excess[(key, edge)], 0.0) / total_excess,
                    s_cp.get((key, edge), 0.0), b_cp.get((key, edge), 0.0))  # fmt: skip
        if not edge:
            r.errors_on_path_suspect, r.errors_on_path_baseline = s_err[service] / ns, b_err[service] / nb
            mine = [op for op in s_ops if op.split(" | ")[0] == service]
            r.new_operations = sorted(op for op in mine if op not in b_ops and s_ops[op] >= 0.5)
            r.grown_operations = sorted(
                (op, s_ops[op], b_ops[op]) for op in mine if op in b_ops and s_ops[op] >= b_ops[op] + 0.5
            )
            r.attributes = [a for a in attributes if a.service == service and a.in_suspects - a.in_baseline >= 0.5][:3]
            for level in ("error", "warn"):
                sv = (suspect_logs or {}).get((service, level), 0.0)
                bv = (baseline_logs or {}).get((service, level), 0.0)
                if sv or bv:
                    r.log_lines[level] = (sv, bv)
        if not slower:
            r.share_of_excess = 0.0
        _score(r)
        out.append(r)
    out.sort(key=lambda r: (-r.score, -r.excess_ns, r.component, r.edge))
    return out


def _score(r: Suspect) -> None:
    error_delta = max(0.0, r.errors_on_path_suspect - r.errors_on_path_baseline)
    attr = max((a.in_suspects - a.in_baseline for a in r.attributes), default=0.0)
    log_growth = sum(max(0.0, s - b) for s, b in r.log_lines.values())
    supporting = 0.25 if (r.new_operations or r.grown_operations or log_growth >= 0.5) else 0.0
    main = max(r.share_of_excess, error_delta, ATTRIBUTE_WEIGHT * attr)
    r.score = round(main + supporting * (1 if main > 0.1 else 0), 6)
    r.sentence = _sentence(r, error_delta, attr, log_growth)


def _sentence(r: Suspect, error_delta: float, attr: float, log_growth: float) -> str:
    parts = []
    if ATTRIBUTE_WEIGHT * attr >= max(r.share_of_excess, error_delta) and r.attributes:
        a = r.attributes[0]
        parts.append(f"{a.in_suspects:.0%} of the suspect requests carry {a.key}={a.value} on {a.service} "
                     f"({a.in_baseline:.0%} of the baseline)")  # fmt: skip
    if r.share_of_excess >= 0.1:
        what = "network, connection set-up or the callee's queue" if r.edge else "its own time"
        parts.append(f"{r.share_of_excess:.0%} of the extra latency ({format_duration(round(r.suspect_cp_ns))} on the "
                     f"critical path vs {format_duration(round(r.baseline_cp_ns))}; {what})")  # fmt: skip
    if error_delta >= 0.1:
        parts.append(f"errors on the critical path in {r.errors_on_path_suspect:.0%} of suspect requests "
                     f"vs {r.errors_on_path_baseline:.0%}")  # fmt: skip
    if r.new_operations:
        parts.append("new operations: " + ", ".join(op.split(" | ")[1] for op in r.new_operations[:3]))
    if r.grown_operations:
        op, s, b = r.grown_operations[0]
        parts.append(f"{op.split(' | ')[1]} runs {s:.1f}x per request (vs {b:.1f}x): retries or a loop")
    if log_growth >= 0.5:
        lv = ", ".join(f"{s:.1f} {lvl} lines per request vs {b:.1f}" for lvl, (s, b) in r.log_lines.items())
        parts.append(lv)
    return f"{r.component}: " + ("; ".join(parts) if parts else "no difference worth a sentence")


# --------------------------------------------------------------------------------------------- verdict


def verdict_for(
    mode: str,
    suspects: Sequence[TraceAnalysis],
    baseline: Sequence[TraceAnalysis],
    suspect_logs: LogCounts | None = None,
    baseline_logs: LogCounts | None = None,
    slow_ratio: float = 2.0,
) -> Verdict:
    """The verdict for one comparison. ``mode`` is ``latency`` or ``errors``."""
    numbers = _numbers(suspects, baseline)
    if not suspects or not baseline:
        which = "suspect" if not suspects else "baseline"
        return Verdict("none", None, f"no {which} traces to compare: nothing stands out", [], [], numbers)
    ranked = rank(suspects, baseline, suspect_logs, baseline_logs)
    top = ranked[0]
    examples = [a.tree.trace_id for a in sorted(suspects, key=lambda a: (-a.tree.duration_ns, a.tree.trace_id))[:3]]
    clear = top.score >= 0.5
    if mode == "latency" and numbers["ratio"] >= slow_ratio and clear:
        return Verdict("latency", top.component, top.sentence, ranked[:5], examples, numbers)
    if mode == "errors" and clear:
        return Verdict("errors", top.component, top.sentence, ranked[:5], examples, numbers)
    sentence = (f"nothing stands out: the suspect requests take {numbers['ratio']:.2f}x the baseline's time, "
                f"spread over the usual components")  # fmt: skip
    return Verdict("none", None, sentence, ranked[:5], [], numbers)


def _numbers(suspects: Sequence[TraceAnalysis], baseline: Sequence[TraceAnalysis]) -> dict[str, float]:
    def mean(group: Sequence[TraceAnalysis]) -> float:
        return sum(a.tree.duration_ns for a in group) / len(group) if group else 0.0

    s, b = mean(suspects), mean(baseline)
    return {"suspects": float(len(suspects)), "baseline": float(len(baseline)), "suspect_mean_ns": s,
            "baseline_mean_ns": b, "ratio": s / b if b else 0.0}  # fmt: skip


def triage(analyses: Sequence[TraceAnalysis], slow_ratio: float = 2.0) -> Verdict:
    """Automatic mode for one window: latency first (slowest tenth vs faster half), then errors (failing vs
    healthy, when at least 5% fail), else nothing stands out."""
    if len(analyses) < 10:
        return Verdict("none", None, f"only {len(analyses)} traces: too few to compare slow against normal")
    slow, normal = split_latency(analyses)
    latency = verdict_for("latency", slow, normal, slow_ratio=slow_ratio)
    if latency.culprit:
        return latency
    failing, healthy = split_errors(analyses)
    if len(failing) >= 0.05 * len(analyses):
        errors = verdict_for("errors", failing, healthy)
        errors.numbers["error_rate"] = len(failing) / len(analyses)
        if errors.culprit:
            return errors
    latency.numbers["error_rate"] = len(failing) / len(analyses)
    return latency
