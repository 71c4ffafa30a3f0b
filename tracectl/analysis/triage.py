"""A first verdict from a window of traces: slow versus normal, failing versus healthy (ANALYSIS.md section 5).

1. Latency: the suspect set is the slowest tenth of the traces, the baseline the faster half. Each
   component's (and edge's) excess is its mean critical-path time per suspect trace minus per baseline trace.
   When the suspects are markedly slower (mean duration at least ``slow_ratio`` times the baseline's) and one
   component explains most of the total excess, it is the culprit.
2. Errors: traces with an error span against the others. Span attributes (service, key, value) are ranked by
   how much more often they occur in failing traces (BubbleUp-style); a value present in most failing and few
   healthy traces names the component that carries it.
3. Otherwise nothing stands out, and the verdict says so rather than inventing a culprit.

Deterministic: ties break on the component name. Every verdict carries its numbers and example trace IDs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from tracectl.analysis.analyse import TraceAnalysis
from tracectl.units import format_duration

SKIP_ATTRIBUTES = frozenset({"k8s.pod.name", "service.instance.id", "host.name", "http.request.id"})


@dataclass(frozen=True, slots=True)
class Suspect:
    component: str
    edge: bool
    excess_ns: float  # mean critical-path time per suspect trace minus per baseline trace
    share_of_excess: float
    suspect_mean_ns: float
    baseline_mean_ns: float


@dataclass(frozen=True, slots=True)
class AttributeSignal:
    service: str
    key: str
    value: str
    in_failing: float  # share of failing traces that carry it
    in_healthy: float


@dataclass(slots=True)
class Verdict:
    kind: str  # "latency" | "errors" | "none"
    culprit: str | None
    sentence: str
    suspects: list[Suspect] = field(default_factory=list)
    signals: list[AttributeSignal] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)  # trace IDs that show it
    numbers: dict[str, float] = field(default_factory=dict)


def _mean_cp(group: Sequence[TraceAnalysis]) -> dict[tuple[str, bool], float]:
    totals: Counter[tuple[str, bool]] = Counter()
    for a in group:
        for row in a.attribution.rows:
            totals[(row.key, row.edge)] += row.cp_ns
    return {k: v / len(group) for k, v in totals.items()}


def rank_latency(analyses: Sequence[TraceAnalysis]) -> tuple[list[Suspect], list[TraceAnalysis], list[TraceAnalysis]]:
    """Components by excess critical-path time, slowest tenth against the faster half."""
    ordered = sorted(analyses, key=lambda a: (a.tree.duration_ns, a.tree.trace_id))
    n = len(ordered)
    suspects = ordered[n - max(1, n // 10) :]
    baseline = ordered[: max(1, n // 2)]
    s_mean, b_mean = _mean_cp(suspects), _mean_cp(baseline)
    excess = {k: s_mean.get(k, 0.0) - b_mean.get(k, 0.0) for k in set(s_mean) | set(b_mean)}
    total = sum(v for v in excess.values() if v > 0) or 1.0
    ranked = [
        Suspect(k[0], k[1], v, max(v, 0.0) / total, s_mean.get(k, 0.0), b_mean.get(k, 0.0)) for k, v in excess.items()
    ]
    ranked.sort(key=lambda s: (-s.excess_ns, s.component, s.edge))
    return ranked, suspects, baseline


def rank_attributes(failing: Sequence[TraceAnalysis], healthy: Sequence[TraceAnalysis]) -> list[AttributeSignal]:
    """(service, attribute, value) by how much more often failing traces carry them than healthy ones."""

    def presence(group: Sequence[TraceAnalysis]) -> Counter[tuple[str, str, str]]:
        seen: Counter[tuple[str, str, str]] = Counter()
        for a in group:
            features = {
                (s.service, k, str(v))
                for s in a.tree.spans
                for k, v in s.attributes.items()
                if k not in SKIP_ATTRIBUTES and isinstance(v, str | int | bool)
            }
            seen.update(features)
        return seen

    bad, good = presence(failing), presence(healthy)
    signals = [
        AttributeSignal(svc, key, value, count / len(failing), good.get((svc, key, value), 0) / max(len(healthy), 1))
        for (svc, key, value), count in bad.items()
    ]
    signals.sort(key=lambda s: (-(s.in_failing - s.in_healthy), s.service, s.key, s.value))
    return signals


def triage(analyses: Sequence[TraceAnalysis], slow_ratio: float = 2.0, dominance: float = 0.5) -> Verdict:
    """A verdict for a window of traces (all of one endpoint)."""
    if len(analyses) < 10:
        return Verdict("none", None, f"only {len(analyses)} traces: too few to compare slow against normal")
    ranked, suspects, baseline = rank_latency(analyses)
    s_dur = sum(a.tree.duration_ns for a in suspects) / len(suspects)
    b_dur = sum(a.tree.duration_ns for a in baseline) / len(baseline)
    numbers = {"suspect_mean_ns": s_dur, "baseline_mean_ns": b_dur, "ratio": s_dur / b_dur if b_dur else 0.0}
    top = ranked[0] if ranked else None
    if top is not None and numbers["ratio"] >= slow_ratio and top.share_of_excess >= dominance:
        kind = "network and queueing between them" if top.edge else "its own time"
        sentence = (
            f"{top.component} explains {top.share_of_excess:.0%} of the extra latency of the slowest requests "
            f"({format_duration(round(top.suspect_mean_ns))} on the critical path vs "
            f"{format_duration(round(top.baseline_mean_ns))} normally; {kind})"
        )
        examples = [a.tree.trace_id for a in sorted(suspects, key=lambda a: -a.tree.duration_ns)[:3]]
        return Verdict("latency", top.component, sentence, ranked[:5], [], examples, numbers)

    failing = [a for a in analyses if any(s.is_error for s in a.tree.spans)]
    healthy = [a for a in analyses if not any(s.is_error for s in a.tree.spans)]
    numbers["error_rate"] = len(failing) / len(analyses)
    if failing and numbers["error_rate"] >= 0.05:
        signals = rank_attributes(failing, healthy)
        best = signals[0] if signals else None
        if best is not None and best.in_failing - best.in_healthy >= 0.5:
            sentence = (
                f"{numbers['error_rate']:.0%} of requests fail; {best.in_failing:.0%} of them carry "
                f"{best.key}={best.value} on {best.service} ({best.in_healthy:.0%} of healthy requests do)"
            )
            return Verdict("errors", best.service, sentence, ranked[:5], signals[:5],
                           [a.tree.trace_id for a in failing[:3]], numbers)  # fmt: skip
        sentence = f"{numbers['error_rate']:.0%} of requests fail, with no attribute that sets them apart"
        return Verdict(
            "errors", None, sentence, ranked[:5], signals[:5], [a.tree.trace_id for a in failing[:3]], numbers
        )
    sentence = (
        f"nothing stands out: the slowest requests take {numbers['ratio']:.2f}x the typical ones, "
        "spread over the usual components, and there are no errors"
    )
    return Verdict("none", None, sentence, ranked[:5], [], [], numbers)
