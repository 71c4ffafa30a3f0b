"""Tempo client through respx: exact parameters, version differences, samples replayed, errors and exit codes."""

from __future__ import annotations

import httpx
import orjson
import pytest
import respx
from typer.testing import CliRunner

from tests.conftest import FIXTURES, SAMPLES, TEMPO_BASE, needs_samples, tempo_client
from tracectl.backends.query import SearchQuery, build_traceql, traceql_string
from tracectl.cli.main import app
from tracectl.errors import BackendError, InputError, TraceNotFound
from tracectl.formats import otlp_json, otlp_proto
from tracectl.sandbox.synth import ml_inference_trace
from tracectl.timerange import TimeRange

BASE = TEMPO_BASE
T_START, T_END = 1_763_968_800_000_000_000, 1_763_972_400_500_000_000  # end has a fraction: rounded up
ML = ml_inference_trace(7)
TID = ML.trace_id


@pytest.fixture
def router(tempo_router: respx.MockRouter) -> respx.MockRouter:
    return tempo_router


tempo = tempo_client


def query(**kw: object) -> SearchQuery:
    return SearchQuery(time=TimeRange(T_START, T_END), **kw)  # type: ignore[arg-type]


def buildinfo(router: respx.MockRouter, version: str | None) -> respx.Route:
    if version is None:
        return router.get("/api/status/buildinfo").mock(return_value=httpx.Response(404, text="404 page not found"))
    return router.get("/api/status/buildinfo").mock(return_value=httpx.Response(200, json={"version": version}))


SEARCH_BODY = {
    "traces": [
        {"traceID": "2f3e0cee77ae5dc9c17ade3689eb2e54", "rootServiceName": "api-gateway", "rootTraceName": "POST /v1/predict",
         "startTimeUnixNano": "1763972000000000000", "durationMs": 120},
        {"traceID": "b1586c3c8c34d", "rootServiceName": "<root span not yet received>",
         "startTimeUnixNano": "1763972100000000000", "durationMs": 2400,
         "spanSets": [{"spans": [], "matched": 2}, {"spans": [], "matched": 1}]},
        {"traceID": "d6e9329d67b6146a", "rootServiceName": "api-gateway", "rootTraceName": "GET /healthz",
         "startTimeUnixNano": "1763972200000000000"},
    ],
    "metrics": {"completedJobs": 3, "totalJobs": 3},
}  # fmt: skip


def test_search_sends_traceql_in_unix_seconds_and_sorts_slowest_first(router: respx.MockRouter) -> None:
    buildinfo(router, "2.6.1")
    route = router.get("/api/search").mock(return_value=httpx.Response(200, json=SEARCH_BODY))
    result = tempo().search(query(service="api-gateway", min_duration_ns=2_000_000_000, limit=50))
    params = dict(route.calls.last.request.url.params)
    assert params == {
        "q": '{ resource.service.name = "api-gateway" && trace:duration >= 2s }',
        "start": "1763968800", "end": "1763972401", "limit": "50",
    }  # fmt: skip
    assert [t.trace_id for t in result.traces] == [
        "0000000000000000000b1586c3c8c34d", "2f3e0cee77ae5dc9c17ade3689eb2e54", "0000000000000000d6e9329d67b6146a",
    ]  # fmt: skip
    slow = result.traces[0]
    assert slow.duration_ns == 2_400_000_000 and slow.root_service == "" and slow.matched == 3
    assert result.traces[-1].duration_ns == 0  # durationMs absent when 0
    assert result.warnings == []


@pytest.mark.parametrize(
    ("version", "expected"),
    [("2.4.2", "traceDuration"), ("v2.5.0", "trace:duration"), (None, "trace:duration")],
)
def test_duration_intrinsic_follows_the_server_version(
    router: respx.MockRouter, version: str | None, expected: str
) -> None:
    buildinfo(router, version)
    route = router.get("/api/search").mock(return_value=httpx.Response(200, json={"traces": []}))
    tempo().search(query(max_duration_ns=1_500_000))
    assert route.calls.last.request.url.params["q"] == f"{{ {expected} <= 1500us }}"


def test_before_2_2_flags_become_a_tags_search(router: respx.MockRouter) -> None:
    buildinfo(router, "2.1.0")
    route = router.get("/api/search").mock(return_value=httpx.Response(200, json={"traces": []}))
    tempo().search(query(service="nlp model", errors=True, min_duration_ns=2_000_000_000, attributes=(("k", "v"),)))
    params = dict(route.calls.last.request.url.params)
    assert params["tags"] == 'service.name="nlp model" error=true k=v'
    assert params["minDuration"] == "2s" and "q" not in params


