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
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from tracectl._gc import paused_gc
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


class Tally:
    """Spans counted per service, and per (rule, service) the spans judged and the failures, as the rules record
    them; the tallies of consecutive traces merge into the tally of all of them (``merge``), so the per-span
    rules can run apart (one tally per trace is cheap: the counts are plain integers until something fails)."""

    __slots__ = ("checked", "failing", "spans", "traces")

    def __init__(self) -> None:
        self.checked: dict[tuple[str, str], int] = {}  # (rule ID, service) -> spans judged
        self.failing: dict[tuple[str, str], RuleResult] = {}  # failures, causes and examples (not ``checked``)
        self.spans: Counter[str] = Counter()
        self.traces: dict[str, set[str]] = defaultdict(set)

    def record(self, rule_id: str, span: Span, outcome: str | None, fix: str | None = None) -> None:
        """``span`` judged by a rule: passing (``outcome`` empty), failing for the cause ``outcome``, or not
        judged (None)."""
        if outcome is None:
            return
        key = (rule_id, span.service)
        self.checked[key] = self.checked.get(key, 0) + 1
        if outcome:
            self.fail(key, span.trace_id, span.span_id, outcome, fix)

    def passed(self, key: tuple[str, str], spans: int) -> None:
        """``spans`` spans judged by the rule and service ``key`` names, all passing (unless ``fail`` says)."""
        self.checked[key] = self.checked.get(key, 0) + spans

    def fail(self, key: tuple[str, str], trace_id: str, span_id: str, cause: str, fix: str | None) -> None:
        """A span already counted as judged fails, for ``cause``."""
        result = self.failing.get(key)
        if result is None:
            result = self.failing[key] = RuleResult(RULE[key[0]], key[1])
        result.failed += 1
        result.causes[cause] += 1
        if fix:
            result.fixes[cause] = fix
        result.examples.setdefault(cause, (trace_id, span_id))

    def __getstate__(self) -> tuple[object, ...]:
        # Compact for worker processes: traces of one shape share their keys (one object per shape in a worker,
        # which pickle then writes once per batch), and a tally of one trace names that trace once.
        ids = {i for ids in self.traces.values() for i in ids}
        one = next(iter(ids)) if len(ids) == 1 and self.traces.keys() == self.spans.keys() else None
        traces = one if one is not None else dict(self.traces)
        checked, spans = self.checked, self.spans
        return (
            _shape(tuple(checked)),
            tuple(checked.values()),
            self.failing,
            _shape(tuple(spans)),
            tuple(spans.values()),
            traces,
        )

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        checked_keys, checked, self.failing, services, spans, traces = state
        self.checked = dict(zip(checked_keys, checked, strict=True))
        self.spans = Counter(dict(zip(services, spans, strict=True)))
        ids: dict[str, set[str]] = {s: {traces} for s in self.spans} if isinstance(traces, str) else traces
        self.traces = defaultdict(set, ids)

    def merge(self, later: Tally) -> None:
        """Add the tally of spans recorded after this one's: the result is the tally of recording them all in
        order (the first example of a cause stays, a cause's fix is the last one given)."""
        checked = self.checked
        for key, n in later.checked.items():
            checked[key] = checked.get(key, 0) + n
        for key, theirs in later.failing.items():
            ours = self.failing.get(key)
            if ours is None:
                ours = self.failing[key] = RuleResult(theirs.rule, theirs.service)
            ours.failed += theirs.failed
            ours.causes.update(theirs.causes)
            ours.fixes.update(theirs.fixes)
            for cause, example in theirs.examples.items():
                ours.examples.setdefault(cause, example)
        self.spans.update(later.spans)
        for service, ids in later.traces.items():
            self.traces[service] |= ids

    def report(self) -> CheckReport:
        services = []
        for service in sorted(self.spans):
            results = []
            for rule in RULES:
                checked = self.checked.get((rule.id, service))
                if checked is not None:
                    failing = self.failing.get((rule.id, service))
                    result = RuleResult(rule, service, checked)
                    if failing is not None:  # copied: a later merge must not change this report
                        result.failed, result.causes = failing.failed, Counter(failing.causes)
                        result.examples, result.fixes = dict(failing.examples), dict(failing.fixes)
                    results.append(result)
            services.append(ServiceReport(service, self.spans[service], len(self.traces[service]), results))
        services.sort(key=lambda s: (s.score, s.service))
        return CheckReport(services, len({t for ts in self.traces.values() for t in ts}), self.spans.total())


