"""Where a failure began. Pure, iterative.

The naive rule, "the deepest error span with no errored children", names the wrong span in two common cases:
a proxy's route timeout marks *its own* span as the error while the child it was waiting on (status OK, maybe
uninstrumented below) consumed the whole budget; and when several siblings failed, the latest is often a
consequence of the earliest. The rules, from each failure the request shows (a failed span with no failed
ancestor, not made good by a retry):

1. A failed span with failed children: the failure came from the child that failed *first* (earliest end;
   retried-away attempts do not count); its failed siblings are listed as later failures. Descend into it.
2. Otherwise, follow what the failed span was waiting on when it failed (at its end): the child still running
   then (ending no earlier than the touch tolerance before), the latest-ending if several, and so on down. If
   that chain reaches a failed span, the failure came up through spans that did not mark it: descend into it.
3. Otherwise, if the failed span gave up on that child — the child had been running for at least
   ``MASK_SHARE`` of the failed span's time, and the chain ran on past the failure (a span of it ended more than
   the touch tolerance after) or the failed span says it timed out (message, HTTP 504/408, gRPC
   DEADLINE_EXCEEDED) — the failure is *masked*: the locus is the
   deepest span of the chain, what the request was doing when the budget ran out.
4. Otherwise the failed span failed on its own: it is the origin.

A failure is *fatal* when the root failed (the failed span is the root of its tree): the request's answer was a
failure. A failure under a root that did not fail was handled (a fallback, a caught error), even one that ended
with the request, and ranks after the fatal ones: the headline never says a request failed that answered.
"""

from __future__ import annotations

from tracectl.analysis.findings import Facts, FailureOrigin, mechanism, reads_as_timeout

MASK_SHARE = 0.5  # the child had been running for at least this share of the failed span's time


def failure_origins(f: Facts, recovered: set[int]) -> list[FailureOrigin]:
    """One finding per failure the request shows (module docstring), fatal ones first, then by time."""
    tree = f.tree
    below_failure = [False] * len(tree)
    root_of = list(range(len(tree)))
    tops: list[int] = []
    for node in tree.preorder():
        p = tree.parent[node]
        if p >= 0:
            root_of[node] = root_of[p]
            below_failure[node] = below_failure[p] or f.failed[p] or p in recovered
        if f.failed[node] and node not in recovered and not below_failure[node]:
            tops.append(node)
    found = [_origin(f, top, recovered, root_of[top]) for top in tops]
    found.sort(key=lambda o: (not o.fatal, o.at_ns, tree.keys[o.failed]))
    return found


def _origin(f: Facts, top: int, recovered: set[int], root: int) -> FailureOrigin:
    tree = f.tree
    node, chain, later = top, [top], list[int]()
    while True:
        failed_kids = [k for k in tree.children[node]
                       if tree.on_path_eligible[k] and f.failed[k] and k not in recovered]  # fmt: skip
        if failed_kids:
            first = min(failed_kids, key=lambda k: (tree.end[k], tree.start[k], tree.keys[k]))
            later.extend(k for k in failed_kids if k != first)
            node = first
            chain.append(node)
            continue
        active = active_chain(f, node, tree.end[node])
        hit = next((i for i, n in enumerate(active) if f.failed[n] and n not in recovered), -1)
        if hit >= 0:  # it came up through spans that did not mark it
            chain.extend(active[: hit + 1])
            node = active[hit]
            continue
        masked = bool(active) and _gave_up(f, node, active)
        if masked:
            chain.extend(active)
        break
    origin = chain[-1]
    fatal = top == root
    spans = tree.spans
    return FailureOrigin(
        f.cp_sub[top], top, origin, tuple(chain), masked, fatal, tree.end[top], tuple(later),
        mechanism(spans[origin]) if f.failed[origin] else None,
        mechanism(spans[node]) if node != origin else (mechanism(spans[top]) if top != origin else None),
        reads_as_timeout(spans[node]) or reads_as_timeout(spans[origin]),
    )  # fmt: skip


def active_chain(f: Facts, node: int, at_ns: int) -> list[int]:
    """Below ``node``: the child still running at ``at_ns`` (the latest-ending, then the earliest start, then the
    node key), its child still running then, and so on. Asynchronous children are never waited on."""
    tree = f.tree
    out: list[int] = []
    cur = node
    while True:
        tol = f.touch(cur)
        running = [k for k in tree.children[cur]
                   if tree.on_path_eligible[k] and tree.start[k] < at_ns and tree.end[k] >= at_ns - tol]  # fmt: skip
        best = min(running, key=lambda k: (-tree.end[k], tree.start[k], tree.keys[k]), default=-1)
        if best < 0:
            return out
        out.append(best)
        cur = best


def _gave_up(f: Facts, failed: int, active: list[int]) -> bool:
    """The failed span stopped waiting on what it called (``active``, the chain below it): the call had used most
    of its time, and something in the chain ran on past the failure, or the failed span says it timed out."""
    tree = f.tree
    at, child = tree.end[failed], active[0]
    ran = min(tree.end[child], at) - max(tree.start[child], tree.start[failed])
    if ran < MASK_SHARE * (at - tree.start[failed]):
        return False
    late = at + f.touch(failed)
    return any(tree.end[n] > late for n in active) or reads_as_timeout(tree.spans[failed])
