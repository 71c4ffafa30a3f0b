"""What changed between two traces or two sets of traces (``tracectl diff``). Pure.

``diff_sets`` is what ``tracectl diff`` computes: the ranking of ``triage`` (B as the suspects, A as the baseline:
``triage.rank_all``, the one ranking), plus the tables below. Per component (edges included): mean
critical-path and self time per trace in A and in B, and the delta, growth first; components that got faster
come last (the renderers show them apart).
Per operation (``service | name``): mean calls per trace in A and B: operations that appear, vanish or are
called more often (retries, N+1 loops, fallbacks). Per service: error spans per trace. For one trace against
one trace, the two trees aligned span by span: a span is matched by its path of (service, name, n-th such
sibling) from the root, so repeated calls line up in order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tracectl.analysis.analyse import TraceAnalysis
from tracectl.analysis.logevidence import LogEvidence, evidence_from_records
from tracectl.analysis.triage import Ranking, rank_all
from tracectl.model import LogRecord


@dataclass(frozen=True, slots=True)
class ComponentDelta:
    key: str
    edge: bool
    cp_a: float
    cp_b: float
    self_a: float
    self_b: float
    errors_a: float  # error spans per trace
    errors_b: float

    @property
    def cp_delta(self) -> float:
        return self.cp_b - self.cp_a


@dataclass(frozen=True, slots=True)
class OperationDelta:
    operation: str  # "service | name"
    calls_a: float  # per trace
    calls_b: float

    @property
    def change(self) -> str:
        if self.calls_a == 0:
            return "appeared"
        if self.calls_b == 0:
            return "vanished"
        return "more calls" if self.calls_b > self.calls_a else "fewer calls"


@dataclass(frozen=True, slots=True)
class Comparison:
    traces_a: int
    traces_b: int
    duration_a: float  # mean wall time
    duration_b: float
    components: tuple[ComponentDelta, ...]  # largest critical-path growth first, those that got faster last
    operations: tuple[OperationDelta, ...]  # only those that changed by at least half a call per trace


def _means(group: Sequence[TraceAnalysis]) -> tuple[dict[tuple[str, bool], tuple[float, float, float]], Counter[str]]:
    sums: dict[tuple[str, bool], list[float]] = {}
    ops: Counter[str] = Counter()
    for a in group:
        for r in a.attribution.rows:
            acc = sums.setdefault((r.key, r.edge), [0.0, 0.0, 0.0])
            acc[0] += r.cp_ns
            acc[1] += r.self_ns
            acc[2] += r.errors
        ops.update(f"{s.service} | {s.name}" for s in a.tree.spans)
    n = max(len(group), 1)
    return {k: (v[0] / n, v[1] / n, v[2] / n) for k, v in sums.items()}, Counter({k: v / n for k, v in ops.items()})


def compare(a: Sequence[TraceAnalysis], b: Sequence[TraceAnalysis]) -> Comparison:
    ma, oa = _means(a)
    mb, ob = _means(b)
    zero = (0.0, 0.0, 0.0)
    comps = [
        ComponentDelta(
            k[0],
            k[1],
            ma.get(k, zero)[0],
            mb.get(k, zero)[0],
            ma.get(k, zero)[1],
            mb.get(k, zero)[1],
            ma.get(k, zero)[2],
            mb.get(k, zero)[2],
        )
        for k in set(ma) | set(mb)
    ]
    comps.sort(key=lambda c: (-c.cp_delta, c.key, c.edge))
    ops = [OperationDelta(op, oa.get(op, 0.0), ob.get(op, 0.0)) for op in set(oa) | set(ob)]
    ops = [o for o in ops if abs(o.calls_b - o.calls_a) >= 0.5]
    ops.sort(key=lambda o: (-abs(o.calls_b - o.calls_a), o.operation))

    def mean_duration(group: Sequence[TraceAnalysis]) -> float:
        return sum(x.tree.duration_ns for x in group) / len(group) if group else 0.0

    return Comparison(len(a), len(b), mean_duration(a), mean_duration(b), tuple(comps), tuple(ops))


@dataclass(frozen=True, slots=True)
class SetDiff:
    comparison: Comparison
    ranking: Ranking  # B's suspects against A
    logs: LogEvidence | None


def diff_sets(a: Sequence[TraceAnalysis], b: Sequence[TraceAnalysis], records: Iterable[LogRecord] | None = None
              ) -> SetDiff:  # fmt: skip
    """B against A: the ranking (with log evidence when ``records`` are given) and the tables."""
    logs = evidence_from_records(b, a, records) if records is not None else None
    return SetDiff(compare(a, b), rank_all(b, a, logs), logs)


@dataclass(frozen=True, slots=True)
class AlignedRow:
    depth: int
    label: str  # "service name"
    node_a: int  # -1 when the span exists only in B
    node_b: int  # -1 when only in A


def _keyed(analysis: TraceAnalysis, nodes: Sequence[int]) -> dict[tuple[str, str, int], int]:
    """Sibling nodes keyed by (service, name, n-th such sibling), so repeated calls line up in order."""
    seen: Counter[tuple[str, str]] = Counter()
    out = {}
    for node in nodes:
        span = analysis.tree.spans[node]
        out[(span.service, span.name, seen[(span.service, span.name)])] = node
        seen[(span.service, span.name)] += 1
    return out


def align(a: TraceAnalysis, b: TraceAnalysis) -> list[AlignedRow]:
    """Both trees walked together, depth first, siblings by start time; a span found in only one tree has -1
    on the other side. Iterative."""
    rows: list[AlignedRow] = []
    stack: list[tuple[int, int, int]] = []  # (node in A or -1, node in B or -1, depth)

    def push(nodes_a: Sequence[int], nodes_b: Sequence[int], depth: int) -> None:
        ka, kb = _keyed(a, nodes_a), _keyed(b, nodes_b)

        def start(key: tuple[str, str, int]) -> tuple[int, tuple[str, str, int]]:
            if key in ka:
                return a.tree.start[ka[key]] - a.tree.wall_start, key
            return b.tree.start[kb[key]] - b.tree.wall_start, key

        for key in sorted(set(ka) | set(kb), key=start, reverse=True):
            stack.append((ka.get(key, -1), kb.get(key, -1), depth))

    push(a.tree.roots, b.tree.roots, 0)
    while stack:
        na, nb, depth = stack.pop()
        span = a.tree.spans[na] if na >= 0 else b.tree.spans[nb]
        rows.append(AlignedRow(depth, f"{span.service} {span.name}", na, nb))
        push(a.tree.children[na] if na >= 0 else [], b.tree.children[nb] if nb >= 0 else [], depth + 1)
    return rows
