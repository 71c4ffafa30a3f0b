"""The span tree and the analysis on columns equal today's Span-based code (kept below, verbatim but for names, as
the oracle) over random messy traces: duplicates, Zipkin-shared IDs, orphans, cycles, bad and absurd times,
negative durations, clock skew, async children, kind-less spans; traces held as Span objects and as columns."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import compress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import examples
from tracectl.analysis import tree as tree_module
from tracectl.analysis.analyse import analyse_trace
from tracectl.analysis.attribution import (
    Attribution,
    Component,
    ComponentKey,
    Row,
    attribute,
    edge_callee,
    parse_key,
)
from tracectl.analysis.critical_path import Section, critical_path, path_times
from tracectl.analysis.selftime import self_times
from tracectl.analysis.tree import (
    MAX_VALID_NS,
    MIN_VALID_NS,
    SKEW_TOLERANCE_NS,
    Readable,
    SpanTree,
    TreeWarning,
    build_tree,
)
from tracectl.analysis.tree_rows import jsonable, make_view, trace_document
from tracectl.model import Event, Link, Resource, Span, SpanKind, StatusCode, Trace
from tracectl.model.columns import SpanColumns
from tracectl.render.path_view import path_rows
from tracectl.sandbox.synth import chain_trace, fanout_trace, mixed_trace, ml_inference_trace

# ------------------------------------------------------------------------------- the oracle: today's code


@dataclass(slots=True)
class OldTree:
    trace_id: str
    spans: list[Span]
    keys: list[str]
    parent: list[int]
    children: list[list[int]]
    roots: list[int]
    start: list[int]
    end: list[int]
    cp_start: list[int]
    cp_end: list[int]
    on_path_eligible: list[bool]
    depth: list[int]
    orphan: list[bool]
    wall_start: int
    wall_end: int
    warnings: list[TreeWarning] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.spans)


class Warnings:
    """Collects span IDs per warning kind, then emits one warning line per kind."""

    def __init__(self) -> None:
        self.ids: dict[str, list[str]] = defaultdict(list)
        self.extra: list[TreeWarning] = []

    def add(self, kind: str, span_id: str) -> None:
        self.ids[kind].append(span_id)

    _TEXT = {  # noqa: RUF012 - constant table
        "duplicate": "{n} duplicate span{s} (same span received twice) dropped",
        "duplicate-conflict": "{n} span ID{s} received twice with different content; kept the first copy",
        "shared-span": "{n} span ID{s} shared by a client and a server span (Zipkin style); kept both",
        "orphan": "{n} span{s} whose parent never arrived; treated as extra root{s}",
        "cycle": "{n} parent cycle{s} broken",
        "bad-time": "{n} span{s} with a missing or absurd timestamp; placed at the parent's start with zero length",
        "negative-duration": "{n} span{s} ending before {it} start{s}; clamped to zero length",
        "zero-duration": "{n} span{s} with zero duration",
        "clock-skew": "{n} span{s} starting before {its} parent (clock skew?); clipped for the path",
        "outside-parent": "{n} span{s} wholly outside {its} parent's window; left off the critical path",
    }

    def build(self) -> list[TreeWarning]:
        out: list[TreeWarning] = []
        for kind, template in self._TEXT.items():
            ids = self.ids.get(kind)
            if not ids:
                continue
            n = len(ids)
            many = n != 1
            text = template.format(
                n=n, s="s" if many else "", it="their" if many else "its", its="their" if many else "its"
            )
            sample = ", ".join(ids[:3]) + (f", … (+{n - 3})" if n > 3 else "")
            out.append(TreeWarning(kind, f"{text}: {sample}", tuple(ids)))
        return out + self.extra


def _outside(s: int, e: int, lo: int, hi: int) -> bool:
    """``[s, e]`` lies wholly outside ``[lo, hi]``; a zero-length span may sit on an edge."""
    return (s > hi or e < lo) if s == e else (s >= hi or e <= lo)


def _valid_time(ns: int) -> bool:
    return MIN_VALID_NS <= ns <= MAX_VALID_NS


def _dedupe(spans: Sequence[Span], warn: Warnings) -> tuple[list[Span], list[str], dict[int, int]]:
    """Drop repeated copies; keep Zipkin-style client/server pairs. Returns kept spans, keys, server→client."""
    ids = [span.span_id for span in spans]
    if len(set(ids)) == len(ids):  # the common case: nothing to drop, nothing to pair
        return list(spans), ids, {}
    by_id: dict[str, list[int]] = defaultdict(list)
    for i, span in enumerate(spans):
        by_id[span.span_id].append(i)
    kept: list[Span] = []
    keys: list[str] = []
    shared_parent: dict[int, int] = {}  # kept index of a server half -> kept index of its client half
    for span_id, idxs in by_id.items():
        first = spans[idxs[0]]
        if len(idxs) == 1:
            kept.append(first)
            keys.append(span_id)
            continue
        copies = [spans[i] for i in idxs]
        client = next((s for s in copies if s.kind is SpanKind.CLIENT), None)
        server = next((s for s in copies if s.kind is SpanKind.SERVER), None)
        if client is not None and server is not None:
            warn.add("shared-span", span_id)
            kept.append(client)
            keys.append(span_id)
            kept.append(server)
            keys.append(f"{span_id}#server")
            shared_parent[len(kept) - 1] = len(kept) - 2
            distinct = {id(client), id(server)}
            rest = [s for s in copies if id(s) not in distinct]
        else:
            kept.append(first)
            keys.append(span_id)
            rest = copies[1:]
        for other in rest:
            same = other == (server if other.kind is SpanKind.SERVER and server is not None else first)
            warn.add("duplicate" if same or other == client else "duplicate-conflict", span_id)
    return kept, keys, shared_parent


def _link_parents(
    spans: list[Span], keys: list[str], shared_parent: dict[int, int], warn: Warnings
) -> tuple[list[int], list[bool]]:
    index: dict[str, int] = {}
    for i, key in enumerate(keys):
        if not key.endswith("#server"):
            index.setdefault(key, i)
    for server, client in shared_parent.items():
        index[spans[client].span_id] = server  # spans naming the shared ID were created by the server side
    parent = [-1] * len(spans)
    orphan = [False] * len(spans)
    for i, span in enumerate(spans):
        if i in shared_parent:
            parent[i] = shared_parent[i]
            continue
        pid = span.parent_span_id
        if not pid:
            continue
        p = index.get(pid)
        if p is None:
            orphan[i] = True
            warn.add("orphan", span.span_id)
        else:
            parent[i] = p
    return parent, orphan


def _break_cycles(spans: list[Span], keys: list[str], parent: list[int], warn: Warnings) -> None:
    state = [0] * len(spans)  # 0 unseen, 1 on the current walk, 2 done
    for i in range(len(spans)):
        path: list[int] = []
        node = i
        while node != -1 and state[node] == 0:
            state[node] = 1
            path.append(node)
            node = parent[node]
        if node != -1 and state[node] == 1:  # walked into our own path: a cycle
            cycle = path[path.index(node) :]
            cut = min(cycle, key=lambda n: (spans[n].start_ns, n))
            parent[cut] = -1
            warn.add("cycle", keys[cut])
        for n in path:
            state[n] = 2


def old_build_tree(trace: Trace) -> OldTree:
    warn = Warnings()
    spans, keys, shared_parent = _dedupe(trace.spans, warn)
    n = len(spans)
    parent, orphan = _link_parents(spans, keys, shared_parent, warn)
    _break_cycles(spans, keys, parent, warn)

    children: list[list[int]] = [[] for _ in range(n)]
    roots: list[int] = []
    for i, p in enumerate(parent):
        (roots if p == -1 else children[p]).append(i)
    if len(roots) > 1:
        warn.extra.append(
            TreeWarning(
                "multiple-roots", f"trace has {len(roots)} roots; each is analysed", tuple(keys[r] for r in roots)
            )
        )

    start, end, cp_start, cp_end, eligible, depth = _place(spans, keys, parent, children, roots, warn)

    # By (start, end, index): the lists are in index order, and two stable sorts with C key functions (end, then
    # start) give that order without a tuple per node.
    by_start, by_end = start.__getitem__, end.__getitem__
    for kids in (roots, *children):
        if len(kids) > 1:
            kids.sort(key=by_end)
            kids.sort(key=by_start)
    return OldTree(
        trace_id=trace.trace_id,
        spans=spans,
        keys=keys,
        parent=parent,
        children=children,
        roots=roots,
        start=start,
        end=end,
        cp_start=cp_start,
        cp_end=cp_end,
        on_path_eligible=eligible,
        depth=depth,
        orphan=orphan,
        wall_start=min(start, default=0),
        wall_end=max(end, default=0),
        warnings=warn.build(),
    )


def _place(  # noqa: PLR0915 - today's code, verbatim
    spans: list[Span], keys: list[str], parent: list[int], children: list[list[int]], roots: list[int], warn: Warnings
) -> tuple[list[int], list[int], list[int], list[int], list[bool], list[int]]:
    """Top-down pass: repair times, clip into parents, mark async/outside children, compute depth."""
    n = len(spans)
    valid_starts = [s.start_ns for s in spans if _valid_time(s.start_ns)]
    fallback = min(valid_starts) if valid_starts else 0
    start = [0] * n
    end = [0] * n
    cp_start = [0] * n
    cp_end = [0] * n
    eligible = [True] * n
    depth = [0] * n
    queue = list(roots)
    head = 0
    lo, hi = MIN_VALID_NS, MAX_VALID_NS  # _valid_time, inlined: this loop runs once per span
    consumer, producer = SpanKind.CONSUMER, SpanKind.PRODUCER
    while head < len(queue):  # breadth-first: a parent is always placed before its children
        i = queue[head]
        head += 1
        kids = children[i]
        if kids:
            queue.extend(kids)
        span = spans[i]
        p = parent[i]
        s, e = span.start_ns, span.end_ns
        if not (lo <= s <= hi and lo <= e <= hi):
            warn.add("bad-time", keys[i])
            anchor = start[p] if p >= 0 else fallback
            s = e = s if lo <= s <= hi else anchor
        elif e < s:
            warn.add("negative-duration", keys[i])
            e = s
        elif e == s:
            warn.add("zero-duration", keys[i])
        start[i], end[i] = s, e
        if p < 0:
            cp_start[i], cp_end[i] = s, e
            continue
        depth[i] = depth[p] + 1
        ps, pe = cp_start[p], cp_end[p]
        if not eligible[p] or span.follows_from or (span.kind is consumer and spans[p].kind is producer):  # async
            eligible[i] = False
        elif (s > pe or e < ps) if s == e else (s >= pe or e <= ps):  # _outside(s, e, ps, pe), inlined
            eligible[i] = False
            # Said only when it is outside the parent as received, not merely outside a window clipped upstream.
            if _outside(s, e, start[p], end[p]):
                warn.add("outside-parent", keys[i])
            elif s < start[p] - SKEW_TOLERANCE_NS:
                warn.add("clock-skew", keys[i])
        elif s < start[p] - SKEW_TOLERANCE_NS:
            warn.add("clock-skew", keys[i])
        cs = pe if s > pe else (s if s > ps else ps)  # min(max(s, ps), pe)
        ce = e if e < pe else pe
        cp_start[i] = cs
        cp_end[i] = ce if ce > cs else cs  # max(min(e, pe), cs)
    return start, end, cp_start, cp_end, eligible, depth


def _children_by_end(tree: OldTree) -> list[list[int]]:
    """Eligible children of each node, latest end first; ties: earliest start, then node key."""
    cp_start, cp_end, keys = tree.cp_start, tree.cp_end, tree.keys
    eligible = tree.on_path_eligible
    out: list[list[int]] = []
    for kids in tree.children:
        chosen = [k for k in kids if eligible[k]]
        if len(chosen) > 1:
            chosen.sort(key=lambda k: (-cp_end[k], cp_start[k], keys[k]))
        out.append(chosen)
    return out


def _walk(tree: OldTree, ordered: list[list[int]], root: int) -> tuple[Section, ...]:
    cp_start, cp_end, parent = tree.cp_start, tree.cp_end, tree.parent
    pointer: dict[int, int] = {}  # node -> index of the next candidate child in ordered[node]
    sections: list[Section] = []  # built backwards in time
    node = root
    until = cp_end[root]  # the path has been explained from `until` to the root's end
    while True:
        kids = ordered[node]
        k = pointer.get(node, 0)
        while k < len(kids) and cp_end[kids[k]] > until:
            k += 1
        if k < len(kids):
            child = kids[k]
            pointer[node] = k + 1
            if cp_end[child] < until:
                sections.append(Section(node, cp_end[child], until))
            node, until = child, cp_end[child]
            continue
        pointer[node] = k
        if cp_start[node] < until:
            sections.append(Section(node, cp_start[node], until))
        if node == root:
            break
        node, until = parent[node], cp_start[node]
    sections.reverse()
    return tuple(sections)


def old_self_times(tree: OldTree) -> list[int]:
    """Self time (ns) of every node; never negative, never more than the node's duration.

    Children are already sorted by start, so one sweep per node merges their intervals: O(n) overall.
    """
    out = [0] * len(tree)
    start, end = tree.start, tree.end
    for i, kids in enumerate(tree.children):
        s, e = start[i], end[i]
        covered = 0
        cur_s = cur_e = s
        for k in kids:
            ks, ke = max(start[k], s), min(end[k], e)
            if ke <= ks:
                continue
            if ks > cur_e:
                covered += cur_e - cur_s
                cur_s, cur_e = ks, ke
            elif ke > cur_e:
                cur_e = ke
        covered += cur_e - cur_s
        out[i] = (e - s) - covered
    return out


def old_edge_callee(tree: OldTree, node: int) -> int:
    """The child that makes ``node`` the caller's side of a call to another service (an edge), or -1.

    With span kinds: a CLIENT span whose child is a SERVER span of another service. Without (UNSPECIFIED, as
    many converted datasets and older exporters send): a span whose children *all* belong to one other service
    (and are themselves kind-less or SERVER) is a client span waiting on that service. A kind-less span with
    children of its own service too is a handler doing its own work between calls, not an edge: its time
    outside its children stays its own.
    """
    span = tree.spans[node]
    kids = tree.children[node]
    if span.kind is SpanKind.CLIENT:
        for child in kids:
            c = tree.spans[child]
            if c.kind is SpanKind.SERVER and c.service != span.service:
                return child
        return -1
    if span.kind is not SpanKind.UNSPECIFIED or not kids:
        return -1
    callee = tree.spans[kids[0]].service
    if callee == span.service:
        return -1
    for child in kids:
        c = tree.spans[child]
        if c.service != callee or c.kind not in _CALLEE_KINDS:
            return -1
    return kids[0]


_CALLEE_KINDS = frozenset({SpanKind.UNSPECIFIED, SpanKind.SERVER})


def old_attribute(tree: OldTree, paths: list[tuple[Section, ...]], key: ComponentKey) -> Attribution:
    selfs = old_self_times(tree)
    cps = [0] * len(tree.spans)
    for sections in paths:
        for s in sections:
            cps[s.node] += s.duration_ns
    acc: dict[Component, list[int]] = {}
    services: dict[Component, set[str]] = {}
    for i, span in enumerate(tree.spans):
        callee = old_edge_callee(tree, i)
        if callee >= 0:
            callee_span = tree.spans[callee]
            component, service = Component(key.parts(span), key.parts(callee_span)), callee_span.service
        else:
            component, service = Component(key.parts(span)), span.service
        entry = acc.get(component)
        if entry is None:
            entry = acc[component] = [0, 0, 0, 0]
            services[component] = set()
        services[component].add(service)
        entry[0] += 1
        entry[1] += span.is_error
        entry[2] += selfs[i]
        entry[3] += cps[i]
    length = sum(s.duration_ns for sections in paths for s in sections)
    rows = []
    for c, (n, errors, s, cp) in acc.items():
        typed = Component(c.parts, c.callee, tuple(sorted(services[c])))
        rows.append(Row(typed.label, typed.edge, n, errors, s, cp, cp / length if length else 0.0, typed))
    rows.sort(key=lambda r: (-r.cp_ns, -r.self_ns, r.key))
    return Attribution(tree.trace_id, tree.wall_end - tree.wall_start, length, key.spec, tuple(rows))


def old_critical_path(tree: OldTree) -> list[tuple[Section, ...]]:
    ordered = _children_by_end(tree)
    return [_walk(tree, ordered, r) for r in tree.roots]


def old_preorder(tree: OldTree) -> list[int]:
    order: list[int] = []
    stack = list(reversed(tree.roots))
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(reversed(tree.children[node]))
    return order


# --------------------------------------------------------------------------------------------- comparisons

T0 = 1_763_972_400_000_000_000
TRACE_ID = "c" * 32
KEYS = ("service", "operation", "kind,service", "name", "attr:model", "resource:zone", "service,attr:model")


@dataclass(slots=True)
class Want:
    """What today's code says about one tree, derived once for however many trees are checked against it."""

    preorder: list[int]
    paths: list[tuple[Section, ...]]
    self_times: list[int]
    edge_callee: list[int]
    attributions: dict[str, Attribution]