@pytest.mark.parametrize("key", ["x error", "a=b", 'q"', "tab\there", ""])
def test_before_2_2_a_key_logfmt_cannot_hold_is_refused_not_sent(router: respx.MockRouter, key: str) -> None:
    from tracectl.errors import InputError

    buildinfo(router, "2.1.0")  # no search route: a search sent would fail the test
    with pytest.raises(InputError, match=r"cannot be searched on Tempo before 2\.2"):
        tempo().search(query(attributes=((key, "true"),)))


def test_raw_traceql_is_sent_as_is_without_asking_the_version(router: respx.MockRouter) -> None:
    # No buildinfo route: asking for it would fail the test (every request must match a route).
    route = router.get("/api/search").mock(return_value=httpx.Response(200, json={"traces": []}))
    raw = '{ span.http.route = "/v1/predict" } | count() > 2'
    tempo().search(query(traceql=raw))
    assert route.calls.last.request.url.params["q"] == raw and len(router.calls) == 1


def test_injected_values_stay_string_literals() -> None:
    evil = 'x" || true || resource.service.name = "\\'
    built = build_traceql(query(service=evil, attributes=(("ml.model", 'a"b'), ("odd key", "v"))))
    assert built == (
        '{ resource.service.name = "x\\" || true || resource.service.name = \\"\\\\" && .ml.model = "a\\"b" '
        '&& span."odd key" = "v" }'
    )
    assert traceql_string("line\nbreak\ttab") == '"line\\nbreak\\ttab"'
    with pytest.raises(InputError, match="cannot be combined"):
        query(traceql="{ }", service="x")


def test_search_stopped_early_warns(router: respx.MockRouter) -> None:
    buildinfo(router, "2.6.0")
    body = {"traces": [], "metrics": {"completedJobs": 4, "totalJobs": 10}}
    router.get("/api/search").mock(return_value=httpx.Response(200, json=body))
    (warning,) = tempo().search(query()).warnings
    assert "stopped the search early (4 of 10 jobs)" in warning


@needs_samples
@pytest.mark.parametrize(
    ("name", "ids"),
    [
        ("tempo_search_traceql__tempo_docs_head.json", ["5b8efff798038103d269b633813fc700"]),
        ("tempo_search_status_error__tempo_api_docs_head_FIXED.json", ["2f3e0cee77ae5dc9c17ade3689eb2e54"]),
        ("tempo_search_tags_minDuration__tempo_api_docs_head.json",
         ["00000000000000001b1ba462b409200d", "0000000000000000d6e9329d67b6146a"]),
    ],
)  # fmt: skip
def test_real_search_responses_replayed(router: respx.MockRouter, name: str, ids: list[str]) -> None:
    buildinfo(router, "2.6.0")
    router.get("/api/search").mock(return_value=httpx.Response(200, content=(SAMPLES / "tempo" / name).read_bytes()))
    assert sorted(t.trace_id for t in tempo().search(query()).traces) == sorted(ids)


@needs_samples
def test_real_spansets_response_with_odd_length_ids(router: respx.MockRouter) -> None:
    buildinfo(router, "2.6.0")
    sample = SAMPLES / "tempo" / "tempo_search_spanSets_by__grafana_tempo_testResponse_ts_EXCERPT.json"
    router.get("/api/search").mock(return_value=httpx.Response(200, content=sample.read_bytes()))
    result = tempo().search(query())
    assert all(len(t.trace_id) == 32 for t in result.traces)
    assert "0000000000000000000b1586c3c8c34d" in {t.trace_id for t in result.traces}


# ------------------------------------------------------------------------------------------ trace by ID


def test_trace_by_id_asks_v2_for_protobuf(router: respx.MockRouter) -> None:
    route = router.get(f"/api/v2/traces/{TID}").mock(
        return_value=httpx.Response(200, content=otlp_proto.dump_bytes([ML], tempo_response=True),
                                    headers={"content-type": "application/protobuf"})
    )  # fmt: skip
    result = tempo().get_trace(TID.upper())
    assert route.calls.last.request.headers["Accept"] == "application/protobuf"
    assert len(result.traces[0].spans) == 24 and result.notes == []


