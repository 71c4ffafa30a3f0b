"""What ``explain`` finds in one trace (the finding types), and the per-trace facts every pattern reads.

Findings refer to spans by node index of the rebuilt tree (``SpanTree``); renderers resolve them to span IDs.
``cost_ns`` is what a finding costs on the critical path and orders the findings; ``saving_ns`` is the time a
fix would give back (None for the findings that name a place rather than a fix). Both are bounded by the
trace's critical-path length (property-tested). The thresholds are in the modules that use them and in
docs/analysis.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

from tracectl.analysis.analyse import TraceAnalysis
from tracectl.analysis.attribution import edge_callee
from tracectl.analysis.tree import SpanTree
from tracectl.model import Span, SpanKind, StatusCode

# Two spans "touch" (back to back, or one still running when the other stops) within this much, or within
# ``RELATIVE_TOLERANCE`` of the longer span: SDKs end a parent after its last child by 0.1–4 ms (measured on
# rca-dev/otel-fastapi), and a loop does a little work between two calls.
TOUCH_TOLERANCE_NS = 2_000_000
RELATIVE_TOLERANCE = 0.02
# Two calls of one parent overlap only beyond this (one process's clock, so only rounding to the microsecond or
# the millisecond; 1% of the shorter call covers the second).
OVERLAP_TOLERANCE_NS = 100_000
OVERLAP_RELATIVE = 0.01

_HTTP_STATUS = ("http.response.status_code", "http.status_code")
_GRPC_STATUS = "rpc.grpc.status_code"
# gRPC codes a server reports as its own failure (OpenTelemetry semantic conventions); a client treats every
# non-zero code as a failure.
_GRPC_SERVER_ERRORS = frozenset({2, 4, 12, 13, 14, 15})
_GRPC_NAMES = {1: "CANCELLED", 2: "UNKNOWN", 4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND", 8: "RESOURCE_EXHAUSTED",
               12: "UNIMPLEMENTED", 13: "INTERNAL", 14: "UNAVAILABLE", 15: "DATA_LOSS"}  # fmt: skip
_TIMEOUT_WORDS = re.compile(r"time[ds]?[ _-]?out|timed out|deadline", re.IGNORECASE)
_CALL_ATTRS = ("db.system", "db.system.name", "rpc.system", "http.request.method", "http.method",
               "messaging.system", "peer.service", "server.address", "net.peer.name")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the trace shows. ``kind`` is a stable key (JSON ``kind``)."""

    kind: ClassVar[str] = ""
    cost_ns: int  # time it costs on the critical path (orders the findings)

    @property
    def saving_ns(self) -> int | None:
        return None

    def nodes(self) -> tuple[int, ...]:
        """The spans it is about, most telling first."""
        return ()


@dataclass(frozen=True, slots=True)
class FailureOrigin(Finding):
    """Where a failure began: the span the request shows as failed, and the span where it started."""

    kind: ClassVar[str] = "failure"
    failed: int  # the failure as the request shows it (a failed span with no failed ancestor)
    origin: int  # where it began (masked: the span the failed one was waiting on when it gave up)
    chain: tuple[int, ...]  # from ``failed`` down to ``origin``
    masked: bool  # the origin carries no error: the failed span gave up waiting on it (a timeout)
    fatal: bool  # the request ended with this failure (else it went on: handled, or a fallback)
    at_ns: int  # when the failure happened (the failed span's end)
    later: tuple[int, ...] = ()  # sibling failures after the origin's: often its consequences
    mechanism: str | None = None  # what the spans say: exception, status message, HTTP/gRPC status
    failed_says: str | None = None  # what the failed span says, when the origin is another span
    timeout: bool = False  # the failure reads as a timeout

    def nodes(self) -> tuple[int, ...]:
        return (self.origin, self.failed)


