"""The compact span store (``tracectl.model.columns``): columns and ``Span`` objects describe the same spans."""

from __future__ import annotations

import pickle

from tracectl.model import EMPTY_SCOPE, Event, Link, Resource, Span, SpanKind, StatusCode
from tracectl.model.columns import ColumnsBuilder, SpanColumns, SpanSeq
from tracectl.sandbox.synth import mixed_trace

T = "0123456789abcdef0123456789abcdef"


class _Lazy:
    def __init__(self, value: dict[str, object]) -> None:
        self.value = value
        self.calls = 0

    def materialise(self) -> dict[str, object]:
        self.calls += 1
        return self.value


def _odd_spans() -> list[Span]:
    api = Resource({"service.name": "api"})
    return [
        Span(T, "a" * 16, "", "root", 10, 20, SpanKind.SERVER, StatusCode.ERROR, "boom", {"k": 1}, api,
             events=(Event(15, "exception", {"m": "x"}),), links=(Link(T, "b" * 16),)),
        Span(T, "b" * 16, "a" * 16, "child", 2**63 + 5, 30, SpanKind.CONSUMER, follows_from=True),  # beyond int64
    ]  # fmt: skip


def test_columns_round_trip_every_field() -> None:
    spans = _odd_spans()
    cols = SpanColumns.from_spans(T, spans)
    assert len(cols) == 2
    assert cols.spans() == tuple(spans)
    assert cols.extra[0].status_message == "boom" and 1 not in cols.extra
    assert cols.services() == ["api", "unknown_service"]


def test_trace_from_columns_equals_trace_from_spans_and_pickles() -> None:
    trace = mixed_trace(500, seed=3)
    builder = ColumnsBuilder()
    builder.add_spans(trace.spans)
    (rebuilt,) = builder.traces()
    assert rebuilt == trace and len(rebuilt) == 500
    assert rebuilt.services == trace.services
    assert pickle.loads(pickle.dumps(rebuilt)) == trace  # noqa: S301 - our own bytes


def test_builder_adds_whole_columns_or_appends_them_to_the_trace_read_already() -> None:
    spans = mixed_trace(30, seed=5).spans
    first, second = SpanColumns.from_spans(T, spans[:20]), SpanColumns.from_spans(T, spans[20:])
    builder = ColumnsBuilder()
    assert builder.add(first) is first  # a new trace: taken as it is
    assert builder.add(second) is first and len(first) == 30  # the same trace again: appended
    other = SpanColumns.from_spans("f" * 32, spans[:1])
    assert builder.add(other) is other
    assert [(t.trace_id, len(t)) for t in builder.traces()] == [(T, 30), ("f" * 32, 1)]
    assert first.spans() == tuple(SpanColumns.from_spans(T, spans).spans())


def test_lazy_attributes_decode_once_on_first_use() -> None:
    lazy = _Lazy({"x": "y"})
    cols = SpanColumns(T)
    cols.extend(["a" * 16], [""], ["op"], [1], [2], [2], [0], [Resource()], [EMPTY_SCOPE], [lazy])
    seq = SpanSeq(cols)
    assert lazy.calls == 0
    assert seq[0].attributes == {"x": "y"} and seq[0] is seq[0]
    assert cols.attributes_of(0) == {"x": "y"} and lazy.calls == 1
