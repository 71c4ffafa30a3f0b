"""Every real trace response in ../shared/samples loads with the right spans, services, parents and times.

These files come from the Tempo and Jaeger source trees; they are read in place, never copied.
"""

from __future__ import annotations

import pytest

from tests.conftest import SAMPLES, needs_samples
from tracectl.analysis.tree import build_tree
from tracectl.errors import FormatError
from tracectl.formats.detect import read_source

pytestmark = needs_samples


def load_one(rel: str):  # type: ignore[no-untyped-def]
    result = read_source(str(SAMPLES / rel))
    assert len(result.traces) == 1
    return result.traces[0]


def test_tempo_v2_trace_by_id() -> None:
    trace = load_one("tempo/tempo_v2_trace_by_id__tempo_docs_head.json")
    (span,) = trace.spans
    assert trace.trace_id == "5b8efff798038103d269b633813fc700"
    assert span.span_id == "eee19b7ec3c1b100" and span.parent_span_id == ""
    assert span.service == "my.service" and span.name == "I am a span!"
    assert span.kind.name == "SERVER"
    assert span.scope.name == "my.library" and span.scope.version == "1.0.0"
    assert (span.start_ns, span.end_ns) == (1689969302000000000, 1689970000000000000)
    assert span.attributes == {"my.span.attr": "some value"}


def test_tempo_v1_batches_scope_spans_is_the_same_trace() -> None:
    v1 = load_one("tempo/tempo_v1_trace_by_id_batches_scopeSpans__tempo_docs_v2.5.0.json")
    v2 = load_one("tempo/tempo_v2_trace_by_id__tempo_docs_head.json")
    assert v1 == v2


def test_tempo_1x_instrumentation_library_spans() -> None:
    trace = load_one("tempo/tempo_v1_trace_by_id_batches_instrLibSpans__tempo_docs_v1.5.0.json")
    (span,) = trace.spans
    assert trace.trace_id == "00000000000000000123456789abcdef"  # 64-bit ID, zero-padded in base64
    assert span.span_id == "0000000000001234"
    assert span.service == "shell script" and span.name == "span from bash!"
    assert span.duration_ns == 100_000_000
    assert span.attributes == {"http.path": "/api", "http.method": "GET"}


def test_tempo_vulture_trace_several_roots_and_parent_links() -> None:
    trace = load_one("tempo/tempo_trace_jsonpb_resourceSpans__tempo_vulture_testdata.json")
    assert trace.trace_id == "3149195ffb0bec05347b48efe8ecc1b0"
    assert len(trace.spans) == 6 and trace.services == ["tempo-vulture"]
    names = {s.span_id: s.name for s in trace.spans}
    parent_of = {s.name: names.get(s.parent_span_id) for s in trace.spans}
    assert parent_of == {
        "vulture-68": None,
        "vulture-45": "vulture-68",
        "vulture-96": "vulture-45",
        "vulture-48": "vulture-96",
        "vulture-36": None,
        "vulture-38": "vulture-36",
    }
    assert all(s.kind.name == "UNSPECIFIED" for s in trace.spans)  # kind omitted when unspecified
    tree = build_tree(trace)
    assert len(tree.roots) == 2
    assert "multiple-roots" in {w.kind for w in tree.warnings}
    assert tree.duration_ns == 92_000


def test_jaeger_otlp_input_and_v1_output_are_the_same_trace() -> None:
    otlp = load_one("jaeger/otlp2jaeger-in.otlp.json")
    jaeger = load_one("jaeger/otlp2jaeger-out.jaeger.json")
    assert otlp.trace_id == jaeger.trace_id == "83a9efd15c1c98a977e0711cc93ee28b"
    assert len(otlp.spans) == len(jaeger.spans) == 2  # the same span twice, in both files
    for a, b in zip(otlp.spans, jaeger.spans, strict=True):
        assert (a.span_id, a.parent_span_id, a.name, a.kind, a.start_ns, a.end_ns) == (
            b.span_id,
            b.parent_span_id,
            b.name,
            b.kind,
            b.start_ns,
            b.end_ns,
        )
        assert a.service == b.service == "telemetrygen"
        assert b.duration_ns == 123_000  # 123 µs in Jaeger's microseconds
        assert b.attributes == a.attributes == {"net.peer.ip": "1.2.3.4", "peer.service": "telemetrygen-client"}
        assert b.scope.name == "telemetrygen"
    tree = build_tree(jaeger)
    kinds = {w.kind for w in tree.warnings}
    assert len(tree) == 1 and {"duplicate", "orphan"} <= kinds  # identical copies → one; parent never arrived


@pytest.mark.parametrize("name", ["v3_GetTrace.VERBATIM_snapshot.json", "v3_FindTraces.VERBATIM_snapshot.json"])
def test_jaeger_v3_result_wrapper(name: str) -> None:
    trace = load_one(f"jaeger/{name}")
    (span,) = trace.spans
    assert trace.trace_id == "00000000000000000000000000000001"
    assert span.span_id == "0000000000000002" and span.name == "foobar"
    assert span.kind.name == "SERVER" and span.is_error
    assert span.service == "unknown_service"  # the resource is empty
    tree = build_tree(trace)
    assert [w.kind for w in tree.warnings] == ["bad-time"]  # no timestamps at all: reported, not a crash


@pytest.mark.parametrize(
    "rel",
    [
        "tempo/tempo_search_traceql__tempo_docs_head.json",
        "jaeger/v3_FindTraceSummaries.VERBATIM_snapshot.json",
        "loki/loki_query_range_streams__loki_docs_head.json",
    ],
)
def test_responses_that_are_not_traces_are_refused_clearly(rel: str) -> None:
    with pytest.raises(FormatError) as info:
        read_source(str(SAMPLES / rel))
    assert str(info.value).startswith(str(SAMPLES / rel) + ": ")


def test_every_trace_sample_is_covered() -> None:
    """Fails when a new trace-bearing sample appears that no test above reads."""
    covered = {
        "tempo_v2_trace_by_id__tempo_docs_head.json",
        "tempo_v1_trace_by_id_batches_scopeSpans__tempo_docs_v2.5.0.json",
        "tempo_v1_trace_by_id_batches_instrLibSpans__tempo_docs_v1.5.0.json",
        "tempo_trace_jsonpb_resourceSpans__tempo_vulture_testdata.json",
        "otlp2jaeger-in.otlp.json",
        "otlp2jaeger-out.jaeger.json",
        "v3_GetTrace.VERBATIM_snapshot.json",
        "v3_FindTraces.VERBATIM_snapshot.json",
    }
    loadable = set()
    for path in sorted((SAMPLES / "tempo").glob("*.json")) + sorted((SAMPLES / "jaeger").glob("*.json")):
        try:
            read_source(str(path))
        except FormatError:
            continue
        loadable.add(path.name)
    assert loadable == covered
