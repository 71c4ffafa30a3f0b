"""Self time: a span's duration minus the union of its children's intervals clipped to it."""

from __future__ import annotations

from operator import sub

from tracectl.analysis.tree import SpanTree


def self_times(tree: SpanTree) -> list[int]:
    """Self time (ns) of every node; never negative, never more than the node's duration.

    A leaf's is its duration (one C-speed pass); a parent's children are already sorted by start, so one sweep per
    parent merges their intervals: O(n) overall."""
    start, end = tree.start, tree.end
    out = list(map(sub, end, start))
    flat, offsets = tree.children.flat.tolist(), tree.children.offsets
    for i in set(tree.parent):  # the nodes with children (and -1)
        if i < 0:
            continue
        s, e = start[i], end[i]
        covered = 0
        cur_s = cur_e = s
        for k in flat[offsets[i] : offsets[i + 1]]:
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
