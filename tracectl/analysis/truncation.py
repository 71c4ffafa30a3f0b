"""Requests cut short: where a request stopped making the calls it usually makes (ANALYSIS.md section 5). Pure.

An exception thrown in the middle of a chain ends the request where it is thrown: the service that throws stops
making the rest of its downstream calls, so every service below it is called less, and the error surfaces in its
callers (their logs may name the next service in the chain). Counting calls per trace then points at the
services whose calls vanished — the consequences. The rule reads it the other way round:

- An **operation** is a service's entry span (its topmost span in a call: what it was asked to do) by name; its
  **calls** are the spans of other services directly under its own spans.
- A **cut call**: an operation called at least ``MIN_CALLS`` times in both sets, still called at least
  ``STILL_CALLED`` as often per request in the suspects as in the baseline, that made a call in at least
  ``USUAL_CALL`` of its baseline executions and now makes it in at most ``CUT`` as many of them (by half or
  more), and the drop is real: a one-sided Fisher exact test on (executions making the call, not making it),
  baseline against suspects, at ``ALPHA`` (scipy) — three executions out of four against none out of three is
  not enough to say. Counting executions that make the call at all, not calls, keeps a loop over fewer results
  (the same call made fewer times) from reading as a cut.
- The operation's calls must drop in total, by at least half of what the cut calls lost: one branch taken
  instead of another (fewer calls to X, as many more to Y) is a change in the mix of work, not a request cut
  short.
- The request **ends inside** the deepest service with cut calls: a service is not charged when another service
  with cut calls sits below it in the call graph (its own calls stopped because the one below failed; its
  vanished calls are the consequence), and the services whose calls vanished are never charged for it.

The evidence of a charged service is the drop of its most cut call (1 − suspect rate / baseline rate), which the
ranking weighs like errors and logs.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from tracectl.analysis.analyse import TraceAnalysis

MIN_CALLS = 5  # executions of the operation in each set before its calls are compared
STILL_CALLED = 0.5  # the operation itself is still run at least this often per request (relative to the baseline)
USUAL_CALL = 0.5  # a call made in at least this share of the baseline's executions is usual
CUT = 0.5  # … and is cut when now made at most this share as often per execution
ALPHA = 0.01  # the drop must pass a one-sided Fisher exact test at this level

Operation = tuple[str, str]  # (service, entry span name)


@dataclass(frozen=True, slots=True)
class CutCall:
    callee: str
    baseline_share: float  # share of the operation's executions that call the callee
    suspect_share: float

    @property
    def drop(self) -> float:
        return 1.0 - self.suspect_share / self.baseline_share if self.baseline_share else 0.0


@dataclass(slots=True)
class Truncation:
    """Where the suspect requests were cut short: one service's operation and the calls it stopped making."""

    service: str
    operation: str
    suspect_calls: int  # executions of the operation in the suspects
    baseline_calls: int
    cut: list[CutCall] = field(default_factory=list)  # most cut first

    @property
    def strength(self) -> float:
        return max((c.drop for c in self.cut), default=0.0)


@dataclass(slots=True)
class _Counts:
    executions: Counter[Operation] = field(default_factory=Counter)
    calls: Counter[Operation] = field(default_factory=Counter)  # outgoing calls, every callee
    made: dict[Operation, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))  # executions calling it
    graph: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # caller service -> callees


def _count(group: Sequence[TraceAnalysis], out: _Counts) -> None:
    for a in group:
        tree = a.tree
        for i, span in enumerate(tree.spans):
            parent = tree.parent[i]
            if parent >= 0 and tree.spans[parent].service == span.service:
                continue  # not an entry span
            op = (span.service, span.name)
            out.executions[op] += 1
            here: Counter[str] = Counter()
            stack = [i]
            while stack:  # the service's own spans under its entry span, iteratively
                node = stack.pop()
                for child in tree.children[node]:
                    callee = tree.spans[child].service
                    if callee == span.service:
                        stack.append(child)
                    else:
                        here[callee] += 1
            out.calls[op] += sum(here.values())
            out.made[op].update(here.keys())
            out.graph[span.service].update(here.keys())


def _dropped(made_before: int, runs_before: int, made_now: int, runs_now: int) -> bool:
    """Is the share of executions making the call really lower now (one-sided Fisher exact test)?"""
    import numpy as np
    from scipy.stats import fisher_exact  # deferred: scipy takes half a second to import

    table = np.array([[made_before, runs_before - made_before], [made_now, runs_now - made_now]])
    return bool(fisher_exact(table, alternative="greater").pvalue < ALPHA)


def _below(graph: dict[str, set[str]], service: str) -> set[str]:
    """Every service reachable from ``service`` in the call graph (not itself)."""
    seen: set[str] = set()
    stack = list(graph.get(service, ()))
    while stack:
        s = stack.pop()
        if s not in seen and s != service:
            seen.add(s)
            stack.extend(graph.get(s, ()))
    return seen


def truncations(suspects: Sequence[TraceAnalysis], baseline: Sequence[TraceAnalysis]) -> dict[str, Truncation]:
    """Service → where its requests were cut short (module docstring); only the deepest services are charged."""
    if not suspects or not baseline:
        return {}
    s, b = _Counts(), _Counts()
    _count(suspects, s)
    _count(baseline, b)
    found: dict[str, Truncation] = {}
    for op, b_runs in sorted(b.executions.items()):
        s_runs = s.executions.get(op, 0)
        if b_runs < MIN_CALLS or s_runs < MIN_CALLS:
            continue
        if s_runs / len(suspects) < STILL_CALLED * b_runs / len(baseline):
            continue
        cut = []
        for callee, made in sorted(b.made[op].items()):
            made_now = s.made[op].get(callee, 0)
            before, now = made / b_runs, made_now / s_runs
            if before >= USUAL_CALL and now <= CUT * before and _dropped(made, b_runs, made_now, s_runs):
                cut.append(CutCall(callee, before, now))
        lost = sum(c.baseline_share - c.suspect_share for c in cut)
        if not cut or b.calls[op] / b_runs - s.calls[op] / s_runs < 0.5 * lost:
            continue
        cut.sort(key=lambda c: (-c.drop, c.callee))
        t = Truncation(op[0], op[1], s_runs, b_runs, cut)
        known = found.get(op[0])
        if known is None or (t.strength, t.suspect_calls) > (known.strength, known.suspect_calls):
            found[op[0]] = t
    graph: dict[str, set[str]] = defaultdict(set)
    for g in (s.graph, b.graph):
        for caller, callees in g.items():
            graph[caller] |= callees
    return {svc: t for svc, t in found.items() if not (_below(graph, svc) & (found.keys() - {svc}))}