_SHAPES: dict[tuple[object, ...], tuple[object, ...]] = {}


def _shape(keys: tuple[object, ...]) -> tuple[object, ...]:
    """One object for equal tuples of keys (in this process)."""
    return _SHAPES.setdefault(keys, keys) if len(_SHAPES) < 10_000 else keys


def check_traces(traces: Iterable[Trace]) -> CheckReport:
    """Judge the instrumentation behind ``traces``, per service."""
    return check_facts(tree_facts(build_tree(t)) for t in traces)


# Map and reduce: ``tree_facts`` judges one tree's spans and keeps what the rules over many traces need of it
# (small records, not spans); ``check_facts`` merges them in order and judges propagation across the trees. A
# process pool maps trees in its workers and reduces in the parent, and gets exactly the report of one process.


def tree_facts(tree: SpanTree) -> TreeFacts:
    """What one trace gives the report: its spans judged by the per-span rules, and what judging propagation
    across traces needs of it."""
    with paused_gc():  # many small records, no cycles (as in build_tree)
        return _tree_facts(tree)


def _tree_facts(tree: SpanTree) -> TreeFacts:
    tally = Tally()
    trace_id = tree.trace_id
    spans, children = tree.spans, tree.children
    processes: dict[int, str] = {}  # id(resource) -> process_of: spans of one process share their resource
    busy: dict[str, list[tuple[int, int]]] = defaultdict(list)
    roots: list[_Root] = []
    leaf_calls: list[_Call] = []
    called_with_context: set[tuple[str, str]] = set()
    judged: Counter[str] = Counter()  # spans the propagation rule judges, per service
    checked = tally.checked
    for i, span in enumerate(spans):
        service = span.service
        tally.spans[service] += 1
        tally.traces[service].add(trace_id)
        for rule_id, rule in _PER_SPAN:
            outcome = rule(span)
            if outcome is not None:  # tally.record, without looking the service up again
                key = (rule_id, service)
                checked[key] = checked.get(key, 0) + 1
                if outcome:
                    tally.fail(key, span.trace_id, span.span_id, outcome, None)
        if span.parent_span_id:
            tally.record("missing-parent", span, "spans whose parent never arrived" if tree.orphan[i] else "")
        _clock_skew(tree, i, tally)
        process = processes.get(id(span.resource))
        if process is None:
            process = processes[id(span.resource)] = sys.intern(process_of(span))  # written once per batch
        start, end = span.start_ns, max(span.end_ns, span.start_ns)
        kind = span.kind
        call = kind in _CALLS
        if not (call and not span.parent_span_id):  # a call that lost its context encloses no other
            busy[process].append((start, end))
        if call:
            judged[service] += 1
            if not children[i] and (peer := per_span.peer_of(span)):
                leaf_calls.append(_Call(i, start, end, peer, service, span.trace_id, span.span_id))
        elif kind in _ENTRIES and _remote_parent(tree, i):
            judged[service] += 1
            called_with_context.add((service, span.name))
    for r in tree.roots:  # in the tree's order (by start)
        span = spans[r]
        if span.parent_span_id:
            continue  # an orphan: its trace is not split, a part of it is missing
        start, end = span.start_ns, max(span.end_ns, span.start_ns)
        if span.kind in _CALLS:
            callee = (spans[children[r][0]].service if children[r] else None) or _peer_name(span)
            process = processes[id(span.resource)]
            roots.append(
                _Root(r, True, start, end, span.service, span.name, span.trace_id, span.span_id, process, callee, None)
            )
        elif span.kind in _ENTRIES:
            served = per_span.peer_of(span)
            roots.append(
                _Root(r, False, start, end, span.service, span.name, span.trace_id, span.span_id, "", "", served)
            )
    busy_spells = tuple((process, _union(spells)) for process, spells in busy.items())
    links = _Links(trace_id, busy_spells, tuple(roots), tuple(leaf_calls), frozenset(called_with_context),
                   tuple(judged.items()))  # fmt: skip
    return TreeFacts(tally, links)


