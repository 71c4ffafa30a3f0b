"""The words of ``explain``: one sentence per finding, and the one plain sentence at the top (pure)."""

from __future__ import annotations

from tracectl.analysis.attribution import edge_callee
from tracectl.analysis.explain import Diagnosis
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
from tracectl.units import format_duration, plural

HEADLINE_SHARE = 0.1  # a finding leads the headline from this share of the critical path up
LIST_AT_MOST = 3
CANNOT_TELL = "the spans do not say why (no exception event, status message or status code)"


def _d(ns: int) -> str:
    return format_duration(ns)


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "0%"


def label(tree: SpanTree, node: int) -> str:
    span = tree.spans[node]
    return f"{span.service} {span.name}"


def _call(tree: SpanTree, parent: int, node: int) -> str:
    """A call as its caller sees it: the span name, with the service when it is another one, and what it reached
    when its name does not say (``HTTP GET → ts-station-service /api/v1/stations``)."""
    span = tree.spans[node]
    text = span.name if span.service == tree.spans[parent].service else f"{span.service} {span.name}"
    callee = edge_callee(tree, node)
    if callee >= 0:
        reached = tree.spans[callee]
        if reached.service != span.service and reached.name not in span.name and span.name not in reached.name:
            text += f" → {reached.service} {reached.name}"
    return text


def describe(x: Finding, tree: SpanTree, length_ns: int) -> str:
    """One sentence (or two) saying what ``x`` is, with its numbers."""
    if isinstance(x, FailureOrigin):
        return _failure(x, tree)
    if isinstance(x, NPlusOne):
        return (f"{label(tree, x.parent)} called {_call(tree, x.parent, x.members[0])} {len(x.members)} times one "
                f"after another: {_d(x.sum_ns)} of its {_d(x.parent_ns)} ({_pct(x.sum_ns, x.parent_ns)}), "
                f"{x.overlapping_pairs} overlapping pair{'s' if x.overlapping_pairs != 1 else ''}, wall time "
                f"{_d(x.wall_ns)}; one batched or parallel call would save about {_d(x.saving)}.")  # fmt: skip
    if isinstance(x, Retry):
        first = _call(tree, x.parent, x.attempts[0])
        outcome = "the last attempt worked" if x.succeeded else "every attempt failed"
        return (
            f"{label(tree, x.parent)} called {first} again after it failed ({len(x.attempts)} attempts): "
            f"{outcome}; the failed attempts and the waits cost {_d(x.wasted_ns)} on the critical path."
        )
    if isinstance(x, SerialCalls):
        calls = ", ".join(_call(tree, x.parent, c) for c in x.calls[:LIST_AT_MOST])
        more = f" and {len(x.calls) - LIST_AT_MOST} more" if len(x.calls) > LIST_AT_MOST else ""
        return (
            f"{label(tree, x.parent)} made {len(x.calls)} lookups one after another ({calls}{more}): "
            f"{_d(x.sum_ns)} in a row. All are reads and none failed, so nothing in the trace says one needs "
            f"another's answer: run together they would take about {_d(x.longest_ns)}, saving {_d(x.saving)}."
        )
    if isinstance(x, QueueGap):
        return _gap(x, tree)
    if isinstance(x, DominantSection):
        stretches = f" in {x.sections} stretches" if x.sections > 1 else ""
        span = tree.spans[x.node]
        return (
            f"{label(tree, x.node)} holds {_d(x.cost_ns)} of the {_d(length_ns)} critical path "
            f"({x.share:.0%}){stretches}; {span.service} as a whole {_d(x.service_ns)} ({x.service_share:.0%})."
        )
    return x.kind


def _failure(x: FailureOrigin, tree: SpanTree) -> str:
    lead = "" if x.fatal else "A failure the request went on from: "
    failed, origin = label(tree, x.failed), label(tree, x.origin)
    says = f" ({x.failed_says})" if x.failed_says else ""
    if x.masked:
        ran = x.at_ns - tree.start[x.origin]
        after = tree.end[x.origin] - x.at_ns
        on = f" and ran on for {_d(after)} after" if after > 0 else ""
        text = (f"{lead}{failed} failed after {_d(x.at_ns - tree.start[x.failed])}{says} while waiting on {origin}, "
                f"which carries no error: it had been running for {_d(ran)} when the caller gave up{on}. The time "
                f"went to {origin}.")  # fmt: skip
    elif x.origin == x.failed:
        text = f"{lead}{origin} failed: {x.mechanism or CANNOT_TELL}."
    else:
        text = f"{lead}{origin} failed first: {x.mechanism or CANNOT_TELL}; the failure surfaced at {failed}{says}."
    if x.later:
        names = ", ".join(label(tree, n) for n in x.later[:LIST_AT_MOST])
        more = f" and {len(x.later) - LIST_AT_MOST} more" if len(x.later) > LIST_AT_MOST else ""
        text += f" Its siblings failed after it ({names}{more}): likely consequences."
    return text


