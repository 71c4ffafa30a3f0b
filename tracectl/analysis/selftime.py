"""Self time: a span's duration minus the union of its children's intervals clipped to it."""

from __future__ import annotations

from operator import sub

from tracectl.analysis.tree import SpanTree


def self_times(tree: SpanTree) -> list[int]:
    """Self time (ns) of every node; never negative, never more than the node's duration.

    A leaf's is its duration (one C-speed pass); a parent's children are already sorted by start, so one sweep per
    parent merges their intervals: O(n) overall."""
    read = tree.read
    start, end, flat, offsets = read.start, read.end, read.flat, read.offsets
    out = list(map(sub, end, start))
    for i in read.with_children:
        s, e = start[i], end[i]
        a, b = offsets[i], offsets[i + 1]
        if b - a == 1:  # one child (the most common parent): its window clipped to the node's is what is covered
            k = flat[a]
            ks, ke = start[k], end[k]
            if ks < s:  # noqa: PLR1730
                ks = s
            if ke > e:  # noqa: PLR1730
                ke = e
            if ke > ks:
                out[i] -= ke - ks  # (out[i] is the node's duration)
            continue
        covered = 0
        cur_s = cur_e = s
        for k in flat[a:b]:
            ks, ke = start[k], end[k]
            if ks < s:  # noqa: PLR1730 - max() and min() cost a call each: half this loop's time
                ks = s
            if ke > e:  # noqa: PLR1730
                ke = e
            if ke <= ks:
                continue
            if ks > cur_e:
                covered += cur_e - cur_s
                cur_s, cur_e = ks, ke
            elif ke > cur_e:
                cur_e = ke
        covered += cur_e - cur_s
        out[i] -= covered
    return out