def derive(old: OldTree) -> Want:
    paths = old_critical_path(old)
    return Want(old_preorder(old), paths, old_self_times(old), [old_edge_callee(old, i) for i in range(len(old))],
                {spec: old_attribute(old, paths, parse_key(spec)) for spec in KEYS})  # fmt: skip


def assert_same_tree(new: SpanTree, old: OldTree, want: Want) -> None:
    assert new.trace_id == old.trace_id and len(new) == len(old.spans)
    assert list(new.spans) == old.spans
    assert new.keys == old.keys
    for name in ("parent", "roots", "start", "end", "cp_start", "cp_end", "depth"):
        assert list(getattr(new, name)) == getattr(old, name), name
    assert list(new.on_path_eligible) == old.on_path_eligible and list(new.orphan) == old.orphan
    assert all(type(b) is bool for b in (*new.on_path_eligible, *new.orphan))  # documents say true/false
    assert list(new.children) == old.children and new.children == old.children
    assert [new.children[i] for i in range(len(new))] == old.children
    assert (new.wall_start, new.wall_end) == (old.wall_start, old.wall_end)
    assert new.warnings == old.warnings
    assert new.preorder() == want.preorder
    # the column accessors say what the spans say
    assert new.names == [s.name for s in old.spans] and new.services == [s.service for s in old.spans]
    for i, s in enumerate(old.spans):
        assert (new.kind(i), new.status(i), new.is_error(i)) == (s.kind, s.status, s.is_error)
        assert (new.span_id(i), new.parent_span_id(i), new.service(i), new.name(i)) == (
            s.span_id, s.parent_span_id, s.service, s.name)  # fmt: skip
        assert new.received(i) == (s.start_ns, s.end_ns) and new.attributes(i) == s.attributes


