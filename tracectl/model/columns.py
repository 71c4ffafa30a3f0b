"""One trace's spans as columns: the compact store behind ``Trace`` (issue 24).

A ``Span`` object costs about 470 bytes and a trace of a million spans made of them several gigabytes, while
the commands that read whole traces (``path``, ``blame``, ``check``) need only times, parents, names, services,
kinds and statuses. ``SpanColumns`` keeps a trace as parallel columns instead: times in ``array('q')``, kind,
status and the asynchronous-parent flag in byte arrays, names, IDs, resources and scopes as lists of shared
objects (one pointer a span), and the rest of a span (status message, events, links) in a sparse table.
Attributes may be held undecoded (anything with a ``materialise()`` method, e.g. a reader's parsed structure)
and are decoded the first time something asks for them.

``Span`` objects are views made on demand: ``span(i)`` builds one; ``SpanSeq`` is a sequence of them that builds
each the first time it is read and then keeps it, so identity and equality behave as for a list of spans.
Nothing here does I/O and nothing is ever mutated after a reader hands the columns over, except the one-way
replacement of lazy attributes by their decoded form.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, MutableSequence, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, NamedTuple, Protocol, overload, runtime_checkable

if TYPE_CHECKING:  # the package imports this module; at run time the names come from it lazily
    from tracectl.model import Attributes, Event, Link, Resource, Scope, Span, Trace


@runtime_checkable
class LazyAttributes(Protocol):
    """A span's attributes as a reader parsed them, decoded on first use. Must be validated already: decoding
    may not fail (a reader that could not vouch for the values decodes them eagerly)."""

    def materialise(self) -> Attributes: ...


class SpanExtra(NamedTuple):
    """The rarely present parts of a span, kept only for the spans that have one of them."""

    status_message: str = ""
    events: tuple[Event, ...] = ()
    links: tuple[Link, ...] = ()


def _int64_column(values: Iterable[int]) -> MutableSequence[int]:
    """``array('q')`` when every value fits, else a plain list (a hand-built span may hold anything)."""
    items = values if isinstance(values, list) else list(values)
    try:
        return array("q", items)
    except (OverflowError, TypeError):
        return items


@dataclass(slots=True, eq=False)
class SpanColumns:
    """The spans of one trace, in the order they were read, as parallel columns (index ``i`` is span ``i``)."""

    trace_id: str
    span_id: list[str] = field(default_factory=list)
    parent_id: list[str] = field(default_factory=list)  # "" for a root
    name: list[str] = field(default_factory=list)
    start: MutableSequence[int] = field(default_factory=lambda: array("q"))  # ns since the epoch
    end: MutableSequence[int] = field(default_factory=lambda: array("q"))
    kind: bytearray = field(default_factory=bytearray)  # SpanKind values
    status: bytearray = field(default_factory=bytearray)  # StatusCode values
    follows_from: bytearray = field(default_factory=bytearray)  # 1: the parent does not wait (FOLLOWS_FROM)
    resource: list[Resource] = field(default_factory=list)  # shared objects: one pointer a span
    scope: list[Scope] = field(default_factory=list)
    attributes: list[Attributes | LazyAttributes] = field(default_factory=list)
    extra: dict[int, SpanExtra] = field(default_factory=dict)  # only spans with a message, events or links

    def __len__(self) -> int:
        return len(self.span_id)

    def extend(
        self,
        span_id: Sequence[str],
        parent_id: Iterable[str],
        name: Iterable[str],
        start: Iterable[int],
        end: Iterable[int],
        kind: Iterable[int],
        status: Iterable[int],
        resource: Iterable[Resource],
        scope: Iterable[Scope],
        attributes: Iterable[Attributes | LazyAttributes],
        follows_from: Iterable[int] | None = None,
        extra: dict[int, SpanExtra] | None = None,
    ) -> None:
        """Add many spans at once, a column at a time (a reader's bulk form of ``append``): each argument holds one
        column's values in span order, ``extra`` is keyed by position among them. Values already validated."""
        base = len(self.span_id)
        self.span_id.extend(span_id)
        self.parent_id.extend(parent_id)
        self.name.extend(name)
        self.start.extend(start)
        self.end.extend(end)
        self.kind.extend(kind)
        self.status.extend(status)
        self.follows_from.extend(bytes(len(span_id)) if follows_from is None else follows_from)
        self.resource.extend(resource)
        self.scope.extend(scope)
        self.attributes.extend(attributes)
        if extra:
            self.extra.update(extra if base == 0 else {base + i: e for i, e in extra.items()})

    def extend_from(self, other: SpanColumns) -> None:
        """Add ``other``'s spans after these (the same trace, read in another batch)."""
        self.extend(other.span_id, other.parent_id, other.name, other.start, other.end, other.kind, other.status,
                    other.resource, other.scope, other.attributes, other.follows_from, other.extra)  # fmt: skip

    @classmethod
    def from_spans(cls, trace_id: str, spans: Iterable[Span]) -> SpanColumns:
        """Columns holding ``spans`` (the same values, in the same order)."""
        spans = list(spans)
        out = cls(
            trace_id,
            span_id=[s.span_id for s in spans],
            parent_id=[s.parent_span_id for s in spans],
            name=[s.name for s in spans],
            start=_int64_column([s.start_ns for s in spans]),
            end=_int64_column([s.end_ns for s in spans]),
            kind=bytearray(int(s.kind) for s in spans),
            status=bytearray(int(s.status) for s in spans),
            follows_from=bytearray(1 if s.follows_from else 0 for s in spans),
            resource=[s.resource for s in spans],
            scope=[s.scope for s in spans],
            attributes=[s.attributes for s in spans],
        )
        for i, s in enumerate(spans):
            if s.status_message or s.events or s.links:
                out.extra[i] = SpanExtra(s.status_message, s.events, s.links)
        return out

    def attributes_of(self, i: int) -> Attributes:
        """Span ``i``'s attributes, decoded (and kept decoded) on first use."""
        value = self.attributes[i]
        if type(value) is dict:
            return value
        materialise = getattr(value, "materialise", None)
        if materialise is not None:
            value = self.attributes[i] = materialise()
        return value  # type: ignore[return-value]

    def service(self, i: int) -> str:
        return self.resource[i].service

    def services(self) -> list[str]:
        """The service of every span (one lookup per distinct resource)."""
        by_resource: dict[int, str] = {}
        out: list[str] = []
        for r in self.resource:
            name = by_resource.get(id(r))
            if name is None:
                name = by_resource[id(r)] = r.service
            out.append(name)
        return out

    def span(self, i: int) -> Span:
        """Span ``i`` as a ``Span`` object (a new one each call; ``SpanSeq`` keeps them)."""
        from tracectl.model import Span, SpanKind, StatusCode

        extra = self.extra.get(i)
        message, events, links = extra if extra is not None else ("", (), ())
        return Span(
            self.trace_id,
            self.span_id[i],
            self.parent_id[i],
            self.name[i],
            self.start[i],
            self.end[i],
            SpanKind(self.kind[i]),
            StatusCode(self.status[i]),
            message,
            self.attributes_of(i),
            self.resource[i],
            self.scope[i],
            events,
            links,
            bool(self.follows_from[i]),
        )

    def spans(self) -> tuple[Span, ...]:
        return tuple(self.span(i) for i in range(len(self)))


class SpanSeq(Sequence["Span"]):
    """A read-only sequence of ``Span`` views over columns (optionally a subset, in a given order); each span is
    built the first time it is read and kept, so ``seq[i] is seq[i]``."""

    __slots__ = ("_cache", "_columns", "_index")

    def __init__(self, columns: SpanColumns, index: Sequence[int] | None = None) -> None:
        self._columns = columns
        self._index = index
        self._cache: list[Span | None] = [None] * (len(columns) if index is None else len(index))

    @property
    def columns(self) -> SpanColumns:
        return self._columns

    def __len__(self) -> int:
        return len(self._cache)

    @overload
    def __getitem__(self, i: int) -> Span: ...
    @overload
    def __getitem__(self, i: slice) -> list[Span]: ...
    def __getitem__(self, i: int | slice) -> Span | list[Span]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        span = self._cache[i]
        if span is None:
            if i < 0:
                i += len(self._cache)
            span = self._cache[i] = self._columns.span(i if self._index is None else self._index[i])
        return span

    def __iter__(self) -> Iterator[Span]:
        for i in range(len(self._cache)):
            yield self[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SpanSeq | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SpanSeq({len(self)} spans of {self._columns.trace_id})"


def traces_from_columns(columns: Iterable[SpanColumns]) -> list[Trace]:
    from_columns = _trace_from_columns()
    return [from_columns(c) for c in columns]


@cache
def _trace_from_columns() -> Callable[[SpanColumns], Trace]:
    """``Trace.from_columns``, imported once (the package imports this module: an import per call costs more)."""
    from tracectl.model import Trace

    return Trace.from_columns


class ColumnsBuilder:
    """Collects spans of any number of traces (in any order) into one ``SpanColumns`` per trace ID, keeping the
    first-seen order of traces and the read order of spans within each (``group_traces``'s order)."""

    __slots__ = ("by_trace",)

    def __init__(self) -> None:
        self.by_trace: dict[str, SpanColumns] = {}

    def columns(self, trace_id: str) -> SpanColumns:
        """The columns a reader appends trace ``trace_id``'s spans to."""
        cols = self.by_trace.get(trace_id)
        if cols is None:
            cols = self.by_trace[trace_id] = SpanColumns(  # empty, without a default factory call per column
                trace_id, [], [], [], array("q"), array("q"), bytearray(), bytearray(), bytearray(), [], [], [], {}
            )
        return cols

    def add(self, columns: SpanColumns) -> SpanColumns:
        """The columns of a trace read whole (a reader's bulk form of ``columns`` then ``extend``): added as they
        are when the trace is new, else appended to the trace's."""
        cols = self.by_trace.get(columns.trace_id)
        if cols is None:
            self.by_trace[columns.trace_id] = columns
            return columns
        cols.extend_from(columns)
        return cols

    def add_spans(self, spans: Iterable[Span]) -> None:
        groups: dict[str, list[Span]] = {}
        for span in spans:
            groups.setdefault(span.trace_id, []).append(span)
        for trace_id, group in groups.items():
            more = SpanColumns.from_spans(trace_id, group)
            cols = self.by_trace.get(trace_id)
            if cols is None:
                self.by_trace[trace_id] = more
            else:
                cols.extend_from(more)

    def traces(self) -> list[Trace]:
        return traces_from_columns(self.by_trace.values())
