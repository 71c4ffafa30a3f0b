"""The msgspec path's Jaeger shortcuts read what the checked readers read: span IDs taken as they are when already
canonical, kind/status/scope tags remembered across spans and files, common references read at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.test_fastjson import A, B, C, T, jaeger, jspan, ref, same, spans_of, tag
from tracectl.formats import fastjson
from tracectl.model import SpanKind, StatusCode

KIND = tag("span.kind", "server")
SCOPE = [tag("otel.scope.name", "lib"), tag("otel.scope.version", "1")]


@pytest.mark.parametrize(
    "tags",
    [
        [KIND, *SCOPE, tag("http.route", "/a")],
        [KIND, tag("error", True, "bool"), tag("k", 1, "int64")],
        [KIND, tag("error", "true"), tag("otel.status_description", "boom")],
        [tag("error", "false"), tag("otel.status_code", "OK")],
        [tag("error", 1, "int64"), tag("otel.status_code", "ERROR"), tag("otel.status_description", "d")],
        [tag("span.kind", "CLIENT"), tag("span.kind", "producer")],  # the last one counts
        [tag("span.kind", "c2VydmVy", "binary"), tag("otel.scope.name", "bGli", "binary")],
        [tag("otel.scope.name", 0.0, "float64"), tag("span.kind", 2, "int64")],
        [tag("otel.scope.name", -0.0, "float64"), tag("otel.scope.version", True, "bool")],
        [tag("otel.scope.name", 1, "int64"), tag("otel.scope.version", "1")],
        [tag("otel.scope.name", True, "bool")],
        [tag("plain", "x"), tag("b", "AAE=", "binary")],
        [tag("k", "a"), KIND, tag("f", 2, "float64"), tag("k", 2, "int64"), tag("error", False, "bool")],  # last k
    ],
)
def test_special_tags_read_the_same(tags: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # twice in one file and again in the next read: the remembered reading must match the first
    doc = jaeger(jspan(tags=tags), jspan(B, [ref(jspan()["spanID"])], tags=tags))
    for _ in range(2):
        _, vouched = same(doc, monkeypatch)
        assert vouched


@pytest.mark.parametrize(
    "tags",
    [
        [tag("k", "a"), tag("k", 2, "string")],  # a string tag holding a number
        [KIND, tag("k", True, "int64")],
        [tag("k", 1.5, "int64"), KIND],
        [tag("b", "not base64!", "binary")],
    ],
)
def test_tags_not_of_their_type_are_left_to_the_checked_reader(
    tags: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # attributes kept as decoded are still checked when read: the same give-up, and the checked reader's outcome
    _, vouched = same(jaeger(jspan(tags=tags)), monkeypatch)
    assert not vouched


def test_equal_floats_with_different_text_are_not_conflated(monkeypatch: pytest.MonkeyPatch) -> None:
    first = jaeger(jspan(tags=[tag("otel.scope.name", -0.0, "float64")]))
    second = jaeger(jspan(tags=[tag("otel.scope.name", 0.0, "float64")]))
    fast_first, _ = same(first, monkeypatch)
    fast_second, _ = same(second, monkeypatch)
    assert spans_of(fast_first)[0].scope.name == "-0.0"
    assert spans_of(fast_second)[0].scope.name == "0.0"


def test_error_tag_is_kept_unless_it_set_the_status(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, _ = same(jaeger(jspan(tags=[tag("error", True, "bool"), tag("k", "v")])), monkeypatch)
    (s,) = spans_of(fast)
    assert (s.status, s.attributes) == (StatusCode.ERROR, {"k": "v"})
    fast, _ = same(jaeger(jspan(tags=[tag("error", "no"), tag("span.kind", "client")])), monkeypatch)
    (s,) = spans_of(fast)
    assert (s.kind, s.attributes) == (SpanKind.CLIENT, {"error": "no"})


@pytest.mark.parametrize(
    "span_id",
    [
        "EEE19B7EC3C1B100",
        "ee19b7ec3c1b100",
        "0000000000000000",
        "eee19b7ec3c1b10 ",
        "7uGbfsPBsQA=",
        "eee19b7ec3c1b1000",
    ],
)
def test_span_ids_not_canonical_are_normalised_or_refused_as_before(
    span_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    same(jaeger(jspan(span_id), jspan(B, [ref(span_id)]), jspan(C, [ref(B)])), monkeypatch)


def test_the_other_tags_are_the_attributes_kept_as_decoded_in_a_small_input() -> None:
    doc = jaeger(jspan(tags=[KIND, tag("k", "v"), tag("error", "no")]), jspan(B, tags=[tag("k", "v")]), jspan(C))
    out = fastjson.read(fastjson.msgspec.json.encode(doc))
    assert out is not None
    cols = out[0][0].columns
    assert [type(a) for a in cols.attributes] == [fastjson.JaegerAttributes, fastjson.JaegerAttributes,
                                                  fastjson.NoAttributes]  # fmt: skip
    assert [cols.attributes_of(i) for i in range(3)] == [{"k": "v", "error": "no"}, {"k": "v"}, {}]
    assert [type(a) for a in cols.attributes] == [dict, dict, dict]  # decoded once, then kept


def test_trace_objects_of_one_trace_make_one_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    # the second object names the trace in capitals: the same trace once normalised, its spans appended
    first = jaeger(jspan(tags=[KIND, tag("k", "v")]), envelope=False)
    second = jaeger(jspan(B, [ref(A, trace_id=T.upper())], tags=[tag("k", 1, "int64")], traceID=T.upper()),
                    envelope=False)  # fmt: skip
    second["traceID"] = T.upper()
    fast, vouched = same({"data": [first, second]}, monkeypatch)
    assert vouched
    (trace,) = fast[2]  # type: ignore[index]
    assert [(s.span_id, s.parent_span_id, s.attributes) for s in trace.spans] == [(A, "", {"k": "v"}),
                                                                                   (B, A, {"k": 1})]  # fmt: skip


def test_the_other_tags_are_dicts_of_shared_strings_in_a_large_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastjson, "CHUNKED_ABOVE", 0)
    doc = jaeger(jspan(tags=[KIND, tag("k", "v"), tag("error", "no")]), jspan(B, tags=[tag("k", "v")]))
    out = fastjson.read(fastjson.msgspec.json.encode(doc))
    assert out is not None
    cols = out[0][0].columns
    assert cols.attributes == [{"k": "v", "error": "no"}, {"k": "v"}]
    assert cols.attributes_of(0)["k"] is cols.attributes_of(1)["k"]


def test_traces_held_with_many_others_get_their_tags_as_dicts_at_once(tmp_path: Path) -> None:
    """``load_many`` keeps every trace it reads: small files are read compact (as a large input is), which held
    10,000 Jaeger files in 180 MB instead of 406; a file analysed and dropped (``blame``'s pool) keeps them lazy.
    The attributes are the same either way, for Jaeger and OTLP."""
    from tracectl.formats import otlp_json
    from tracectl.formats.detect import read_source
    from tracectl.workflows.sources import load_many

    def doc(trace_id: str) -> dict[str, Any]:
        out = jaeger(jspan(tags=[KIND, tag("k", "v"), tag("n", 1, "int64")], traceID=trace_id),
                     jspan(B, tags=[tag("k", "v")], traceID=trace_id))  # fmt: skip
        out["data"][0]["traceID"] = trace_id
        return out

    (tmp_path / "a.json").write_bytes(orjson.dumps(doc(T)))
    (tmp_path / "o.json").write_bytes(orjson.dumps(doc(T_OTHER)))  # an OTLP file of another trace, from Jaeger
    other = read_source(str(tmp_path / "o.json")).traces[0]
    (tmp_path / "o.json").unlink()
    (tmp_path / "b.otlp.json").write_bytes(orjson.dumps(otlp_json.dump_document([other])))
    held = load_many([str(tmp_path)])
    assert len(held.traces) == 2
    for trace in held.traces:
        cols = trace.columns
        assert [type(a) for a in cols.attributes] == [dict, dict]  # made at once, not kept as decoded
        assert cols.attributes == [{"k": "v", "n": 1}, {"k": "v"}]
        assert cols.attributes[0]["k"] is cols.attributes[1]["k"]  # one string for the file's equal values
        dropped = read_source(str(tmp_path / ("a.json" if trace.trace_id == T else "b.otlp.json"))).traces[0]
        assert not any(type(a) is dict for a in dropped.columns.attributes)  # lazy when not held
        assert [s.attributes for s in dropped.spans] == [s.attributes for s in trace.spans]


T_OTHER = "0af7651916cd43dd8448eb211c80319c"


@pytest.mark.parametrize(
    "child_refs",
    [
        [ref(B)],  # the parent comes later in the file
        [ref(B.upper())],
        [ref(B, "FOLLOWS_FROM")],
        [ref(B, "child_of")],
        [ref(B, trace_id=T_OTHER)],
        [ref(B, trace_id=T_OTHER), ref(B)],
        [ref(B), ref(C, "FOLLOWS_FROM")],
        [ref("0000000000000000")],
        [ref("eee19b7ec3c1b1ff")],  # a parent not in the trace
    ],
)
def test_references_read_the_same(child_refs: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    doc = jaeger(jspan(C, [ref(B)], tags=[KIND]), jspan(refs=child_refs), jspan(B), jspan("eee19b7ec3c1b103", [ref(B)]))
    same(doc, monkeypatch)
