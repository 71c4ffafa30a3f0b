"""Self time: a span's duration minus the union of its children's intervals clipped to it."""

from __future__ import annotations

from tracectl.analysis.tree import SpanTree


def self_times(tree: SpanTree) -> list[int]:
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
