"""One call from a trace to everything the commands show about it: tree, self times, path, attribution.

The tree and the critical path are computed at once; self times, per-node critical-path time and the attribution
when first asked for (``tracectl path`` needs none of them; ``blame`` needs no tree view), then kept.
"""

from __future__ import annotations

from tracectl.analysis.attribution import Attribution, ComponentKey, attribute, parse_key
from tracectl.analysis.critical_path import CriticalPath, critical_path
from tracectl.analysis.selftime import self_times
from tracectl.analysis.tree import SpanTree, build_tree
from tracectl.model import Trace


class TraceAnalysis:
    """A trace's tree and critical path; ``self_ns``, ``cp_ns`` (critical-path time per node) and ``attribution``
    computed on first use. Read-only."""

    __slots__ = ("_attribution", "_cp_ns", "_key", "_self_ns", "path", "tree")

    def __init__(self, tree: SpanTree, path: CriticalPath, key: ComponentKey) -> None:
        self.tree = tree
        self.path = path
        self._key = key
        self._self_ns: list[int] | None = None
        self._cp_ns: list[int] | None = None
        self._attribution: Attribution | None = None

    @property
    def self_ns(self) -> list[int]:
        if self._self_ns is None:
            self._self_ns = self_times(self.tree)
        return self._self_ns

    @property
    def cp_ns(self) -> list[int]:
        if self._cp_ns is None:
            self._cp_ns = self.path.per_node_ns()
        return self._cp_ns

    @property
    def attribution(self) -> Attribution:
        if self._attribution is None:
            self._attribution = attribute(self.path, self._key, self.self_ns)
        return self._attribution

    def __repr__(self) -> str:
        return f"TraceAnalysis(trace_id={self.tree.trace_id!r}, spans={len(self.tree)}, by={self._key.spec!r})"


def analyse_trace(trace: Trace, by: ComponentKey | str = "service") -> TraceAnalysis:
    """Rebuild the tree and compute the critical path; self times and the attribution by ``by`` follow on use."""
    key = parse_key(by) if isinstance(by, str) else by
    tree = build_tree(trace)
    return TraceAnalysis(tree, critical_path(tree), key)
