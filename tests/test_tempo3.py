"""The Tempo client against what a real Tempo 3.0.3 answered (``../shared/samples/tempo3``, read in place), and
the exact TraceQL it sends for typed attributes and for errors anywhere in a trace."""

from __future__ import annotations

import httpx
import orjson
import pytest
import respx
from typer.testing import CliRunner

from tests.conftest import SAMPLES, TEMPO_BASE, needs_samples, tempo_client
from tracectl.backends.query import SearchQuery
from tracectl.cli.main import app
from tracectl.errors import TraceNotFound
from tracectl.timerange import TimeRange

BASE = TEMPO_BASE
T3 = SAMPLES / "tempo3"
TID = "c5cbc37089db08e04c51ac6ed1bfcd9a"  # the slow feature-service request of the recording
WINDOW = TimeRange(1_795_512_888 * 10**9, 1_795_514_688 * 10**9)
runner = CliRunner()


def sample(name: str) -> bytes:
    return (T3 / name).read_bytes()


def buildinfo(tempo_router: respx.MockRouter) -> respx.Route:
    """The real 3.0.3 build info: an empty version."""
    return tempo_router.get("/api/status/buildinfo").mock(
        return_value=httpx.Response(200, content=sample("status_buildinfo.json"))
    )


def cli(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--tempo-url", BASE, *args], env={"TEMPO_ADDR": "", "JAEGER_ADDR": ""})


# ---------------------------------------------------------------------------------------------- queries


@pytest.mark.parametrize(
    ("attr", "sent"),
    [
        ("http.response.status_code=200", "{ .http.response.status_code = 200 }"),
        ("ml.confidence=0.75", "{ .ml.confidence = 0.75 }"),
        ("cache.hit=false", "{ .cache.hit = false }"),
        ('http.response.status_code="200"', '{ .http.response.status_code = "200" }'),
        ("house.zipcode=02134", '{ .house.zipcode = "02134" }'),
        ("ml.model.name=bert", '{ .ml.model.name = "bert" }'),
    ],
)
def test_attr_values_are_sent_typed(tempo_router: respx.MockRouter, attr: str, sent: str) -> None:
    buildinfo(tempo_router)
    route = tempo_router.get("/api/search").mock(return_value=httpx.Response(200, json={"traces": []}))
    result = cli("search", "--attr", attr, "-o", "json")
    assert result.exit_code == 0, result.output
    assert route.calls.last.request.url.params["q"] == sent
    assert orjson.loads(result.stdout)["query"] == sent


@needs_samples
def test_a_string_literal_against_an_integer_attribute_finds_nothing(tempo_router: respx.MockRouter) -> None:
    buildinfo(tempo_router)
    tempo_router.get("/api/search", params={"q": '{ .http.response.status_code = "200" }'}).mock(
        return_value=httpx.Response(200, content=sample("search__traceql_string_vs_int_status_code_0_hits.json"))
    )
    result = tempo_client().search(SearchQuery(WINDOW, attributes=(("http.response.status_code", "200"),)))
    assert result.traces == [] and result.warnings == []  # all 4 jobs ran: a true zero


@pytest.mark.parametrize(
    ("args", "sent"),
    [
        (["-s", "api-gateway", "--errors"], '{ resource.service.name = "api-gateway" } && { status = error }'),
        (["-s", "api-gateway", "--errors", "--min-duration", "2s", "--operation", "POST /v1/predict"],
         '{ resource.service.name = "api-gateway" && name = "POST /v1/predict" && trace:duration >= 2s } '
         "&& { status = error }"),
        (["--errors"], "{ status = error }"),
    ],
)  # fmt: skip
def test_errors_anywhere_in_the_trace_is_a_second_spanset(
    tempo_router: respx.MockRouter, args: list[str], sent: str
) -> None:
    buildinfo(tempo_router)
    route = tempo_router.get("/api/search").mock(return_value=httpx.Response(200, json={"traces": []}))
    assert cli("search", *args).exit_code == 0
    assert route.calls.last.request.url.params["q"] == sent


def test_errors_with_an_older_tempo_use_its_duration_intrinsic(tempo_router: respx.MockRouter) -> None:
    tempo_router.get("/api/status/buildinfo").mock(return_value=httpx.Response(200, json={"version": "2.4.1"}))
    route = tempo_router.get("/api/search").mock(return_value=httpx.Response(200, json={"traces": []}))
    tempo_client().search(SearchQuery(WINDOW, service="api-gateway", errors=True, min_duration_ns=10**9))
    assert route.calls.last.request.url.params["q"] == (
        '{ resource.service.name = "api-gateway" && traceDuration >= 1s } && { status = error }'
    )


# --------------------------------------------------------------------------------------- build info


@needs_samples
def test_an_empty_version_is_an_unknown_version(tempo_router: respx.MockRouter) -> None:
    info = buildinfo(tempo_router)
    route = tempo_router.get("/api/search").mock(return_value=httpx.Response(200, json={"traces": []}))
    client = tempo_client()
    client.search(SearchQuery(WINDOW, max_duration_ns=10**9))
    assert client.version() is None and info.call_count == 1  # asked once
    assert route.calls.last.request.url.params["q"] == "{ trace:duration <= 1s }"  # as for a current Tempo


# ------------------------------------------------------------------------------------------- search


@needs_samples
def test_search_answers_of_tempo_3(tempo_router: respx.MockRouter) -> None:
    buildinfo(tempo_router)
    tempo_router.get("/api/search").mock(
        return_value=httpx.Response(200, content=sample("search__traceql_api-gateway_limit3_spss5.json"))
    )
    result = tempo_client().search(SearchQuery(WINDOW, service="api-gateway", limit=3))
    assert [t.trace_id for t in result.traces] == [
        "054a1c6fdff98efaa8938f6ae8e11ebb", "073c89827a1b2662a389f142b09d734c", "0210ce2f20b67677db3c7d5b231810b8",
    ]  # fmt: skip
    first = result.traces[0]
    assert (first.duration_ns, first.duration_precision_ns) == (45_000_000, 1_000_000)  # whole ms, said so
    assert (first.span_count, first.error_count, first.matched) == (24, 0, 2)  # from serviceStats
    assert "cv-model" in first.services and len(first.services) == 8
    (warning,) = result.warnings  # completedJobs 1 of 4: the limit stopped it
    assert "returned the first 3 traces it found and stopped (1 of 4 jobs searched)" in warning


@needs_samples
def test_search_for_errors_counts_them_per_trace(tempo_router: respx.MockRouter) -> None:
    buildinfo(tempo_router)
    tempo_router.get("/api/search").mock(
        return_value=httpx.Response(200, content=sample("search__traceql_status_error_limit5.json"))
    )
    result = tempo_client().search(SearchQuery(WINDOW, errors=True, limit=5))
    assert len(result.traces) == 5 and all(t.error_count == 1 and len(t.trace_id) == 32 for t in result.traces)
    assert "fa7e62cd130b99d7d3c23a11b138d8".rjust(32, "0") in {t.trace_id for t in result.traces}  # 30 chars sent


@needs_samples
def test_search_table_and_json_keep_the_servers_precision(tempo_router: respx.MockRouter) -> None:
    buildinfo(tempo_router)
    tempo_router.get("/api/search").mock(
        return_value=httpx.Response(200, content=sample("search__traceql_predict-api_trace_duration_ge_100ms.json"))
    )
    table = runner.invoke(app, ["--tempo-url", BASE, "--tz", "UTC", "search", "-s", "predict-api", "--min-duration",
                                "100ms"], env={"TEMPO_ADDR": "", "JAEGER_ADDR": "", "COLUMNS": "120"})  # fmt: skip
    assert table.exit_code == 0 and table.stderr == ""  # 4 of 4 jobs: nothing to warn about
    assert "350 ms" in table.stdout and "350.00" not in table.stdout and " 17 " in table.stdout
    doc = orjson.loads(cli("search", "-s", "predict-api", "-o", "json").stdout)
    assert doc["traces"][0]["duration_ns"] == 350_000_000 and doc["traces"][0]["duration_precision_ns"] == 10**6
    csv = cli("search", "-s", "predict-api", "-o", "csv").stdout.splitlines()
    assert csv[0].startswith("trace_id,start_ns,duration_ns,duration_precision_ns,")


@needs_samples
def test_a_parse_error_is_exit_5_with_tempos_words(tempo_router: respx.MockRouter) -> None:
    tempo_router.get("/api/search").mock(
        return_value=httpx.Response(
            400,
            content=sample("search__traceql_invalid_400.txt"),
            headers={"content-type": "text/plain; charset=utf-8"},
        )
    )
    result = cli("search", "--traceql", "{ resource.service.name = }")
    assert result.exit_code == 5 and result.stdout == ""
    assert result.stderr.strip().endswith(
        "Tempo answered 400 to the search '{ resource.service.name = }': invalid TraceQL query: parse error at line "
        "1, col 27: syntax error: unexpected }"
    )


# ------------------------------------------------------------------------------------------ trace by ID


@needs_samples
@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        (f"v2_traces__{TID}__feature-service-slow.pb", "application/protobuf"),
        (f"v2_traces__{TID}__feature-service-slow.json", "application/json"),
    ],
)
def test_v2_trace_by_id_in_protobuf_and_json(tempo_router: respx.MockRouter, name: str, content_type: str) -> None:
    route = tempo_router.get(f"/api/v2/traces/{TID}").mock(
        return_value=httpx.Response(200, content=sample(name), headers={"content-type": content_type})
    )
    result = tempo_client().get_trace(TID)
    (trace,) = result.traces
    assert route.calls.last.request.headers["Accept"] == "application/protobuf" and result.notes == []
    assert len(trace.spans) == 17 and trace.services == ["feature-service", "model-service", "predict-api"]
    slow = max(trace.spans, key=lambda s: s.duration_ns)
    assert slow.service == "predict-api" and slow.duration_ns > 270_000_000


