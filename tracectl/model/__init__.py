"""The domain model: plain slotted dataclasses, integer nanoseconds, canonical hex IDs.

Every reader produces these and every analysis consumes them. IDs are normalised once, at the edge
(see ``tracectl.ids``): trace IDs are 32 lowercase hex characters, span IDs 16. Times are integer
nanoseconds since the Unix epoch. Nothing here does I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from tracectl.model.columns import SpanColumns

# An attribute value as OTLP allows it: scalars, bytes, arrays and key/value lists (nested).
AttrValue = Union[str, bool, int, float, bytes, tuple["AttrValue", ...], "Mapping[str, AttrValue]"]
Attributes = Mapping[str, AttrValue]

UNKNOWN_SERVICE = "unknown_service"


class SpanKind(enum.IntEnum):
    """OTLP span kinds, with OTLP's integer values."""

    UNSPECIFIED = 0
    INTERNAL = 1
    SERVER = 2
    CLIENT = 3
    PRODUCER = 4
    CONSUMER = 5

    @property
    def label(self) -> str:
        return self.name.lower()


class StatusCode(enum.IntEnum):
    """OTLP status codes, with OTLP's integer values."""

    UNSET = 0
    OK = 1
    ERROR = 2


@dataclass(frozen=True, slots=True)
class Resource:
    """The entity that produced spans (a process / service instance). Shared by all its spans."""

    attributes: Attributes = field(default_factory=dict)

    @property
    def service(self) -> str:
        name = self.attributes.get("service.name")
        return name if isinstance(name, str) and name else UNKNOWN_SERVICE


@dataclass(frozen=True, slots=True)
class Scope:
    """The instrumentation scope (library) that produced a span."""

    name: str = ""
    version: str = ""


EMPTY_RESOURCE = Resource()
EMPTY_SCOPE = Scope()


@dataclass(frozen=True, slots=True)
class Event:
    """A timestamped annotation on a span (Jaeger calls these logs)."""

    time_ns: int
    name: str
    attributes: Attributes = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Link:
    """A reference from a span to another span, possibly in another trace."""

    trace_id: str
    span_id: str
    attributes: Attributes = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Span:
    """One span, as received. Analysis never mutates it: adjustments live on the rebuilt tree."""

    trace_id: str
    span_id: str
    parent_span_id: str  # "" for a root
    name: str
    start_ns: int
    end_ns: int
    kind: SpanKind = SpanKind.UNSPECIFIED
    status: StatusCode = StatusCode.UNSET
    status_message: str = ""
    attributes: Attributes = field(default_factory=dict)
    resource: Resource = EMPTY_RESOURCE
    scope: Scope = EMPTY_SCOPE
    events: tuple[Event, ...] = ()
    links: tuple[Link, ...] = ()
    # True when the parent reference is asynchronous (Jaeger FOLLOWS_FROM): the parent does not wait.
    follows_from: bool = False

    @property
    def service(self) -> str:
        return self.resource.service

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns

    @property
    def is_error(self) -> bool:
        return self.status is StatusCode.ERROR


class Trace:
    """All the spans received for one trace ID, in the order they were read.

    Held as ``Span`` objects or as columns (``tracectl.model.columns``: what the readers build); each form is made
    from the other the first time it is asked for, and both then describe the same spans. Code that walks whole
    traces (the tree, the critical path, attribution) reads ``columns``; ``spans`` is for code that wants objects.
    """

    __slots__ = ("_columns", "_spans", "trace_id")

    def __init__(self, trace_id: str, spans: Iterable[Span] | None = None, *, columns: SpanColumns | None = None):
        if spans is None and columns is None:
            raise TypeError("Trace needs spans or columns")
        self.trace_id = trace_id
        self._spans: tuple[Span, ...] | None = tuple(spans) if spans is not None else None
        self._columns = columns

    @classmethod
    def from_columns(cls, columns: SpanColumns) -> Trace:
        return cls(columns.trace_id, columns=columns)

    @property
    def spans(self) -> tuple[Span, ...]:
        if self._spans is None:
            self._spans = self._columns.spans()  # type: ignore[union-attr]  # one of the two is always set
        return self._spans

    @property
    def built_spans(self) -> tuple[Span, ...] | None:
        """The ``Span`` objects if this trace holds them already (never builds them), else None."""
        return self._spans

    @property
    def columns(self) -> SpanColumns:
        if self._columns is None:
            from tracectl.model.columns import SpanColumns

            self._columns = SpanColumns.from_spans(self.trace_id, self.spans)
        return self._columns

    def __len__(self) -> int:
        return len(self._spans) if self._spans is not None else len(self.columns)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trace):
            return NotImplemented
        return self.trace_id == other.trace_id and self.spans == other.spans

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Trace(trace_id={self.trace_id!r}, spans={len(self)})"

    def __getstate__(self) -> tuple[str, tuple[Span, ...]]:
        return self.trace_id, self.spans

    def __setstate__(self, state: tuple[str, tuple[Span, ...]]) -> None:
        self.trace_id, self._spans = state
        self._columns = None

    @property
    def services(self) -> list[str]:
        if self._spans is None and self._columns is not None:
            return sorted(set(self._columns.services()))
        return sorted({s.service for s in self.spans})


def group_traces(spans: Iterable[Span]) -> list[Trace]:
    """Group spans by trace ID, keeping first-seen order of traces and of spans within a trace."""
    by_id: dict[str, list[Span]] = {}
    for span in spans:
        by_id.setdefault(span.trace_id, []).append(span)
    return [Trace(trace_id, tuple(group)) for trace_id, group in by_id.items()]


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One log line from Loki: its stream labels, structured metadata and parsed fields kept apart."""

    time_ns: int
    line: str
    labels: Mapping[str, str] = field(default_factory=dict)
    metadata: Mapping[str, str] = field(default_factory=dict)  # OTLP structured metadata (trace_id, span_id, …)
    parsed: Mapping[str, str] = field(default_factory=dict)  # fields extracted by a parser stage (| json)

    def get(self, *names: str) -> str | None:
        """The first of ``names`` found in structured metadata, parsed fields, then stream labels."""
        for source in (self.metadata, self.parsed, self.labels):
            for name in names:
                value = source.get(name)
                if value:
                    return value
        return None