@dataclass(frozen=True, slots=True)
class NPlusOne(Finding):
    """The same call repeated one after another under one parent, taking most of its time."""

    kind: ClassVar[str] = "n+1"
    parent: int
    members: tuple[int, ...]  # by start
    wall_ns: int  # union of the calls' intervals
    sum_ns: int  # sum of their durations
    longest_ns: int
    overlapping_pairs: int  # consecutive calls that overlap beyond the tolerance
    parent_ns: int
    saving: int  # what one batched (or parallel) call would give back on the critical path

    @property
    def saving_ns(self) -> int | None:
        return self.saving

    def nodes(self) -> tuple[int, ...]:
        return (self.parent, *self.members)


@dataclass(frozen=True, slots=True)
class Retry(Finding):
    """The same call made again after it failed."""

    kind: ClassVar[str] = "retry"
    parent: int
    attempts: tuple[int, ...]  # by start; every one but possibly the last failed
    succeeded: bool  # the last attempt worked
    wasted_ns: int  # the failed attempts and the waits between attempts, on the critical path

    @property
    def saving_ns(self) -> int | None:
        return self.wasted_ns

    def nodes(self) -> tuple[int, ...]:
        return (*self.attempts, self.parent)


@dataclass(frozen=True, slots=True)
class SerialCalls(Finding):
    """Independent lookups made one after another on the critical path."""

    kind: ClassVar[str] = "serial"
    parent: int
    calls: tuple[int, ...]
    sum_ns: int
    longest_ns: int
    saving: int  # overlapped, the run would take as long as its longest call

    @property
    def saving_ns(self) -> int | None:
        return self.saving

    def nodes(self) -> tuple[int, ...]:
        return (self.parent, *self.calls)


@dataclass(frozen=True, slots=True)
class QueueGap(Finding):
    """Time on the critical path that no span covers: before a child (the parent's previous step ended, or the
    parent started, long before it), or a call's time outside the callee's server span (before it started, after
    it ended). Repeats of one gap (same parent and child operations, same place) are one finding."""

    kind: ClassVar[str] = "gap"
    parent: int  # of the largest instance
    child: int
    where: str  # "before-child" | "call"
    before_ns: int  # before the child (the callee's server span) started
    after_ns: int  # "call": after the server span ended, until the caller's span ended
    start_ns: int  # where the largest gap begins
    instances: tuple[tuple[int, int, int], ...] = ()  # (parent, child, gap) of each, largest first

    @property
    def gap_ns(self) -> int:
        return self.before_ns + self.after_ns

    @property
    def saving_ns(self) -> int | None:
        return self.cost_ns

    def nodes(self) -> tuple[int, ...]:
        return (self.child, self.parent)


@dataclass(frozen=True, slots=True)
class DominantSection(Finding):
    """The span that holds most of the critical path, and its service's share."""

    kind: ClassVar[str] = "dominant"
    node: int
    sections: int  # separate stretches of the path it holds
    share: float  # of the critical-path length
    service_ns: int  # its service's critical-path time (edges excluded)
    service_share: float

    def nodes(self) -> tuple[int, ...]:
        return (self.node,)


# ------------------------------------------------------------------------------------------------- facts


def failed_span(span: Span) -> bool:
    """An error status, or (status unset) an HTTP or gRPC status code that means failure for this kind of span."""
    if span.status is not StatusCode.UNSET:
        return span.status is StatusCode.ERROR
    code = _int_attr(span, *_HTTP_STATUS)
    if code is not None and (code >= 500 or (code >= 400 and span.kind is SpanKind.CLIENT)):
        return True
    grpc = _int_attr(span, _GRPC_STATUS)
    if grpc is None or grpc == 0:
        return False
    return span.kind is not SpanKind.SERVER or grpc in _GRPC_SERVER_ERRORS


def _int_attr(span: Span, *names: str) -> int | None:
    for name in names:
        value = span.attributes.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return None


def mechanism(span: Span) -> str | None:
    """What the span says about its failure: the exception, the status message, the status code; None if nothing."""
    parts: list[str] = []
    for event in span.events:
        if event.name == "exception":
            kind, message = event.attributes.get("exception.type"), event.attributes.get("exception.message")
            text = ": ".join(str(x) for x in (kind, message) if x)
            if text:
                parts.append(text)
                break
    if span.status_message and not any(span.status_message in p for p in parts):
        parts.append(span.status_message)
    error_type = span.attributes.get("error.type")
    if isinstance(error_type, str) and error_type and not any(error_type in p for p in parts):
        parts.append(error_type)
    code = _int_attr(span, *_HTTP_STATUS)
    if code is not None and code >= 400:
        parts.append(f"HTTP {code}")
    grpc = _int_attr(span, _GRPC_STATUS)
    if grpc:
        parts.append(f"gRPC {_GRPC_NAMES.get(grpc, str(grpc))}")
    return "; ".join(parts) or None