def _gap(x: QueueGap, tree: SpanTree) -> str:
    child, parent = label(tree, x.child), label(tree, x.parent)
    if len(x.instances) > 1:
        sizes = [_d(g) for _p, _c, g in x.instances[1:LIST_AT_MOST]]
        rest = len(x.instances) - LIST_AT_MOST
        more = f" and {rest} more" if rest > 0 else ""
        again = "once more" if len(x.instances) == 2 else f"{len(x.instances) - 1} more times"
        repeats = f" (and {again}: {', '.join(sizes)}{more})"
        total = f"{_d(x.cost_ns)} on the critical path in all"
    else:
        repeats, total = "", f"{_d(x.cost_ns)} of it on the critical path"
    if x.where == "call":
        side = 0.05 * x.gap_ns  # a side this small is not worth naming
        if x.before_ns > side and x.after_ns > side:
            what = (
                f"{parent} spent {_d(x.gap_ns)} outside {child}: {_d(x.before_ns)} before it started and "
                f"{_d(x.after_ns)} after it finished"
            )
        elif x.before_ns > side:
            what = f"{child} started {_d(x.before_ns)} after {parent} sent the call"
        else:
            what = f"{parent} got its reply {_d(x.after_ns)} after {child} finished"
        return (f"{what}{repeats}: time on the network or in a queue or a connection pool between them (or the two "
                f"hosts' clocks disagree); {total}.")  # fmt: skip
    return (f"{child} started {_d(x.gap_ns)} after {parent}'s previous step ended{repeats}, with no span in between: "
            f"a queue, a pool, a lock, or work no span records; {total}.")  # fmt: skip


def _gap_headline(x: QueueGap, tree: SpanTree, share: str, duration: str) -> str:
    caller, callee = tree.spans[x.parent].service, tree.spans[x.child].service
    if x.where == "call":
        return (
            f"{share} of this {duration} request is time between {caller} and {callee} outside {callee}'s "
            "handler (the network, a queue or a connection pool)."
        )
    return f"{share} of this {duration} request is time in {label(tree, x.parent)} no span accounts for."


def headline(diagnosis: Diagnosis) -> str:
    """One plain sentence: the fatal failure, else the costliest finding worth leading with, else where the time
    went."""
    tree = diagnosis.analysis.tree
    length = diagnosis.analysis.path.length_ns
    duration = _d(tree.duration_ns)
    fatal = next((x for x in diagnosis.failures if x.fatal), None)
    if fatal is not None:
        origin, failed = label(tree, fatal.origin), label(tree, fatal.failed)
        if fatal.masked:
            return (f"The request failed at {failed}{' (a timeout)' if fatal.timeout else ''}, but the time went to "
                    f"{origin}, still running when it gave up.")  # fmt: skip
        why = f": {fatal.mechanism}" if fatal.mechanism else " (the spans do not say why)"
        surfaced = f", and surfaced at {failed}" if fatal.origin != fatal.failed else ""
        return f"The request failed in {origin}{why}{surfaced}."
    top = next((x for x in diagnosis.findings if not isinstance(x, DominantSection)), None)
    if top is not None and length and top.cost_ns >= HEADLINE_SHARE * length:
        share = _pct(top.cost_ns, length)
        if isinstance(top, NPlusOne):
            return (
                f"{share} of this {duration} request is an N+1 loop: {label(tree, top.parent)} called "
                f"{_call(tree, top.parent, top.members[0])} {len(top.members)} times one after another."
            )
        if isinstance(top, Retry):
            return f"{share} of this {duration} request went to retries of {label(tree, top.attempts[0])}."
        if isinstance(top, SerialCalls):
            return (
                f"{share} of this {duration} request could be saved: {label(tree, top.parent)} made "
                f"{len(top.calls)} independent lookups one after another."
            )
        if isinstance(top, QueueGap):
            return _gap_headline(top, tree, share, duration)
        if isinstance(top, FailureOrigin):
            return _failure(top, tree)
    dominant = next((x for x in diagnosis.findings if isinstance(x, DominantSection)), None)
    if dominant is None:
        return f"Nothing to explain: the trace has no critical path ({plural(len(tree), 'span')})."
    where = label(tree, dominant.node)
    if dominant.share >= 0.5:
        return (
            f"Most of this {duration} request is {where}: {_d(dominant.cost_ns)} ({dominant.share:.0%}) of the "
            "critical path."
        )
    return (
        f"Nothing stands out in this {duration} request; its largest part is {where}: "
        f"{_d(dominant.cost_ns)} ({dominant.share:.0%}) of the critical path."
    )
