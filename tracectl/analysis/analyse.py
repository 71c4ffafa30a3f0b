"""One call from a trace to everything the commands show about it: tree, self times, path, attribution.

The tree is computed at once; the critical path, self times, per-node critical-path time and the attribution when
first asked for (``tracectl path`` needs no attribution; ``blame`` needs no path sections), then kept.
"""

from __future__ import annotations

from tracectl.analysis.attribution import Attribution, ComponentKey, attribute_nodes, parse_key
from tracectl.analysis.critical_path import CriticalPath, critical_path, path_times
from tracectl.analysis.selftime import self_times
from tracectl.analysis.tree import SpanTree, build_tree
from tracectl.model import Trace


class TraceAnalysis:
    """A trace's tree; its critical path, ``self_ns``, ``cp_ns`` (critical-path time per node) and ``attribution``
    computed on first use. Read-only. (``blame`` needs no ``Section`` objects: without ``path``, ``cp_ns`` comes
    from the same walk, summed per node.)"""

    __slots__ = ("_attribution", "_cp", "_key", "_path", "_self_ns", "tree")

    def __init__(self, tree: SpanTree, path: CriticalPath | None, key: ComponentKey) -> None:
        self.tree = tree
        self._path = path
        self._key = key
        self._self_ns: list[int] | None = None
        self._cp: tuple[list[int], int] | None = None
        self._attribution: Attribution | None = None

    @property
    def path(self) -> CriticalPath:
        if self._path is None:
            self._path = critical_path(self.tree)
        return self._path

    @property
    def self_ns(self) -> list[int]:
        if self._self_ns is None:
            self._self_ns = self_times(self.tree)
        return self._self_ns

    @property
    def cp_ns(self) -> list[int]:
        return self._path_times()[0]

    def _path_times(self) -> tuple[list[int], int]:
        if self._cp is None:
            path = self._path
            self._cp = (path.per_node_ns(), path.length_ns) if path is not None else path_times(self.tree)
        return self._cp

    @property
    def attribution(self) -> Attribution:
        if self._attribution is None:
            cp_ns, length = self._path_times()
            self._attribution = attribute_nodes(self.tree, self._key, self.self_ns, cp_ns, length)
        return self._attribution

    def __repr__(self) -> str:
        return f"TraceAnalysis(trace_id={self.tree.trace_id!r}, spans={len(self.tree)}, by={self._key.spec!r})"


def analyse_trace(trace: Trace, by: ComponentKey | str = "service") -> TraceAnalysis:
    """Rebuild the tree; the critical path, self times and the attribution by ``by`` follow on use."""
    key = parse_key(by) if isinstance(by, str) else by
    return TraceAnalysis(build_tree(trace), None, key)