@needs_samples
def test_v1_trace_by_id_is_the_same_trace(tempo_router: respx.MockRouter) -> None:
    tempo_router.get(f"/api/v2/traces/{TID}").mock(return_value=httpx.Response(404, text="404 page not found"))
    tempo_router.get(f"/api/traces/{TID}").mock(
        return_value=httpx.Response(200, content=sample(f"v1_traces__{TID}__feature-service-slow.json"))
    )
    v1 = tempo_client().get_trace(TID).traces[0]
    tempo_router.get(f"/api/v2/traces/{TID}").mock(
        return_value=httpx.Response(200, content=sample(f"v2_traces__{TID}__feature-service-slow.pb"))
    )
    assert v1 == tempo_client().get_trace(TID).traces[0]


@needs_samples
@pytest.mark.parametrize("name", ["v2_traces__not_found.pb", "v2_traces__not_found.json"])
def test_v2_not_found_is_a_200_with_an_empty_trace(tempo_router: respx.MockRouter, name: str) -> None:
    missing = "deadbeefdeadbeefdeadbeefdeadbeef"
    assert sample("v2_traces__not_found.pb") == bytes.fromhex("0a001200")  # the 4 bytes the issue names
    tempo_router.get(f"/api/v2/traces/{missing}").mock(return_value=httpx.Response(200, content=sample(name)))
    with pytest.raises(TraceNotFound, match=f"trace {missing} not found in Tempo"):
        tempo_client().get_trace(missing)
    result = cli("show", missing)
    assert result.exit_code == 4 and result.stdout == ""


@needs_samples
def test_v1_not_found_is_a_404_with_an_empty_body(tempo_router: respx.MockRouter) -> None:
    missing = "deadbeefdeadbeefdeadbeefdeadbeef"
    tempo_router.get(f"/api/v2/traces/{missing}").mock(return_value=httpx.Response(404, text="404 page not found"))
    tempo_router.get(f"/api/traces/{missing}").mock(
        return_value=httpx.Response(404, content=sample("v1_traces__not_found.txt"))
    )
    with pytest.raises(TraceNotFound):
        tempo_client().get_trace(missing)
