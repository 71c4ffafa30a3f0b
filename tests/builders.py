"""Tiny hand-built traces for the analysis tests: times in milliseconds from T0, readable IDs."""

from __future__ import annotations

from tracectl.model import AttrValue, Resource, Span, SpanKind, StatusCode, Trace

T0 = 1_763_972_400_000_000_000
MS = 1_000_000
TRACE_ID = "7" * 32
_RESOURCES: dict[str, Resource] = {}


def sid(name: str) -> str:
    """A span ID derived from a short readable name (stable, 16 hex characters)."""
    return name.encode().hex()[:16].rjust(16, "0")


def span(
    name: str,
    start_ms: float,
    end_ms: float,
    parent: str = "",
    service: str = "svc",
    kind: SpanKind = SpanKind.INTERNAL,
    error: bool = False,
    **attrs: AttrValue,
) -> Span:
    res = _RESOURCES.setdefault(service, Resource({"service.name": service}))
    return Span(
        TRACE_ID, sid(name), sid(parent) if parent else "", name, T0 + round(start_ms * MS), T0 + round(end_ms * MS),
        kind=kind, status=StatusCode.ERROR if error else StatusCode.UNSET, attributes=dict(attrs), resource=res,
    )  # fmt: skip


def trace(*spans: Span, trace_id: str = TRACE_ID) -> Trace:
    return Trace(trace_id, spans)
