"""Excess latency per component, suspects against baseline, like with like (ANALYSIS.md section 5). Pure.

Three rules turn per-trace attribution rows into the latency evidence the ranking uses:

1. **Like with like.** A component's excess is, over the suspect traces that contain it, its critical-path
   time minus the baseline's mean for the same endpoint (the root span: what kind of request it is), summed
   and divided by the number of suspect traces. A change in the traffic mix between two windows (more of one
   endpoint, fewer of another, a call made by fewer requests) therefore moves no component; a call that
   appears only in suspects counts in full; an endpoint new in the suspects is compared with the component's
   mean over the whole baseline.
2. **Who owns an edge.** An edge ``A → X`` that grew is network or queueing into ``X`` (its ingress), unless
   the caller shows more growth elsewhere than the callee does, and at least half as much as the edge's own: a
   caller whose own time and other calls grew too (a CPU-starved or paused caller is slow to send and to read
   every response) owns the growth of its calls. Growth elsewhere = the real (rule 3) positive excess of every
   other row that touches the service (its own time, its other edges in and out). Ties go to the callee. A
   caller's owned edges fold into its own row; the edges a callee owns fold into one ingress row, ``A → X``
   (one caller) or ``* → X`` (several).
3. **Growth must be real.** A row's growth counts only when its suspect values (each less its endpoint's
   baseline mean) are larger than the baseline's (the same way) by a one-sided Mann-Whitney test at 1% (scipy),
   or, when there are too few traces for any test to reach 1%, larger on average.
4. **Growth against the component's own normal.** Milliseconds alone favour the components with a large base: a
   busy service that grew by a few percent of its own spread can add more milliseconds than a small one whose
   every span got several times slower. Each row carries an effect size, the rank-biserial correlation of its
   suspect values against the baseline's (``2·U/(n_s·n_b) − 1`` from the same Mann-Whitney U: 1 when every
   suspect value is above every baseline value, 0 when the two overlap as two draws of one distribution), and
   the ranking weighs each row's share by it (``rank_share`` = share × min(1, effect / ``EFFECT_LARGE``)): a
   row whose growth is a large effect (a rank-biserial correlation of 0.5 or more: a suspect value beats a
   baseline value three times in four — the conventional "large" for Cliff's delta, 0.474, rounded) keeps its
   whole share, one that moved within its own noise keeps a fraction of it. Shares are not renormalised, so a
   weighted row never gains over the others by their loss. A row new in the suspects has effect 1.

Rows that got faster carry a negative excess; the ranking lists them apart and never as suspects.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from tracectl.analysis.analyse import TraceAnalysis
from tracectl.analysis.attribution import Component

ALPHA = 0.01
EFFECT_LARGE = 0.5  # rule 4: a growth at least this large an effect (rank-biserial) keeps its whole share
CALLER_OWNS = 0.5  # a caller owns a call's growth only with at least half as much real growth elsewhere
ANY_CALLER = "*"

RowKey = tuple[str, bool]  # (attribution row key, is an edge)


@dataclass(slots=True)
class LatencyRow:
    """One ranked latency row: a component's own time (with the calls it owns) or a callee's ingress."""

    component: str
    edge: bool  # an ingress row (network or queueing into the callee)
    service: str  # the component it is about: the callee for an ingress row
    excess_ns: float  # per suspect trace, like with like (rule 1)
    suspect_ns: float  # mean critical-path time per suspect trace containing it
    baseline_ns: float  # … per baseline trace containing it
    presence: float  # share of suspect traces containing it
    significant: bool
    members: list[tuple[Component, float]] = field(default_factory=list)  # folded rows, with their excess
    services: tuple[str, ...] = ()  # the services its spans belong to (an ingress row: the callee's)
    own_ns: float = 0.0  # excess of the component's own time, without folded edges
    new: bool = False  # no baseline trace contains it
    suspect_duration_ns: float = 0.0  # mean duration of the suspect traces containing it
    baseline_duration_ns: float = 0.0  # … of the baseline traces containing it
    share: float = 0.0  # of the total positive excess
    effect: float = 0.0  # rank-biserial effect size of its growth against its own baseline (rule 4), in [-1, 1]
    rank_share: float = 0.0  # share weighed by the effect (rule 4): what the ranking uses


@dataclass(slots=True)
class _Trace:
    rows: dict[RowKey, int]  # critical-path time per attribution row
    duration: int
    endpoint: str  # the root span's service and name: what kind of request it is


def _endpoint(a: TraceAnalysis) -> str:
    tree = a.tree
    if not tree.roots:
        return ""
    root = tree.spans[tree.roots[0]]
    return f"{root.service} {root.name}"


def _per_trace(group: Sequence[TraceAnalysis], meta: dict[RowKey, Component]) -> list[_Trace]:
    """Critical-path time per row of each trace; ``meta`` collects what each row is (its services merged)."""
    out = []
    for a in group:
        rows: dict[RowKey, int] = defaultdict(int)
        for r in a.attribution.rows:
            rows[(r.key, r.edge)] += r.cp_ns
            known = meta.get((r.key, r.edge))
            if known is None or not set(r.component.services) <= set(known.services):
                services = tuple(sorted({*r.component.services, *(known.services if known else ())}))
                meta[(r.key, r.edge)] = Component(r.component.parts, r.component.callee, services)
        out.append(_Trace(rows, a.tree.duration_ns, _endpoint(a)))
    return out


def _value(t: _Trace, members: Sequence[RowKey]) -> float | None:
    present = [t.rows[m] for m in members if m in t.rows]
    return float(sum(present)) if present else None


@dataclass(slots=True)
class _Sample:
    """A row's values, like with like: each compared with the baseline's mean for the same endpoint."""

    suspect: list[float]  # suspect traces containing it: value − the baseline mean of their endpoint
    baseline: list[float]  # baseline traces containing it: value − the mean of their endpoint
    suspect_mean: float  # raw mean over the suspect traces containing it
    expected: float  # the baseline's mean for the same mix of endpoints
    presence: float  # share of suspect traces containing it

    @property
    def excess(self) -> float:
        return self.presence * (sum(self.suspect) / len(self.suspect)) if self.suspect else 0.0


def _sample(s_rows: list[_Trace], b_rows: list[_Trace], members: Sequence[RowKey], n_suspects: int) -> _Sample:
    by_endpoint: dict[str, list[float]] = defaultdict(list)
    for t in b_rows:
        v = _value(t, members)
        if v is not None:
            by_endpoint[t.endpoint].append(v)
    every = [v for vs in by_endpoint.values() for v in vs]
    overall = sum(every) / len(every) if every else 0.0  # an endpoint new in the suspects: the row's mean
    means = {e: sum(vs) / len(vs) for e, vs in by_endpoint.items()}
    raw, expected = [], []
    for t in s_rows:
        v = _value(t, members)
        if v is not None:
            raw.append(v)
            expected.append(means.get(t.endpoint, overall))
    suspect = [v - e for v, e in zip(raw, expected, strict=True)]
    baseline = [v - means[e] for e, vs in by_endpoint.items() for v in vs]
    if not raw:
        return _Sample([], baseline, 0.0, overall, 0.0)
    return _Sample(suspect, baseline, sum(raw) / len(raw), sum(expected) / len(expected), len(raw) / n_suspects)


def _durations(traces: list[_Trace], members: Sequence[RowKey]) -> float:
    """Mean duration of the traces containing any member (0 when none does)."""
    found = [t.duration for t in traces if any(m in t.rows for m in members)]
    return sum(found) / len(found) if found else 0.0


def _like_with_like(s: list[float], b: list[float], n_suspects: int) -> tuple[float, float, float, float]:
    """(excess, suspect mean when present, baseline mean when present, presence among suspects)."""
    if not s or not n_suspects:
        return 0.0, 0.0, (sum(b) / len(b) if b else 0.0), 0.0
    ms = sum(s) / len(s)
    mb = sum(b) / len(b) if b else 0.0
    presence = len(s) / n_suspects
    return presence * (ms - mb), ms, mb, presence


def grew(suspect: Sequence[float], baseline: Sequence[float]) -> bool:
    """Are the suspect values larger (rule 3)? Too few traces for a 1% test: taken at face value."""
    if not suspect:
        return False
    if not baseline:
        return True  # new in the suspects: its share says how much it matters
    if 1 / math.comb(len(suspect) + len(baseline), len(suspect)) > ALPHA:
        return sum(suspect) / len(suspect) > sum(baseline) / len(baseline)
    if min(suspect) == max(suspect) == min(baseline) == max(baseline):
        return False
    from scipy.stats import mannwhitneyu  # deferred: scipy takes half a second to import

    return bool(mannwhitneyu(suspect, baseline, alternative="greater").pvalue < ALPHA)


def effect_size(suspect: Sequence[float], baseline: Sequence[float]) -> float:
    """Rank-biserial correlation of ``suspect`` against ``baseline`` (rule 4): the share of (suspect, baseline)
    pairs where the suspect value is larger, less the share where it is smaller, ties counting half each way.
    1 with no baseline (new in the suspects), 0 with no suspect value."""
    if not suspect:
        return 0.0
    if not baseline:
        return 1.0
    import numpy as np

    b = np.sort(np.asarray(baseline, dtype=float))
    s = np.asarray(suspect, dtype=float)
    below = np.searchsorted(b, s, side="left")  # baseline values smaller than each suspect value
    not_above = np.searchsorted(b, s, side="right")  # … smaller or equal
    u = float(below.sum() + 0.5 * (not_above - below).sum())
    return 2.0 * u / (len(s) * len(b)) - 1.0


def _owners(excess: dict[RowKey, float], real: set[RowKey], meta: dict[RowKey, Component]) -> dict[str, str]:
    """Edge key → the component (label) that owns its growth (rule 2), for edges that grew."""
    touching: dict[str, float] = defaultdict(float)
    for (key, edge), value in excess.items():
        if value <= 0 or (key, edge) not in real:
            continue
        c = meta[(key, edge)]
        for side in (c.caller_label, c.callee_label) if edge else (key,):
            touching[side] += value
    owners = {}
    for (key, edge), value in excess.items():
        if edge and value > 0:
            caller, callee = meta[(key, edge)].caller_label, meta[(key, edge)].callee_label
            mine = value if (key, edge) in real else 0.0
            elsewhere_caller, elsewhere_callee = touching[caller] - mine, touching[callee] - mine
            caller_owns = elsewhere_caller > elsewhere_callee and elsewhere_caller >= CALLER_OWNS * value
            owners[key] = caller if caller_owns else callee
    return owners


def latency_rows(suspects: Sequence[TraceAnalysis], baseline: Sequence[TraceAnalysis]) -> list[LatencyRow]:
    """Every latency row, largest excess first (ties by name); shares filled in."""
    meta: dict[RowKey, Component] = {}
    s_rows, b_rows = _per_trace(suspects, meta), _per_trace(baseline, meta)
    keys = sorted({k for t in (*s_rows, *b_rows) for k in t.rows})
    raw, real = {}, set()
    for k in keys:
        sample = _sample(s_rows, b_rows, [k], len(suspects))
        raw[k] = sample.excess
        if raw[k] > 0 and grew(sample.suspect, sample.baseline):
            real.add(k)
    owners = _owners(raw, real, meta)
    groups: dict[tuple[str, bool], list[RowKey]] = defaultdict(list)  # (service, ingress?) -> members
    for key, edge in keys:
        if not edge:
            groups[(key, False)].append((key, False))
        elif key in owners:
            caller, callee = meta[(key, True)].caller_label, meta[(key, True)].callee_label
            groups[(callee, True) if owners[key] == callee else (caller, False)].append((key, True))
        else:
            groups[(key, True)].append((key, True))  # an edge that did not grow stays on its own
    out = []
    for (name, ingress), members in groups.items():
        sample = _sample(s_rows, b_rows, members, len(suspects))
        excess, ms, mb, presence = sample.excess, sample.suspect_mean, sample.expected, sample.presence
        component = service = name
        parts = [meta[m] for m in members]
        # Whose spans it is about: an ingress row, the callee's (its edges' services); a component's own row,
        # its own spans' (the edges it owns are about their callees).
        own = [c for c in parts if ingress or not c.edge] or parts
        if ingress:
            callers = {c.caller_label for c in parts}
            grown = any(k in owners for k, _ in members)
            service = parts[0].callee_label
            any_caller = Component((ANY_CALLER,), parts[0].callee).label
            component = members[0][0] if not grown or len(callers) == 1 else any_caller
        real_growth = excess > 0 and grew(sample.suspect, sample.baseline)
        row = LatencyRow(component, ingress, service, excess, ms, mb, presence, real_growth)
        row.services = tuple(sorted({s for c in own for s in c.services}))
        row.members = sorted(((meta[(k, e)], raw[(k, e)]) for k, e in members), key=lambda m: (-m[1], m[0].label))
        row.own_ns = raw.get((service, False), 0.0) if not ingress else 0.0
        row.new = not sample.baseline
        row.suspect_duration_ns = _durations(s_rows, members)
        row.baseline_duration_ns = _durations(b_rows, members)
        row.effect = effect_size(sample.suspect, sample.baseline)
        out.append(row)
    total = sum(r.excess_ns for r in out if r.excess_ns > 0)
    for r in out:
        r.share = max(r.excess_ns, 0.0) / total if total > 0 else 0.0
        r.rank_share = r.share * min(1.0, max(r.effect, 0.0) / EFFECT_LARGE)
    out.sort(key=lambda r: (-r.excess_ns, r.component))
    return out


def top_operation(suspects: Sequence[TraceAnalysis], baseline: Sequence[TraceAnalysis], component: str) -> str | None:
    """The span name inside ``component`` (a row of its own time) that carries most of its excess, like with
    like, when it carries at least half of it; None otherwise."""
    from tracectl.analysis.attribution import edge_callee, parse_key

    def per_name(group: Sequence[TraceAnalysis]) -> dict[str, list[float]]:
        out: dict[str, list[float]] = defaultdict(list)
        for a in group:
            key = parse_key(a.attribution.by)
            here: dict[str, float] = defaultdict(float)
            for i, span in enumerate(a.tree.spans):
                if key(span) == component and edge_callee(a.tree, i) < 0:
                    here[span.name] += a.cp_ns[i]
            for name, value in here.items():
                out[name].append(value)
        return out

    s, b = per_name(suspects), per_name(baseline)
    excess = {name: _like_with_like(v, b.get(name, []), len(suspects))[0] for name, v in s.items()}
    if not excess:
        return None
    name = max(sorted(excess), key=lambda n: excess[n])
    total = sum(v for v in excess.values() if v > 0)
    return name if total > 0 and excess[name] >= 0.5 * total else None