def assert_same_analysis(new: SpanTree, want: Want) -> None:
    path = critical_path(new)
    assert [r.sections for r in path.roots] == want.paths
    assert self_times(new) == want.self_times
    assert path_times(new) == (path.per_node_ns(), path.length_ns)
    assert [edge_callee(new, i) for i in range(len(new))] == want.edge_callee
    for spec in KEYS:
        key = parse_key(spec)
        got, wanted = attribute(path, key), want.attributions[spec]
        assert got == wanted == analyse_trace(Trace.from_columns(new.columns), key).attribution, spec
        assert [(r.component, r.component.services) for r in got.rows] == [
            (r.component, r.component.services) for r in wanted.rows]  # fmt: skip


def as_columns(trace: Trace) -> Trace:
    return Trace.from_columns(SpanColumns.from_spans(trace.trace_id, trace.spans))


def check(trace: Trace) -> None:
    old = old_build_tree(trace)
    want = derive(old)
    assert_same_tree_and_analysis(build_tree(trace), old, want)
    # Held as columns: the spans a reader would give, distinct objects (today's dedupe tells copies apart by
    # identity, so the oracle builds its tree from the same objects). Today's analysis is a function of the tree's
    # values: a tree equal to the first is not analysed a second time.
    held = as_columns(trace)
    old_held = old_build_tree(Trace(trace.trace_id, held.columns.spans()))
    assert_same_tree_and_analysis(build_tree(held), old_held, want if old_held == old else derive(old_held))