def reads_as_timeout(span: Span) -> bool:
    """The span says it timed out: its messages, an HTTP 504/408, or gRPC DEADLINE_EXCEEDED."""
    if _int_attr(span, *_HTTP_STATUS) in (504, 408) or _int_attr(span, _GRPC_STATUS) == 4:
        return True
    return bool(_TIMEOUT_WORDS.search(mechanism(span) or ""))


@dataclass(slots=True)
class Facts:
    """What every pattern reads about one trace, computed once."""

    analysis: TraceAnalysis
    failed: list[bool]
    cp_sub: list[int]  # critical-path time of each node and its descendants
    sections: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # node -> its path sections

    @classmethod
    def of(cls, analysis: TraceAnalysis) -> Facts:
        tree = analysis.tree
        cp_sub = list(analysis.cp_ns)
        for node in reversed(tree.preorder()):  # children before parents
            p = tree.parent[node]
            if p >= 0:
                cp_sub[p] += cp_sub[node]
        sections: dict[int, list[tuple[int, int]]] = {}
        for root in analysis.path.roots:
            for s in root.sections:
                sections.setdefault(s.node, []).append((s.start, s.end))
        return cls(analysis, [failed_span(s) for s in tree.spans], cp_sub, sections)

    @property
    def tree(self) -> SpanTree:
        return self.analysis.tree

    @property
    def length_ns(self) -> int:
        return self.analysis.path.length_ns

    def duration(self, node: int) -> int:
        return self.tree.end[node] - self.tree.start[node]

    def op(self, node: int) -> tuple[str, str]:
        span = self.tree.spans[node]
        return span.service, span.name

    def call_key(self, node: int) -> tuple[str, ...]:
        """What a call calls: its operation, and the callee's (a generic ``HTTP POST`` reaches many endpoints)."""
        callee = edge_callee(self.tree, node)
        return (*self.op(node), *(self.op(callee) if callee >= 0 else ()))

    def touch(self, *nodes: int) -> int:
        """The tolerance for "back to back" and "still running" around these spans."""
        return max(TOUCH_TOLERANCE_NS, round(RELATIVE_TOLERANCE * max(self.duration(n) for n in nodes)))

    def overlap(self, a: int, b: int) -> int:
        """How far two calls may overlap and still count as one after the other."""
        return max(OVERLAP_TOLERANCE_NS, round(OVERLAP_RELATIVE * min(self.duration(a), self.duration(b))))

    def on_path_within(self, node: int, lo: int, hi: int) -> int:
        """Critical-path time of ``node`` itself inside ``[lo, hi)``."""
        return sum(max(0, min(e, hi) - max(s, lo)) for s, e in self.sections.get(node, ()))

    def is_call(self, node: int) -> bool:
        """A call to something else: a client or producer span, a span of another service than its parent, a
        kind-less span that calls another service, or a span with the attributes of a database, RPC, HTTP or
        messaging client."""
        tree = self.tree
        span = tree.spans[node]
        if span.kind in (SpanKind.CLIENT, SpanKind.PRODUCER):
            return True
        p = tree.parent[node]
        if p >= 0 and tree.spans[p].service != span.service:
            return True
        if span.kind is SpanKind.UNSPECIFIED and edge_callee(tree, node) >= 0:
            return True
        return span.kind not in (SpanKind.SERVER, SpanKind.CONSUMER) and any(a in span.attributes for a in _CALL_ATTRS)

    def attempt_failed(self, node: int) -> bool:
        """The call failed: its own span, or the callee's span under it."""
        if self.failed[node]:
            return True
        callee = edge_callee(self.tree, node)
        return callee >= 0 and self.failed[callee]
