"""Critical path per root (ANALYSIS.md section 2): the span sections that account for end-to-end latency.

Reference semantics are Jaeger UI's (CRISP-style): start at the root's end and descend into the child that
finished last; when a span has no remaining eligible child, charge it back to its own start and return to
its parent, which then considers only children that ended by the time the returned child started; time
between them is the parent's own. Children are clipped to their parent's window first (``SpanTree.cp_start``
/ ``cp_end``); a child wholly outside it, an async child (CONSUMER under PRODUCER, FOLLOWS_FROM), and their
subtrees are off the path (``SpanTree.on_path_eligible``).

Deliberate differences from Jaeger UI, each tested:
- every root gets a path, including orphan roots of partial traces (Jaeger UI returns none);
- a child that ends exactly when the returned child starts is eligible (Jaeger UI requires strictly before,
  which charges back-to-back sequential children to their parent);
- O(n log n): the children of each node the path reaches are sorted once by end (when it is first reached: nodes
  off the path are never sorted) and scanned once, through an iterator that only moves forward, because the time a
  walk returns to a node never increases (Jaeger UI rescans: quadratic);
- iterative, so depth is unlimited;
- ties are broken deterministically: among children ending at the same time, the one that started first
  (the longest) is taken, then the smaller node key.

Invariant (property-tested): for each root, the sections tile ``[root.start, root.end]`` exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import compress
from operator import not_

from tracectl._gc import paused_gc
from tracectl.analysis.tree import SpanTree


@dataclass(frozen=True, slots=True)
class Section:
    """A stretch of time ``[start, end)`` (ns) during which ``node`` itself is what the trace waits on."""

    node: int
    start: int
    end: int

    @property
    def duration_ns(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class RootPath:
    """The critical path of one root, sections in chronological order."""

    root: int
    sections: tuple[Section, ...]

    @property
    def length_ns(self) -> int:
        return sum([s.end - s.start for s in self.sections])


@dataclass(frozen=True, slots=True)
class CriticalPath:
    tree: SpanTree
    roots: tuple[RootPath, ...]

    @property
    def length_ns(self) -> int:
        """Sum over roots of their path lengths (= the root's duration for a single-root trace)."""
        return sum(r.length_ns for r in self.roots)

    def per_node_ns(self) -> list[int]:
        """Critical-path time of every node: the sum of its sections."""
        out = [0] * len(self.tree)
        for root in self.roots:
            for s in root.sections:
                out[s.node] += s.end - s.start
        return out

    def merged(self) -> list[Section]:
        """All sections, with consecutive sections of the same node joined (as ``tracectl path`` shows them)."""
        out: list[Section] = []
        for root in self.roots:
            for s in root.sections:
                if out and out[-1].node == s.node and out[-1].end == s.start:
                    out[-1] = Section(s.node, out[-1].start, s.end)
                else:
                    out.append(s)
        return out


def critical_path(tree: SpanTree) -> CriticalPath:
    """Compute the critical path of every root of ``tree``."""
    with paused_gc():
        walk = _Walk(tree)
        roots = []
        for r in tree.roots:
            seg = walk.root(r)  # node, start, end of each section, latest first
            roots.append(RootPath(r, tuple(map(Section, seg[-3::-3], seg[-2::-3], seg[-1::-3]))))
        return CriticalPath(tree, tuple(roots))


def path_times(tree: SpanTree) -> tuple[list[int], int]:
    """Every node's critical-path time and the path's length over all roots: ``critical_path(tree).per_node_ns()``
    and ``.length_ns``, without a ``Section`` object (what attribution needs)."""
    walk = _Walk(tree)
    out = [0] * len(tree)
    for r in tree.roots:
        walk.root(r, out)
    return out, sum(out)


class _Walk:
    """The walks of one tree's roots. A node's eligible children are ordered when a walk first reaches it (latest end
    first; ties: earliest start, then node key), so only the path's nodes are ever sorted, and held while the walk is
    under it as an iterator: what it has handed out (taken, or passed over as ending too late) is never looked at
    again. (Each node is in one root's subtree: the walks share nothing.)"""

    __slots__ = ("cp_end", "cp_start", "eligible", "flat", "keys", "mixed", "offsets")

    def __init__(self, tree: SpanTree) -> None:
        read = tree.read
        self.cp_start, self.cp_end, self.flat, self.offsets = read.cp_start, read.cp_end, read.flat, read.offsets
        self.keys = tree.keys
        self.eligible = eligible = tree.on_path_eligible.data
        # The nodes with a child off the path (few: asynchronous children, and children outside their parent): only
        # theirs are filtered. (A node off the path is never reached, so its children need no filter.)
        self.mixed = set(compress(read.parent, map(not_, eligible))) if 0 in eligible else None

    def ordered(self, node: int, a: int, b: int) -> list[int]:
        """The eligible children of ``node`` (``flat[a:b]``, ``a < b``), latest end first (ties: earliest start,
        then node key)."""
        part, mixed, cp_end = self.flat[a:b], self.mixed, self.cp_end
        if mixed is not None and node in mixed:
            eligible = self.eligible
            kids = [k for k in part if eligible[k]]
        else:
            kids = part if isinstance(part, list) else list(part)  # (a long trace's is an array)
        count = len(kids)
        if count == 2 and cp_end[kids[0]] != cp_end[kids[1]]:  # the most common parent of several:
            if cp_end[kids[1]] > cp_end[kids[0]]:  # latest end first, told without a sort
                kids.reverse()
        elif count > 1:
            cp_start, keys = self.cp_start, self.keys
            kids.sort(key=lambda k: (-cp_end[k], cp_start[k], keys[k]))
        return kids

    def root(self, root: int, per_node: list[int] | None = None) -> list[int]:
        """Walk one root's path backwards in time: its sections as a flat list of (node, start, end), latest
        first; or, given ``per_node``, each section's length added to its node's there instead (no list made)."""
        cp_start, cp_end, flat, offsets, mixed = self.cp_start, self.cp_end, self.flat, self.offsets, self.mixed
        seg: list[int] = []
        above: list[tuple[int, Iterator[int]]] = []  # the nodes the walk is under, each with its children left
        node = root
        until = cp_end[root]  # the path has been explained from `until` to the root's end
        a, b = offsets[root], offsets[root + 1]
        kids = iter(self.ordered(root, a, b) if a != b else ())
        while True:
            for child in kids:  # the child that ended last by `until` (those ending later are passed over for good:
                end = cp_end[child]  # `until` only moves back)
                if end <= until:
                    break
            else:  # none left: the node's own time back to its start, then back to its parent
                start = cp_start[node]
                if start < until:
                    if per_node is None:
                        seg += (node, start, until)
                    else:
                        per_node[node] += until - start
                if not above:
                    return seg
                node, kids = above.pop()
                until = start
                continue
            if end < until:  # the node's own time between the child's end and `until`
                if per_node is None:
                    seg += (node, end, until)
                else:
                    per_node[node] += until - end
            a, b = offsets[child], offsets[child + 1]
            if a == b:  # a leaf: its own time to its start, and the node goes on with its next child
                start = cp_start[child]
                if start < end:
                    if per_node is None:
                        seg += (child, start, end)
                    else:
                        per_node[child] += end - start
                until = start
                continue
            above.append((node, kids))
            node, until = child, end
            if b - a == 1 and (mixed is None or child not in mixed):  # one child (the most common parent)
                kids = iter((flat[a],))
            else:
                kids = iter(self.ordered(child, a, b))
