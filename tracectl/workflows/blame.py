"""Latency attribution: one trace's table, the aggregate over many, or typical against tail."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracectl._gc import kept_bulk
from tracectl.analysis.analyse import analyse_trace  # not per trace: an import statement costs ~1 µs a call
from tracectl.results import Result
from tracectl.workflows.sources import InputCounts, load_inputs

if TYPE_CHECKING:
    from tracectl.analysis.aggregate import Aggregate, BucketComparison
    from tracectl.analysis.attribution import Attribution
    from tracectl.backends.query import SearchQuery
    from tracectl.model import Trace
    from tracectl.workflows.session import Session


BLAME_SCHEMA = "tracectl.blame/v1"
TRACE_CSV_COLUMNS = ("key", "edge", "spans", "errors", "self_ns", "cp_ns", "share")
AGG_CSV_COLUMNS = (
    "key", "edge", "traces", "spans", "errors", "error_rate", "share", "cp_mean", "cp_p50", "cp_p95", "cp_p99",
    "self_mean", "self_p50", "self_p95", "self_p99",
)  # fmt: skip
BUCKET_CSV_COLUMNS = ("key", "edge", "typical_cp_mean", "tail_cp_mean", "delta", "typical_share", "tail_share")


@dataclass(slots=True)
class TraceBlame(Result, schema=BLAME_SCHEMA, columns=TRACE_CSV_COLUMNS):
    """Where one trace's time went, by component."""

    attribution: Attribution
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class AggregateBlame(Result, schema=BLAME_SCHEMA, columns=AGG_CSV_COLUMNS):
    """Per component over many traces: traces seen, error rate, share, critical-path percentiles."""

    aggregate: Aggregate
    warnings: list[str] = field(default_factory=list)
    inputs: InputCounts = field(default_factory=InputCounts)


@dataclass(slots=True)
class BucketBlame(Result, schema=BLAME_SCHEMA, columns=BUCKET_CSV_COLUMNS):
    """What dominates the tail (≥ p99) that does not dominate typical requests (around the median)."""

    buckets: BucketComparison
    traces: int
    warnings: list[str] = field(default_factory=list)
    inputs: InputCounts = field(default_factory=InputCounts)


Blame = TraceBlame | AggregateBlame | BucketBlame


def attribute(key_spec: str, trace: Trace) -> tuple[Attribution, tuple[str, ...]]:
    """One trace's attribution and what its tree repaired: what a worker process sends back for it."""
    analysis = analyse_trace(trace, key_spec)  # parse_key keeps each spelling's key
    said = analysis.tree.warnings
    return analysis.attribution, tuple([w.message for w in said]) if said else ()


def blame(
    session: Session | None, traces: list[str] | None = None, *, query: SearchQuery | None = None,
    by: str = "service", bucket: bool = False, skip_bad: bool = False, jobs: int | None = None,
) -> Blame:  # fmt: skip
    """Attribute the latency of ``traces`` (files, directories, globs, IDs) or of what ``query`` finds.

    ``jobs``: processes reading many files, this one included (default: one per processor; 1: this one only).
    """
    from functools import partial

    from tracectl.analysis.attribution import parse_key
    from tracectl.workflows import pool
    from tracectl.workflows.repairs import repairs_said
    from tracectl.workflows.session import no_progress

    parse_key(by)  # a bad --by fails before anything is read or fetched
    work = partial(attribute, by)
    files, listed = pool.named_files(traces, query)
    if files:  # read and analysed a file at a time, in worker processes when there are many
        merged = pool.over_files(session, files, work, jobs=jobs, skip_bad=skip_bad, listed=listed,
                                   label="reading and analysing")  # fmt: skip
        results, counts, warnings = merged.results, merged.counts, merged.warnings
    else:
        loaded = load_inputs(session, traces, query, skip_bad)
        warnings, counts = list(loaded.warnings), loaded.counts
        progress = session.progress if session is not None else no_progress
        with progress("analysing") as update, kept_bulk():  # as in load_many: a growing, acyclic heap
            results = []
            for n, trace in enumerate(loaded.traces, 1):
                results.append(work(trace))
                update(n, counts.analysed)
    attributions = [a for a, _ in results]
    warnings += repairs_said([(a.trace_id, what) for a, repairs in results for what in repairs], session)
    if len(attributions) == 1 and not bucket:
        return TraceBlame(attributions[0], warnings)
    if bucket:
        from tracectl.analysis.aggregate import compare_buckets

        return BucketBlame(compare_buckets(attributions), len(attributions), warnings, counts)
    from tracectl.analysis.aggregate import aggregate

    return AggregateBlame(aggregate(attributions), warnings, counts)
