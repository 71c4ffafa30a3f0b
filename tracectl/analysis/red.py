"""What a service's RED series say: when the change began, which downstream edge grew, and what lined up with it.

Pure: the series come in (times in ns, latencies in ns), findings go out. The change-point method is
``changepoint.detect_change`` (Pettitt's test with a minimum effect), run on the p95 latency, the error ratio and
(with span metrics) the errors of the services downstream per request of this one, its ``alpha`` split between
them (Bonferroni) so that testing three series does not triple the false alarms. Each
point of a series stands for its bucket ``(t − step, t]`` (the queries' rate window is the step), so a change
whose first new point is ``t`` began in ``(t − step, t]``: ``start_ns`` is ``t − step``.

*What lined up* with a change that began at ``s``:

- a **deployment**: a ``service_version`` (``target_info``) or ``version`` (``*_build_info``) first seen, or a
  ``kube_deployment_metadata_generation`` that changed, from ``LINE_UP_STEPS`` steps before ``s`` to one step
  after it, on the service or any service downstream of it;
- a **traffic change**: the median request rate after the change differs from the one before by the minimum rate
  effect (×1.3);
- **neither**, said as such.

*Which edge grew*: of the service-graph edges downstream of the service, those whose caller-side p95 grew by the
minimum latency effect across the change; the deepest of them (an edge none of whose callee's own edges grew) is
where the time went. When the callee's server-side p95 did not grow with it, the time is between the two
(network, queueing, retries), and the finding says so.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tracectl.analysis.changepoint import ALPHA, Change, big_enough, detect_change, level

Points = Sequence[tuple[int, float]]
Edge = tuple[str, str]  # (client, server)
LINE_UP_STEPS = 3  # how many steps before a change a deployment still "lines up" with it


@dataclass(frozen=True, slots=True)
class SeriesChange:
    series: str  # "p95", "error ratio" or "downstream errors"
    kind: str  # changepoint kind: latency or ratio
    change: Change
    start_ns: int  # the start of the bucket of the first changed point

    @property
    def rose(self) -> bool:
        return self.change.rose


@dataclass(frozen=True, slots=True)
class EdgeGrowth:
    client: str
    server: str
    before_ns: float  # caller-side p95 before the change
    after_ns: float
    server_before_ns: float | None  # the callee's own (server-side) p95, when known
    server_after_ns: float | None

    @property
    def in_between(self) -> bool:
        """The caller waited longer but the callee did not work longer: the time is between them."""
        if self.server_before_ns is None or self.server_after_ns is None:
            return False
        return not big_enough("latency", self.server_before_ns, self.server_after_ns)


@dataclass(frozen=True, slots=True)
class Rollout:
    service: str
    version: str  # the new version (or generation, for kube_deployment_metadata_generation)
    previous: str | None
    time_ns: int  # first seen (the end of the scrape bucket it appeared in)
    source: str  # the metric that says so


@dataclass(frozen=True, slots=True)
class Traffic:
    before: float  # requests/s, median before the change
    after: float

    @property
    def changed(self) -> bool:
        return big_enough("rate", self.before, self.after)

    @property
    def factor(self) -> float:
        return self.after / self.before if self.before > 0 else math.inf


@dataclass(slots=True)
class RedFindings:
    changes: list[SeriesChange] = field(default_factory=list)
    edge: EdgeGrowth | None = None
    grown_edges: list[EdgeGrowth] = field(default_factory=list)
    rollouts: list[Rollout] = field(default_factory=list)  # every one in the window
    lined_up: list[Rollout] = field(default_factory=list)  # those near the change
    traffic: Traffic | None = None

    @property
    def first(self) -> SeriesChange | None:
        return min(self.changes, key=lambda c: c.start_ns) if self.changes else None


def error_ratio(rate: Points, errors: Points) -> list[tuple[int, float]]:
    """errors / requests per point (NaN where there were no requests; 0 where errors has no point)."""
    return per_request(rate, [errors])


def find_changes(tested: Sequence[tuple[str, str, Points]], step_ns: int, alpha: float = ALPHA) -> list[SeriesChange]:
    """The changes in each ``(name, kind, points)`` series, ``alpha`` split between the series tested."""
    out = []
    for name, kind, points in tested:
        change = detect_change(points, kind, alpha / len(tested))
        if change is not None:
            out.append(SeriesChange(name, kind, change, change.time_ns - step_ns))
    return sorted(out, key=lambda c: c.start_ns)


def per_request(rate: Points, counts: Sequence[Points]) -> list[tuple[int, float]]:
    """The sum of ``counts`` (per second) divided by the requests per second, per point."""
    totals: dict[int, float] = {}
    for points in counts:
        for t, v in points:
            if math.isfinite(v):
                totals[t] = totals.get(t, 0.0) + v
    return [(t, totals.get(t, 0.0) / r if r > 0 else math.nan) for t, r in rate]


def _split_levels(points: Points, at_ns: int) -> tuple[float, float] | None:
    before, after = level(points, -(2**62), at_ns), level(points, at_ns, 2**62)
    return None if before is None or after is None else (before, after)


def grown_edges(
    client_side: Mapping[Edge, Points], server_side: Mapping[Edge, Points], at_ns: int
) -> tuple[EdgeGrowth | None, list[EdgeGrowth]]:
    """The deepest edge whose caller-side p95 grew at ``at_ns`` (the first point of the new level), and all that
    grew, largest growth first."""
    grown = []
    for edge, points in client_side.items():
        levels = _split_levels(points, at_ns)
        if levels is None or levels[1] <= levels[0] or not big_enough("latency", *levels):
            continue
        server = _split_levels(server_side.get(edge, ()), at_ns)
        grown.append(EdgeGrowth(edge[0], edge[1], levels[0], levels[1], *(server or (None, None))))
    grown.sort(key=lambda g: (-(g.after_ns - g.before_ns), g.client, g.server))
    callers = {g.client for g in grown}
    deepest = [g for g in grown if g.server not in callers]
    return (deepest[0] if deepest else None), grown


def downstream(edges: Sequence[Edge], service: str) -> list[str]:
    """Services reachable from ``service`` along the edges, nearest first (``service`` excluded)."""
    seen, frontier, out = {service}, [service], []
    while frontier:
        nxt = sorted({s for c, s in edges if c in frontier and s not in seen})
        seen.update(nxt)
        out += nxt
        frontier = nxt
    return out


def version_rollouts(series: Sequence[tuple[str, str, Points]], source: str) -> list[Rollout]:
    """``(service, version, points)`` for each version series → a rollout wherever a service shows a version
    after its first one (versions there from the service's first sample are no rollout)."""
    first_seen: dict[str, list[tuple[int, str]]] = {}
    for service, version, points in series:
        times = [t for t, v in points if math.isfinite(v)]
        if times:
            first_seen.setdefault(service, []).append((min(times), version))
    out = []
    for service, seen in sorted(first_seen.items()):
        seen.sort()
        for i, (t, version) in enumerate(seen):
            if t > seen[0][0]:
                out.append(Rollout(service, version, seen[i - 1][1], t, source))
    return out


def generation_changes(series: Sequence[tuple[str, Points]], source: str) -> list[Rollout]:
    """``(service, points)`` of a generation gauge → a rollout at each point whose value differs from the last."""
    out = []
    for service, points in series:
        finite = [(t, v) for t, v in points if math.isfinite(v)]
        for (_, a), (t, b) in itertools.pairwise(finite):
            if a != b:
                out.append(Rollout(service, f"{b:g}", f"{a:g}", t, source))
    return out


def near(rollouts: Sequence[Rollout], start_ns: int, step_ns: int) -> list[Rollout]:
    """The rollouts from ``LINE_UP_STEPS`` steps before ``start_ns`` to one step after it, nearest first."""
    lo, hi = start_ns - LINE_UP_STEPS * step_ns, start_ns + step_ns
    return sorted((r for r in rollouts if lo <= r.time_ns <= hi), key=lambda r: abs(r.time_ns - start_ns))


def traffic(rate: Points, at_ns: int) -> Traffic | None:
    levels = _split_levels(rate, at_ns)
    return None if levels is None else Traffic(*levels)
