"""The msgspec path (``tracectl.formats.fastjson``) on the edges of what it vouches for: each case reads the same as
the checked readers (spans, or the one-line error), and the path reads it itself, or leaves it to them, as stated.

``tests/test_fastpath.py`` does the same for every fixture and thousands of broken copies; these are the cases a
random mutation rarely builds: a value JSON allows and orjson refuses in a field no reader looks at, int64 strings
at the bounds, each attribute value kind, Jaeger's tags that become kind, status and scope, references chosen
among several, one trace split over several objects, every envelope.
"""

from __future__ import annotations

import random
import re
from typing import Any

import orjson
import pytest

from tests.test_fastpath import read_both, vouched
from tracectl.formats import fastjson
from tracectl.formats.typed import Malformed, integer
from tracectl.model import SpanKind, StatusCode

T = "5b8efff798038103d269b633813fc700"
T2 = "0af7651916cd43dd8448eb211c80319c"
A, B, C = "eee19b7ec3c1b100", "eee19b7ec3c1b101", "eee19b7ec3c1b102"


def otlp(*spans: dict[str, Any], resource: list[Any] | None = None, top: str = "resourceSpans") -> dict[str, Any]:
    return {top: [{"resource": {"attributes": resource or [{"key": "service.name", "value": {"stringValue": "api"}}]},
                   "scopeSpans": [{"scope": {"name": "lib", "version": "1"}, "spans": list(spans)}]}]}  # fmt: skip


def span(span_id: str = A, parent: str = "", **extra: Any) -> dict[str, Any]:
    out = {"traceId": T, "spanId": span_id, "name": "op", "kind": 2,
           "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000100000000"}  # fmt: skip
    if parent:
        out["parentSpanId"] = parent
    return {**out, **extra}


def attr(value: dict[str, Any], key: str = "k") -> dict[str, Any]:
    return span(attributes=[{"key": key, "value": value}])


def jaeger(*spans: dict[str, Any], envelope: bool = True) -> dict[str, Any]:
    trace = {"traceID": T, "spans": list(spans),
             "processes": {"p1": {"serviceName": "api", "tags": [{"key": "host", "type": "string", "value": "h"}]}}}  # fmt: skip
    return {"data": [trace], "total": 0, "limit": 0, "offset": 0, "errors": None} if envelope else trace


def jspan(
    span_id: str = A, refs: list[Any] | None = None, tags: list[Any] | None = None, **extra: Any
) -> dict[str, Any]:
    out = {"traceID": T, "spanID": span_id, "operationName": "op", "references": refs or [],
           "startTime": 1700000000000000, "duration": 1000, "tags": tags or [], "logs": [], "processID": "p1",
           "warnings": None, "flags": 1}  # fmt: skip
    return {**out, **extra}


def tag(key: str, value: Any, kind: str = "string") -> dict[str, Any]:
    return {"key": key, "type": kind, "value": value}


def ref(span_id: str, kind: str = "CHILD_OF", trace_id: str = T) -> dict[str, Any]:
    return {"refType": kind, "traceID": trace_id, "spanID": span_id}


