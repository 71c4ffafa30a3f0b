"""One call from a trace to everything the commands show about it: tree, self times, path, attribution."""

from __future__ import annotations

from dataclasses import dataclass

from tracectl.analysis.attribution import Attribution, ComponentKey, attribute, parse_key
from tracectl.analysis.critical_path import CriticalPath, critical_path
from tracectl.analysis.selftime import self_times
from tracectl.analysis.tree import SpanTree, build_tree
from tracectl.model import Trace


@dataclass(frozen=True, slots=True)
class TraceAnalysis:
    tree: SpanTree
    self_ns: list[int]
    path: CriticalPath
    cp_ns: list[int]  # critical-path time per node
    attribution: Attribution


def analyse_trace(trace: Trace, by: ComponentKey | str = "service") -> TraceAnalysis:
    """Rebuild the tree, then compute self times, the critical path and the attribution by ``by``."""
    key = parse_key(by) if isinstance(by, str) else by
    tree = build_tree(trace)
    selfs = self_times(tree)
    path = critical_path(tree)
    return TraceAnalysis(tree, selfs, path, path.per_node_ns(), attribute(path, key, selfs))
