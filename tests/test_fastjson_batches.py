"""The msgspec path's batch reads (a whole list of spans a column at a time) read what the checked readers read:
an OTLP document's spans of several resources, scopes and traces in one batch, Jaeger roots anywhere in a list of
common references, protobuf JSON times converted all at once, times bounded by their type, and the one-pattern
check of canonical span IDs."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.test_fastjson import T2, A, B, C, T, jaeger, jspan, ref, same, span, spans_of, tag
from tracectl.formats import fastjson
from tracectl.formats.jaeger_json import MAX_US


def group(service: str, scope: str, *spans: dict[str, Any]) -> dict[str, Any]:
    return {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
            "scopeSpans": [{"scope": {"name": scope}, "spans": list(spans)}]}  # fmt: skip


def test_otlp_spans_of_several_resources_scopes_and_traces_read_in_one_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    d = "eee19b7ec3c1b103"
    doc = {"resourceSpans": [
        group("api", "a", span(A), {**span(B), "traceId": T2}),
        group("db", "b", span(C, A, status={"code": 2, "message": "boom"})),
        {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "db"}}]}, "scopeSpans": [
            {"scope": {"name": "c"}, "spans": [{**span(d, B), "traceId": T2}]},
            {"scope": {"name": "d", "version": "2"}, "spans": []},
        ]},
    ]}  # fmt: skip
    outcome, fast = same(doc, monkeypatch)
    assert fast
    first, second = outcome[2]  # type: ignore[index]
    assert (first.trace_id, second.trace_id) == (T, T2)
    assert [(s.span_id, s.service, s.scope.name) for s in first.spans] == [(A, "api", "a"), (C, "db", "b")]
    assert [(s.span_id, s.service, s.scope.name, s.parent_span_id) for s in second.spans] == [
        (B, "api", "a", ""), (d, "db", "c", B)]  # fmt: skip
    assert first.spans[1].status_message == "boom"


@pytest.mark.parametrize(
    ("starts", "fast"),
    [
        (["1700000000000000000", "1700000000000000001"], True),
        (["1700000000000000000", 1700000000000000001], True),  # a number among strings
        (["00000000000000000001", "5"], True),  # 20 digits, in range
        (["1700000000000000000", ""], False),
        (["9223372036854775808", "5"], False),  # beyond int64
        (["17000000000000000000", "5"], False),
        (["+5", "5"], False),
        (["1_000", "5"], False),
        (["\u0661", "5"], False),  # a decimal digit, not ASCII
        ([" 5", "5"], False),
    ],
)
def test_otlp_times_of_a_batch(starts: list[Any], fast: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = {"resourceSpans": [group("api", "a", *[span(sid, startTimeUnixNano=start)
                                                  for sid, start in zip((A, B), starts, strict=True)])]}  # fmt: skip
    _, vouched = same(doc, monkeypatch)
    assert vouched == fast


@pytest.mark.parametrize("roots", [[0], [2], [4], [0, 2, 4], [1, 3], [0, 1, 2, 3, 4]])
def test_jaeger_roots_anywhere_among_common_references(roots: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [f"eee19b7ec3c1b10{i}" for i in range(5)]
    parent = {1: ids[0], 2: ids[1], 3: ids[4], 4: ids[0], 0: ids[3]}  # one parent later in the list
    spans = [jspan(sid, [] if i in roots else [ref(parent[i])]) for i, sid in enumerate(ids)]
    outcome, fast = same(jaeger(*spans), monkeypatch)
    assert fast
    assert [s.parent_span_id for s in spans_of(outcome)] == ["" if i in roots else parent[i] for i in range(5)]


@pytest.mark.parametrize(
    ("changes", "fast"),
    [
        ({"startTime": MAX_US, "duration": 0}, True),
        ({"startTime": MAX_US, "duration": 1}, False),
        ({"startTime": MAX_US + 1}, False),
        ({"startTime": -1}, False),
        ({"startTime": str(MAX_US + 1)}, False),
        ({"startTime": 5, "duration": -5}, True),
        ({"startTime": 5, "duration": -6}, False),
        ({"duration": 2**62}, False),  # beyond int64 in ns: refused by the int64 column
        ({"duration": -(2**62)}, False),
        ({"startTime": "1700000000000000", "duration": "5"}, True),  # strings add up to a string: read one by one
        ({"startTime": "1700000000000000"}, True),
        ({"duration": "5"}, True),
        ({"startTime": None, "duration": None}, True),
        ({"logs": [{"timestamp": MAX_US, "fields": [tag("event", "x")]}]}, True),
        ({"logs": [{"timestamp": MAX_US + 1, "fields": [tag("event", "x")]}]}, False),
        ({"logs": [{"timestamp": -1}]}, False),
    ],
)
def test_jaeger_times_bounded_as_the_checked_reader_bounds_them(
    changes: dict[str, Any], fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, vouched = same(jaeger(jspan(**changes), jspan(B, [ref(A)])), monkeypatch)
    assert vouched == fast


def _canonical(raw: list[str]) -> bool:
    return all(len(x) == 16 and set(x) <= set("0123456789abcdef") and x != "0" * 16 for x in raw)


def test_canonical_span_ids_checked_at_once_as_one_by_one() -> None:
    rng = random.Random(24)
    pieces = ["eee19b7ec3c1b100", "0000000000000000", "EEE19B7EC3C1B100", ",", "", "ab", "g", "0123456789abcdef"]
    lists = [["eee19b7ec3c1b100,eee19b7ec3c1b10", "1"], ["eee19b7ec3c1b100", "", "eee19b7ec3c1b10,1"],
             ["eee19b7ec3c1b10", "0,eee19b7ec3c1b10"], ["eee19b7ec3c1b100\n"]]  # fmt: skip
    for _ in range(3000):
        ids = []
        for _ in range(rng.randint(1, 4)):
            text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 3)))
            ids.append(text[: rng.choice((16, 16, 17, len(text)))])
        lists.append(ids)
    for ids in lists:
        assert fastjson._canonical_span_ids(ids) == _canonical(ids), ids


@pytest.mark.parametrize(
    ("value", "kind", "fast"),
    [
        (True, "int64", False),
        (1.0, "int64", False),  # the checked reader reads it (as 1): left to it
        (1, "bool", False),
        ("true", "bool", False),
        (1, "float64", True),
        (-0.0, "float64", True),
        (5, "string", False),
        ("aGk", "binary", True),
        ("a", "binary", False),
        (5, "binary", False),
        (None, "string", False),
    ],
)
def test_a_tag_value_of_its_type(value: Any, kind: str, fast: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("plain", "otel.scope.name", "error"):  # an attribute, and special tags read (and remembered) apart
        _, vouched = same(jaeger(jspan(tags=[tag(key, value, kind)])), monkeypatch)
        assert vouched == fast, key


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (tag("span.kind", 1, "int64"), tag("span.kind", True, "int64")),
        (tag("error", 1, "int64"), tag("error", True, "int64")),
        (tag("otel.scope.name", True, "bool"), tag("otel.scope.name", 1, "bool")),
        (tag("otel.scope.name", 1, "int64"), tag("otel.scope.name", 1.0, "int64")),
    ],
)
def test_a_remembered_reading_is_not_taken_for_an_equal_value_of_another_type(
    first: dict[str, Any], second: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # equal as Python values (1 == True == 1.0), not as the checked reader reads them
    for read, fast in ((first, True), (second, False), (first, True)):
        _, vouched = same(jaeger(jspan(tags=[read, tag("span.kind", "server")])), monkeypatch)
        assert vouched == fast
