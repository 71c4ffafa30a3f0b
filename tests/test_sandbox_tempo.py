"""The sandbox's Tempo is at least as strict as a real Tempo 3.0.3: typed comparisons, spanset operators, the
answers' shapes, status codes, content types and error texts as recorded in ``../shared/samples/tempo3``; and
`search -s S --errors` finds the requests that failed in another service, on Tempo and on Jaeger."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from tests.conftest import SAMPLES, needs_samples
from tracectl.cli.main import app
from tracectl.formats.detect import read_bytes
from tracectl.sandbox import SandboxServers, Store, Workload, generate, start_sandbox

T3 = SAMPLES / "tempo3"
runner = CliRunner()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[SandboxServers, Workload]]:
    servers, workload = start_sandbox("bad-model-version", 150, end_ns=time.time_ns())
    try:
        yield servers, workload
    finally:
        servers.stop()


def search(servers: SandboxServers, q: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{servers.tempo_url}/api/search", params={"q": q, "limit": 1000, **params})


def hits(servers: SandboxServers, q: str) -> set[str]:
    response = search(servers, q)
    assert response.status_code == 200, response.text
    return {t["traceID"].rjust(32, "0") for t in response.json()["traces"]}


def cli(servers: SandboxServers, backend: str, *args: str):  # type: ignore[no-untyped-def]
    url = servers.tempo_url if backend == "tempo" else servers.jaeger_url
    env = {"TEMPO_ADDR": "", "JAEGER_ADDR": ""}
    return runner.invoke(app, [f"--{backend}-url", url, "--backend", backend, *args], env=env)


# ----------------------------------------------------------------------------------- errors, anywhere


@pytest.mark.parametrize("backend", ["tempo", "jaeger"])
def test_errors_of_a_service_include_failures_further_down(
    sandbox: tuple[SandboxServers, Workload], backend: str
) -> None:
    servers, workload = sandbox
    failed = {t.trace_id for t in workload.traces if any(s.is_error for s in t.spans)}
    assert failed == workload.affected_ids and 20 < len(failed) < 150
    assert all(s.service == "postprocess" for t in workload.traces for s in t.spans if s.is_error)  # not the gateway
    result = cli(servers, backend, "search", "-s", "api-gateway", "--errors", "--since", "40m", "--limit", "500",
                 "-o", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert {t["trace_id"] for t in doc["traces"]} == failed
    assert all(t["error_count"] == 1 and t["span_count"] == len(workload.traces[0].spans) for t in doc["traces"])
    if backend == "tempo":
        assert doc["query"] == '{ resource.service.name = "api-gateway" } && { status = error }'
        assert hits(servers, '{ resource.service.name = "api-gateway" && status = error }') == set()  # one span: none


def test_attr_typed_on_both_backends(sandbox: tuple[SandboxServers, Workload]) -> None:
    servers, workload = sandbox
    counts = {}
    for backend in ("tempo", "jaeger"):
        for attr in (
            "http.response.status_code=200",
            'http.response.status_code="200"',
            "http.response.status_code=200.0",
        ):
            result = cli(servers, backend, "search", "-s", "api-gateway", "--attr", attr, "--since", "40m",
                         "--limit", "500", "-o", "json")  # fmt: skip
            assert result.exit_code == 0, result.output
            counts[backend, attr] = len(orjson.loads(result.stdout)["traces"])
    assert set(counts.values()) == {0, len(workload.traces)}
    assert all(n == 0 for (_, attr), n in counts.items() if '"' in attr)  # a string never equals the integer


# ------------------------------------------------------------------------------------ typed, as Tempo


@pytest.mark.parametrize(
    ("q", "matches"),
    [
        ('{ .http.response.status_code = "200" }', "none"),  # a string literal against an integer attribute
        ("{ .http.response.status_code = 200 }", "all"),
        ("{ .http.response.status_code = 200.0 }", "all"),  # numbers compare across int and float
        ('{ .http.response.status_code != "500" }', "none"),  # a type mismatch is false for != too
        ("{ .http.response.status_code >= 200 && .http.response.status_code < 300 }", "all"),
        ('{ .cache.hit = "false" }', "none"),
        ("{ .cache.hit = false }", "all"),
        ("{ .cache.hit = 0 }", "none"),
        ('{ .no.such.attribute != "x" }', "none"),  # missing: no comparison matches, != included
        ("{ .no.such.attribute = nil }", "all"),
        ("{ .cache.hit != nil }", "all"),
        ('{ .ml.batch_size =~ "8" }', "none"),  # regexes apply to strings only
        ('{ resource.service.name =~ "post.*" && status = error }', "failed"),
        ('{ duration > 1ms && kind = server && name = "Process" }', "all"),
        ('{ resource.service.name = "postprocess" && status = error } || { .no.such = 1 }', "failed"),
        ('{ resource.service.name = "api-gateway" } && { status = error }', "failed"),
        ("{ status = error } && { }", "failed"),
    ],
)
def test_traceql_compares_types_strictly(sandbox: tuple[SandboxServers, Workload], q: str, matches: str) -> None:
    servers, workload = sandbox
    expected = {"none": set(), "all": {t.trace_id for t in workload.traces}, "failed": workload.affected_ids}[matches]
    assert hits(servers, q) == expected


@pytest.mark.parametrize(
    ("q", "col", "unexpected"),
    [
        ("{ resource.service.name = }", 27, "}"),
        ('{ .a = "b" } | count() > 2', 14, "|"),
        ("{ .a = 1 } && { .b = 2 } || { .c = 3 }", 26, "||"),  # one spanset operator per query, in the subset
        ("{ .a = 1 } > { .b = 2 }", 12, ">"),
        ("{ .a = 1 ", 10, "$end"),
        ("{ .a == 1 }", 7, "="),
    ],
)
def test_outside_the_subset_is_tempos_400(
    sandbox: tuple[SandboxServers, Workload], q: str, col: int, unexpected: str
) -> None:
    response = search(sandbox[0], q)
    assert (response.status_code, response.headers["content-type"]) == (400, "text/plain; charset=utf-8")
    assert (
        response.text
        == f"invalid TraceQL query: parse error at line 1, col {col}: syntax error: unexpected {unexpected}"
    )


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"limit": "0"}, "invalid limit: must be a positive number"),
        ({"limit": "x"}, 'invalid limit: strconv.Atoi: parsing "x": invalid syntax'),
        ({"start": "1795512908000"}, 'invalid start: strconv.ParseUint: parsing "1795512908000": value out of range'),
        ({"start": "20", "end": "10"}, "http parameter start must be before end. received start=20 end=10"),
        ({"tags": "a=b"}, "invalid request: can't specify tags and q in the same query"),
    ],
)
def test_bad_search_parameters_are_tempos_400s(
    sandbox: tuple[SandboxServers, Workload], params: dict[str, str], text: str
) -> None:
    response = search(sandbox[0], "{ }", **params)
    assert (response.status_code, response.text) == (400, text)


# ------------------------------------------------------------------------------- as a real 3.0.3 answers


def keys(obj: Any) -> set[str]:
    return set(obj) if isinstance(obj, dict) else set()


@needs_samples
def test_search_answers_have_the_recorded_shape(sandbox: tuple[SandboxServers, Workload]) -> None:
    servers, _ = sandbox
    real = orjson.loads((T3 / "search__traceql_api-gateway_limit3_spss5.json").read_bytes())
    response = search(servers, '{ resource.service.name = "api-gateway" }', limit=3, spss=5)
    assert response.headers["content-type"] == "application/json"
    doc = response.json()
    assert keys(doc) == keys(real) and keys(doc["metrics"]) == keys(real["metrics"])
    hit, real_hit = doc["traces"][0], real["traces"][0]
    assert keys(hit) == keys(real_hit) and hit["spanSet"] == hit["spanSets"][0]
    assert keys(hit["spanSets"][0]["spans"][0]) == keys(real_hit["spanSets"][0]["spans"][0])  # no span name
    assert hit["spanSets"][0]["spans"][0]["attributes"] == real_hit["spanSets"][0]["spans"][0]["attributes"]
    # the services recorded then are all still there (the sandbox has since gained a recommender)
    assert real_hit["serviceStats"].keys() <= hit["serviceStats"].keys()
    assert hit["serviceStats"]["cv-model"] == real_hit["serviceStats"]["cv-model"] == {"spanCount": 3}
    assert doc["metrics"]["completedJobs"] < doc["metrics"]["totalJobs"] == 4  # the limit stopped it, as recorded
    errors = search(servers, "{ status = error }", limit=5).json()["traces"][0]
    real_errors = orjson.loads((T3 / "search__traceql_status_error_limit5.json").read_bytes())["traces"][0]
    assert errors["spanSets"][0]["spans"][0]["attributes"] == real_errors["spanSets"][0]["spans"][0]["attributes"]
    assert errors["serviceStats"]["postprocess"] == {"spanCount": 3, "errorCount": 1}


@needs_samples
def test_not_found_invalid_and_build_info_are_byte_for_byte(sandbox: tuple[SandboxServers, Workload]) -> None:
    servers, _ = sandbox
    url, missing = servers.tempo_url, "deadbeefdeadbeefdeadbeefdeadbeef"
    pb = httpx.get(f"{url}/api/v2/traces/{missing}", headers={"Accept": "application/protobuf"})
    assert (pb.status_code, pb.headers["content-type"]) == (200, "application/protobuf")
    assert pb.content == (T3 / "v2_traces__not_found.pb").read_bytes() == bytes.fromhex("0a001200")
    js = httpx.get(f"{url}/api/v2/traces/{missing}")
    assert js.status_code == 200 and js.json() == orjson.loads((T3 / "v2_traces__not_found.json").read_bytes())
    v1 = httpx.get(f"{url}/api/traces/{missing}")
    assert (v1.status_code, v1.content) == (404, (T3 / "v1_traces__not_found.txt").read_bytes())
    invalid = search(servers, "{ resource.service.name = }")
    assert invalid.text == (T3 / "search__traceql_invalid_400.txt").read_text()
    info, real_info = (
        httpx.get(f"{url}/api/status/buildinfo").json(),
        orjson.loads((T3 / "status_buildinfo.json").read_bytes()),
    )
    assert keys(info) == keys(real_info) and info["version"] == real_info["version"] == ""
    bad = httpx.get(f"{url}/api/v2/traces/12xz")
    assert (bad.status_code, bad.text) == (
        400,
        "trace IDs can only contain hex characters: invalid character 'x' at position 3",
    )


@needs_samples
def test_trace_by_id_and_tags_have_the_recorded_shape(sandbox: tuple[SandboxServers, Workload]) -> None:
    servers, workload = sandbox
    url, trace = servers.tempo_url, workload.traces[0]
    real = orjson.loads((T3 / "v2_traces__c5cbc37089db08e04c51ac6ed1bfcd9a__feature-service-slow.json").read_bytes())
    v2 = httpx.get(f"{url}/api/v2/traces/{trace.trace_id.lstrip('0')}").json()  # zero-stripped IDs are accepted
    assert keys(v2) == keys(real) and keys(v2["metrics"]) == keys(real["metrics"])
    span = v2["trace"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    real_span = real["trace"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert keys(span) >= keys(real_span) - {"parentSpanId"} and len(span["traceId"]) == 24  # base64
    pb = httpx.get(f"{url}/api/v2/traces/{trace.trace_id}", headers={"Accept": "application/protobuf"}).content
    assert pb[:1] == b"\x0a" and b"\x12" in pb[-8:]  # trace, then metrics, as the real answer ends
    v1 = httpx.get(f"{url}/api/traces/{trace.trace_id}").content
    for body in (pb, v1):
        (back,) = read_bytes(body, "sandbox").traces
        assert sorted(back.spans, key=lambda s: s.span_id) == sorted(trace.spans, key=lambda s: s.span_id)
    tags = httpx.get(f"{url}/api/v2/search/tags").json()
    real_tags = orjson.loads((T3 / "v2_search_tags.json").read_bytes())
    assert keys(tags) == keys(real_tags) and [s["name"] for s in tags["scopes"]] == ["intrinsic", "resource", "span"]
    assert "cache.hit" in tags["scopes"][2]["tags"] and "service.name" in tags["scopes"][1]["tags"]
    values = httpx.get(f"{url}/api/v2/search/tag/resource.service.name/values").json()
    real_values = orjson.loads((T3 / "v2_search_tag_values__resource.service.name.json").read_bytes())
    assert keys(values) == keys(real_values) and {"type": "string", "value": "postprocess"} in values["tagValues"]
    typed = httpx.get(f"{url}/api/v2/search/tag/span.http.response.status_code/values").json()["tagValues"]
    assert typed == [{"type": "int", "value": "200"}]


# ------------------------------------------------------------------------------------------- trace IDs


def test_trace_ids_differ_per_scenario_and_seed() -> None:
    ids = {
        (sc, seed): {t.trace_id for t in generate(sc, 60, seed).traces}
        for sc in ("healthy", "feature-store-gc")
        for seed in (42, 43)
    }
    assert all(len(v) == 60 for v in ids.values())
    assert sum(len(v) for v in ids.values()) == len(set().union(*ids.values()))  # no ID shared anywhere
    assert {t.trace_id for t in generate("healthy", 60, 42).traces} == ids["healthy", 42]  # and reproducible
    store = Store()
    sizes = {}
    for sc in ("healthy", "feature-store-gc"):
        generated = generate(sc, 60, 42).traces
        sizes.update({t.trace_id: len(t.spans) for t in generated})
        store.add_traces(generated)
    assert len(store.traces()) == 120 and all(len(t.spans) == sizes[t.trace_id] for t, _ in store.traces())  # unmerged
