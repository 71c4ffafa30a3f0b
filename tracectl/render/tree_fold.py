"""Repeats folded: siblings with the same service and operation one after another (an N+1 loop, retries) are one
row of the terminal tree, ``×24  (sum 312 ms, wall 318 ms)``, unless ``--expand``. JSON and CSV keep every span."""

from __future__ import annotations

from dataclasses import dataclass

from tracectl.analysis.tree_rows import TreeView


@dataclass(frozen=True, slots=True)
class Run:
    """Siblings folded into the row of the first: ``members`` in order (the first included)."""

    members: tuple[int, ...]
    sum_ns: int  # their durations added up
    wall_ns: int  # from the first start to the last end
    start: int
    end: int
    errors: int
    hidden: int  # spans under the folded row that are not shown (the other members and every subtree)


def fold_runs(view: TreeView, order: list[int], min_run: int = 2) -> tuple[list[int], dict[int, Run]]:
    """The rows to draw (``order`` with each run down to its first member, subtrees of runs left out) and the
    runs by their first member."""
    tree = view.tree
    children: dict[int, list[int]] = {}
    for node in order:
        children.setdefault(tree.parent[node], []).append(node)
    runs: dict[int, Run] = {}
    folded: dict[int, int] = {}  # members after the first (not drawn) → the first
    for siblings in children.values():
        i = 0
        while i < len(siblings):
            key = _key(view, siblings[i])
            j = i + 1
            while j < len(siblings) and _key(view, siblings[j]) == key:
                j += 1
            if j - i >= min_run:
                members = tuple(siblings[i:j])
                runs[members[0]] = _run(view, members)
                folded.update(dict.fromkeys(members[1:], members[0]))
            i = j
    if not runs:
        return order, {}
    rows: list[int] = []
    hidden_under: dict[int, int] = {}  # a node whose subtree is not drawn → the run it belongs to
    for node in order:
        p = tree.parent[node]
        if node in folded or (p >= 0 and (p in hidden_under or p in runs)):
            hidden_under[node] = folded[node] if node in folded else hidden_under.get(p, p)
            continue
        rows.append(node)
    counts: dict[int, int] = {}
    for owner in hidden_under.values():
        counts[owner] = counts.get(owner, 0) + 1
    runs = {first: _with_hidden(run, counts.get(first, 0)) for first, run in runs.items()}
    return rows, runs


def _key(view: TreeView, node: int) -> tuple[str, str]:
    span = view.tree.spans[node]
    return span.service, span.name


def _run(view: TreeView, members: tuple[int, ...]) -> Run:
    tree = view.tree
    start = min(tree.start[m] for m in members)
    end = max(tree.end[m] for m in members)
    total = sum(tree.end[m] - tree.start[m] for m in members)
    errors = sum(tree.spans[m].is_error for m in members)
    return Run(members, total, end - start, start, end, errors, 0)


def _with_hidden(run: Run, hidden: int) -> Run:
    return Run(run.members, run.sum_ns, run.wall_ns, run.start, run.end, run.errors, hidden)
