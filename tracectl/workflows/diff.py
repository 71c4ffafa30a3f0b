"""What changed between two traces, or two sets of traces."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from tracectl.render.diff_view import (
    DIFF_CSV_COLUMNS,
    DIFF_SCHEMA,
    aligned_rows,
    component_rows,
    diff_document,
    render_diff,
)
from tracectl.workflows.repairs import repair_warnings
from tracectl.workflows.sources import InputCounts, load_many

if TYPE_CHECKING:
    from rich.console import Console

    from tracectl.analysis.compare import SetDiff
    from tracectl.results import RenderOptions
    from tracectl.workflows.session import Session


@dataclass(slots=True)
class Difference:
    """What explains B's extra time (the triage ranking, B as the suspects), what got faster, per component (and
    edge) critical-path and self time in A and B, calls that changed; for two single traces, the two trees
    aligned span by span."""

    schema: ClassVar[str] = DIFF_SCHEMA
    columns: ClassVar[tuple[str, ...]] = DIFF_CSV_COLUMNS

    result: SetDiff
    aligned: list[dict[str, Any]] | None = None
    warnings: list[str] = field(default_factory=list)
    inputs: InputCounts = field(default_factory=InputCounts)  # A and B together

    def document(self, opts: RenderOptions) -> dict[str, Any]:
        return {**diff_document(self.result, self.aligned), "inputs": self.inputs.document(),
                "warnings": self.warnings}  # fmt: skip

    def rows(self, opts: RenderOptions) -> Iterable[Mapping[str, Any]]:
        return component_rows(self.result.comparison)

    def table(self, console: Console, opts: RenderOptions) -> None:
        render_diff(self.result, console, opts.top, self.aligned)


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
