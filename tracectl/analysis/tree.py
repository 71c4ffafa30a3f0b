"""Rebuild a trace's span tree, repairing and reporting messy data (ANALYSIS.md section 1).

Nodes are list indices; every pass is an explicit loop, never recursion, so a 50,000-deep chain or a span
with 50,000 children costs the same as any other shape. The received spans are never modified: repaired
times and critical-path windows live in the tree's own arrays, and every repair is reported in
``SpanTree.warnings``.

Rules, in the order they apply:
1. Duplicate span IDs: identical copies (the same span in two batches) keep one; a CLIENT and a SERVER
   sharing an ID (Zipkin style) keep both, the server half as the child of the client half and as the
   parent of the spans that name that ID; other differing copies keep the first.
2. Parents: a span whose parent never arrived is an orphan and becomes an extra root (so partial traces
   still get a path). Parent cycles are broken at the member that starts first.
3. Times: a start or end of 0 or outside 1980–2200 is repaired to a zero-length span at its parent's
   start (or the trace's earliest valid time); an end before its start is clamped to the start.
4. Clock skew: a child sticking out of its parent's window is clipped to it for critical-path purposes
   (``cp_start``/``cp_end``); a child wholly outside is off the path. Asynchronous children (a CONSUMER
   under a PRODUCER, or a FOLLOWS_FROM reference) are off the path by design, not skew. Only a child that
   *starts* before its parent (by more than ``SKEW_TOLERANCE_NS``) is reported as clock skew: a callee cannot
   start before its caller unless the clocks disagree. A child that starts inside its parent and ends after it
   is ordinary (a server finishing its own work after the response is on the wire, a caller that timed out,
   async work in the same process): clipped for the path, not reported. "Wholly outside" is judged against
   the parent's window as received, not the window it was clipped to inside the grandparent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from tracectl._gc import paused_gc
from tracectl.model import Span, SpanKind, Trace

MIN_VALID_NS = 315_532_800 * 10**9  # 1980-01-01T00:00:00Z
MAX_VALID_NS = 7_258_118_400 * 10**9  # 2200-01-01T00:00:00Z
# A child starting less than this before its parent is not called skew: tracers that round to the millisecond
# and NTP on a LAN disagree by that much. (A child *ending* after its parent is never skew; see rule 4.)
SKEW_TOLERANCE_NS = 1_000_000


@dataclass(frozen=True, slots=True)
class TreeWarning:
    """Something about the data that the tree repaired or worked around. ``kind`` is a stable key."""

    kind: str
    message: str
    span_ids: tuple[str, ...] = ()


@dataclass(slots=True)
class SpanTree:
    """A rebuilt span tree. Index ``i`` refers to ``spans[i]`` in every per-node list."""

    trace_id: str
    spans: list[Span]
    keys: list[str]  # unique node key: the span ID, or "<span ID>#server" for a Zipkin-style shared span
    parent: list[int]  # -1 for a root
    children: list[list[int]]  # sorted by (start, end, index)
    roots: list[int]  # sorted by (start, end, index)
    start: list[int]  # repaired start/end (ns)
    end: list[int]
    cp_start: list[int]  # window clipped into the parent's window, for the critical path
    cp_end: list[int]
    on_path_eligible: list[bool]  # False: async child, or wholly outside its parent (or under such a node)
    depth: list[int]
    orphan: list[bool]  # a root only because its parent never arrived
    wall_start: int  # earliest repaired start over all spans (computed once: renderers ask per row)
    wall_end: int  # latest repaired end
    warnings: list[TreeWarning] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.spans)

    @property
    def duration_ns(self) -> int:
        """The trace's wall time: latest end minus earliest start, over every root."""
        return self.wall_end - self.wall_start

    def preorder(self) -> list[int]:
        """Depth-first order (roots by start, children by start), iterative."""
        order: list[int] = []
        stack = list(reversed(self.roots))
        while stack:
            node = stack.pop()
            order.append(node)
            stack.extend(reversed(self.children[node]))
        return order

    def index_of(self, key: str) -> int:
        """Node index for a span ID (or node key); raises KeyError."""
        try:
            return self.keys.index(key)
        except ValueError:
            raise KeyError(key) from None


def _outside(s: int, e: int, lo: int, hi: int) -> bool:
    """``[s, e]`` lies wholly outside ``[lo, hi]``; a zero-length span may sit on an edge."""
    return (s > hi or e < lo) if s == e else (s >= hi or e <= lo)


def _valid_time(ns: int) -> bool:
    return MIN_VALID_NS <= ns <= MAX_VALID_NS


class _Warnings:
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


def _dedupe(spans: Sequence[Span], warn: _Warnings) -> tuple[list[Span], list[str], dict[int, int]]:
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
    spans: list[Span], keys: list[str], shared_parent: dict[int, int], warn: _Warnings
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


def _break_cycles(spans: list[Span], keys: list[str], parent: list[int], warn: _Warnings) -> None:
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


def build_tree(trace: Trace) -> SpanTree:
    """Rebuild the span tree of one trace. Never raises on messy data: it repairs and reports."""
    with paused_gc():
        return _build_tree(trace)


def _build_tree(trace: Trace) -> SpanTree:
    warn = _Warnings()
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
    return SpanTree(
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


def _place(
    spans: list[Span], keys: list[str], parent: list[int], children: list[list[int]], roots: list[int], warn: _Warnings
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
