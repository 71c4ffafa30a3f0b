"""One slow or failed request, one verdict: the patterns an expert reads in a single trace (``tracectl explain``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracectl.results import Result
from tracectl.units import plural
from tracectl.workflows.inspect import session_warn
from tracectl.workflows.sources import load_trace_arg, select_traces, selected_span

if TYPE_CHECKING:
    from tracectl.analysis.explain import Diagnosis
    from tracectl.model import Trace
    from tracectl.workflows.session import Session


EXPLAIN_SCHEMA = "tracectl.explain/v1"
EXPLAIN_CSV_COLUMNS = (
    "rank", "kind", "cost_ns", "saving_ns", "share", "span_id", "service", "name", "parent_span_id", "count",
    "sentence",
)  # fmt: skip


@dataclass(slots=True)
class Explanation(Result, schema=EXPLAIN_SCHEMA, columns=EXPLAIN_CSV_COLUMNS):
    """One trace's findings, ranked, with its one-sentence verdict and every warning about the data."""

    source: str
    diagnosis: Diagnosis
    selected: int = -1  # the node a traceparent named (-1: none)
    warnings: list[str] = field(default_factory=list)

    @property
    def sentence(self) -> str:
        from tracectl.analysis.explain_text import headline

        return headline(self.diagnosis)


def explain(
    session: Session | None, trace: str, *, trace_id: str | None = None, keep_minor: bool = False
) -> Explanation:
    """Explain the trace ``trace`` names (a file, ``-``, a trace ID or a traceparent). A file of several traces
    without ``trace_id``: the slowest of them, said in a warning."""
    from tracectl.analysis.analyse import analyse_trace
    from tracectl.analysis.explain import explain_trace

    loaded = load_trace_arg(trace, session)
    warnings = [f"{loaded.source}: {note}" for note in loaded.notes]
    chosen = _slowest(select_traces(loaded, trace_id), loaded.source, warnings)
    analysis = analyse_trace(chosen)
    tree = analysis.tree
    span_id = selected_span(trace, trace_id)
    selected = tree.keys.index(span_id) if span_id in tree.keys else -1
    if span_id is not None and selected < 0:
        warnings.append(f"span {span_id} of the traceparent is not in the trace (not received, or not exported)")
    warnings += [f"trace {tree.trace_id}: {w.message}" for w in tree.warnings]
    for warning in warnings:
        session_warn(session, warning)
    return Explanation(loaded.source, explain_trace(analysis, keep_minor), selected, warnings)


def _slowest(traces: list[Trace], source: str, warnings: list[str]) -> Trace:
    from tracectl.analysis.tree import MAX_VALID_NS, MIN_VALID_NS

    def wall(t: Trace) -> int:  # absurd timestamps (which the tree repairs) must not make a trace the slowest
        times = [x for s in t.spans for x in (s.start_ns, s.end_ns) if MIN_VALID_NS <= x <= MAX_VALID_NS]
        return max(times) - min(times) if times else 0

    if not traces:
        from tracectl.errors import InputError

        raise InputError(f"{source}: holds no trace")
    if len(traces) == 1:
        return traces[0]
    chosen = max(traces, key=lambda t: (wall(t), t.trace_id))
    warnings.append(f"{source} holds {plural(len(traces), 'trace')}; explaining the slowest, {chosen.trace_id} "
                    "(--trace-id picks another)")  # fmt: skip
    return chosen
