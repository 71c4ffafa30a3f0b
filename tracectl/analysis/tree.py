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

from array import array
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, MutableSequence, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import accumulate, pairwise, repeat
from operator import eq, itemgetter, lshift, lt, or_
from typing import TYPE_CHECKING, overload

from tracectl._gc import paused_gc
from tracectl.model import Span, SpanKind, StatusCode, Trace
from tracectl.model.columns import SpanColumns, SpanSeq

if TYPE_CHECKING:
    from tracectl.model import Attributes, Event, Link, Resource, Scope

MIN_VALID_NS = 315_532_800 * 10**9  # 1980-01-01T00:00:00Z
MAX_VALID_NS = 7_258_118_400 * 10**9  # 2200-01-01T00:00:00Z
# A child starting less than this before its parent is not called skew: tracers that round to the millisecond
# and NTP on a LAN disagree by that much. (A child *ending* after its parent is never skew; see rule 4.)
SKEW_TOLERANCE_NS = 1_000_000

_KINDS = tuple(SpanKind)  # SpanKind by code, without the enum call
_STATUSES = tuple(StatusCode)
_CLIENT, _SERVER, _PRODUCER, _CONSUMER = (int(k) for k in (SpanKind.CLIENT, SpanKind.SERVER, SpanKind.PRODUCER,
                                                           SpanKind.CONSUMER))  # fmt: skip
_ERROR = int(StatusCode.ERROR)


@dataclass(frozen=True, slots=True)
class TreeWarning:
    """Something about the data that the tree repaired or worked around. ``kind`` is a stable key."""

    kind: str
    message: str
    span_ids: tuple[str, ...] = ()


