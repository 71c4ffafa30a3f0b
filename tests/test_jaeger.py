"""Jaeger client through respx: v3 first, summaries, v1 fallback (including the UI's HTML pages), envelopes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import orjson
import pytest
import respx
from typer.testing import CliRunner

from tests.conftest import SAMPLES, needs_samples
from tracectl.backends.http import HttpClient, HttpConfig
from tracectl.backends.jaeger import JaegerClient
from tracectl.backends.query import SearchQuery
from tracectl.cli.main import app
from tracectl.errors import BackendError, InputError, TraceNotFound
from tracectl.formats import jaeger_json, otlp_json
from tracectl.model import StatusCode, Trace
from tracectl.sandbox.synth import ml_inference_trace
from tracectl.timerange import TimeRange

BASE = "http://jaeger.test:16686/jaeger"  # a base path, as behind an ingress
T_START, T_END = 1_763_968_800_000_000_000, 1_763_972_400_123_456_789
ML = ml_inference_trace(7)
TID = ML.trace_id
NO_TRACES = {"error": {"httpCode": 404, "message": "No traces found"}}
HTML = httpx.Response(200, text="<!doctype html><html>Jaeger UI</html>", headers={"content-type": "text/html"})


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_mocked=True) as mock:
        yield mock


def jaeger() -> JaegerClient:
    return JaegerClient(HttpClient(HttpConfig(BASE, "Jaeger", retries=0), sleep=lambda _s: None))


def query(**kw: object) -> SearchQuery:
    return SearchQuery(time=TimeRange(T_START, T_END), **{"service": "api-gateway", **kw})  # type: ignore[arg-type]


V3_PARAMS = {
    "query.service_name": "api-gateway",
    "query.start_time_min": "2025-11-24T07:20:00.000000000Z",
    "query.start_time_max": "2025-11-24T08:20:00.123456789Z",
    "query.num_traces": "20",
}


def test_v3_trace_summaries_with_exact_parameters(router: respx.MockRouter) -> None:
    summaries = {"summaries": [
        {"traceId": "0000000000000000000000000000000a", "rootServiceName": "api-gateway", "rootOperationName": "POST /v1/predict",
         "minStartTimeUnixNano": "1763972000000000000", "maxEndTimeUnixNano": "1763972000250000000", "spanCount": 24,
         "errorSpanCount": 0, "services": [{"name": "cv-model"}, {"name": "api-gateway"}]},
        {"traceId": "b", "rootServiceName": "api-gateway", "rootOperationName": "POST /v1/predict",
         "minStartTimeUnixNano": "1763972000000000000", "maxEndTimeUnixNano": "1763972002000000000", "spanCount": 30,
         "errorSpanCount": 2, "services": []},
    ]}  # fmt: skip
    route = router.get("/api/v3/trace-summaries").mock(return_value=httpx.Response(200, json=summaries))
    result = jaeger().search(query(operation="POST /v1/predict", min_duration_ns=1_500_000_000))
    assert dict(route.calls.last.request.url.params) == {
        **V3_PARAMS, "query.operation_name": "POST /v1/predict", "query.duration_min": "1500ms",
    }  # fmt: skip
    assert route.calls.last.request.url.path == "/jaeger/api/v3/trace-summaries"  # the base path is kept
    first = result.traces[0]
    assert first.trace_id == "0000000000000000000000000000000b" and first.duration_ns == 2_000_000_000
    assert (first.span_count, first.error_count) == (30, 2)
    assert result.traces[1].services == ("api-gateway", "cv-model")
    errors_only = jaeger().search(query(errors=True))
    assert [t.error_count for t in errors_only.traces] == [2]


def test_summaries_missing_falls_back_to_v3_traces_grouped_by_trace(router: respx.MockRouter) -> None:
    router.get("/api/v3/trace-summaries").mock(return_value=httpx.Response(404, text="404 page not found"))
    two = [ml_inference_trace(1), ml_inference_trace(2)]
    route = router.get("/api/v3/traces").mock(
        return_value=httpx.Response(200, json={"result": otlp_json.dump_document(two)})
    )
    result = jaeger().search(query())
    assert dict(route.calls.last.request.url.params) == V3_PARAMS
    assert {t.trace_id for t in result.traces} == {t.trace_id for t in two}
    assert all(t.span_count == 24 and t.root_service == "api-gateway" for t in result.traces)


def test_attribute_filters_go_to_the_server_as_text_and_are_rechecked_typed(router: respx.MockRouter) -> None:
    # No trace-summaries route: asking for it would fail the test (summaries carry no attributes to check).
    two = [ml_inference_trace(1), ml_inference_trace(2)]
    route = router.get("/api/v3/traces").mock(
        return_value=httpx.Response(200, json={"result": otlp_json.dump_document(two)})
    )
    vit = ("ml.model.name", "product-vit")
    hit = jaeger().search(query(service="cv-model", attributes=(vit, ("ml.batch_size", 4))))
    assert dict(route.calls.last.request.url.params) == {
        **V3_PARAMS, "query.service_name": "cv-model",
        "query.attributes": '{"ml.model.name":"product-vit","ml.batch_size":"4"}',
    }  # fmt: skip
    assert len(hit.traces) == 2
    # The server matches text; Tempo's typed rule does not: a string "4" is not the integer 4.
    assert jaeger().search(query(service="cv-model", attributes=(("ml.batch_size", "4"),))).traces == []
    assert len(jaeger().search(query(service="cv-model", attributes=(("ml.batch_size", 4.0),))).traces) == 2
    # Attributes describe the service's own span: the gateway's spans carry no model name.
    assert jaeger().search(query(attributes=(vit,))).traces == []


def test_errors_are_anywhere_in_the_trace_and_a_cut_page_is_said(router: respx.MockRouter) -> None:
    summaries = {"summaries": [
        {"traceId": f"{n:032x}", "rootServiceName": "api-gateway", "minStartTimeUnixNano": "1763972000000000000",
         "maxEndTimeUnixNano": "1763972000250000000", "spanCount": 24, "errorSpanCount": n % 2,
         "services": [{"name": "api-gateway", "errorSpanCount": 0}, {"name": "postprocess", "errorSpanCount": n % 2}]}
        for n in range(1, 21)
    ]}  # fmt: skip
    route = router.get("/api/v3/trace-summaries").mock(return_value=httpx.Response(200, json=summaries))
    result = jaeger().search(query(errors=True))
    assert "error" not in route.calls.last.request.url.params.get("query.attributes", "")  # not the gateway's span
    assert len(result.traces) == 10 and all(t.error_count == 1 for t in result.traces)
    (warning,) = result.warnings
    assert warning == (
        "Jaeger returned 20 traces (--limit) and 10 passed the checks it cannot do itself (errors in any span): "
        "more may match beyond them; raise --limit to look further"
    )
    assert jaeger().search(query(errors=True, limit=50)).warnings == []  # not a full page: nothing was cut


@pytest.mark.parametrize("first", [httpx.Response(404, json=NO_TRACES)])
def test_no_traces_found_is_an_empty_result(router: respx.MockRouter, first: httpx.Response) -> None:
    router.get("/api/v3/trace-summaries").mock(return_value=first)
    assert jaeger().search(query()).traces == []


def test_old_jaeger_serving_the_ui_for_unknown_paths_falls_back_to_v1(router: respx.MockRouter) -> None:
    router.get("/api/v3/traces").mock(return_value=HTML)  # --attr: summaries are not asked
    failing = ml_inference_trace(1)
    failing = Trace(failing.trace_id, tuple(
        replace(s, status=StatusCode.ERROR) if s.name == "forward" else s for s in failing.spans
    ))  # fmt: skip
    doc = jaeger_json.dump_document([failing, ml_inference_trace(2)])
    v1 = router.get("/api/traces").mock(return_value=httpx.Response(200, json=doc))
    result = jaeger().search(
        query(errors=True, max_duration_ns=5_000_000_000, attributes=(("http.response.status_code", 200),))
    )
    params = dict(v1.calls.last.request.url.params)
    # No "error" tag: Jaeger would want it on the gateway's own span.
    assert params == {
        "service": "api-gateway", "start": "1763968800000000", "end": "1763972400123456", "limit": "20",
        "tags": '{"http.response.status_code":"200"}', "maxDuration": "5s",
    }  # fmt: skip
    assert [t.trace_id for t in result.traces] == [failing.trace_id]  # its error is in nlp-model
    assert result.traces[0].duration_precision_ns == 1000  # v1 speaks microseconds


def test_search_needs_a_service_and_refuses_traceql() -> None:
    with pytest.raises(InputError, match="Jaeger needs --service"):
        jaeger().search(query(service=None))
    with pytest.raises(InputError, match="Tempo's query language"):
        jaeger().search(SearchQuery(time=TimeRange(T_START, T_END), traceql="{ }"))


def test_v1_error_envelope(router: respx.MockRouter) -> None:
    router.get("/api/v3/trace-summaries").mock(return_value=httpx.Response(404, text="404 page not found"))
    router.get("/api/v3/traces").mock(return_value=httpx.Response(404, text="404 page not found"))
    body = {"data": None, "total": 0, "limit": 0, "offset": 0, "errors": [{"code": 500, "msg": "storage down"}]}
    router.get("/api/traces").mock(return_value=httpx.Response(500, text=orjson.dumps(body).decode(),
                                                             headers={"content-type": "text/plain"}))  # fmt: skip
    with pytest.raises(BackendError, match="Jaeger answered 500 to the search: storage down"):
        jaeger().search(query())


def test_v3_error_envelope(router: respx.MockRouter) -> None:
    body = {"error": {"httpCode": 400, "message": "malformed parameter query.start_time_min"}}
    router.get("/api/v3/trace-summaries").mock(return_value=httpx.Response(400, json=body))
    with pytest.raises(BackendError, match="400 to the search: malformed parameter"):
        jaeger().search(query())


# ------------------------------------------------------------------------------------------ trace by ID


def test_trace_by_id_v3(router: respx.MockRouter) -> None:
    router.get(f"/api/v3/traces/{TID}").mock(
        return_value=httpx.Response(200, json={"result": otlp_json.dump_document([ML])})
    )
    assert len(jaeger().get_trace(TID).traces[0].spans) == 24


def test_trace_by_id_v3_not_found(router: respx.MockRouter) -> None:
    body = {"error": {"httpCode": 404, "message": "trace not found"}}
    router.get(f"/api/v3/traces/{TID}").mock(return_value=httpx.Response(404, json=body))
    with pytest.raises(TraceNotFound, match="not found in Jaeger"):
        jaeger().get_trace(TID)


def test_trace_by_id_falls_back_to_v1(router: respx.MockRouter) -> None:
    router.get(f"/api/v3/traces/{TID}").mock(return_value=HTML)
    router.get(f"/api/traces/{TID}").mock(return_value=httpx.Response(200, json=jaeger_json.dump_document([ML])))
    assert len(jaeger().get_trace(TID).traces[0].spans) == 24


def test_trace_by_id_v1_not_found_envelope(router: respx.MockRouter) -> None:
    router.get(f"/api/v3/traces/{TID}").mock(return_value=httpx.Response(404, text="404 page not found"))
    body = {"data": None, "errors": [{"code": 404, "msg": "trace not found", "traceID": TID}]}
    router.get(f"/api/traces/{TID}").mock(return_value=httpx.Response(404, json=body))
    with pytest.raises(TraceNotFound):
        jaeger().get_trace(TID)


@needs_samples
def test_real_v3_responses_replayed(router: respx.MockRouter) -> None:
    tid = "00000000000000000000000000000001"
    router.get(f"/api/v3/traces/{tid}").mock(
        return_value=httpx.Response(
            200, content=(SAMPLES / "jaeger" / "v3_GetTrace.VERBATIM_snapshot.json").read_bytes()
        )
    )
    (trace,) = jaeger().get_trace(tid).traces
    assert trace.spans[0].name == "foobar" and trace.spans[0].is_error
    router.get("/api/v3/trace-summaries").mock(
        return_value=httpx.Response(
            200, content=(SAMPLES / "jaeger" / "v3_FindTraceSummaries.VERBATIM_snapshot.json").read_bytes()
        )
    )
    (hit,) = jaeger().search(query()).traces
    assert (hit.trace_id, hit.root_service, hit.duration_ns, hit.span_count, hit.error_count) == (
        tid, "frontend", 1_000_000_000, 2, 1,
    )  # fmt: skip


@needs_samples
def test_real_v1_and_v3_search_responses_replayed(router: respx.MockRouter) -> None:
    router.get("/api/v3/trace-summaries").mock(return_value=httpx.Response(404, text="404 page not found"))
    router.get("/api/v3/traces").mock(
        return_value=httpx.Response(
            200, content=(SAMPLES / "jaeger" / "v3_FindTraces.VERBATIM_snapshot.json").read_bytes()
        )
    )
    (hit,) = jaeger().search(query()).traces
    assert hit.trace_id == "00000000000000000000000000000001" and hit.error_count == 1
    tid = "83a9efd15c1c98a977e0711cc93ee28b"
    router.get(f"/api/v3/traces/{tid}").mock(return_value=HTML)
    router.get(f"/api/traces/{tid}").mock(
        return_value=httpx.Response(200, content=(SAMPLES / "jaeger" / "otlp2jaeger-out.jaeger.json").read_bytes())
    )
    assert jaeger().get_trace(tid).traces[0].spans[0].duration_ns == 123_000


def test_cli_show_from_jaeger(router: respx.MockRouter) -> None:
    router.get(f"/api/v3/traces/{TID}").mock(
        return_value=httpx.Response(200, json={"result": otlp_json.dump_document([ML])})
    )
    result = CliRunner().invoke(app, ["--jaeger-url", BASE, "show", TID, "-o", "json"], env={"TEMPO_ADDR": ""})
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)["traces"][0]["cp_length_ns"] == 43_767_000
