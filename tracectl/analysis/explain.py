"""One trace, one verdict: what an expert reads in a single slow or failed request. Pure, no I/O.

``explain_trace(analysis)`` runs every pattern over the rebuilt tree and its critical path, and ranks what they
find: where each failure began (``explain_failure``), N+1 loops, retries, independent lookups made one after
another, queueing gaps (``explain_calls``), and the span that holds most of the critical path. Fatal failures
come first (the earliest first); everything else by the time it costs on the critical path. Findings that cost
less than ``MINOR_SHARE`` of the critical path are counted, not listed, unless asked for (``keep_minor``); fatal
failures, the dominant section and the first handled failure from each operation are always listed (a request
that survived hundreds of failed cache reads shows one of them, not hundreds). Every pass is iterative and at most
O(n log n).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tracectl.analysis.analyse import TraceAnalysis
from tracectl.analysis.explain_calls import n_plus_one, queue_gaps, recovered, retries, retry_runs, serial_calls
from tracectl.analysis.explain_failure import failure_origins
from tracectl.analysis.findings import (
    DominantSection,
    Facts,
    FailureOrigin,
    Finding,
    NPlusOne,
    QueueGap,
    Retry,
    SerialCalls,
)

MINOR_SHARE = 0.05  # findings costing less than this share of the critical path are counted, not listed
# Kinds in the order they are listed when they cost the same.
KINDS = (FailureOrigin.kind, NPlusOne.kind, Retry.kind, SerialCalls.kind, QueueGap.kind, DominantSection.kind)


@dataclass(slots=True)
class Diagnosis:
    """What one trace shows: its findings, ranked, and how many minor ones were left out."""

    analysis: TraceAnalysis
    findings: list[Finding]
    minor: int = 0  # findings below MINOR_SHARE of the critical path, not listed
    counts: Counter[str] = field(default_factory=Counter)  # findings per kind, listed or not

    @property
    def failures(self) -> list[FailureOrigin]:
        return [x for x in self.findings if isinstance(x, FailureOrigin)]


def explain_trace(analysis: TraceAnalysis, keep_minor: bool = False) -> Diagnosis:
    """Every finding of ``analysis``, ranked (module docstring)."""
    facts = Facts.of(analysis)
    runs = retry_runs(facts)
    found: list[Finding] = [*failure_origins(facts, recovered(facts, runs)), *n_plus_one(facts),
                            *retries(facts, runs), *serial_calls(facts), *queue_gaps(facts),
                            *dominant_section(facts)]  # fmt: skip
    counts = Counter(x.kind for x in found)
    floor = MINOR_SHARE * facts.length_ns
    found.sort(key=lambda x: _rank_key(x, facts))
    seen: set[tuple[str, str]] = set()  # origin operations with a handled failure listed
    listed = [x for x in found if keep_minor or x.cost_ns >= floor or _always_listed(x, facts, seen)]
    return Diagnosis(analysis, listed, len(found) - len(listed), counts)


def _always_listed(x: Finding, facts: Facts, seen: set[tuple[str, str]]) -> bool:
    """A failure matters whatever its time: every fatal one, and the first handled one of each origin operation
    (``seen`` collects those already listed, in rank order)."""
    if isinstance(x, DominantSection) or (isinstance(x, FailureOrigin) and x.fatal):
        return True
    if not isinstance(x, FailureOrigin):
        return False
    origin = facts.tree.spans[x.origin]
    key = (origin.service, origin.name)
    first = key not in seen
    seen.add(key)
    return first


def _rank_key(x: Finding, facts: Facts) -> tuple[int, int, int, str]:
    first = x.nodes()[0] if x.nodes() else 0
    key = facts.tree.keys[first] if x.nodes() else ""
    if isinstance(x, FailureOrigin) and x.fatal:
        return (0, x.at_ns, 0, key)
    return (1, -x.cost_ns, KINDS.index(x.kind), key)


def dominant_section(f: Facts) -> list[DominantSection]:
    """The span with the most critical-path time (ties: the smaller node key), and its service's share."""
    cp = f.analysis.cp_ns
    length = f.length_ns
    if not length:
        return []
    tree = f.tree
    node = min(range(len(tree)), key=lambda i: (-cp[i], tree.keys[i]))
    service = tree.spans[node].service
    service_ns = sum(c for i, c in enumerate(cp) if tree.spans[i].service == service)
    sections = len(f.sections.get(node, ()))
    return [DominantSection(cp[node], node, sections, cp[node] / length, service_ns, service_ns / length)]


def marks(diagnosis: Diagnosis) -> dict[int, list[tuple[str, int]]]:
    """Node → what ``show`` marks on it, as (mark, count): ``origin`` (where a failure began; 0), ``n+1`` (a call
    of an N+1 loop; the loop's calls), ``retry`` (a call made again after it failed; its attempt number)."""
    out: dict[int, list[tuple[str, int]]] = {}

    def add(node: int, mark: str, count: int) -> None:
        kept = out.setdefault(node, [])
        if all(m != mark for m, _ in kept):
            kept.append((mark, count))

    for x in diagnosis.findings:
        if isinstance(x, FailureOrigin):
            add(x.origin, "origin", 0)
        elif isinstance(x, NPlusOne):
            for m in x.members:
                add(m, "n+1", len(x.members))
        elif isinstance(x, Retry):
            for n, a in enumerate(x.attempts[1:], 2):
                add(a, "retry", n)
    return out