def assert_same_tree_and_analysis(new: SpanTree, old: OldTree, want: Want) -> None:
    assert_same_tree(new, old, want)
    assert_same_analysis(new, want)


# ------------------------------------------------------------------------------------------ random traces

_TIMES = st.one_of(
    st.integers(T0, T0 + 10**9),  # ordinary
    st.just(0),  # missing
    st.sampled_from([1, MIN_VALID_NS - 1, MAX_VALID_NS + 1, 2**63 + 5]),  # absurd, one beyond int64
)
# Strategies that do not depend on a draw, built once (see tests/strategies.py: hypothesis validates every
# strategy object it is handed; built inside the draws they cost more than the trees they make).
_BELOW = [st.integers(0, i) for i in range(64)]  # _BELOW[k]: 0..k
_BOOL = st.booleans()
_LENGTH = st.integers(-(10**6), 10**9)
_KINDS = st.sampled_from(list(SpanKind))
_STATUSES = st.sampled_from(list(StatusCode))
_MODEL = st.sampled_from(["m1", "m2", 3])
_SKEWED_KINDS = st.sampled_from([SpanKind.CLIENT, SpanKind.SERVER, SpanKind.UNSPECIFIED, SpanKind.PRODUCER,
                                 SpanKind.CONSUMER, SpanKind.INTERNAL])  # fmt: skip