def test_v2_json_answer_and_partial_status(router: respx.MockRouter) -> None:
    doc = {
        "trace": otlp_json.dump_document([ML], ids="base64"),
        "status": "PARTIAL",
        "message": "trace exceeds max size",
    }
    router.get(f"/api/v2/traces/{TID}").mock(return_value=httpx.Response(200, json=doc))
    result = tempo().get_trace(TID)
    assert len(result.traces[0].spans) == 24
    assert result.notes == ["Tempo marked this trace PARTIAL: trace exceeds max size"]


@pytest.mark.parametrize("empty", [b"", b"{}", b'{"trace": {}}', otlp_proto.dump_bytes([], tempo_response=True)])
def test_v2_not_found_is_a_200_with_an_empty_trace(router: respx.MockRouter, empty: bytes) -> None:
    router.get(f"/api/v2/traces/{TID}").mock(return_value=httpx.Response(200, content=empty))
    with pytest.raises(TraceNotFound, match=f"trace {TID} not found in Tempo"):
        tempo().get_trace(TID)


def test_older_tempo_falls_back_to_v1(router: respx.MockRouter) -> None:
    router.get(f"/api/v2/traces/{TID}").mock(return_value=httpx.Response(404, text="404 page not found"))
    v1 = router.get(f"/api/traces/{TID}").mock(
        return_value=httpx.Response(
            200, content=otlp_proto.dump_bytes([ML]), headers={"content-type": "application/protobuf"}
        )
    )
    assert len(tempo().get_trace(TID).traces[0].spans) == 24
    assert v1.calls.last.request.headers["Accept"] == "application/protobuf"


@pytest.mark.parametrize("body", ["", "trace not found"])
def test_v1_not_found_forms(router: respx.MockRouter, body: str) -> None:
    router.get(f"/api/v2/traces/{TID}").mock(return_value=httpx.Response(404))
    router.get(f"/api/traces/{TID}").mock(return_value=httpx.Response(404, text=body))
    with pytest.raises(TraceNotFound):
        tempo().get_trace(TID)


@pytest.mark.parametrize("status", [422, 500])
def test_too_large_trace(router: respx.MockRouter, status: int) -> None:
    router.get(f"/api/v2/traces/{TID}").mock(
        return_value=httpx.Response(status, text="trace exceeds max size: too large")
    )
    with pytest.raises(BackendError, match="too large"):
        tempo().get_trace(TID)


