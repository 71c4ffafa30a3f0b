"""Root cause as a comparison: a suspect set against a baseline set (ANALYSIS.md section 5). Pure.

Per component the evidence is:
- **latency** (``excess.latency_rows``): its share of the excess critical-path time, like with like, edges
  folded into the service that owns their growth (a callee's ingress, or a caller slow on all its calls), and
  counted only when the growth is real;
- **errors**: the share of suspect traces with an error span of it on the critical path, against the baseline's;
- **logs** (``logevidence``): its share of the suspect traces whose log anomalies (new warning-or-worse
  templates, statements its operations no longer log) originate in it (deepest in the call tree), and error and
  warning events per trace;
- **attributes** (``attributes.rank_attributes``): values carried by far more suspects than baseline traces;
- **structure**: operations that appear in suspects only, or run more often per request (retries, loops).

- **truncation** (``truncation.truncations``): the requests end inside it — it is still called, but stopped
  making calls it usually makes (the deepest such service; the calls that vanished below it are consequences).

Score = max(latency share, (1 − L) × other), where the latency share is weighed by how unmistakably the component
grew against its own normal spread (``excess`` rule 4), L is the largest such share of any component and other =
max(error delta, log share, 1.5 × attribute contrast, truncation drop), capped at 1. One component that explains
most of the extra latency (L > 0.5) therefore always ranks first: other evidence can raise a suspect, never bury
it; when the latency is spread (no component explains much), the other evidence decides. Ties break on the
uncapped other evidence (1.5 × an attribute contrast of 1 outweighs errors in every request: a value says which
thing differs, while where a failure surfaces is often a symptom), then on supporting evidence (structure, more
error lines), the excess and the name. A component that got faster and has no other evidence is never a suspect:
it is listed apart (``Ranking.faster``). The verdict's culprit is always the first suspect of the same ranking.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from tracectl.analysis.analyse import TraceAnalysis
from tracectl.analysis.attributes import MIN_CONTRAST, AttributeSignal, rank_attributes
from tracectl.analysis.attribution import parse_key
from tracectl.analysis.excess import LatencyRow, latency_rows, top_operation
from tracectl.analysis.logevidence import LogEvidence, NewTemplate, Silenced
from tracectl.analysis.logs import Event
from tracectl.analysis.truncation import Truncation, truncations
from tracectl.units import plural

Operation = tuple[str, str]  # (service, span name)

ATTRIBUTE_WEIGHT = 1.5
CLEAR = 0.5  # a culprit is named only from this score up
WINDOW_SLOW_RATIO = 1.2  # two windows: the traces through the culprit must be this much slower
NAMED_OPERATIONS = 3  # the first suspects whose sentence names the operation that carries their excess


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
    new_operations: list[Operation] = field(default_factory=list)
    grown_operations: list[tuple[Operation, float, float]] = field(default_factory=list)  # (op, suspect, baseline)
    attributes: list[AttributeSignal] = field(default_factory=list)
    log_lines: dict[str, tuple[float, float]] = field(default_factory=dict)  # level -> (suspect, baseline) per trace
    log_templates: list[NewTemplate] = field(default_factory=list)  # new warning-or-worse templates
    log_silenced: list[Silenced] = field(default_factory=list)  # statements its operations no longer log
    log_named_by: list[Event] = field(default_factory=list)  # other services' new errors that name it
    log_traces: list[str] = field(default_factory=list)  # suspect traces whose log anomalies originate here
    log_share: float = 0.0  # of the suspect traces whose log anomalies originate here
    evidence: str = "none"  # leads the sentence: edge | self | errors | logs | attributes | truncation | structure
    latency: LatencyRow | None = None
    operation: str | None = None  # the span name inside it that carries most of its excess
    significant: bool = False  # its latency growth is real (not noise)
    services: tuple[str, ...] = ()  # the services its spans belong to: where its errors, logs and attributes are
    truncation: Truncation | None = None  # the suspect requests end inside it: calls it stopped making


@dataclass(slots=True)
class Ranking:
    suspects: list[Suspect]  # best first
    faster: list[LatencyRow]  # components that got faster (and have no other evidence)
    latency_top: float  # L: the largest latency share


@dataclass(slots=True)
class Verdict:
    kind: str  # "latency" | "errors" | "none"
    culprit: str | None
    sentence: str
    suspects: list[Suspect] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    numbers: dict[str, float] = field(default_factory=dict)
    faster: list[LatencyRow] = field(default_factory=list)


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


def _errors_on_path(group: Sequence[TraceAnalysis]) -> Counter[str]:
    """Component (the attribution key's label) → number of traces with an error span of it on the critical path."""
    out: Counter[str] = Counter()
    for a in group:
        key = parse_key(a.attribution.by)
        out.update({key(a.tree.spans[i]) for i, cp in enumerate(a.cp_ns) if cp > 0 and a.tree.spans[i].is_error})
    return out


def _operations(group: Sequence[TraceAnalysis]) -> Counter[tuple[str, Operation]]:
    """(component label, (service, span name)) → spans per trace."""
    counts: Counter[tuple[str, Operation]] = Counter()
    for a in group:
        key = parse_key(a.attribution.by)
        counts.update((key(s), (s.service, s.name)) for s in a.tree.spans)
    return Counter({k: v / len(group) for k, v in counts.items()}) if group else Counter()


@dataclass(slots=True)
class _Context:
    s_err: Counter[str]
    b_err: Counter[str]
    s_ops: Counter[tuple[str, Operation]]
    b_ops: Counter[tuple[str, Operation]]
    attributes: list[AttributeSignal]
    logs: LogEvidence | None
    cut: dict[str, Truncation]
    ns: int
    nb: int


def _suspect(row: LatencyRow | None, component: str, edge: bool, ctx: _Context, services: tuple[str, ...]) -> Suspect:
    """A suspect with every piece of evidence about it (scored later). Errors and operations are those of its own
    spans (whatever ``--by`` groups them by); attributes and log lines, those of the services its spans run in."""
    r = Suspect(component, edge, 0.0, "", latency=row, services=services)
    if row is not None:
        r.excess_ns, r.share_of_excess = row.excess_ns, row.share
        r.suspect_cp_ns, r.baseline_cp_ns, r.significant = row.suspect_ns, row.baseline_ns, row.significant
    if edge:
        return r
    r.errors_on_path_suspect = ctx.s_err[component] / ctx.ns
    r.errors_on_path_baseline = ctx.b_err[component] / ctx.nb
    mine = [op for owner, op in ctx.s_ops if owner == component]
    s_ops = {op: ctx.s_ops[(component, op)] for op in mine}
    b_ops = {op: ctx.b_ops[(component, op)] for op in mine if (component, op) in ctx.b_ops}
    r.new_operations = sorted(op for op in mine if op not in b_ops and s_ops[op] >= 0.5)
    r.grown_operations = sorted((op, s_ops[op], b_ops[op]) for op in b_ops if s_ops[op] >= b_ops[op] + 0.5)
    r.attributes = [a for a in ctx.attributes if a.service in services and a.contrast >= MIN_CONTRAST][:3]
    r.truncation = _cut_in(component, services, ctx.cut)
    entries = [e for e in (ctx.logs.for_service(s) for s in services) if e is not None] if ctx.logs else []
    entry = max(entries, key=lambda e: (e.share, e.service)) if entries else None
    if entry is not None:
        r.log_lines = {lvl: entry.per_trace[lvl] for lvl in ("fatal", "error", "warn") if lvl in entry.per_trace}
        r.log_templates, r.log_silenced, r.log_share = entry.new_templates[:3], entry.silenced[:3], entry.share
        r.log_named_by, r.log_traces = entry.named_by[:3], entry.origin_ids
    return r


def _cut_in(component: str, services: tuple[str, ...], cut: dict[str, Truncation]) -> Truncation | None:
    """The truncation charged to this component: its service's (grouped by service), or its operation's."""
    from tracectl.analysis.attribution import label_of

    for service in services:
        t = cut.get(service)
        if t is not None and component in (service, label_of((service, t.operation))):
            return t
    return None


def rank_all(
    suspects: Sequence[TraceAnalysis], baseline: Sequence[TraceAnalysis], logs: LogEvidence | None = None
) -> Ranking:
    """Every component, ranked by how much it explains the difference between the two sets (module docstring)."""
    from tracectl.analysis.sentences import MINOR_SHARE, describe

    ctx = _Context(_errors_on_path(suspects), _errors_on_path(baseline), _operations(suspects), _operations(baseline),
                   rank_attributes(suspects, baseline), logs, truncations(suspects, baseline), max(len(suspects), 1),
                   max(len(baseline), 1))  # fmt: skip
    rows = latency_rows(suspects, baseline)
    found = [_suspect(row, row.component, row.edge, ctx, row.services) for row in rows]
    known = {service for s in found if not s.edge for service in s.services}
    for service, entry in sorted((logs.services if logs else {}).items()):
        if service not in known and entry.share > 0:  # logs from a service with no spans here
            found.append(_suspect(None, service, False, ctx, (service,)))
    lat_top = max((latency_evidence(s) for s in found), default=0.0)
    out, faster = [], []
    for s in found:
        other = _other(s)
        s.score = round(max(latency_evidence(s), (1 - lat_top) * other), 6)
        if s.latency is not None and s.excess_ns < 0 and other == 0:
            faster.append(s.latency)
            continue
        describe(s, lat_top)
        out.append(s)
    out.sort(key=lambda s: (-s.score, -_other(s, cap=False), -_supporting(s), -s.excess_ns, s.component, s.edge))
    for s in out[:NAMED_OPERATIONS]:
        if s.evidence == "self" and s.share_of_excess >= MINOR_SHARE:
            s.operation = top_operation(suspects, baseline, s.component)
            describe(s, lat_top)
    faster.sort(key=lambda r: (r.excess_ns, r.component))
    return Ranking(out, faster, lat_top)


def rank(
    suspects: Sequence[TraceAnalysis], baseline: Sequence[TraceAnalysis], logs: LogEvidence | None = None
) -> list[Suspect]:
    """The suspects of ``rank_all``, best first."""
    return rank_all(suspects, baseline, logs).suspects


def latency_evidence(s: Suspect) -> float:
    """Its latency evidence: its share of the excess weighed by how unmistakably it grew (``excess`` rule 4),
    counted only when the growth is real."""
    if s.latency is None or not s.significant or s.excess_ns <= 0:
        return 0.0
    return s.latency.rank_share


def error_delta(s: Suspect) -> float:
    return max(0.0, s.errors_on_path_suspect - s.errors_on_path_baseline)


def attribute_contrast(s: Suspect) -> float:
    return max((a.contrast for a in s.attributes), default=0.0)


def log_growth(s: Suspect) -> float:
    return sum(max(0.0, a - b) for a, b in s.log_lines.values())


def truncation_strength(s: Suspect) -> float:
    return s.truncation.strength if s.truncation is not None else 0.0


def _other(s: Suspect, cap: bool = True) -> float:
    """Non-latency evidence; capped at 1 in the score, uncapped to break ties (an attribute value outweighs the
    errors it causes: where a failure surfaces is often a symptom, the value says which thing differs)."""
    value = max(error_delta(s), s.log_share, ATTRIBUTE_WEIGHT * attribute_contrast(s), truncation_strength(s))
    return min(1.0, value) if cap else value


def _supporting(s: Suspect) -> int:
    return int(bool(s.new_operations or s.grown_operations)) + int(log_growth(s) >= 0.5)


# --------------------------------------------------------------------------------------------- verdict


def verdict_for(
    mode: str,
    suspects: Sequence[TraceAnalysis],
    baseline: Sequence[TraceAnalysis],
    logs: LogEvidence | None = None,
    slow_ratio: float = 2.0,
) -> Verdict:
    """The verdict for one comparison. ``mode``: ``latency`` (suspects picked by latency in one window; a culprit
    needs them ``slow_ratio`` times slower), ``errors`` (failing against healthy), or ``windows`` (a suspect
    window against a baseline window: the culprit's own evidence decides, latency needing the traces through
    it to be markedly slower)."""
    numbers = _numbers(suspects, baseline)
    if not suspects or not baseline:
        which = "suspect" if not suspects else "baseline"
        return Verdict("none", None, f"no {which} traces to compare: nothing stands out", [], [], numbers)
    ranking = rank_all(suspects, baseline, logs)
    ranked = ranking.suspects
    examples = _examples(suspects, ranked[0] if ranked else None)
    top = ranked[0] if ranked else None
    kind = _kind(mode, top, numbers["ratio"], slow_ratio) if top is not None else "none"
    if top is not None and kind != "none":
        return Verdict(kind, top.component, top.sentence, ranked[:5], examples, numbers, ranking.faster)
    sentence = (f"nothing stands out: the suspect requests take {numbers['ratio']:.2f}x the baseline's time, "
                f"spread over the usual components")  # fmt: skip
    return Verdict("none", None, sentence, ranked[:5], [], numbers, ranking.faster)


def _kind(mode: str, top: Suspect, ratio: float, slow_ratio: float) -> str:
    """What the verdict says of the first suspect: latency, errors, or none (not clear enough)."""
    if top.score < CLEAR:
        return "none"
    if mode == "latency":
        return "latency" if ratio >= slow_ratio else "none"
    if mode == "errors" or top.evidence not in ("edge", "self"):
        return "errors"
    slower = top.latency is not None and _affected_ratio(top.latency) >= WINDOW_SLOW_RATIO
    return "latency" if slower else "none"


def _affected_ratio(row: LatencyRow) -> float:
    return row.suspect_duration_ns / row.baseline_duration_ns if row.baseline_duration_ns else float("inf")


def _examples(suspects: Sequence[TraceAnalysis], top: Suspect | None) -> list[str]:
    """The slowest suspects, preferring those that contain the top suspect's spans."""
    pool = list(suspects)
    if top is not None and top.latency is not None and top.evidence in ("edge", "self"):
        names = {m.label for m, _ in top.latency.members}
        pool = [a for a in suspects if any(r.key in names for r in a.attribution.rows)] or pool
    elif top is not None and top.evidence == "logs" and top.log_traces:
        ids = set(top.log_traces)
        pool = [a for a in suspects if a.tree.trace_id in ids] or pool
    return [a.tree.trace_id for a in sorted(pool, key=lambda a: (-a.tree.duration_ns, a.tree.trace_id))[:3]]


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
        return Verdict("none", None, f"only {plural(len(analyses), 'trace')}: too few to compare slow against normal")
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
