"""What changed between two traces, or two sets of traces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracectl.results import Result
from tracectl.workflows.repairs import repair_warnings
from tracectl.workflows.sources import InputCounts, load_many

if TYPE_CHECKING:
    from tracectl.analysis.analyse import TraceAnalysis
    from tracectl.analysis.compare import AlignedRow, SetDiff
    from tracectl.workflows.session import Session


DIFF_SCHEMA = "tracectl.diff/v1"
DIFF_CSV_COLUMNS = ("key", "edge", "cp_a", "cp_b", "cp_delta", "self_a", "self_b", "errors_a", "errors_b")


@dataclass(slots=True)
class Difference(Result, schema=DIFF_SCHEMA, columns=DIFF_CSV_COLUMNS):
    """What explains B's extra time (the triage ranking, B as the suspects), what got faster, per component (and
    edge) critical-path and self time in A and B, calls that changed; for two single traces, the two trees
    aligned span by span."""

    result: SetDiff
    aligned: list[dict[str, Any]] | None = None
    warnings: list[str] = field(default_factory=list)
    inputs: InputCounts = field(default_factory=InputCounts)  # A and B together


def diff(
    session: Session | None, a: str, b: str, *, by: str = "service", logs_files: list[str] | None = None
) -> Difference:
    """Compare B with A: each a trace (file or ID), a directory, or a glob; ``logs_files``: saved log lines."""
    from tracectl.analysis.analyse import analyse_trace
    from tracectl.analysis.compare import align, diff_sets
    from tracectl.backends.logfiles import read_log_files

    warnings: list[str] = []
    counts = InputCounts()

    def side(arg: str) -> list[Any]:
        loaded = load_many([arg], session)
        warnings.extend(loaded.warnings)
        counts.add(loaded.counts)
        return [analyse_trace(t, by) for t in loaded.traces]

    set_a, set_b = side(a), side(b)
    warnings += repair_warnings((x.tree for x in [*set_a, *set_b]), session)
    result = diff_sets(set_a, set_b, read_log_files(logs_files) if logs_files else None)
    single = len(set_a) == len(set_b) == 1
    aligned = aligned_rows(align(set_a[0], set_b[0]), set_a[0], set_b[0]) if single else None
    return Difference(result, aligned, warnings, counts)


def aligned_rows(rows: list[AlignedRow], a: TraceAnalysis, b: TraceAnalysis) -> list[dict[str, Any]]:
    def dur(an: TraceAnalysis, n: int) -> int | None:
        return an.tree.end[n] - an.tree.start[n] if n >= 0 else None

    return [
        {
            "depth": r.depth,
            "span": r.label,
            "duration_a_ns": dur(a, r.node_a),
            "duration_b_ns": dur(b, r.node_b),
            "span_id_a": a.tree.spans[r.node_a].span_id if r.node_a >= 0 else None,
            "span_id_b": b.tree.spans[r.node_b].span_id if r.node_b >= 0 else None,
        }
        for r in rows
    ]
