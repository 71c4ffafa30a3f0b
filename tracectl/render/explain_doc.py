"""``explain`` for scripts: the JSON document (schema ``tracectl.explain/v1``, pinned by docs/explain.md) and one
row per finding (JSON Lines, CSV). Triage's ``worst_trace.findings`` uses the same finding objects."""

from __future__ import annotations

from typing import Any

from tracectl.analysis.explain import Diagnosis
from tracectl.analysis.explain_text import describe, headline
from tracectl.analysis.findings import (
    DominantSection,
    FailureOrigin,
    Finding,
    NPlusOne,
    QueueGap,
    Retry,
    SerialCalls,
)
from tracectl.analysis.tree import SpanTree


def roles(x: Finding) -> list[tuple[str, int]]:
    """(role, node) of every span a finding is about, most telling first."""
    if isinstance(x, FailureOrigin):
        between = [("chain", n) for n in x.chain[1:-1]]
        failed = [] if x.failed == x.origin else [("failed", x.failed)]
        return [("origin", x.origin), *failed, *between, *[("later", n) for n in x.later]]
    if isinstance(x, NPlusOne):
        return [("parent", x.parent), *[("call", m) for m in x.members]]
    if isinstance(x, Retry):
        return [*[("attempt", a) for a in x.attempts], ("parent", x.parent)]
    if isinstance(x, SerialCalls):
        return [("parent", x.parent), *[("call", c) for c in x.calls]]
    if isinstance(x, QueueGap):
        return [("child", x.child), ("parent", x.parent), *[("child", c) for _p, c, _g in x.instances[1:]]]
    if isinstance(x, DominantSection):
        return [("section", x.node)]
    return [("span", n) for n in x.nodes()]


def main_node(x: Finding) -> int:
    """The span a one-line summary names: the origin, the loop's parent, the first attempt, the late child."""
    if isinstance(x, FailureOrigin):
        return x.origin
    if isinstance(x, NPlusOne | SerialCalls):
        return x.parent
    return roles(x)[0][1]


def _parent(x: Finding) -> int | None:
    return x.parent if isinstance(x, NPlusOne | Retry | SerialCalls | QueueGap) else None


def _count(x: Finding) -> int:
    if isinstance(x, NPlusOne):
        return len(x.members)
    if isinstance(x, Retry):
        return len(x.attempts)
    if isinstance(x, SerialCalls):
        return len(x.calls)
    if isinstance(x, QueueGap):
        return len(x.instances)
    return 1


def _span(tree: SpanTree, cp_ns: list[int], role: str, node: int) -> dict[str, Any]:
    span = tree.spans[node]
    return {"role": role, "span_id": tree.keys[node], "service": span.service, "name": span.name,
            "start_ns": tree.start[node], "duration_ns": tree.end[node] - tree.start[node], "cp_ns": cp_ns[node],
            "status": span.status.name.lower()}  # fmt: skip


def _details(x: Finding, tree: SpanTree) -> dict[str, Any]:
    """The numbers of one kind of finding (span IDs as node keys)."""
    key = tree.keys
    if isinstance(x, FailureOrigin):
        return {"fatal": x.fatal, "masked": x.masked, "timeout": x.timeout, "at_ns": x.at_ns,
                "mechanism": x.mechanism, "failed_says": x.failed_says, "origin_span_id": key[x.origin],
                "failed_span_id": key[x.failed], "chain": [key[n] for n in x.chain],
                "later": [key[n] for n in x.later]}  # fmt: skip
    if isinstance(x, NPlusOne):
        span = tree.spans[x.members[0]]
        return {"operation": {"service": span.service, "name": span.name}, "count": len(x.members),
                "overlapping_pairs": x.overlapping_pairs, "wall_ns": x.wall_ns, "sum_ns": x.sum_ns,
                "longest_ns": x.longest_ns, "parent_duration_ns": x.parent_ns}  # fmt: skip
    if isinstance(x, Retry):
        span = tree.spans[x.attempts[0]]
        return {"operation": {"service": span.service, "name": span.name}, "attempts": len(x.attempts),
                "succeeded": x.succeeded}  # fmt: skip
    if isinstance(x, SerialCalls):
        return {"calls": len(x.calls), "sum_ns": x.sum_ns, "longest_ns": x.longest_ns}
    if isinstance(x, QueueGap):
        return {"where": x.where, "gap_ns": x.gap_ns, "before_ns": x.before_ns, "after_ns": x.after_ns,
                "start_ns": x.start_ns,
                "instances": [{"parent_span_id": key[p], "child_span_id": key[c], "gap_ns": g}
                              for p, c, g in x.instances]}  # fmt: skip
    if isinstance(x, DominantSection):
        return {"share": x.share, "sections": x.sections, "service": tree.spans[x.node].service,
                "service_cp_ns": x.service_ns, "service_share": x.service_share}  # fmt: skip
    return {}


def finding_document(x: Finding, rank: int, diagnosis: Diagnosis) -> dict[str, Any]:
    """One finding for ``-o json``: kind, rank, cost and saving, the sentence, its spans, and its own numbers."""
    a = diagnosis.analysis
    tree, length = a.tree, a.path.length_ns
    parent = _parent(x)
    return {
        "rank": rank,
        "kind": x.kind,
        "cost_ns": x.cost_ns,
        "saving_ns": x.saving_ns,
        "share": x.cost_ns / length if length else 0.0,
        "sentence": describe(x, tree, length),
        "parent_span_id": tree.keys[parent] if parent is not None else None,
        "spans": [_span(tree, a.cp_ns, role, node) for role, node in roles(x)],
        **_details(x, tree),
    }


def findings_document(diagnosis: Diagnosis) -> list[dict[str, Any]]:
    return [finding_document(x, n, diagnosis) for n, x in enumerate(diagnosis.findings, 1)]


def explain_document(diagnosis: Diagnosis, source: str, selected: int, warnings: list[str]) -> dict[str, Any]:
    """The whole ``tracectl.explain/v1`` document (without ``schema``, which the writer adds)."""
    tree = diagnosis.analysis.tree
    return {
        "trace_id": tree.trace_id,
        "source": source,
        "start_ns": tree.wall_start,
        "duration_ns": tree.duration_ns,
        "cp_length_ns": diagnosis.analysis.path.length_ns,
        "span_count": len(tree),
        "services": sorted({s.service for s in tree.spans}),
        "error_spans": sum(s.is_error for s in tree.spans),
        "selected_span_id": tree.keys[selected] if selected >= 0 else None,
        "sentence": headline(diagnosis),
        "findings": findings_document(diagnosis),
        "minor_findings": diagnosis.minor,
        "warnings": warnings,
    }


def finding_rows(diagnosis: Diagnosis) -> list[dict[str, Any]]:
    """One flat row per finding (JSON Lines, CSV)."""
    a = diagnosis.analysis
    tree, length = a.tree, a.path.length_ns
    rows = []
    for n, x in enumerate(diagnosis.findings, 1):
        node, parent = main_node(x), _parent(x)
        span = tree.spans[node]
        rows.append({"trace_id": tree.trace_id, "rank": n, "kind": x.kind, "cost_ns": x.cost_ns,
                     "saving_ns": x.saving_ns, "share": x.cost_ns / length if length else 0.0,
                     "span_id": tree.keys[node], "service": span.service, "name": span.name,
                     "parent_span_id": tree.keys[parent] if parent is not None else None, "count": _count(x),
                     "sentence": describe(x, tree, length)})  # fmt: skip
    return rows
