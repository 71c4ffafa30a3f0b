"""Readers for every variant, writers, lossless conversions, and bad input."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from tracectl.errors import FormatError, InputError
from tracectl.formats import jaeger_json, otlp_json, otlp_proto
from tracectl.formats.detect import read_bytes, read_source
from tracectl.model import Event, Link, Resource, Scope, Span, SpanKind, StatusCode, Trace
from tracectl.sandbox.synth import ml_inference_trace

ML_VARIANTS = [
    "ml-inference.otlp.json",
    "ml-inference.otlp.pb",
    "ml-inference.tempo-v2.json",
    "ml-inference.tempo-v2.pb",
    "ml-inference.tempo-v1.json",
    "ml-inference.tempo-1x.json",
    "ml-inference.jaeger.json",
    "ml-inference.jaeger-v3.json",
]


def by_id(spans: tuple[Span, ...] | list[Span]) -> list[Span]:
    return sorted(spans, key=lambda s: s.span_id)


@pytest.mark.parametrize("name", ML_VARIANTS)
def test_every_variant_of_the_ml_trace_reads_to_the_same_spans(name: str) -> None:
    expected = ml_inference_trace(7)
    result = read_source(str(FIXTURES / name))
    assert [t.trace_id for t in result.traces] == [expected.trace_id]
    got = result.traces[0]
    assert len(got.spans) == 24
    assert by_id(got.spans) == by_id(expected.spans)
    assert got.services == [
        "api-gateway",
        "audit-logger",
        "cv-model",
        "feature-store",
        "inference-orchestrator",
        "model-router",
        "nlp-model",
        "postprocess",
    ]


def test_formats_are_detected_and_named() -> None:
    assert read_source(str(FIXTURES / "ml-inference.otlp.pb")).format == "otlp-proto"
    assert read_source(str(FIXTURES / "ml-inference.tempo-v2.json")).format == "tempo-json"
    assert read_source(str(FIXTURES / "ml-inference.jaeger-v3.json")).format == "jaeger-v3-json"
    assert read_source(str(FIXTURES / "ml-inference.jaeger.json")).format == "jaeger-json"


def test_several_traces_in_one_file() -> None:
    jsonl = read_source(str(FIXTURES / "ml-inference-3-traces.otlp.jsonl"))
    assert [len(t.spans) for t in jsonl.traces] == [24, 24, 24]
    assert len({t.trace_id for t in jsonl.traces}) == 3
    jaeger = read_source(str(FIXTURES / "ml-inference-2-traces.jaeger.json"))
    assert [t.trace_id for t in jaeger.traces] == [ml_inference_trace(8).trace_id, ml_inference_trace(9).trace_id]


def test_hand_written_otlp_with_numbers_and_every_attribute_type() -> None:
    (trace,) = read_source(str(FIXTURES / "messy/int64-as-numbers.otlp.json")).traces
    (span,) = trace.spans
    assert trace.trace_id == "af7651916cd43dd8448eb211c80319c0"
    assert span.span_id == "b7ad6b7169203331"
    assert span.kind is SpanKind.INTERNAL
    assert (span.status, span.status_message) == (StatusCode.ERROR, "OOM")
    assert span.duration_ns == 5_000_000
    assert span.attributes == {
        "ml.batch_size": 16,
        "ml.gpu": True,
        "ml.temperature": 0.7,
        "ml.labels": ("cat", 3),
        "ml.config": {"fp16": False},
        "ml.digest": b"\xde\xad\xbe\xef",
        "empty": "",
    }
    assert span.scope == Scope()


def test_jaeger_reader_tags_logs_references_processes() -> None:
    (trace,) = read_source(str(FIXTURES / "messy/follows-from.jaeger.json")).traces
    root, queued = trace.spans
    assert root.kind is SpanKind.SERVER and root.status is StatusCode.ERROR
    assert root.attributes == {"http.response.status_code": 500, "ml.score": 0.25, "payload": b"\x00\x01\x02"}
    assert root.resource.attributes == {"service.name": "api-gateway", "hostname": "gw-1"}
    assert root.events == (Event(1_763_972_400_001_000_000, "exception", {"exception.message": "model timeout"}),)
    assert root.start_ns == 1_763_972_400_000_000_000 and root.duration_ns == 25_000_000
    # FOLLOWS_FROM to a span in the trace is the parent (async); the CHILD_OF into another trace is a link.
    assert queued.parent_span_id == root.span_id and queued.follows_from
    assert queued.links == (
        Link("9df7651916cd43dd8448eb211c80319c", "0000000000000007", {"opentracing.ref_type": "child_of"}),
    )


def test_jaeger_64bit_trace_ids_are_padded() -> None:
    (trace,) = read_source(str(FIXTURES / "messy/zipkin-shared-span.jaeger.json")).traces
    assert trace.trace_id == "00000000000000003df7651916cd43dd"
    assert {s.trace_id for s in trace.spans} == {trace.trace_id}


# ------------------------------------------------------------------------------------ lossless conversions


def _otlp_roundtrip_via_jaeger(trace: Trace) -> Trace:
    jaeger_doc = orjson.loads(orjson.dumps(jaeger_json.dump_document([trace])))
    (via_jaeger,) = read_bytes(orjson.dumps(jaeger_doc), "mem").traces
    otlp_doc = orjson.dumps(otlp_json.dump_document([via_jaeger]))
    (back,) = read_bytes(otlp_doc, "mem").traces
    return back


def test_otlp_to_jaeger_to_otlp_keeps_every_span_link_time_and_attribute() -> None:
    (original,) = read_source(str(FIXTURES / "ml-inference.otlp.json")).traces
    assert by_id(_otlp_roundtrip_via_jaeger(original).spans) == by_id(original.spans)


def test_jaeger_to_otlp_to_jaeger_keeps_follows_from_and_cross_trace_references() -> None:
    source = orjson.loads((FIXTURES / "messy/follows-from.jaeger.json").read_bytes())
    (trace,) = read_bytes(orjson.dumps(source), "mem").traces
    (via_otlp,) = read_bytes(orjson.dumps(otlp_json.dump_document([trace])), "mem").traces
    assert via_otlp == trace
    again = jaeger_json.dump_document([via_otlp])["data"][0]
    assert [s["references"] for s in again["spans"]] == [s["references"] for s in source["data"][0]["spans"]]


def test_protobuf_roundtrip_keeps_arrays_and_kvlists() -> None:
    (trace,) = read_source(str(FIXTURES / "messy/int64-as-numbers.otlp.json")).traces
    (back,) = read_bytes(otlp_proto.dump_bytes([trace]), "mem").traces
    assert back == trace


def test_tempo_base64_json_roundtrip() -> None:
    trace = ml_inference_trace(3)
    doc = {"trace": otlp_json.dump_document([trace], ids="base64")}
    span0 = doc["trace"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert span0["traceId"].endswith("==") and span0["kind"].startswith("SPAN_KIND_")
    (back,) = read_bytes(orjson.dumps(doc), "mem").traces
    assert by_id(back.spans) == by_id(trace.spans)


_scalar = st.one_of(
    st.text(max_size=8),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.binary(max_size=6),
)
_attrs = st.dictionaries(
    st.text(min_size=1, max_size=6).filter(lambda k: not k.startswith(("otel.", "span.", "error"))), _scalar, max_size=4
)
_hex16 = st.binary(min_size=8, max_size=8).filter(any).map(bytes.hex)


@st.composite
def random_trace(draw: st.DrawFn) -> Trace:
    trace_id = draw(st.binary(min_size=16, max_size=16).filter(any)).hex()
    other_trace = draw(st.binary(min_size=16, max_size=16).filter(any).map(bytes.hex).filter(lambda t: t != trace_id))
    n = draw(st.integers(1, 6))
    ids = draw(st.lists(_hex16, min_size=n, max_size=n, unique=True))
    resources = [Resource({"service.name": f"svc{i}", **draw(_attrs)}) for i in range(2)]
    spans = []
    for i, sid in enumerate(ids):
        start = draw(st.integers(1_600_000_000_000_000, 1_800_000_000_000_000)) * 1000  # µs resolution
        spans.append(
            Span(
                trace_id=trace_id,
                span_id=sid,
                parent_span_id=ids[i - 1] if i else "",
                name=draw(st.text(max_size=10)),
                start_ns=start,
                end_ns=start + draw(st.integers(0, 10**9)) * 1000,
                kind=draw(st.sampled_from(SpanKind)),
                status=draw(st.sampled_from(StatusCode)),
                status_message=draw(st.text(max_size=5)),
                attributes=draw(_attrs),
                resource=resources[draw(st.integers(0, 1))],
                scope=Scope(draw(st.text(max_size=4)), draw(st.text(max_size=4))),
                # An event attribute named "event" is Jaeger's field for the event's name (a documented limit).
                events=tuple(
                    Event(start + k * 1000, f"e{k}", {a: v for a, v in draw(_attrs).items() if a != "event"})
                    for k in range(draw(st.integers(0, 2)))
                ),
                # Links into another trace: Jaeger has no link type, and a root's link into its own trace would
                # read back as a FOLLOWS_FROM parent (the documented parent rule), so only these are lossless.
                links=tuple(
                    Link(other_trace, draw(_hex16), {"opentracing.ref_type": "follows_from"})
                    for _ in range(draw(st.integers(0, 1)))
                ),
                follows_from=bool(i) and draw(st.booleans()),
            )
        )
    return Trace(trace_id, tuple(spans))


@settings(max_examples=60, deadline=None)
@given(random_trace())
def test_property_otlp_jaeger_otlp_is_lossless(trace: Trace) -> None:
    assert by_id(_otlp_roundtrip_via_jaeger(trace).spans) == by_id(trace.spans)


@settings(max_examples=60, deadline=None)
@given(random_trace())
def test_property_protobuf_is_lossless(trace: Trace) -> None:
    (back,) = read_bytes(otlp_proto.dump_bytes([trace]), "mem").traces
    assert by_id(back.spans) == by_id(trace.spans)


# -------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("bad/not-json.txt", "not JSON and not protobuf (starts with 'this is not a trace')"),
        ("bad/invalid.json", "not valid JSON: unexpected end of data at line 2"),
        ("bad/truncated.otlp.pb", "not OTLP protobuf either (truncated or corrupt"),
        ("bad/wrong-shape.json", "JSON of an unexpected shape (top-level keys: data, status)"),
        ("bad/empty-trace.json", "no spans found: the trace is empty"),
        ("bad/span-without-id.json", "resourceSpans[0].scopeSpans[0].spans[0]: span has no spanId"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(name: str, phrase: str) -> None:
    path = str(FIXTURES / name)
    with pytest.raises(FormatError) as info:
        read_source(path)
    assert str(info.value).startswith(f"{path}: ")
    assert phrase in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("payload", "phrase"),
    [
        (b"", "empty input"),
        (b"   \n", "empty input"),
        (b"[1, 2]", "unexpected shape (a int)"),
        (b'{"traces": []}', "holds search results"),
        (b'{"data": [], "errors": [{"code": 404, "msg": "trace not found"}]}', "trace not found"),
        (
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz", "spanId": "01"}]}]}]}',
            "neither hex nor base64",
        ),
        (
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "01", "spanId": "01", "kind": "WEIRD"}]}]}]}',
            "unknown span kind 'WEIRD'",
        ),
        (b'{"resourceSpans": 5}', "payload: resourceSpans: expected a list, got a number"),
        (
            b'{"data": [{"spans": [{"traceID": "01", "spanID": "02", "processID": "p9"}], "processes": {}}]}',
            "data[0].spans[0]: processID 'p9' is not in 'processes'",
        ),
        (b"\x0a\x02\x0a\x00", "no trace spans found"),
    ],
)
def test_bad_payloads(payload: bytes, phrase: str) -> None:
    with pytest.raises(FormatError) as info:
        read_bytes(payload, "payload")
    assert phrase in str(info.value)


def test_missing_file_and_directory_are_input_errors(tmp_path: object) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_source(str(FIXTURES / "does-not-exist.json"))
    with pytest.raises(InputError, match="is a directory"):
        read_source(str(FIXTURES))


def test_protobuf_whose_first_length_byte_reads_as_a_brace_is_still_protobuf() -> None:
    # Found by hypothesis: 0x0a (field 1) is whitespace to a sniffer, and a first message of 123 bytes then
    # starts with "{". Build exactly that case and check it reads as protobuf.
    for n in range(200):
        trace = Trace(
            "1" * 32, (Span("1" * 32, "2" * 16, "", "x" * n, 1, 2, resource=Resource({"service.name": "s"})),)
        )
        data = otlp_proto.dump_bytes([trace])
        if data[:2] in (b"\x0a{", b"\x0a["):
            (back,) = read_bytes(data, "mem").traces
            assert back == trace
            return
    raise AssertionError("no payload of that shape was produced")