class Flags(Sequence[bool]):
    """A yes/no per node, one byte each, read as ``bool`` (so documents say true/false). ``data`` is the raw bytes
    (1 = yes) for loops that want them."""

    __slots__ = ("data",)

    def __init__(self, data: bytearray) -> None:
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    @overload
    def __getitem__(self, i: int) -> bool: ...
    @overload
    def __getitem__(self, i: slice) -> list[bool]: ...
    def __getitem__(self, i: int | slice) -> bool | list[bool]:
        if isinstance(i, slice):
            return [b == 1 for b in self.data[i]]
        return self.data[i] == 1

    def __iter__(self) -> Iterator[bool]:
        return map(bool, self.data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Flags | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Flags({list(self)!r})"


class Children(Sequence[list[int]]):
    """Every node's children, sorted, as one flat array: node ``i``'s are ``flat[offsets[i]:offsets[i + 1]]``
    (4 bytes a node instead of a list each). ``children[i]`` reads as a list; hot loops use the arrays."""

    __slots__ = ("flat", "offsets")

    def __init__(self, flat: array[int], offsets: array[int]) -> None:
        self.flat = flat
        self.offsets = offsets  # len(nodes) + 1 entries

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @overload
    def __getitem__(self, i: int) -> list[int]: ...
    @overload
    def __getitem__(self, i: slice) -> list[list[int]]: ...
    def __getitem__(self, i: int | slice) -> list[int] | list[list[int]]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self.offsets) - 1
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("node index out of range")
        return self.flat[self.offsets[i] : self.offsets[i + 1]].tolist()

    def __iter__(self) -> Iterator[list[int]]:
        flat = self.flat
        for a, b in pairwise(self.offsets):
            yield flat[a:b].tolist()

    def count_of(self, i: int) -> int:
        """How many children node ``i`` has."""
        return self.offsets[i + 1] - self.offsets[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Children | list | tuple):
            return len(self) == len(other) and all(a == list(b) for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Children({list(self)!r})"


class Readable:
    """``SpanTree.read``: the tree's times, windows for the path, parents and children as the passes read them (never
    written), and the nodes that have children. The windows for the path are right for every node the path can reach
    (eligible ones); a node off the path may read its own times there, not its clipped window."""

    __slots__ = ("_with_children", "cp_end", "cp_start", "end", "flat", "offsets", "parent", "start")

    def __init__(self, tree: SpanTree, made: tuple[Sequence[int], ...] | None = None) -> None:
        if made is None:
            made = tuple(read_many(v) for v in (tree.start, tree.end, tree.cp_start, tree.cp_end, tree.children.flat,
                                                tree.children.offsets, tree.parent))  # fmt: skip
        self.start, self.end, self.cp_start, self.cp_end, self.flat, self.offsets, self.parent = made
        self._with_children: list[int] | None = None

    @property
    def with_children(self) -> list[int]:
        """The nodes that have children, in no set order."""
        if self._with_children is None:
            nodes = set(self.parent)
            nodes.discard(-1)
            self._with_children = list(nodes)
        return self._with_children


_TreeWindows = tuple["array[int]", "array[int]"] | Callable[[], tuple["array[int]", "array[int]"]]


@dataclass(slots=True)
class SpanTree:
    """A rebuilt span tree. Index ``i`` is node ``i`` in every per-node sequence, and row ``i`` of ``columns``.

    Per-node values are compact arrays (``array``, byte flags, one flat children array); ``spans`` builds a ``Span``
    only for the nodes something reads, and the accessors (``name``, ``service``, ``kind`` …) read the columns
    without one."""

    trace_id: str
    spans: Sequence[Span]  # node i's span (built on first use when the trace came as columns)
    columns: SpanColumns  # the nodes' spans as columns: row i is node i
    keys: list[str]  # unique node key: the span ID, or "<span ID>#server" for a Zipkin-style shared span
    # parent: array[int], -1 for a root; children: Children, sorted by (start, end, index). Held as the lists
    # build_tree made (index order; children grouped by parent, and where each node's begin) until first asked for:
    # the passes read ``read``'s lists, and blame never asks.
    _parent: Sequence[int] = field(repr=False, compare=False)
    _children: Children | tuple[Sequence[int], Sequence[int]] = field(repr=False, compare=False)
    roots: list[int]  # sorted by (start, end, index)
    start: array[int]  # repaired start/end (ns)
    end: array[int]
    # cp_start, cp_end: every node's window clipped into its parent's, for the critical path; held as a function
    # making them when only nodes off the path stick out (the path never reads theirs; blame never asks)
    _cp: _TreeWindows = field(repr=False, compare=False)
    on_path_eligible: Flags  # False: async child, or wholly outside its parent (or under such a node)
    _orphan: Flags | bytearray = field(repr=False, compare=False)  # orphan (a Flags when first asked for)
    wall_start: int  # earliest repaired start over all spans (computed once: renderers ask per row)
    wall_end: int  # latest repaired end
    warnings: list[TreeWarning] = field(default_factory=list)
    _services: list[str] | None = field(default=None, init=False, repr=False, compare=False)
    _depth: array[int] | None = field(default=None, init=False, repr=False, compare=False)
    _read: Readable | None = field(default=None, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def parent(self) -> array[int]:
        """Every node's parent, -1 for a root."""
        parent = self._parent
        if not isinstance(parent, array):
            parent = self._parent = array("i", parent)
        return parent

    @property
    def children(self) -> Children:
        """Every node's children, sorted by (start, end, index)."""
        children = self._children
        if not isinstance(children, Children):
            order, offsets = children
            children = self._children = Children(array("i", order), array("i", offsets))
        return children

    @property
    def cp_start(self) -> array[int]:
        """Every node's start clipped into its parent's window, for the critical path."""
        return self._windows()[0]

    @property
    def cp_end(self) -> array[int]:
        """Every node's end clipped into its parent's window, for the critical path."""
        return self._windows()[1]

    def _windows(self) -> tuple[array[int], array[int]]:
        cp = self._cp
        if not isinstance(cp, tuple):
            cp = self._cp = cp()
        return cp

    @property
    def orphan(self) -> Flags:
        """A root only because its parent never arrived."""
        orphan = self._orphan
        if not isinstance(orphan, Flags):
            orphan = self._orphan = Flags(orphan)
        return orphan

    @property
    def read(self) -> Readable:
        """The per-node values the passes (self time, path walk, edges) read many times, made once per tree: lists up
        to ``LISTS_UP_TO`` nodes (``build_tree`` hands over the ones it made), else the arrays themselves."""
        if self._read is None:
            self._read = Readable(self)
        return self._read

    @property
    def duration_ns(self) -> int:
        """The trace's wall time: latest end minus earliest start, over every root."""
        return self.wall_end - self.wall_start

    @property
    def depth(self) -> array[int]:
        """Every node's depth (a root's is 0), worked out on first use (``path`` and ``blame`` never ask)."""
        if self._depth is None:
            depth = array("i", bytes(4 * len(self)))
            parent = self.parent
            for i in self.preorder():  # parents before children
                p = parent[i]
                if p >= 0:
                    depth[i] = depth[p] + 1
            self._depth = depth
        return self._depth

    # Column accessors: what the analysis reads per node, without a Span object.
    @property
    def names(self) -> list[str]:
        return self.columns.name

    def name(self, i: int) -> str:
        return self.columns.name[i]

    @property
    def services(self) -> list[str]:
        """Every node's service (computed once, one lookup per distinct resource)."""
        if self._services is None:
            by_resource: dict[int, str] = {}
            services: list[str] = []
            last: object = None
            name = ""
            for resource in self.columns.resource:  # neighbours mostly share one: looked up when it changes
                if resource is not last:
                    last = resource
                    known = by_resource.get(id(resource))
                    if known is None:
                        known = by_resource[id(resource)] = resource.service
                    name = known
                services.append(name)
            self._services = services
        return self._services

    def service(self, i: int) -> str:
        return self.services[i] if self._services is not None else self.columns.resource[i].service

    def kind(self, i: int) -> SpanKind:
        return _KINDS[self.columns.kind[i]]

    def status(self, i: int) -> StatusCode:
        return _STATUSES[self.columns.status[i]]

    def is_error(self, i: int) -> bool:
        return self.columns.status[i] == _ERROR

    def span_id(self, i: int) -> str:
        return self.columns.span_id[i]

    def parent_span_id(self, i: int) -> str:
        return self.columns.parent_id[i]

    def attributes(self, i: int) -> Attributes:
        return self.columns.attributes_of(i)

    def resource(self, i: int) -> Resource:
        return self.columns.resource[i]

    def distinct_services(self) -> list[str]:
        """The trace's services, sorted (one lookup per distinct resource, not per span)."""
        resources = self.columns.resource
        return sorted({r.service for r in dict(zip(map(id, resources), resources, strict=True)).values()})

    def status_message(self, i: int) -> str:
        extra = self.columns.extra.get(i)
        return extra.status_message if extra is not None else ""

    def events(self, i: int) -> tuple[Event, ...]:
        extra = self.columns.extra.get(i)
        return extra.events if extra is not None else ()

    def links(self, i: int) -> tuple[Link, ...]:
        extra = self.columns.extra.get(i)
        return extra.links if extra is not None else ()

    def scope(self, i: int) -> Scope:
        return self.columns.scope[i]

    def received(self, i: int) -> tuple[int, int]:
        """Node ``i``'s start and end as received (before any repair)."""
        return self.columns.start[i], self.columns.end[i]

    def preorder(self) -> list[int]:
        """Depth-first order (roots by start, children by start), iterative."""
        flat, off = self.children.flat, self.children.offsets
        order: list[int] = []
        stack = self.roots[::-1]
        while stack:
            node = stack.pop()
            order.append(node)
            a, b = off[node], off[node + 1]
            if a != b:
                stack += flat[a:b][::-1]
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
        if not self.ids:
            return self.extra
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


def _link_shared(
    cols: SpanColumns, keys: list[str], shared_parent: dict[int, int], warn: _Warnings
) -> tuple[list[int], bytearray]:
    """Parents when IDs repeat (after ``_dedupe``): the server half of a shared ID is the parent of its spans."""
    index: dict[str, int] = {}
    for i, key in enumerate(keys):
        if not key.endswith("#server"):
            index.setdefault(key, i)
    for server, client in shared_parent.items():
        index[cols.span_id[client]] = server  # spans naming the shared ID were created by the server side
    n = len(keys)
    parent = [-1] * n
    orphan = bytearray(n)
    for i, pid in enumerate(cols.parent_id):
        if i in shared_parent:
            parent[i] = shared_parent[i]
            continue
        if not pid:
            continue
        p = index.get(pid)
        if p is None:
            orphan[i] = 1
            warn.add("orphan", cols.span_id[i])
        else:
            parent[i] = p
    return parent, orphan


def _link_unique(cols: SpanColumns, index: dict[str, int], warn: _Warnings) -> tuple[list[int], bytearray]:
    """Parents when every span ID is unique (``index``: span ID -> row), in C-speed passes."""
    index[""] = -1  # no parent: a root (a span whose own ID is empty cannot be named as a parent)
    parent = list(map(index.get, cols.parent_id, repeat(-2)))  # -2: the parent never arrived
    orphan = bytearray(len(parent))
    if -2 in parent:
        ids = cols.span_id
        for i, p in enumerate(parent):
            if p == -2:
                parent[i] = -1
                orphan[i] = 1
                warn.add("orphan", ids[i])
    return parent, orphan


def _break_cycles(cols: SpanColumns, keys: list[str], parent: list[int], warn: _Warnings) -> None:
    received_start = cols.start
    state = [0] * len(parent)  # 0 unseen, 1 on the current walk, 2 done
    for i in range(len(parent)):
        path: list[int] = []
        node = i
        while node != -1 and state[node] == 0:
            state[node] = 1
            path.append(node)
            node = parent[node]
        if node != -1 and state[node] == 1:  # walked into our own path: a cycle
            cycle = path[path.index(node) :]
            cut = min(cycle, key=lambda n: (received_start[n], n))
            parent[cut] = -1
            warn.add("cycle", keys[cut])
        for n in path:
            state[n] = 2


def _grouped(parent: Sequence[int], n: int, by: list[int] | None = None) -> tuple[list[int], list[int], int]:
    """Nodes grouped by parent, roots first (``by``: nodes in the order to keep within a group; default index
    order), with ``offsets``: node ``i``'s children are ``order[offsets[i]:offsets[i + 1]]``; and the root count."""
    order = by if by is not None else list(range(n))
    order.sort(key=parent.__getitem__)  # stable: keeps the given order within each parent
    return (order, *_offsets(parent, n))


def _offsets(parent: Sequence[int], n: int) -> tuple[list[int], int]:
    """Where each node's children begin in the nodes grouped by parent (roots first), and the root count."""
    counts = [0] * (n + 1)  # counts[p + 1]: how many children p has; counts[0]: the roots
    for p in parent:  # one plain pass: cheaper than counting in C and summing a dict back into a list
        counts[p + 1] += 1
    return list(accumulate(counts)), counts[0]


_FOURTH = itemgetter(3)


def _by_time(parent: Sequence[int], start: Sequence[int], end: Sequence[int]) -> tuple[list[int], list[int], int, bool]:
    """``_grouped`` by (start, end, index), and a flag: no parent cycle, for sure (every parent comes earlier by
    index or by time; False: perhaps, walk to know). When every parent comes earlier by index (the common case),
    one sort of (parent, start, end, index) tuples does it; otherwise the nodes are sorted by
    ``start << 64 | end`` first (times are non-negative, below 2**63), their positions in that order tell, and a
    second, stable sort groups them by parent."""
    n = len(parent)
    if all(map(lt, parent, range(n))):  # a root's -1 is earlier than anything
        # the tuples sorted as they are (no key function: faster), the index taken back out (equal lengths)
        order = list(map(_FOURTH, sorted(zip(parent, start, end, range(n), strict=False))))
        return (order, *_offsets(parent, n), True)
    time_key = list(map(or_, map(lshift, start, repeat(64)), end))
    by_time = sorted(range(n), key=time_key.__getitem__)
    del time_key
    position = [0] * n + [-1]  # node -> its place in by_time; position[-1] (a root's parent) is -1
    deque(map(position.__setitem__, by_time, range(n)), maxlen=0)
    acyclic = all(map(lt, map(position.__getitem__, parent), position))
    del position
    return (*_grouped(parent, n, by_time), acyclic)


def _breadth_first(order: list[int], offsets: list[int], nroots: int) -> list[int]:
    """The nodes under a root, breadth-first (nodes on a parent cycle are not: the list is shorter)."""
    queue = order[:nroots]
    for i in queue:  # the list grows as it is walked
        a, b = offsets[i], offsets[i + 1]
        if a != b:
            queue += order[a:b]
    return queue


# A trace of up to this many spans is built without pausing the collector: it makes too few objects for the
# collector to run more than once meanwhile, and pausing costs more than the tree (a context manager: 4 µs of 40).
PAUSE_ABOVE = 1000


def build_tree(trace: Trace) -> SpanTree:
    """Rebuild the span tree of one trace. Never raises on messy data: it repairs and reports."""
    if len(trace) <= PAUSE_ABOVE:
        return _build_tree(trace)
    with paused_gc():
        return _build_tree(trace)


def _build_tree(trace: Trace) -> SpanTree:
    warn = _Warnings()
    cols = trace.columns
    ids = cols.span_id
    n = len(ids)
    index = dict(zip(ids, range(n), strict=False))  # (equal lengths; strict checks cost)
    spans: Sequence[Span]
    if len(index) == n:  # the common case: nothing to drop, nothing to pair; the trace's columns are the nodes
        keys = ids
        built = trace.built_spans  # the trace's Span objects if it has them: the tree hands out the same objects
        spans = built if built is not None else SpanSeq(cols)
        parent, orphan = _link_unique(cols, index, warn)
    else:  # repeated IDs (rare): decide on Span objects, as received, and keep columns of the kept ones
        kept, keys, shared_parent = _dedupe(trace.spans, warn)
        cols, spans, n = SpanColumns.from_spans(trace.trace_id, kept), kept, len(kept)
        parent, orphan = _link_shared(cols, keys, shared_parent, warn)
    del index

    # The received times as the passes below read them (several times each).
    s, e = _readable(cols.start), _readable(cols.end)
    wall_start, wall_end = min(s, default=0), max(e, default=0)
    # Every time within 1980–2200 and no span ending before it starts: then the earliest start and the latest end
    # are the extremes of both.
    clean = not n or (wall_start >= MIN_VALID_NS and wall_end <= MAX_VALID_NS and not any(map(lt, e, s)))
    if clean:
        # nothing to repair: the received times are the tree's
        start, end = (
            (s, e)
            if isinstance(s, array) and isinstance(e, array)
            else (_int64_copy(cols.start), _int64_copy(cols.end))
        )
        order, offsets, nroots, acyclic = _by_time(parent, s, e)
        if not acyclic and len(_breadth_first(order, offsets, nroots)) < n:  # a parent cycle: its members hang
            _break_cycles(cols, keys, parent, warn)  # under no root
            order, offsets, nroots, _ = _by_time(parent, s, e)
        cp_start, cp_end, eligible, clip = _place_valid(cols, keys, parent, (s, e), (start, end), (order, offsets),
                                                        warn)  # fmt: skip
        windows: _TreeWindows
        if clip is not None:
            windows = clip
        elif cp_start is s:
            windows = (start, end)
        else:  # the tree's windows made when first asked for (blame never asks)
            windows = partial(_as_kept, cp_start, cp_end)
    else:
        # Place top-down over children in index order (the order repairs are reported in). A parent cycle leaves
        # its members unreached: break the cycles, regroup and place again.
        order, offsets, nroots = _grouped(parent, n)
        while (placed := _place(cols, keys, parent, order, offsets, nroots)) is None:  # at most twice
            _break_cycles(cols, keys, parent, warn)
            order, offsets, nroots = _grouped(parent, n)
        start, end, cp_start, cp_end, eligible, said = placed
        windows = (cp_start, cp_end)
        for kind, ids_said in said.ids.items():
            warn.ids[kind] += ids_said
        order, offsets, nroots, _ = _by_time(parent, start, end)
        wall_start, wall_end = min(start, default=0), max(end, default=0)
    lists: tuple[Sequence[int], ...] | None = None
    if n <= LISTS_UP_TO:  # the lists the passes read, as made here (the windows for the path are the times' arrays when
        # nothing sticks out; ``s`` and ``e`` are the tree's times unless repaired)
        if not clean:
            s, e = start.tolist(), end.tolist()
            cp_start, cp_end = (s, e) if cp_start is start else (cp_start.tolist(), cp_end.tolist())  # type: ignore[attr-defined]  # arrays
        lists = (s, e, cp_start, cp_end, order, offsets, parent)
    roots = order[:nroots]
    if nroots > 1:
        in_index_order = tuple(keys[r] for r in sorted(roots))
        warn.extra.append(TreeWarning("multiple-roots", f"trace has {nroots} roots; each is analysed", in_index_order))
    # The fields in their order (trace_id, spans, columns, keys, _parent, _children, roots, start, end, _cp,
    # on_path_eligible, _orphan, wall_start, wall_end, warnings): by position, a third of the call by keyword
    tree = SpanTree(trace.trace_id, spans, cols, keys, parent, (order, offsets), roots, start, end, windows,
                    Flags(eligible), orphan, wall_start, wall_end, warn.build())  # fmt: skip
    if lists is not None:
        tree._read = Readable(tree, lists)
    return tree


def _as_kept(cp_start: Sequence[int], cp_end: Sequence[int]) -> tuple[array[int], array[int]]:
    """Windows as the tree keeps them: int64 arrays."""
    if isinstance(cp_start, array) and isinstance(cp_end, array):
        return cp_start, cp_end
    return array("q", cp_start), array("q", cp_end)


# start and end, and the windows for the path written into
_Windows = tuple[Sequence[int], Sequence[int], MutableSequence[int], MutableSequence[int]]


class _Fit:
    """Places a child against its already placed parent: off the path when asynchronous or wholly outside the
    parent's window for the path, clock skew said, and its own window for the path clipped into the parent's."""

    __slots__ = ("cp_end", "cp_start", "eligible", "end", "follows", "keys", "kinds", "said", "start")

    def __init__(self, cols: SpanColumns, keys: list[str], windows: _Windows, eligible: bytearray,
                 said: dict[str, list[str]]) -> None:  # fmt: skip
        self.start, self.end, self.cp_start, self.cp_end = windows
        self.eligible, self.kinds, self.follows, self.keys, self.said = (
            eligible,
            cols.kind,
            cols.follows_from,
            keys,
            said,
        )

    def __call__(self, i: int, p: int, s: int, e: int) -> None:
        """Child ``i`` with its repaired window ``s``–``e`` under parent ``p``."""
        start, cp_start, cp_end, eligible, said = self.start, self.cp_start, self.cp_end, self.eligible, self.said
        ps, pe = cp_start[p], cp_end[p]
        if not eligible[p] or self.follows[i] or (self.kinds[i] == _CONSUMER and self.kinds[p] == _PRODUCER):  # async
            eligible[i] = 0
        elif (s > pe or e < ps) if s == e else (s >= pe or e <= ps):  # _outside(s, e, ps, pe), inlined
            eligible[i] = 0
            # Said only when it is outside the parent as received, not merely outside a window clipped upstream.
            if _outside(s, e, start[p], self.end[p]):
                said["outside-parent"].append(self.keys[i])
            elif s < start[p] - SKEW_TOLERANCE_NS:
                said["clock-skew"].append(self.keys[i])
        elif s < start[p] - SKEW_TOLERANCE_NS:
            said["clock-skew"].append(self.keys[i])
        if s < ps or s > pe:
            s = cp_start[i] = pe if s > pe else ps  # min(max(s, ps), pe)
        if e > pe or e < s:
            cp_end[i] = pe if e > pe else s  # max(min(e, pe), cs), as cs <= pe


def _place_valid(
    cols: SpanColumns,
    keys: list[str],
    parent: list[int],
    times: tuple[Sequence[int], Sequence[int]],
    windows: tuple[array[int], array[int]],
    children: tuple[list[int], list[int]],
    warn: _Warnings,
) -> tuple[Sequence[int], Sequence[int], bytearray, Callable[[], tuple[array[int], array[int]]] | None]:
    """``_place`` when no time needs repair: most children lie within their parent, where their window for the path
    is their own and they are eligible; only the rest (and their subtrees) are walked one by one. ``times``: start
    and end of every node as the passes read them (``_readable``); ``windows``: start
    and end as the tree keeps them; ``children``: ``order`` and ``offsets`` as ``_grouped`` gives them.

    Gives the windows for the path as the passes read them (``times`` themselves when no node the path can reach is
    clipped), the eligibility, and, when only nodes off the path stick out, a function making the tree's windows
    (else None: the windows given)."""
    start, end = times
    order, offsets = children
    n = len(parent)
    eligible = bytearray(b"\x01") * n
    zero = any(map(eq, start, end))
    sticking_out, asynchronous = _unusual(cols, parent, start, end)
    # What is said is said breadth-first over children in index order, as ``_place`` says it.
    queue = _breadth_first(*_grouped(parent, n)) if zero else []
    if zero:
        warn.ids["zero-duration"] = [keys[i] for i in queue if start[i] == end[i]]
    if not sticking_out or (not zero and set(sticking_out).issubset(asynchronous)):
        # Every child lies within its parent but asynchronous ones: nothing is said, and an asynchronous child is off
        # the path with its subtree. Nodes the path can reach have their own windows; those off it are clipped when
        # the tree's windows are first asked for (any top-down order does).
        stack = asynchronous.copy()
        while stack:
            i = stack.pop()
            if eligible[i]:
                eligible[i] = 0
                stack += order[offsets[i] : offsets[i + 1]]
        if not sticking_out:  # every window for the path is as received: the same arrays (never written after)
            return start, end, eligible, None

        def clip() -> tuple[array[int], array[int]]:
            kept_start, kept_end = windows
            cp_start, cp_end = array("q", kept_start), array("q", kept_end)
            fit = _Fit(cols, keys, (kept_start, kept_end, cp_start, cp_end), eligible, defaultdict(list))
            for i in _subtrees(asynchronous, order, offsets, n):
                fit(i, parent[i], kept_start[i], kept_end[i])
            return cp_start, cp_end

        return start, end, eligible, clip
    cp_start, cp_end = _copy(start), _copy(end)
    fit = _Fit(cols, keys, (start, end, cp_start, cp_end), eligible, warn.ids)
    if not zero:
        queue = _breadth_first(*_grouped(parent, n))
    walk = bytearray(n)  # 1: placed one by one (unusual, or under such a node)
    for i in sticking_out:
        walk[i] = 1
    for i in asynchronous:
        walk[i] = 1
    for i in queue:
        p = parent[i]
        if p < 0 or not (walk[i] or walk[p]):
            continue  # within its parent's own window: its window is its own, and eligible if its parent is
        walk[i] = 1
        fit(i, p, start[i], end[i])
    return cp_start, cp_end, eligible, None


def _copy(values: Sequence[int]) -> MutableSequence[int]:
    """A copy of times to write windows into: a list of a list, an int64 array of an array."""
    return array("q", values) if isinstance(values, array) else list(values)


def _subtrees(nodes: list[int], order: list[int], offsets: list[int], n: int) -> list[int]:
    """The nodes in the subtrees of ``nodes`` (themselves included), each once and after its parent."""
    below = bytearray(n)  # 1: strictly under one of ``nodes``
    for i in nodes:
        stack = order[offsets[i] : offsets[i + 1]]
        while stack:
            k = stack.pop()
            if not below[k]:  # else it and its subtree are marked already
                below[k] = 1
                stack += order[offsets[k] : offsets[k + 1]]
    out: list[int] = []
    for i in dict.fromkeys(nodes):
        if not below[i]:  # the top of a subtree: its walk reaches the nodes under it
            stack = [i]
            while stack:
                k = stack.pop()
                out.append(k)
                stack += order[offsets[k] : offsets[k + 1]]
    return out


def _unusual(
    cols: SpanColumns, parent: list[int], start: Sequence[int], end: Sequence[int]
) -> tuple[list[int], list[int]]:
    """Children not lying within their parent's window, and asynchronous children (FOLLOWS_FROM, CONSUMER under
    PRODUCER): the nodes whose window or eligibility ``_place_valid`` must work out. (One comprehension: faster than
    chained ``map`` passes at every size, 24 spans or 100,000; the few flagged spans found by ``bytearray.find``.)"""
    sticking_out = [i for i, p in enumerate(parent) if p >= 0 and (start[i] < start[p] or end[i] > end[p])]
    asynchronous: list[int] = []
    follows, kinds = cols.follows_from, cols.kind
    i = follows.find(1)
    while i >= 0:
        if parent[i] >= 0:
            asynchronous.append(i)
        i = follows.find(1, i + 1)
    if _PRODUCER in kinds:
        i = kinds.find(_CONSUMER)
        while i >= 0:
            p = parent[i]
            if p >= 0 and kinds[p] == _PRODUCER:
                asynchronous.append(i)
            i = kinds.find(_CONSUMER, i + 1)
    return sticking_out, asynchronous


# Up to this many spans, the passes over times read lists: an array makes a new int object at every read, a list
# made once does not (build_tree on 24 spans: 40 against 49 µs). Above, arrays: a list holds 40 more bytes a span,
# and on 100,000 spans making its ints costs more than the reads save.
LISTS_UP_TO = 4096


def read_many(values: array[int]) -> Sequence[int]:
    """One of the tree's arrays for a pass that reads its values many times: a list up to ``LISTS_UP_TO`` nodes,
    else the array itself."""
    return values.tolist() if len(values) <= LISTS_UP_TO else values


def _readable(values: Sequence[int]) -> Sequence[int]:
    """Times for the passes to read: a list, or an int64 array for a long trace (``_int64_copy``)."""
    if len(values) > LISTS_UP_TO:
        return _int64_copy(values)
    return values.tolist() if isinstance(values, array) else [v if -(2**63) <= v < 2**63 else 0 for v in values]


def _int64_copy(values: Sequence[int]) -> array[int]:
    """``values`` as ``array('q')``; a value beyond int64 (necessarily an absurd time, repaired later) reads 0."""
    if isinstance(values, array) and values.typecode == "q":
        return array("q", values)
    return array("q", [v if -(2**63) <= v < 2**63 else 0 for v in values])


Placed = tuple["array[int]", "array[int]", "array[int]", "array[int]", bytearray, _Warnings]


def _place(
    cols: SpanColumns, keys: list[str], parent: list[int], order: list[int], offsets: list[int], nroots: int
) -> Placed | None:
    """Top-down pass: repair times, clip into parents, mark async/outside children. None when some node is not
    under a root (a parent cycle)."""
    n = len(parent)
    received_start, received_end = cols.start, cols.end
    lo, hi = MIN_VALID_NS, MAX_VALID_NS
    if n and lo <= min(received_start) and max(received_start) <= hi:
        fallback = min(received_start)
    else:
        valid_starts = [s for s in received_start if lo <= s <= hi]
        fallback = min(valid_starts) if valid_starts else 0
    start, end = _int64_copy(received_start), _int64_copy(received_end)
    cp_start, cp_end = array("q", start), array("q", end)  # clipped below where a child sticks out
    eligible = bytearray(b"\x01") * n
    warn = _Warnings()
    said = warn.ids
    fit = _Fit(cols, keys, (start, end, cp_start, cp_end), eligible, said)
    queue = order[:nroots]
    for i in queue:  # breadth-first (the list grows as it is walked): a parent is placed before its children
        a, b = offsets[i], offsets[i + 1]
        if a != b:
            queue += order[a:b]
        s, e = received_start[i], received_end[i]
        p = parent[i]
        if not (lo <= s <= hi and lo <= e <= hi):
            said["bad-time"].append(keys[i])
            if not lo <= s <= hi:
                s = start[p] if p >= 0 else fallback
            e = s
            start[i] = cp_start[i] = s
            end[i] = cp_end[i] = e
        elif e < s:
            said["negative-duration"].append(keys[i])
            e = end[i] = cp_end[i] = s
        elif e == s:
            said["zero-duration"].append(keys[i])
        if p >= 0:
            fit(i, p, s, e)
    if len(queue) < n:
        return None
    return start, end, cp_start, cp_end, eligible, warn