def same(doc: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[object, bool]:
    """What the fast paths read of ``doc`` (checked: the same, as a small and as a large input), and whether the
    msgspec path read it itself."""
    data = doc if isinstance(doc, bytes) else orjson.dumps(doc)
    fast, checked = read_both(data, monkeypatch)
    assert fast == checked
    assert read_both(data, monkeypatch, large=True) == (fast, checked)
    return fast, vouched(data)


def spans_of(outcome: object) -> list[Any]:
    assert isinstance(outcome, tuple) and len(outcome) == 3, outcome
    return [s for t in outcome[2] for s in t.spans]


def is_error(outcome: object) -> bool:
    return isinstance(outcome, tuple) and len(outcome) == 2


# ------------------------------------------------------------------------ what orjson refuses, msgspec would not


@pytest.mark.parametrize(
    "raw",
    [
        b'"flags": 1' + b"0" * 400,  # an integer beyond a double: msgspec reads it as a Python int, orjson refuses
        b'"flags": 1e400',
        b'"traceState": "\xff"',  # invalid UTF-8 in a field nobody reads: msgspec skips undeclared fields unchecked
        b'"unknown": "\xff"',
        b'"traceState": "\\ud800"',
    ],
)
def test_what_orjson_refuses_in_an_unread_field_is_an_error_both_ways(raw: bytes, mp: pytest.MonkeyPatch) -> None:
    data = orjson.dumps(otlp(span())).replace(b'"name":"op"', b'"name":"op",' + raw)
    outcome, fast = same(data, mp)
    assert is_error(outcome) and not fast


@pytest.fixture(name="mp")
def _mp(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    return monkeypatch


def test_fields_writers_add_and_readers_ignore_are_read_past(mp: pytest.MonkeyPatch) -> None:
    doc = otlp(span(flags=257, traceState="a=b", droppedAttributesCount=0, droppedEventsCount=0, droppedLinksCount=0,
                    status={"code": "STATUS_CODE_OK", "message": ""}))  # fmt: skip
    doc["resourceSpans"][0]["schemaUrl"] = "https://opentelemetry.io/schemas/1.21.0"
    doc["resourceSpans"][0]["scopeSpans"][0]["schemaUrl"] = ""
    outcome, fast = same(doc, mp)
    ((s,),) = [spans_of(outcome)]
    assert fast and s.status is StatusCode.OK and s.kind is SpanKind.SERVER


def test_an_unknown_field_leaves_the_span_to_the_checked_reader(mp: pytest.MonkeyPatch) -> None:
    outcome, fast = same(otlp(span(somethingNew={"x": [1, 2]})), mp)
    assert len(spans_of(outcome)) == 1 and not fast


# ------------------------------------------------------------------------ OTLP values


@pytest.mark.parametrize(
    ("value", "expected", "fast"),
    [
        ({"intValue": "9223372036854775807"}, 2**63 - 1, True),
        ({"intValue": "00009223372036854775807"}, None, False),  # 23 digits: an error
        ({"intValue": "09223372036854775807"}, 2**63 - 1, True),  # 20 digits, leading zero
        ({"intValue": "9223372036854775808"}, None, False),
        ({"intValue": "-9223372036854775807"}, -(2**63) + 1, True),
        ({"intValue": "-9223372036854775808"}, -(2**63), False),  # read, by the checked reader
        ({"intValue": "+5"}, 5, True),
        ({"intValue": "5 "}, None, False),
        ({"intValue": "٣"}, None, False),
        ({"intValue": 12}, 12, True),
        ({"intValue": 1.0}, 1, False),
        ({"doubleValue": 2}, 2.0, True),
        ({"doubleValue": "Infinity"}, float("inf"), True),
        ({"doubleValue": "1.5"}, 1.5, False),
        ({"boolValue": "true"}, True, False),
        ({"bytesValue": "aGk="}, b"hi", True),
        ({"bytesValue": "aGk"}, b"hi", True),
        ({"bytesValue": "-_8"}, b"\xfb\xff", True),
        ({"bytesValue": "a"}, None, False),
        ({"arrayValue": {"values": [{"intValue": "1"}, {"stringValue": "x"}]}}, (1, "x"), True),
        ({"arrayValue": {}}, (), True),
        ({"kvlistValue": {"values": [{"key": "a", "value": {"boolValue": False}}]}}, {"a": False}, True),
        ({}, "", True),
        ({"stringValue": "s", "intValue": "1"}, "s", True),  # the first kind in the checked reader's order wins
        ({"stringValue": None}, "", False),
    ],
)
def test_attribute_values(value: dict[str, Any], expected: Any, fast: bool, mp: pytest.MonkeyPatch) -> None:
    outcome, vouched_for = same(otlp(attr(value)), mp)
    assert vouched_for == fast
    if expected is None:
        assert is_error(outcome)
    else:
        (s,) = spans_of(outcome)
        assert s.attributes == {"k": expected}


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"stringValue": "leaf"}
    for i in range(levels):
        value = (
            {"arrayValue": {"values": [value]}}
            if i % 2
            else {"kvlistValue": {"values": [{"key": "k", "value": value}]}}
        )
    return value


@pytest.mark.parametrize(("levels", "fast"), [(3, True), (fastjson._LEVELS - 1, True), (fastjson._LEVELS, False),
                                              (64, False), (65, False)])  # fmt: skip
def test_nested_values_up_to_the_typed_depth_are_read_here(levels: int, fast: bool, mp: pytest.MonkeyPatch) -> None:
    outcome, vouched_for = same(otlp(attr(_nested(levels))), mp)
    assert vouched_for == fast and is_error(outcome) == (levels > 64)


def test_events_links_status_and_the_async_parent_link(mp: pytest.MonkeyPatch) -> None:
    marker = {"traceId": T, "spanId": A, "attributes": [{"key": "opentracing.ref_type",
                                                         "value": {"stringValue": "follows_from"}}]}  # fmt: skip
    other = {"traceId": T2, "spanId": C}
    child = span(B, A, links=[marker, other], status={"code": 2, "message": "boom"},
                 events=[{"timeUnixNano": "1700000000050000000", "name": "exception",
                          "attributes": [{"key": "exception.type", "value": {"stringValue": "E"}}]}])  # fmt: skip
    outcome, fast = same(otlp(span(), child), mp)
    _, s = spans_of(outcome)
    assert fast and s.follows_from and s.is_error and s.status_message == "boom"
    assert [lk.span_id for lk in s.links] == [C] and s.events[0].attributes == {"exception.type": "E"}


@pytest.mark.parametrize(
    ("field", "value", "fast"),
    [
        ("kind", "SPAN_KIND_CLIENT", True),
        ("kind", "client", True),
        ("kind", 9, False),
        ("kind", True, False),
        ("status", {"code": "STATUS_CODE_ERROR"}, True),
        ("status", {"code": None}, False),
        ("startTimeUnixNano", 1700000000000000000, True),
        ("startTimeUnixNano", "9223372036854775808", False),
        ("startTimeUnixNano", "-1", False),
        ("startTimeUnixNano", None, True),
        ("spanId", "", False),
        ("spanId", "7u3f/Gub+wA=", True),  # base64 (Tempo)
        ("parentSpanId", "0000000000000000", True),  # no parent
        ("traceId", "0" * 32, False),
    ],
)
def test_span_fields(field: str, value: Any, fast: bool, mp: pytest.MonkeyPatch) -> None:
    _, vouched_for = same(otlp(span(**{field: value})), mp)
    assert vouched_for == fast


def test_spans_of_several_traces_in_one_batch_keep_the_first_seen_order(mp: pytest.MonkeyPatch) -> None:
    outcome, fast = same(otlp(span(A), {**span(B), "traceId": T2}, span(C, A)), mp)
    assert fast and [t.trace_id for t in outcome[2]] == [T, T2]  # type: ignore[index]
    assert [s.span_id for s in outcome[2][0].spans] == [A, C]  # type: ignore[index]


# ------------------------------------------------------------------------ envelopes


@pytest.mark.parametrize(
    ("doc", "count"),
    [
        (otlp(span(), top="batches"), 1),
        ({"trace": otlp(span())}, 1),
        ({"trace": otlp(span(), top="batches")}, 1),
        ({"trace": otlp(span()), "status": "PARTIAL", "message": "too big"}, 1),
        ({"trace": otlp(span()), "status": "PARTIAL"}, 1),
        ({"trace": {}, "metrics": {"inspectedBytes": "0"}}, 0),
        ({"result": otlp(span())}, 1),
        ({"resourceSpans": None}, 0),
        ({}, 0),
        ([otlp(span()), {"result": otlp(span(B))}], 2),
        (jaeger(jspan()), 1),
        (jaeger(jspan(), envelope=False), 1),
        ([jaeger(jspan(), envelope=False), jaeger(jspan(B), envelope=False)], 2),
    ],
)
def test_every_envelope(doc: Any, count: int, mp: pytest.MonkeyPatch) -> None:
    outcome, fast = same(doc, mp)
    assert fast
    assert len(spans_of(outcome)) == count if count else is_error(outcome)  # no spans: "the trace is empty"


@pytest.mark.parametrize(
    "doc",
    [
        {"data": [], "errors": [{"code": 500, "msg": "boom"}]},
        {"error": "boom"},
        {"traces": []},
        {"total": 1},
        [[otlp(span())]],
        5,
        {"trace": otlp(span()), "status": "PARTIAL", "message": 5},  # a note printed as decoded: left to orjson
    ],
)
def test_what_is_not_a_trace_is_left_to_the_checked_reader(doc: Any, mp: pytest.MonkeyPatch) -> None:
    _, fast = same(doc, mp)
    assert not fast


def test_json_lines(mp: pytest.MonkeyPatch) -> None:
    lines = [orjson.dumps(otlp(span(x))) for x in (A, B, C)]
    outcome, fast = same(b"\n".join(lines) + b"\n", mp)
    assert fast and len(spans_of(outcome)) == 3
    outcome, fast = same(b"\n".join([*lines, b'{"resourceSpans": [}']), mp)
    assert is_error(outcome) and not fast
    outcome, fast = same(lines[0] + b" " + lines[1], mp)  # two documents on one line: not JSON Lines
    assert is_error(outcome) and not fast


# ------------------------------------------------------------------------ Jaeger


@pytest.mark.parametrize(
    "tags",
    [
        [tag("span.kind", "server")],
        [tag("span.kind", "SERVER")],
        [tag("span.kind", "server"), tag("span.kind", "client")],  # the last one counts, as in a dict
        [tag("span.kind", 2, "int64")],
        [tag("error", True, "bool")],
        [tag("error", "true")],
        [tag("error", False, "bool"), tag("otel.status_code", "OK")],
        [tag("otel.status_code", "ERROR"), tag("otel.status_description", "boom")],
        [tag("otel.scope.name", "lib"), tag("otel.scope.version", "2")],
        [tag("otel.scope.name", "aGk=", "binary")],
        [tag("payload", "aGk=", "binary"), tag("n", 5, "int64"), tag("x", 1, "float64"), tag("b", True, "bool")],
        [tag("n", 2**63, "int64")],
        [tag("n", "5", "int64")],
        [tag("n", "x", "STRING")],
        [{"key": "n", "value": "x"}],
    ],
)
def test_jaeger_tags(tags: list[Any], mp: pytest.MonkeyPatch) -> None:
    _, fast = same(jaeger(jspan(tags=tags)), mp)
    assert fast == all(t.get("type") in ("string", "bool", "float64", "binary") or
                       (t.get("type") == "int64" and type(t["value"]) is int and t["value"] < 2**63) for t in tags)  # fmt: skip


@pytest.mark.parametrize(
    "refs",
    [
        [ref(B)],
        [ref(B, "FOLLOWS_FROM")],
        [ref(B, "follows_from")],
        [{"refType": "CHILD_OF", "spanID": B}],  # no traceID: this trace
        [ref(B, trace_id=T2)],  # another trace: a link
        [ref("ffffffffffffffff"), ref(B, "FOLLOWS_FROM")],  # the present one is the parent, the other a link
        [ref(B, "FOLLOWS_FROM"), ref(C)],
        [ref(C, trace_id=T2), ref("ffffffffffffffff")],  # none present: the same-trace one, an orphan
        [{"refType": "", "traceID": "", "spanID": B}],
        [ref("")],
        [ref(B, trace_id="xyz")],
    ],
)
def test_jaeger_references(refs: list[Any], mp: pytest.MonkeyPatch) -> None:
    _, fast = same(jaeger(jspan(C), jspan(B), jspan(A, refs)), mp)
    assert fast == all(r["spanID"] and r.get("traceID") != "xyz" for r in refs)


@pytest.mark.parametrize(
    ("spans", "parents"),
    [
        ([jspan(C, [ref(B)]), jspan(B, [ref(A)]), jspan(A)], [B, A, ""]),  # children first: parents not read yet
        ([jspan(B, [ref(A)]), jspan(A), jspan(C, [ref(A)])], [A, "", A]),  # the root among them
        ([jspan(B.upper()), jspan(C, [ref(B.upper())])], ["", B]),  # a parent read already, as written
        ([jspan(C, [ref(B.upper())]), jspan(B.upper())], [B, ""]),  # not read yet and not canonical
        ([jspan(C, [ref("ffffffffffffffff")]), jspan(B, [ref(C)])], ["ffffffffffffffff", C]),  # an orphan's parent
        ([jspan(C, [ref("0" * 16)])], None),  # no parent ID: the checked reader's error
    ],
)
def test_jaeger_parents_in_any_order(spans: list[Any], parents: list[str] | None, mp: pytest.MonkeyPatch) -> None:
    outcome, fast = same(jaeger(*spans), mp)
    if parents is None:
        assert is_error(outcome) and not fast
        return
    assert fast and [s.parent_span_id for s in spans_of(outcome)] == parents


def test_jaeger_logs_inline_process_and_times(mp: pytest.MonkeyPatch) -> None:
    log = {"timestamp": 1700000000000500, "fields": [tag("event", "retry"), tag("attempt", 2, "int64")]}
    doc = jaeger(jspan(logs=[log]), jspan(B, [ref(A)], process={"serviceName": "db", "tags": []}, duration=-5),
                 jspan(C, [ref(A)], processID=None, process={"serviceName": "x"}))  # fmt: skip
    outcome, fast = same(doc, mp)
    a, b, c = spans_of(outcome)
    assert fast and a.events[0].name == "retry" and a.events[0].attributes == {"attempt": 2}
    assert b.service == "db" and b.duration_ns == -5000 and c.service == "x"


@pytest.mark.parametrize(
    ("field", "value", "fast"),
    [
        ("processID", "p9", False),
        ("processID", None, False),
        ("duration", -(1700000000000000 + 1), False),
        ("startTime", "1700000000000000", True),
        ("startTime", 2**62, False),
        ("spanID", "ab", True),  # short hex, left-padded
        ("traceID", "", False),
        ("logs", None, True),
        ("references", None, True),
        ("tags", None, True),
    ],
)
def test_jaeger_span_fields(field: str, value: Any, fast: bool, mp: pytest.MonkeyPatch) -> None:
    _, vouched_for = same(jaeger(jspan(**{field: value})), mp)
    assert vouched_for == fast


def test_one_trace_over_several_jaeger_objects_and_a_parent_in_the_other(mp: pytest.MonkeyPatch) -> None:
    first = jaeger(jspan(A), envelope=False)
    second = jaeger(jspan(B, [ref("ffffffffffffffff"), ref(A, "FOLLOWS_FROM")]), envelope=False)
    outcome, fast = same({"data": [first, second]}, mp)
    ((trace,),) = [outcome[2]]  # type: ignore[index]
    assert fast and len(trace.spans) == 2
    # A is not in B's object: B's parent is the first same-trace reference, an orphan's missing parent
    assert trace.spans[1].parent_span_id == "ffffffffffffffff"


# ------------------------------------------------------------------------ the int64 string pattern


def test_the_int64_string_pattern_accepts_exactly_what_the_checked_reader_reads_in_range() -> None:
    pattern = re.compile(fastjson._int64_string_pattern())
    rng = random.Random(7)
    samples = ["9223372036854775807", "9223372036854775808", "-9223372036854775807", "0" * 20, "0" * 21, "+0", "-0"]
    for _ in range(20000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 21)))
        if rng.random() < 0.5 and len(digits) >= 19:
            digits = rng.choice(["9223372036854775", "922337203685477", "92233720368547758"]) + digits[17:]
        samples.append(rng.choice(["", "", "+", "-", " "]) + digits + rng.choice(["", "", "", " ", "x"]))
    for text in samples:
        try:
            value: int | None = integer(text)
        except Malformed:
            value = None
        if pattern.search(text):
            assert value == int(text), text
        elif value is not None:
            assert text.startswith("-") and value == -(2**63), text  # the one value left to the checked reader