_SERVICES = st.sampled_from("abc")
_START = st.integers(0, 10**9)
_ROOT_LENGTH = st.integers(10**7, 10**9)
_EARLY = st.integers(0, 3 * SKEW_TOLERANCE_NS)


@st.composite
def messy_trace(draw: st.DrawFn) -> Trace:
    """Random parents (missing, self, cycles), duplicates (exact, conflicting, client/server pairs), bad times,
    negative lengths, children before their parent (skew) or outside it, async links, kinds, statuses."""
    n = draw(_BELOW[30])
    ids = [f"{i + 1:016x}" for i in range(n)]
    resources = [Resource({"service.name": s, "zone": z}) for s, z in (("a", "eu"), ("b", "us"), ("c", "eu"))]
    resources.append(Resource())  # unknown_service
    spans: list[Span] = []
    for i, sid in enumerate(ids):
        choice = draw(_BELOW[9])
        if choice == 0:
            parent = ""
        elif choice == 1:
            parent = "ffffffffffffffff"  # never arrives
        elif choice < 4 or not i:
            parent = ids[draw(_BELOW[n - 1])]  # anywhere: cycles and self-loops
        else:
            parent = ids[draw(_BELOW[i - 1])]  # an earlier span: a tree
        start = draw(_TIMES)
        near = draw(_BOOL) and start >= T0
        end = start + draw(_LENGTH) if near else draw(_TIMES)  # negative lengths too
        kind = draw(_KINDS)
        status = draw(_STATUSES)
        attrs = {"model": draw(_MODEL)} if draw(_BOOL) else {}
        spans.append(Span(TRACE_ID, sid, parent, f"op{i % 4}", start, end, kind=kind, status=status,
                          attributes=attrs, resource=resources[draw(_BELOW[3])],
                          follows_from=draw(_BELOW[9]) == 0))  # fmt: skip
    if n:
        for _ in range(draw(_BELOW[4])):
            s = spans[draw(_BELOW[n - 1])]
            how = draw(_BELOW[2])
            if how == 0:  # the same span twice
                spans.append(s)
            elif how == 1:  # the same ID, other content
                spans.append(Span(TRACE_ID, s.span_id, s.parent_span_id, s.name + "x", s.start_ns, s.end_ns,
                                  kind=s.kind, status=s.status, resource=s.resource))  # fmt: skip
            else:  # Zipkin style: a client and a server half sharing the ID
                other = SpanKind.SERVER if s.kind is SpanKind.CLIENT else SpanKind.CLIENT
                spans.append(Span(TRACE_ID, s.span_id, s.span_id if draw(_BOOL) else s.parent_span_id,
                                  "half", s.start_ns, s.end_ns, kind=other, resource=resources[1],
                                  events=(Event(T0, "e"),)))  # fmt: skip
    return Trace(TRACE_ID, tuple(draw(st.permutations(spans))))