def check_facts(facts: Iterable[TreeFacts]) -> CheckReport:
    """The report over the trees ``facts`` come from, in that order: their tallies merged and propagation
    judged across them."""
    tally = Tally()
    links = []
    with paused_gc():
        for f in facts:  # each tally is let go once merged
            tally.merge(f.tally)
            links.append(f.links)
        _Propagation(links).judge(tally)
        return tally.report()


def _union(spells: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """The time ``spells`` cover, as disjoint [start, end] spells in order."""
    spells.sort()
    out = [spells[0]]
    for start, end in spells[1:]:
        last_start, last_end = out[-1]
        if start <= last_end:
            if end > last_end:
                out[-1] = (last_start, end)
        else:
            out.append((start, end))
    return tuple(out)


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


def _clock_skew(tree: SpanTree, i: int, tally: Tally) -> None:
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


class _Root(NamedTuple):  # a tuple: cheap to send from a worker process
    """A trace's root that is a call or a request (what propagation matches across traces)."""

    node: int  # its index in its tree
    call: bool  # a CLIENT/PRODUCER span (else SERVER/CONSUMER)
    start: int
    end: int  # never before start
    service: str
    name: str
    trace_id: str  # the span's (its tree's, as readers group spans)
    span_id: str
    process: str  # a call's process
    callee: str  # a call's callee: its first child's service, else what it names
    served: per_span.Peer | None  # what a request serves


class _Call(NamedTuple):  # a tuple: cheap to send from a worker process
    """A childless CLIENT/PRODUCER span that says what it calls: its callee's half may be a trace of its own."""

    node: int
    start: int
    end: int
    peer: per_span.Peer
    service: str
    trace_id: str
    span_id: str


class _Links(NamedTuple):  # a tuple: cheap to send from a worker process
    """What propagation across traces needs of one trace: its roots, its leaf calls, when each of its processes
    was busy, the operations it calls with context, and how many spans per service the rule judges."""

    trace_id: str
    busy: tuple[tuple[str, tuple[tuple[int, int], ...]], ...]  # process -> when its spans ran (not lost calls)
    roots: tuple[_Root, ...]
    leaf_calls: tuple[_Call, ...]
    called_with_context: frozenset[tuple[str, str]]  # (service, operation) of requests arriving with context
    judged: tuple[tuple[str, int], ...]  # (service, calls made and requests received with context)


class TreeFacts(NamedTuple):  # a tuple: cheap to send from a worker process
    """What one trace gives ``check_facts``: its tally (the per-span rules), and its links to other traces."""

    tally: Tally
    links: _Links


@dataclass(frozen=True, slots=True)
class _Spell:
    """A time a process was busy in a trace."""

    start: int
    end: int
    trace_id: str


@dataclass(frozen=True, slots=True)
class _Placed:
    """A leaf call, where the server spans it may have caused look for it."""

    start: int
    end: int
    trace_id: str
    tree: int  # its tree's number, in the order of the facts
    call: _Call


_P = TypeVar("_P", _Spell, _Placed)


class _Propagation:
    """Matches each trace's root to the span it continues in another trace, if any.

    - A CLIENT/PRODUCER root that starts inside a span of the same process in another trace: the call was made
      outside the request's context (a thread pool, a task), so it started a trace of its own.
    - A SERVER/CONSUMER root that starts during a childless CLIENT/PRODUCER span of another trace calling the
      same port or path (or queue): the caller sent no trace context, or the callee ignored it.
    - Any other SERVER/CONSUMER root of an operation that other services call with context: some caller drops it.
    """

    def __init__(self, facts: list[_Links]) -> None:
        self.facts = facts
        self.busy: dict[str, list[_Spell]] = defaultdict(list)  # by process
        self.leaf_calls: dict[str, list[_Placed]] = defaultdict(list)  # by "port:…"/"path:…"
        self.called_with_context: set[tuple[str, str]] = set()
        for n, f in enumerate(facts):
            for process, ran in f.busy:
                self.busy[process].extend(_Spell(start, end, f.trace_id) for start, end in ran)
            for call in f.leaf_calls:
                placed = _Placed(call.start, call.end, f.trace_id, n, call)
                for part in _index_keys(call.peer):
                    self.leaf_calls[part].append(placed)
            self.called_with_context |= f.called_with_context
        for spells in self.busy.values():
            spells.sort(key=lambda x: (x.start, x.end))
        for calls in self.leaf_calls.values():
            calls.sort(key=lambda x: (x.start, x.end))
        self.longest = {k: max(x.end - x.start for x in g) for k, g in self.busy.items()}
        self.longest.update((k, max(x.end - x.start for x in g)) for k, g in self.leaf_calls.items())
        self.used: set[tuple[int, int]] = set()  # (tree, index) of the calls matched

    def judge(self, tally: Tally) -> None:
        roots = sorted(((n, r) for n, f in enumerate(self.facts) for r in f.roots), key=lambda nr: nr[1].start)
        split: dict[tuple[int, int], tuple[str, str, _Root | _Call]] = {}  # (tree, index) -> cause, fix, span
        unexplained: list[_Root] = []
        for n, root in roots:
            trace_id = self.facts[n].trace_id
            if root.call and self._enclosed(root, trace_id):
                split[(n, root.node)] = (
                    f"calls to {root.callee} made outside the request's context (in a thread "
                    "or task without it): each starts a new trace",
                    _THREAD_FIX,
                    root,
                )
            elif not root.call:
                found = self._calling(root, trace_id)
                if found is not None:
                    m, call = found
                    split[(m, call.node)] = (
                        f"calls to {root.service} ({root.name}) that arrive without trace "
                        f"context: {root.service} starts a new trace",
                        _HEADER_FIX,
                        call,
                    )
                elif (root.service, root.name) in self.called_with_context:
                    unexplained.append(root)
        for f in self.facts:
            for service, spans in f.judged:
                tally.passed(("propagation", service), spans)
        for _, (cause, fix, s) in sorted(split.items(), key=lambda kv: kv[0]):  # in the order of the spans
            tally.fail(("propagation", s.service), s.trace_id, s.span_id, cause, fix)
        for root in unexplained:
            key = ("propagation", root.service)
            tally.passed(key, 1)
            tally.fail(key, root.trace_id, root.span_id, f"requests to {root.name} that arrive without trace "
                       "context (other calls to it carry it)", _ROOT_FIX)  # fmt: skip

    def _candidates(self, group: list[_P], key: str, at: int) -> Iterable[_P]:
        """Entries of ``group`` (sorted by start) that start at or before ``at`` and may still be running then,
        latest start first."""
        n = bisect.bisect_right(group, (at, 1 << 62), key=lambda x: (x.start, x.end))
        floor = at - self.longest.get(key, 0)
        for placed in reversed(group[:n]):
            if placed.start < floor:
                return
            yield placed

    def _enclosed(self, root: _Root, trace_id: str) -> bool:
        """A span of the root's process, in another trace, was running when the call ``root`` started."""
        key = root.process
        return any(placed.trace_id != trace_id and placed.end >= root.start
                   for placed in self._candidates(self.busy[key], key, root.start))  # fmt: skip

    def _calling(self, root: _Root, trace_id: str) -> tuple[int, _Call] | None:
        """The unused leaf call of another trace that calls what ``root`` serves and frames it most tightly
        (closest start before it, closest end after it), and its tree: under concurrency several calls to one
        endpoint overlap, and the call that caused a server span starts just before it and ends just after it."""
        served = root.served
        if served is None:
            return None
        best: tuple[int, _Placed] | None = None
        for part in _index_keys(served):
            for placed in self._candidates(self.leaf_calls.get(part, []), part, root.start + SKEW_TOLERANCE_NS):
                call = placed.call
                if placed.trace_id == trace_id or (placed.tree, call.node) in self.used:
                    continue
                if placed.end + SKEW_TOLERANCE_NS >= root.start and call.peer.agrees_with(served, root.service):
                    gap = abs(root.start - placed.start) + abs(placed.end - root.end)
                    if best is None or gap < best[0]:
                        best = (gap, placed)
        if best is None:
            return None
        placed = best[1]
        self.used.add((placed.tree, placed.call.node))
        return placed.tree, placed.call


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