def test_truncated_protobuf_body_is_a_backend_error(router: respx.MockRouter) -> None:
    data = otlp_proto.dump_bytes([ML])
    router.get(f"/api/v2/traces/{TID}").mock(
        return_value=httpx.Response(
            200, content=data[: len(data) // 2], headers={"content-type": "application/protobuf"}
        )
    )
    with pytest.raises(BackendError, match="unreadable trace"):
        tempo().get_trace(TID)


# ------------------------------------------------------------------------------------- through the CLI

runner = CliRunner()


def cli(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--tempo-url", BASE, *args], env={"TEMPO_ADDR": "", "JAEGER_ADDR": ""})


def test_cli_search_table_and_json(router: respx.MockRouter) -> None:
    buildinfo(router, "2.6.0")
    router.get("/api/search").mock(return_value=httpx.Response(200, json=SEARCH_BODY))
    doc = orjson.loads(cli("search", "-s", "api-gateway", "--since", "2h", "-o", "json").stdout)
    assert doc["schema"] == "tracectl.search/v1" and doc["backend"] == "Tempo"
    assert doc["traces"][0]["duration_ns"] == 2_400_000_000
    assert doc["end_ns"] - doc["start_ns"] == 2 * 3600 * 10**9
    table = cli("--tz", "UTC", "search", "-s", "api-gateway").stdout
    assert "(root not received)" in table and "next: tracectl show 0000000000000000000b1586c3c8c34d" in table


def test_cli_show_path_blame_by_trace_id(router: respx.MockRouter) -> None:
    router.get(f"/api/v2/traces/{TID}").mock(
        return_value=httpx.Response(200, content=otlp_proto.dump_bytes([ML], tempo_response=True))
    )
    show = orjson.loads(cli("show", TID, "-o", "json").stdout)["traces"][0]
    from_file = orjson.loads(
        runner.invoke(app, ["show", str(FIXTURES / "ml-inference.otlp.json"), "-o", "json"]).stdout
    )
    assert show["spans"] == from_file["traces"][0]["spans"]  # the same answer as from the file
    assert orjson.loads(cli("path", TID, "-o", "json").stdout)["traces"][0]["cp_length_ns"] == 43_767_000
    twice = orjson.loads(cli("blame", TID, TID, "-o", "json").stdout)  # the same trace twice is one trace
    assert twice["mode"] == "trace" and twice["warnings"] == [f"{TID} was given 2 times: read once"]


def test_cli_blame_search_fetches_the_hits_concurrently(router: respx.MockRouter) -> None:
    traces = [ml_inference_trace(seed) for seed in range(12)]
    buildinfo(router, "2.6.0")
    hits = [{"traceID": t.trace_id, "rootServiceName": "api-gateway", "startTimeUnixNano": "1", "durationMs": 40}
            for t in traces]  # fmt: skip
    router.get("/api/search").mock(return_value=httpx.Response(200, json={"traces": hits}))
    for t in traces:
        router.get(f"/api/v2/traces/{t.trace_id}").mock(
            return_value=httpx.Response(200, content=otlp_proto.dump_bytes([t], tempo_response=True))
        )
    result = cli("--concurrency", "4", "blame", "--search", "-s", "api-gateway", "--limit", "12", "-o", "json")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["mode"] == "aggregate" and doc["traces"] == 12 and doc["rows"][0]["key"] == "cv-model"


@pytest.mark.parametrize(
    ("mock", "code", "message"),
    [
        (httpx.Response(404), 4, "not found in Tempo"),
        (httpx.Response(500, text="internal error: boom"), 5, "Tempo answered 500 to trace"),
        (httpx.Response(401, text="no org id"), 5, "no org id (check --token-file / --org-id / credentials)"),
        (httpx.ConnectError("[Errno 111] Connection refused"), 3, "cannot connect"),
        (httpx.ReadTimeout("timed out"), 3, "timed out"),
    ],
)
def test_cli_exit_codes_for_backend_failures(
    router: respx.MockRouter, mock: httpx.Response | Exception, code: int, message: str
) -> None:
    route = router.get(f"/api/v2/traces/{TID}")
    route.mock(side_effect=mock) if isinstance(mock, Exception) else route.mock(return_value=mock)
    if code == 4:  # v2 answered 404: an older Tempo, so v1 is asked too
        router.get(f"/api/traces/{TID}").mock(return_value=httpx.Response(404))
    once = {"TEMPO_ADDR": "", "JAEGER_ADDR": "", "TRACECTL_RETRIES": "0"}  # retrying is test_http's: asked once
    result = runner.invoke(app, ["--tempo-url", BASE, "--timeout", "1", "show", TID], env=once)
    assert result.exit_code == code, result.output
    assert result.stdout == "" and message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_cli_search_errors_bad_traceql_not_json_wrong_shape(router: respx.MockRouter) -> None:
    bad = "invalid TraceQL query: parse error at line 1, col 3: syntax error: unexpected IDENTIFIER"
    router.get("/api/search", params={"q": "{ nope }"}).mock(return_value=httpx.Response(400, text=bad))
    result = cli("search", "--traceql", "{ nope }")
    assert (
        result.exit_code == 5 and "Tempo answered 400 to the search '{ nope }': invalid TraceQL query" in result.stderr
    )
    router.get("/api/search", params={"q": "{ a }"}).mock(return_value=httpx.Response(200, text="<html>proxy</html>"))
    assert "invalid JSON" in cli("search", "--traceql", "{ a }").stderr
    router.get("/api/search", params={"q": "{ b }"}).mock(return_value=httpx.Response(200, json=[1, 2]))
    wrong = cli("search", "--traceql", "{ b }")
    assert wrong.exit_code == 5 and "unexpected shape" in wrong.stderr


def test_cli_invalid_trace_id_is_rejected_before_any_request(router: respx.MockRouter) -> None:
    for bad in ("not-a-trace-id", "' OR 1=1", "0123456789abcdef0123456789abcdef00"):
        result = cli("show", bad)
        assert result.exit_code == 2 and "not a trace ID" in result.stderr
    assert not router.calls  # nothing was sent


def test_cli_impossible_time_range_and_mutually_exclusive_flags(router: respx.MockRouter) -> None:
    assert "impossible time range" in cli("search", "--from", "now-1h", "--to", "now-2h").stderr
    assert "mutually exclusive" in cli("search", "--since", "1h", "--from", "now-2h").stderr
    assert not router.calls