@lru_cache(maxsize=4096)
def _room(room: int) -> tuple[st.SearchStrategy[int], st.SearchStrategy[int]]:
    """A parent's room for its children: (inside it, inside or overrunning it), built once per length (the children
    of one parent, and hypothesis's variations of a tree, ask for the same one again): the same strategies as built
    in the draw, at half the test's time."""
    inside = st.integers(0, room)
    return inside, st.one_of(inside, st.integers(0, 2 * room + 10**6))


@st.composite
def skewed_tree(draw: st.DrawFn) -> Trace:
    """Proper trees with overlapping, overrunning, outside, zero-length and early (skewed) children."""
    n = 1 + draw(_BELOW[39])
    spans: list[Span] = []
    for i in range(n):
        parent = spans[draw(_BELOW[i - 1])] if i and draw(_BELOW[15]) else None
        if parent is None:
            start = T0 + draw(_START)
            end = start + draw(_ROOT_LENGTH)
        else:  # mostly inside the parent; some early (skew: more than the tolerance or not), late, or outside
            inside, overrunning = _room(parent.end_ns - parent.start_ns)
            if draw(_BELOW[3]):  # noqa: SIM108 - two cases, each commented
                start = parent.start_ns + draw(inside)
            else:  # early: by more than the tolerance (skew) or less
                start = parent.start_ns - draw(_EARLY)
            end = max(start, parent.start_ns) + draw(overrunning)
        kind = draw(_SKEWED_KINDS)
        service = draw(_SERVICES)
        spans.append(Span(TRACE_ID, f"{i + 1:016x}", parent.span_id if parent else "", f"op{i % 3}", start, end,
                          kind=kind, resource=Resource({"service.name": service})))  # fmt: skip
    return Trace(TRACE_ID, tuple(draw(st.permutations(spans))))


