"""The rebuilt tree as flat rows: the one result object every ``show`` renderer is fed.

Rows are in depth-first order with their depth, so a 50,000-deep trace needs no nested JSON (which
serialisers refuse past a few hundred levels) and no recursion to render.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tracectl.analysis.analyse import TraceAnalysis
from tracectl.analysis.logs import MatchedLog
from tracectl.analysis.tree import SpanTree
from tracectl.model import AttrValue

SHOW_SCHEMA = "tracectl.show/v1"
SPAN_CSV_COLUMNS = (
    "trace_id", "span_id", "parent_span_id", "depth", "service", "name", "kind", "status", "start_ns", "offset_ns",
    "duration_ns", "self_ns", "cp_ns", "orphan",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class TreeView:
    """What ``show`` displays for one trace: its analysis, and which nodes are visible."""

    analysis: TraceAnalysis
    order: list[int]  # visible nodes, depth-first
    hidden: int  # nodes left out by --min-duration / --max-depth / --critical
    hidden_by: tuple[str, ...]  # the options that hid them, as the user typed them
    sections: dict[int, list[tuple[int, int]]]  # node -> its critical-path sections (start, end)
    logs: dict[int, list[MatchedLog]] = field(default_factory=dict)  # node (-1: no span) -> its log lines
    selected: int = -1  # the node a traceparent named (-1: none); always visible, marked in every view
    marks: dict[int, list[tuple[str, int]]] = field(default_factory=dict)  # what explain found: node -> (mark, n)

    def sections_of(self, node: int) -> list[tuple[int, int]]:
        return self.sections.get(node, [])

    @property
    def tree(self) -> SpanTree:
        return self.analysis.tree

    @property
    def self_ns(self) -> list[int]:
        return self.analysis.self_ns

    @property
    def cp_ns(self) -> list[int]:
        return self.analysis.cp_ns


def on_path_nodes(analysis: TraceAnalysis, min_share: float = 0.0) -> list[bool]:
    """Nodes with critical-path time (with ``min_share``: whose subtree holds at least that share of the path),
    and their ancestors, so the path reads as a tree."""
    tree = analysis.tree
    order = tree.preorder()
    subtree = list(analysis.cp_ns)
    for node in reversed(order):  # children before parents
        p = tree.parent[node]
        if p >= 0:
            subtree[p] += subtree[node]
    floor = max(1, min_share * analysis.path.length_ns)
    marked = [c >= floor for c in subtree]
    for node in reversed(order):
        p = tree.parent[node]
        if marked[node] and p >= 0:
            marked[p] = True
    return marked


def make_view(
    analysis: TraceAnalysis, min_duration_ns: int = 0, max_depth: int | None = None, critical_only: bool = False,
    selected: int = -1, min_path_share: float = 0.0, marks: dict[int, list[tuple[str, int]]] | None = None,
) -> TreeView:  # fmt: skip
    """Select the nodes to show: a node shorter than ``min_duration_ns``, deeper than ``max_depth`` or (with
    ``critical_only``) off the critical path is hidden with its whole subtree (roots are always shown, and so are
    the ``selected`` node and its ancestors)."""
    tree = analysis.tree
    on_path = on_path_nodes(analysis, min_path_share) if critical_only else None
    keep = set()
    node = selected
    while node >= 0:
        keep.add(node)
        node = tree.parent[node]
    visible: list[int] = []
    parent, start, end = tree.parent, tree.start, tree.end
    depth = tree.depth if max_depth is not None else None
    flat, offsets = tree.children.flat, tree.children.offsets
    stack = tree.roots[::-1]
    while stack:
        node = stack.pop()
        if parent[node] != -1 and node not in keep:
            too_short = end[node] - start[node] < min_duration_ns
            too_deep = depth is not None and max_depth is not None and depth[node] > max_depth
            if too_short or too_deep or (on_path is not None and not on_path[node]):
                continue
        visible.append(node)
        a, b = offsets[node], offsets[node + 1]
        if a != b:
            stack += flat[a:b][::-1]
    sections: dict[int, list[tuple[int, int]]] = {}
    for root in analysis.path.roots:
        for sec in root.sections:
            sections.setdefault(sec.node, []).append((sec.start, sec.end))
    given = (("--min-duration", min_duration_ns > 0), ("--max-depth", max_depth is not None),
             ("--critical", critical_only))  # fmt: skip
    by = tuple(name for name, on in given if on)
    return TreeView(analysis, visible, len(tree) - len(visible), by, sections, selected=selected, marks=marks or {})


def jsonable(value: AttrValue) -> Any:
    """Attribute values as JSON: bytes become base64 strings, tuples become lists."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def span_row(view: TreeView, i: int, full: bool) -> dict[str, Any]:
    """One node as a flat dict. ``full`` adds attributes, resource, events and links. Read from the tree's columns:
    no ``Span`` object is made."""
    tree = view.tree
    p = tree.parent[i]
    start, end = tree.start[i], tree.end[i]
    received_start, received_end = tree.received(i)
    row: dict[str, Any] = {
        "trace_id": tree.trace_id,
        "span_id": tree.span_id(i),
        "node": tree.keys[i],
        "parent_span_id": tree.parent_span_id(i) or None,
        "parent_node": tree.keys[p] if p >= 0 else None,
        "depth": tree.depth[i],
        "service": tree.service(i),
        "name": tree.name(i),
        "kind": tree.kind(i).label,
        "status": tree.status(i).name.lower(),
        "status_message": tree.status_message(i),
        "start_ns": start,
        "end_ns": end,
        "offset_ns": start - tree.wall_start,
        "duration_ns": end - start,
        "self_ns": view.self_ns[i],
        "cp_ns": view.cp_ns[i],
        "orphan": tree.orphan[i],
        "marks": [m for m, _n in view.marks.get(i, ())],  # explain's findings: origin, n+1, retry
    }
    if i == view.selected:
        row["selected"] = True
    if start != received_start or end != received_end:
        row["received"] = {"start_ns": received_start, "end_ns": received_end}
    if full:
        scope = tree.scope(i)
        row["attributes"] = jsonable(tree.attributes(i))
        row["resource"] = jsonable(tree.resource(i).attributes)
        row["scope"] = {"name": scope.name, "version": scope.version}
        row["events"] = [
            {"time_ns": e.time_ns, "name": e.name, "attributes": jsonable(e.attributes)} for e in tree.events(i)
        ]
        row["links"] = [
            {"trace_id": lk.trace_id, "span_id": lk.span_id, "attributes": jsonable(lk.attributes)}
            for lk in tree.links(i)
        ]
    return row


def trace_document(view: TreeView, source: str, notes: list[str]) -> dict[str, Any]:
    tree = view.tree
    return {
        "trace_id": tree.trace_id,
        "source": source,
        "start_ns": tree.wall_start,
        "duration_ns": tree.duration_ns,
        "cp_length_ns": view.analysis.path.length_ns,
        "span_count": len(tree),
        "services": tree.distinct_services(),
        "roots": [tree.keys[r] for r in tree.roots],
        "selected_span_id": tree.keys[view.selected] if view.selected >= 0 else None,
        "notes": notes,
        "warnings": [{"kind": w.kind, "message": w.message, "span_ids": list(w.span_ids)} for w in tree.warnings],
        "hidden": view.hidden,
        "spans": [
            {**span_row(view, i, full=True), **({"logs": [_log(m) for m in view.logs[i]]} if i in view.logs else {})}
            for i in view.order
        ],
        **({"unmatched_logs": [_log(m) for m in view.logs[-1]]} if -1 in view.logs else {}),
    }


def _log(m: MatchedLog) -> dict[str, Any]:
    return {"time_ns": m.record.time_ns, "level": m.level, "line": m.record.line, "matched_by": m.how}
