"""Instrumentation you can trust: rules over many traces, per service, and a 0–100 score (pure).

In the spirit of the OpenTelemetry Instrumentation Score: every rule has an impact level (critical 40,
important 30, normal 20, low 10). A rule applies to a service when the service has spans it can judge; its pass
rate is the share of those spans that pass; the service's score is the weighted mean pass rate of the rules
that apply, times 100 (docs/check.md). A finding is a rule with failures in a service: how many spans, an
example, what is wrong, and the fix.

Per-span rules are in ``check_rules``; the rules here need more than one span: broken propagation (one request
split across traces, found by matching a trace's root to the span it continues in another trace), parents that
never arrived, and clock skew between hosts.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tracectl.analysis import check_rules as per_span
from tracectl.analysis.tree import SKEW_TOLERANCE_NS, SpanTree, build_tree
from tracectl.model import Resource, Span, SpanKind, Trace

IMPACT_WEIGHTS = {"critical": 40, "important": 30, "normal": 20, "low": 10}
# A child starting less than SKEW_TOLERANCE_NS before its parent is not skew (the tree's own tolerance). The same
# slack lets a callee start just before its caller.
CATEGORIES = ((90, "excellent"), (75, "good"), (50, "needs improvement"), (0, "poor"))


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    impact: str  # critical | important | normal | low
    title: str  # what passing means
    fix: str  # one sentence

    @property
    def weight(self) -> int:
        return IMPACT_WEIGHTS[self.impact]


RULES = (
    Rule("propagation", "critical", "one request is one trace: every call carries the trace context",
         "Propagate the trace context on every outgoing call and into every thread or task that continues a request."),
    Rule("service-name", "critical", "every span's resource names its service",
         "Set OTEL_SERVICE_NAME (or the resource attribute service.name) in the service's SDK configuration."),
    Rule("span-kind", "important", "every span says what it is (server, client, producer, consumer, internal)",
         "Pass the kind when starting the span: SERVER for handled requests, CLIENT for outgoing calls, INTERNAL "
         "for in-process work."),
    Rule("span-name", "important", "span names are low-cardinality templates, without IDs or numbers",
         "Name spans by their template (GET /users/{id}) and put the varying part in an attribute."),
    Rule("error-status", "important", "errors carry an ERROR status with a cause, and only errors do",
         "On failure call span.record_exception(e) and span.set_status(ERROR, message); servers set ERROR for "
         "HTTP 5xx, clients for 4xx and 5xx."),
    Rule("missing-parent", "normal", "every parent a span names arrives",
         "Export the parent's spans too: its service is not exporting, or its sampler drops what its callers keep "
         "(use a parent-based sampler)."),
    Rule("semconv", "normal", "HTTP, database, messaging and RPC spans carry their key semantic-convention "
         "attributes", "Use the instrumentation library for that client or server, or set the attributes named "
         "in the finding as the OpenTelemetry semantic conventions define them."),
    Rule("clock-skew", "normal", "across hosts, children start inside their parents",
         "Synchronise the hosts' clocks (chrony or NTP); a child that starts before its parent is skew, not "
         "latency."),
    Rule("span-duration", "low", "every span has a start, an end after it, and a length",
         "End every span exactly once (a context manager does it) and start it when the work starts."),
)  # fmt: skip
RULE = {r.id: r for r in RULES}

_PER_SPAN: tuple[tuple[str, Callable[[Span], str | None]], ...] = (
    ("service-name", per_span.service_name), ("span-kind", per_span.span_kind), ("span-name", per_span.span_name),
    ("semconv", per_span.semantic_conventions), ("error-status", per_span.error_status),
    ("span-duration", per_span.span_duration),
)  # fmt: skip


@dataclass(slots=True)
class RuleResult:
    """One rule in one service: how many spans it judged, how many failed, why, and an example."""

    rule: Rule
    service: str
    checked: int = 0
    failed: int = 0
    causes: Counter[str] = field(default_factory=Counter)  # what is wrong -> spans
    examples: dict[str, tuple[str, str]] = field(default_factory=dict)  # cause -> its first (trace ID, span ID)
    fixes: dict[str, str] = field(default_factory=dict)  # a cause's own fix, sharper than the rule's

    @property
    def passing(self) -> float:
        return 1.0 - self.failed / self.checked if self.checked else 1.0

    @property
    def cause(self) -> str:
        """The most common thing wrong (ties: alphabetical, so the report is stable)."""
        return min(self.causes.items(), key=lambda kv: (-kv[1], kv[0]))[0] if self.causes else ""

    @property
    def fix(self) -> str:
        return self.fixes.get(self.cause, self.rule.fix)

    @property
    def example_trace_id(self) -> str:
        return self.examples.get(self.cause, ("", ""))[0]

    @property
    def example_span_id(self) -> str:
        return self.examples.get(self.cause, ("", ""))[1]


CAPPED = "needs improvement"  # the best label a service with a failing critical rule can have


def category(score: float, critical_failing: bool = False) -> str:
    """The score's label; a failing critical rule (broken propagation, no service name) caps it below "good":
    a service whose every request is split into pieces is not well instrumented, whatever else passes."""
    name = next(name for floor, name in CATEGORIES if score >= floor)
    if critical_failing and [n for _, n in CATEGORIES].index(name) < [n for _, n in CATEGORIES].index(CAPPED):
        return CAPPED
    return name


@dataclass(slots=True)
class ServiceReport:
    service: str
    spans: int
    traces: int
    results: list[RuleResult]  # the rules that applied, in RULES order

    @property
    def score(self) -> float:
        weights = sum(r.rule.weight for r in self.results)
        return 100.0 * sum(r.rule.weight * r.passing for r in self.results) / weights if weights else 100.0

    @property
    def findings(self) -> list[RuleResult]:
        return [r for r in self.results if r.failed]

    @property
    def category(self) -> str:
        return category(self.score, any(r.rule.impact == "critical" for r in self.findings))


@dataclass(slots=True)
class CheckReport:
    services: list[ServiceReport]  # lowest score first
    traces: int
    spans: int

    @property
    def findings(self) -> list[RuleResult]:
        """Every failing rule of every service: most important first, then the largest share failing."""
        found = [r for s in self.services for r in s.findings]
        return sorted(found, key=lambda r: (-r.rule.weight, r.passing, -r.failed, r.service, r.rule.id))


class _Tally:
    def __init__(self) -> None:
        self.results: dict[tuple[str, str], RuleResult] = {}
        self.spans: Counter[str] = Counter()
        self.traces: dict[str, set[str]] = defaultdict(set)

    def record(self, rule_id: str, span: Span, outcome: str | None, fix: str | None = None) -> None:
        if outcome is None:
            return
        key = (rule_id, span.service)
        result = self.results.get(key)
        if result is None:
            result = self.results[key] = RuleResult(RULE[rule_id], span.service)
        result.checked += 1
        if outcome:
            result.failed += 1
            result.causes[outcome] += 1
            if fix:
                result.fixes[outcome] = fix
            result.examples.setdefault(outcome, (span.trace_id, span.span_id))

    def report(self) -> CheckReport:
        services = []
        for service in sorted(self.spans):
            results = [self.results[(r.id, service)] for r in RULES if (r.id, service) in self.results]
            services.append(ServiceReport(service, self.spans[service], len(self.traces[service]), results))
        services.sort(key=lambda s: (s.score, s.service))
        return CheckReport(services, len({t for ts in self.traces.values() for t in ts}), self.spans.total())


def check_traces(traces: Iterable[Trace]) -> CheckReport:
    """Judge the instrumentation behind ``traces``, per service."""
    tally = _Tally()
    trees = [build_tree(t) for t in traces]
    for tree in trees:
        for i, span in enumerate(tree.spans):
            tally.spans[span.service] += 1
            tally.traces[span.service].add(tree.trace_id)
            for rule_id, rule in _PER_SPAN:
                tally.record(rule_id, span, rule(span))
            if span.parent_span_id:
                tally.record("missing-parent", span, "spans whose parent never arrived" if tree.orphan[i] else "")
            _clock_skew(tree, i, tally)
    _Propagation(trees).judge(tally)
    return tally.report()


# ------------------------------------------------------------------------------------------------ clock skew

_SKEW_SIZES = ((10**7, "1–10 ms"), (10**8, "10–100 ms"), (10**9, "100 ms–1 s"))
_HOST_KEYS = ("host.id", "host.name", "k8s.pod.uid", "k8s.pod.name", "k8s.node.name")


def _host(resource: Resource) -> str | None:
    value = next((resource.attributes[k] for k in _HOST_KEYS if resource.attributes.get(k)), None)
    return str(value) if value is not None else None


def process_of(span: Span) -> str:
    """The process that produced ``span``: its service instance, else its host and pid, else its resource."""
    attrs = span.resource.attributes
    instance = attrs.get("service.instance.id")
    if instance:
        return f"{span.service}|{instance!r}"
    if _host(span.resource) and attrs.get("process.pid"):
        return f"{span.service}|{_host(span.resource)}|{attrs['process.pid']!r}"
    return f"{span.service}|{sorted((k, repr(v)) for k, v in attrs.items())}"


def _clock_skew(tree: SpanTree, i: int, tally: _Tally) -> None:
    """A child on another host (or, when hosts are not recorded, another process) must not start before its
    parent. A child ending after its parent is not judged: servers finish after answering, callers time out."""
    p = tree.parent[i]
    if p < 0:
        return
    child, parent = tree.spans[i], tree.spans[p]
    hosts = _host(child.resource), _host(parent.resource)
    elsewhere = hosts[0] != hosts[1] if None not in hosts else process_of(child) != process_of(parent)
    if not elsewhere or child.follows_from or not (child.start_ns and parent.start_ns):
        return
    early = parent.start_ns - child.start_ns
    if early <= SKEW_TOLERANCE_NS:
        tally.record("clock-skew", child, "")
        return
    # By order of magnitude, so spans skewed alike are one cause: 3 ms is NTP drift, 3 s a clock gone wrong.
    size = next((label for limit, label in _SKEW_SIZES if early < limit), "over 1 s")
    tally.record("clock-skew", child, f"children starting {size} before their parent on another host")


# ------------------------------------------------------------------------------------------------ propagation

_CALLS = (SpanKind.CLIENT, SpanKind.PRODUCER)
_ENTRIES = (SpanKind.SERVER, SpanKind.CONSUMER)
_THREAD_FIX = ("Carry the request's context into the thread or task that makes the call (asyncio.to_thread or "
               "contextvars.copy_context().run, not a bare run_in_executor or a new thread).")  # fmt: skip
_HEADER_FIX = ("Inject the trace context on these calls: use the instrumented client, keep tracecontext in "
               "OTEL_PROPAGATORS on both sides, and let no proxy strip the traceparent header.")  # fmt: skip
_ROOT_FIX = ("Find the caller that sends no traceparent (an uninstrumented client, a proxy that strips it) and "
             "instrument it.")  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Placed:
    start: int
    end: int
    trace_id: str
    span: Span


class _Propagation:
    """Matches each trace's root to the span it continues in another trace, if any.

    - A CLIENT/PRODUCER root that starts inside a span of the same process in another trace: the call was made
      outside the request's context (a thread pool, a task), so it started a trace of its own.
    - A SERVER/CONSUMER root that starts during a childless CLIENT/PRODUCER span of another trace calling the
      same port or path (or queue): the caller sent no trace context, or the callee ignored it.
    - Any other SERVER/CONSUMER root of an operation that other services call with context: some caller drops it.
    """

    def __init__(self, trees: list[SpanTree]) -> None:
        self.trees = trees
        self.by_process: dict[str, list[_Placed]] = defaultdict(list)
        self.leaf_calls: dict[str, list[_Placed]] = defaultdict(list)  # by "port:…"/"path:…"
        self.called_with_context: dict[tuple[str, str], str] = {}  # (service, operation) -> a caller service
        for tree in trees:
            for i, span in enumerate(tree.spans):
                placed = _Placed(span.start_ns, max(span.end_ns, span.start_ns), tree.trace_id, span)
                self.by_process[process_of(span)].append(placed)
                p = tree.parent[i]
                if span.kind in _CALLS and not tree.children[i] and (peer := per_span.peer_of(span)):
                    for part in _index_keys(peer):
                        self.leaf_calls[part].append(placed)
                if span.kind in _ENTRIES and _remote_parent(tree, i):
                    self.called_with_context.setdefault((span.service, span.name), tree.spans[p].service)
        for group in (*self.by_process.values(), *self.leaf_calls.values()):
            group.sort(key=lambda x: (x.start, x.end))
        self.longest = {k: max(x.end - x.start for x in g) for k, g in (*self.by_process.items(),
                        *self.leaf_calls.items())}  # fmt: skip
        self.used: set[int] = set()

    def judge(self, tally: _Tally) -> None:
        roots = sorted(((t, r) for t in self.trees for r in t.roots if not t.spans[r].parent_span_id),
                       key=lambda tr: tr[0].spans[tr[1]].start_ns)  # fmt: skip
        split: dict[int, tuple[str, str]] = {}  # id(call span) -> (cause, fix)
        unexplained: list[Span] = []
        for tree, r in roots:
            root = tree.spans[r]
            if root.kind in _CALLS and self._enclosing(root, tree.trace_id) is not None:
                callee = next((tree.spans[c].service for c in tree.children[r]), None) or _peer_name(root)
                split[id(root)] = (f"calls to {callee} made outside the request's context (in a thread or task "
                                   "without it): each starts a new trace", _THREAD_FIX)  # fmt: skip
            elif root.kind in _ENTRIES:
                call = self._calling(root, tree.trace_id)
                if call is not None:
                    split[id(call)] = (f"calls to {root.service} ({root.name}) that arrive without trace context: "
                                       f"{root.service} starts a new trace", _HEADER_FIX)  # fmt: skip
                elif (root.service, root.name) in self.called_with_context:
                    unexplained.append(root)
        for tree in self.trees:
            for i, span in enumerate(tree.spans):
                if span.kind in _CALLS:
                    cause, fix = split.get(id(span), ("", ""))
                    tally.record("propagation", span, cause, fix)
                elif span.kind in _ENTRIES and _remote_parent(tree, i):
                    tally.record("propagation", span, "")  # a call received with its context
        for root in unexplained:
            tally.record("propagation", root, f"requests to {root.name} that arrive without trace context "
                         "(other calls to it carry it)", _ROOT_FIX)  # fmt: skip

    def _candidates(self, group: list[_Placed], key: str, at: int) -> Iterable[_Placed]:
        """Spans of ``group`` (sorted by start) that start at or before ``at`` and may still be running then,
        latest start first."""
        n = bisect.bisect_right(group, (at, 1 << 62), key=lambda x: (x.start, x.end))
        floor = at - self.longest.get(key, 0)
        for placed in reversed(group[:n]):
            if placed.start < floor:
                return
            yield placed

    def _enclosing(self, root: Span, trace_id: str) -> Span | None:
        """The latest-starting span of the same process, in another trace, running when ``root`` started."""
        key = process_of(root)
        for placed in self._candidates(self.by_process[key], key, root.start_ns):
            lost_call = placed.span.kind in _CALLS and not placed.span.parent_span_id  # another call like this one
            if placed.trace_id != trace_id and placed.end >= root.start_ns and not lost_call:
                return placed.span
        return None

    def _calling(self, root: Span, trace_id: str) -> Span | None:
        """The unused childless client span of another trace that calls what ``root`` serves and frames it most
        tightly (closest start before it, closest end after it): under concurrency several calls to one endpoint
        overlap, and the call that caused a server span starts just before it and ends just after it."""
        served = per_span.peer_of(root)
        if served is None:
            return None
        best: tuple[int, _Placed] | None = None
        for part in _index_keys(served):
            for placed in self._candidates(self.leaf_calls.get(part, []), part, root.start_ns + SKEW_TOLERANCE_NS):
                if placed.trace_id == trace_id or id(placed.span) in self.used:
                    continue
                call = per_span.peer_of(placed.span)
                if call and placed.end + SKEW_TOLERANCE_NS >= root.start_ns and call.agrees_with(served, root.service):
                    gap = abs(root.start_ns - placed.start) + abs(placed.end - max(root.end_ns, root.start_ns))
                    if best is None or gap < best[0]:
                        best = (gap, placed)
        if best is None:
            return None
        self.used.add(id(best[1].span))
        return best[1].span


def _index_keys(peer: per_span.Peer) -> list[str]:
    """Where a leaf call is filed, and where a server span looks: by port and by path (or RPC method, queue)."""
    return ([f"port:{peer.port}"] if peer.port else []) + ([f"path:{peer.path}"] if peer.path else [])


def _remote_parent(tree: SpanTree, i: int) -> bool:
    p = tree.parent[i]
    return p >= 0 and tree.spans[p].service != tree.spans[i].service


def _peer_name(span: Span) -> str:
    attrs = span.attributes
    name = attrs.get("peer.service") or attrs.get("server.address") or attrs.get("net.peer.name")
    return str(name) if name else "its callee"