@settings(max_examples=examples(400), deadline=None)
@given(messy_trace())
def test_property_messy_traces_give_todays_tree_and_analysis(trace: Trace) -> None:
    check(trace)


@settings(max_examples=examples(300), deadline=None)
@given(skewed_tree())
def test_property_skewed_trees_give_todays_tree_and_analysis(trace: Trace) -> None:
    check(trace)


def test_generated_shapes_give_todays_tree_and_analysis() -> None:
    for trace in (mixed_trace(3000, seed=5), ml_inference_trace(3), chain_trace(2000), fanout_trace(2000),
                  Trace(TRACE_ID, ())):  # fmt: skip
        check(trace)


def test_a_trace_of_columns_gets_spans_only_for_the_nodes_asked_about(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []
    real = SpanColumns.span
    monkeypatch.setattr(SpanColumns, "span", lambda self, i: made.append(i) or real(self, i))
    trace = as_columns(mixed_trace(500, seed=2))
    analysis = analyse_trace(trace, "service,attr:ml.model.name")
    assert analysis.attribution.rows and analysis.self_ns and analysis.cp_ns
    assert path_rows(analysis)
    view = make_view(analysis)
    document = trace_document(view, "x", [])
    assert len(document["spans"]) == 500
    assert made == [] and trace._spans is None  # tree, path, attribution, path and show rows: no Span made
    tree = analysis.tree
    assert tree.spans[3] is tree.spans[3] and tree.spans[3] == real(trace.columns, 3) and made == [3]


def test_show_rows_from_columns_equal_rows_from_spans() -> None:
    trace = mixed_trace(300, seed=9)
    first, *rest, last = trace.spans
    first = replace(first, events=(Event(first.start_ns, "e", {"k": b"v"}),), links=(Link(TRACE_ID, "d" * 16),))
    trace = Trace(trace.trace_id, (first, *rest, replace(last, start_ns=0)))  # events, a link, a repaired time
    for_spans, for_columns = (trace_document(make_view(analyse_trace(t)), "x", []) for t in (trace, as_columns(trace)))
    assert for_spans == for_columns
    tree = build_tree(trace)
    for row in for_spans["spans"]:  # what the rows say is what the spans say
        span = tree.spans[tree.index_of(row["node"])]
        assert (row["span_id"], row["service"], row["name"], row["kind"], row["status_message"]) == (
            span.span_id, span.service, span.name, span.kind.label, span.status_message)  # fmt: skip
        assert row["attributes"] == jsonable(span.attributes) and len(row["events"]) == len(span.events)
        assert len(row["links"]) == len(span.links)
    assert sum("received" in row for row in for_spans["spans"]) == 1
    assert sum(len(row["events"]) + len(row["links"]) for row in for_spans["spans"]) == 2


def test_a_trace_of_spans_hands_out_the_same_objects() -> None:
    trace = mixed_trace(200, seed=4)
    tree = build_tree(trace)
    assert all(a is b for a, b in zip(tree.spans, trace.spans, strict=True))


# ------------------------------------------------------------------ long traces: the passes read arrays, not lists


def assert_equal_trees(a: SpanTree, b: SpanTree) -> None:
    for name in ("trace_id", "keys", "roots", "wall_start", "wall_end", "warnings", "children", "on_path_eligible",
                 "orphan"):  # fmt: skip
        assert getattr(a, name) == getattr(b, name), name
    for name in ("parent", "start", "end", "cp_start", "cp_end"):
        assert list(getattr(a, name)) == list(getattr(b, name)), name
    assert list(a.spans) == list(b.spans)


@contextmanager
def as_long_traces() -> Iterator[None]:
    """The tree and the analysis as they work on a trace above ``LISTS_UP_TO`` spans (over arrays, not lists)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tree_module, "LISTS_UP_TO", -1)
        yield


@settings(max_examples=examples(300), deadline=None)
@given(st.one_of(messy_trace(), skewed_tree()))
def test_property_a_long_traces_passes_over_arrays_give_the_same_tree_and_analysis(trace: Trace) -> None:
    for held in (trace, as_columns(trace)):
        short = build_tree(held)
        analysis = (self_times(short), path_times(short), critical_path(short).roots)
        with as_long_traces():
            long = build_tree(held)
            assert_equal_trees(long, short)
            assert (self_times(long), path_times(long), critical_path(long).roots) == analysis


def test_generated_shapes_as_long_traces_give_todays_tree_and_analysis() -> None:
    for trace in (mixed_trace(600, seed=6), ml_inference_trace(4), chain_trace(300), fanout_trace(300)):
        old = old_build_tree(trace)
        want = derive(old)
        with as_long_traces():
            assert_same_tree_and_analysis(build_tree(trace), old, want)


@settings(max_examples=examples(300), deadline=None)
@given(st.one_of(messy_trace(), skewed_tree()))
def test_property_the_lists_build_tree_hands_over_are_the_trees_arrays(trace: Trace) -> None:
    # build_tree gives the passes the lists it made (SpanTree.read) and makes parent and children arrays only when
    # asked: both must say what the tree's arrays say, whether the times were repaired or not (the windows for the
    # path: for every node the path can reach)
    for held in (trace, as_columns(trace)):
        tree = build_tree(held)
        handed = tree.read
        made = Readable(tree)  # from the arrays, as for a tree built without the lists
        eligible = list(compress(range(len(tree)), tree.on_path_eligible))
        for name in ("cp_start", "cp_end"):
            got, want = getattr(handed, name), getattr(made, name)
            assert [got[i] for i in eligible] == [want[i] for i in eligible], name
        for name in ("start", "end", "flat", "offsets", "parent"):
            assert list(getattr(handed, name)) == list(getattr(made, name)), name
        assert sorted(handed.with_children) == sorted(made.with_children) == sorted({p for p in tree.parent if p >= 0})
        assert list(tree.children.flat) == list(handed.flat) and list(tree.children.offsets) == list(handed.offsets)
