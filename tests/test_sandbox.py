"""The sandbox over real loopback HTTP: every command against it (Tempo and Jaeger), the same answers as from
files, its responses against the real samples' shapes, faults, OTLP ingest from the real OpenTelemetry SDK,
the demo on every scenario, and nothing left running."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from tests.conftest import SAMPLES, needs_samples
from tracectl.backends.http import HttpClient, HttpConfig
from tracectl.backends.loki import LokiClient
from tracectl.cli.main import app
from tracectl.formats import otlp_json
from tracectl.sandbox import SCENARIOS, Fault, SandboxServers, Store, generate, start_sandbox

runner = CliRunner()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[SandboxServers, Any]]:
    servers, workload = start_sandbox("cv-cold-start", 120, end_ns=time.time_ns())
    try:
        yield servers, workload
    finally:
        servers.stop()


def cli(servers: SandboxServers, backend: str, *args: str):  # type: ignore[no-untyped-def]
    env = {"TEMPO_ADDR": "", "JAEGER_ADDR": "", "LOKI_ADDR": servers.loki_url}
    url = servers.tempo_url if backend == "tempo" else servers.jaeger_url
    return runner.invoke(app, [f"--{backend}-url", url, "--backend", backend, *args], env=env)


@pytest.mark.parametrize("backend", ["tempo", "jaeger"])
def test_every_command_against_the_sandbox(sandbox: tuple[SandboxServers, Any], backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    servers, workload = sandbox
    found = cli(
        servers, backend, "search", "-s", "api-gateway", "--min-duration", "300ms", "--since", "40m", "--limit", "100",
        "-o", "json",
    )  # fmt: skip
    assert found.exit_code == 0, found.output
    hits = orjson.loads(found.stdout)["traces"]
    assert {h["trace_id"] for h in hits} == workload.affected_ids  # cold starts are the only requests over 300 ms
    slowest = hits[0]["trace_id"]
    assert hits[0]["duration_ns"] == max(h["duration_ns"] for h in hits)

    trace = next(t for t in workload.traces if t.trace_id == slowest)
    (tmp_path / "t.json").write_bytes(orjson.dumps(otlp_json.dump_document([trace])))
    from_backend = orjson.loads(cli(servers, backend, "show", slowest, "-o", "json").stdout)["traces"][0]
    from_file = orjson.loads(runner.invoke(app, ["show", str(tmp_path / "t.json"), "-o", "json"]).stdout)["traces"][0]
    assert from_backend["spans"] == from_file["spans"]  # the same answer as from the equivalent file

    path = orjson.loads(cli(servers, backend, "path", slowest, "-o", "json").stdout)["traces"][0]
    assert max(path["sections"], key=lambda s: s["duration_ns"])["name"] == "load_weights"
    blame = orjson.loads(cli(servers, backend, "blame", "--search", "-s", "api-gateway", "--since", "40m",
                             "--limit", "200", "-o", "json").stdout)  # fmt: skip
    assert blame["traces"] == 120 and blame["rows"][0]["key"] == "cv-model"
    logs = orjson.loads(cli(servers, backend, "logs", slowest, "--level", "warn", "-o", "json").stdout)
    assert [x["span_name"] for x in logs["lines"]] == ["load_weights"]
    assert "cold start: loading product-vit 3.3.0 weights" in logs["lines"][0]["line"]
    exported = cli(servers, backend, "export", slowest, "-f", "jaeger-json")
    assert len(orjson.loads(exported.stdout)["data"][0]["spans"]) == len(trace.spans)
    assert cli(servers, backend, "show", "1" * 32).exit_code == 4


@pytest.mark.parametrize("strategy", ["line", "metadata", "json"])
def test_every_log_strategy_finds_the_lines(sandbox: tuple[SandboxServers, Any], strategy: str) -> None:
    servers, workload = sandbox
    trace = workload.traces[0]
    result = cli(servers, "tempo", "logs", trace.trace_id, "--strategy", strategy, "-o", "json")
    assert result.exit_code == 0, result.output
    lines = orjson.loads(result.stdout)["lines"]
    expected = [r for r in workload.logs if r.metadata["trace_id"] == trace.trace_id]
    assert len(lines) == len(expected) and all(x["matched_by"] == "span_id" for x in lines)


def test_loki_paging_past_the_sandbox_limit(sandbox: tuple[SandboxServers, Any]) -> None:
    servers, workload = sandbox
    client = LokiClient(HttpClient(HttpConfig(servers.loki_url, "Loki")))
    start = min(r.time_ns for r in workload.logs)
    result = client.query_range(
        '{service_namespace="ml-serving"}', start, start + 3600 * 10**9, limit=10_000, batch=5000
    )
    assert len(result.records) == len(workload.logs) > 600
    too_many = httpx.get(f"{servers.loki_url}/loki/api/v1/query_range", params={"query": '{a="b"}', "limit": 5001})
    assert too_many.status_code == 400 and "max entries limit" in too_many.text
    empty = httpx.get(f"{servers.loki_url}/loki/api/v1/query_range", params={"query": "{}"})
    assert empty.status_code == 400


def test_unsupported_traceql_is_a_tempo_style_400(sandbox: tuple[SandboxServers, Any]) -> None:
    servers, _ = sandbox
    result = cli(servers, "tempo", "search", "--traceql", '{ .a = "b" } | count() > 2')
    assert result.exit_code == 5 and "invalid TraceQL query: parse error at line 1" in result.stderr
    ns = httpx.get(f"{servers.tempo_url}/api/search", params={"start": time.time_ns(), "q": "{ }"})
    assert (
        ns.status_code == 400
        and ns.text
        == f'invalid start: strconv.ParseUint: parsing "{ns.request.url.params["start"]}": value out of range'
    )


# ------------------------------------------------------------------------------------- shapes vs samples


def keys(obj: Any) -> set[str]:
    return set(obj) if isinstance(obj, dict) else set()


@needs_samples
def test_responses_have_the_real_shapes(sandbox: tuple[SandboxServers, Any]) -> None:
    """Jaeger and Loki here; Tempo against a real 3.0.3's answers in test_sandbox_tempo.py."""
    servers, workload = sandbox
    tid = workload.traces[0].trace_id
    sample = lambda rel: orjson.loads((SAMPLES / rel).read_bytes())  # noqa: E731
    j3 = httpx.get(f"{servers.jaeger_url}/api/v3/traces/{tid}").json()
    real_j3 = sample("jaeger/v3_GetTrace.VERBATIM_snapshot.json")
    assert keys(j3) == keys(real_j3)
    js = j3["result"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert len(js["traceId"]) == 32 and isinstance(js.get("kind", 0), int)  # hex IDs, integer kinds
    summaries = httpx.get(f"{servers.jaeger_url}/api/v3/trace-summaries", params={
        "query.service_name": "api-gateway", "query.start_time_min": "2000-01-01T00:00:00Z",
        "query.start_time_max": "2100-01-01T00:00:00Z"}).json()  # fmt: skip
    real_sum = sample("jaeger/v3_FindTraceSummaries.VERBATIM_snapshot.json")
    # The snapshot predates orphanSpanCount, which Jaeger's source (and BACKENDS.md) now include.
    assert keys(summaries["summaries"][0]) == keys(real_sum["summaries"][0]) | {"orphanSpanCount"}
    assert keys(httpx.get(f"{servers.jaeger_url}/api/v3/services").json()) == keys(
        sample("jaeger/v3_GetServices.VERBATIM_snapshot.json")
    )
    ops = httpx.get(f"{servers.jaeger_url}/api/v3/operations", params={"service": "cv-model"}).json()
    assert keys(ops["operations"][0]) == keys(sample("jaeger/v3_GetOperations.VERBATIM_snapshot.json")["operations"][0])
    j1 = httpx.get(f"{servers.jaeger_url}/api/traces/{tid}").json()
    real_j1 = sample("jaeger/otlp2jaeger-out.jaeger.json")
    assert keys(j1) == keys(real_j1) and keys(j1["data"][0]) == keys(real_j1["data"][0])
    assert keys(j1["data"][0]["spans"][0]) == keys(real_j1["data"][0]["spans"][0])
    assert isinstance(j1["data"][0]["spans"][0]["startTime"], int)  # microseconds, a number

    q = {"query": '{service_name="cv-model"}', "limit": 2}
    plain = httpx.get(f"{servers.loki_url}/loki/api/v1/query_range", params=q).json()
    real_plain = sample("loki/loki_query_range_streams__loki_docs_head.json")
    assert keys(plain) == keys(real_plain) and keys(plain["data"]) >= {"resultType", "result"}
    assert len(plain["data"]["result"][0]["values"][0]) == 2 and "trace_id" in plain["data"]["result"][0]["stream"]
    cat = httpx.get(f"{servers.loki_url}/loki/api/v1/query_range", params=q,
                    headers={"X-Loki-Response-Encoding-Flags": "categorize-labels"}).json()  # fmt: skip
    real_cat = sample("loki/loki_query_range_categorize_labels__loki_marshal_test.json")
    assert cat["data"]["encodingFlags"] == real_cat["data"]["encodingFlags"]
    value = cat["data"]["result"][0]["values"][0]
    assert (
        len(value) == 3
        and keys(value[2]) <= {"structuredMetadata", "parsed"}
        and "trace_id" in value[2]["structuredMetadata"]
    )


# ----------------------------------------------------------------------------------------------- faults


def test_faults_are_injected_and_the_client_copes(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    real_sleep = time.sleep
    monkeypatch.setattr(time, "sleep", lambda s: (slept.append(s), real_sleep(s))[1])
    store = Store()
    wl = generate("healthy", 30)
    store.add_traces(wl.traces)
    tid = wl.traces[0].trace_id
    faults = {"/api/v2/traces/": Fault(error_rate=1.0, status=429, retry_after=0), "/api/search": Fault(latency_s=0.2),
              "/api/traces/": Fault(truncate=True), "/api/status/buildinfo": Fault(drop=True)}  # fmt: skip
    with SandboxServers(store, faults) as servers:
        r = httpx.get(f"{servers.tempo_url}/api/v2/traces/{tid}")
        assert r.status_code == 429 and r.headers["Retry-After"] == "0"
        assert httpx.get(f"{servers.tempo_url}/api/search").status_code == 200
        assert 0.2 in slept  # the fault's latency held the answer back (the cause, not a wall time)
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(f"{servers.tempo_url}/api/traces/{tid}")
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(f"{servers.tempo_url}/api/status/buildinfo")
        env = {"TEMPO_ADDR": servers.tempo_url, "TRACECTL_RETRIES": "2"}
        result = runner.invoke(app, ["show", tid], env=env)
        assert result.exit_code == 5 and "Tempo answered 429" in result.stderr  # retried, then reported


# ------------------------------------------------------------------------------------- OTLP from the SDK


def test_a_real_opentelemetry_sdk_sends_to_the_sandbox_and_tracectl_finds_the_slow_step() -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    with SandboxServers(Store()) as servers:
        provider = TracerProvider(resource=Resource.create({"service.name": "etl-pipeline"}))
        provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{servers.tempo_url}/v1/traces")))
        tracer = provider.get_tracer("test")
        with tracer.start_as_current_span("run pipeline") as root:
            for step, seconds in (("extract", 0.01), ("transform", 0.3), ("load", 0.02)):
                with tracer.start_as_current_span(step):
                    time.sleep(seconds)
        provider.shutdown()
        trace_id = f"{root.get_span_context().trace_id:032x}"
        env = {"TEMPO_ADDR": servers.tempo_url}
        searched = runner.invoke(app, ["search", "-s", "etl-pipeline", "-o", "json"], env=env)
        assert searched.exit_code == 0, searched.output
        assert [t["trace_id"] for t in orjson.loads(searched.stdout)["traces"]] == [trace_id], searched.output
        blamed = runner.invoke(app, ["blame", trace_id, "--by", "name", "-o", "json"], env=env)
        rows = orjson.loads(blamed.stdout)["rows"]
        assert rows[0]["key"] == "transform" and rows[0]["share"] > 0.6, blamed.output


# ------------------------------------------------------------------------------------- demo and cleanup


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_demo_is_right_on_every_scenario(scenario: str) -> None:
    result = runner.invoke(app, ["demo", "--scenario", scenario, "--requests", "150"], env={"COLUMNS": "140"})
    assert result.exit_code == 0, result.output
    assert f"✓ sandbox ground truth: {SCENARIOS[scenario].culprit or 'no fault injected'}" in result.stdout
    expected = SCENARIOS[scenario].culprit
    assert (f"culprit: {expected}" in result.stdout) if expected else ("nothing stands out" in result.stdout)
    # A slow network logs nothing anywhere; neither does a model fed inputs unlike its training data, nor a loop
    # that is slow but correct.
    quiet = ("nlp-network-delay", "feature-store-n-plus-one")
    silent = expected is None or scenario in quiet or SCENARIOS[scenario].symptom == "drift"
    assert ("Log lines" in result.stdout) is not silent  # log evidence comes with the verdict when there is any


@pytest.mark.parametrize("scenario", [name for name, sc in SCENARIOS.items() if sc.locus])
def test_explain_on_the_worst_trace_names_the_scenarios_locus(scenario: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tracectl.analysis.explain_text import label
    from tracectl.formats import otlp_json
    from tracectl.workflows.explain import explain

    workload = generate(scenario, 60)
    path = tmp_path / "window.json"
    path.write_bytes(orjson.dumps(otlp_json.dump_document(workload.traces)))
    result = explain(None, str(path))  # of several traces: the slowest
    tree, top = result.diagnosis.analysis.tree, result.diagnosis.findings[0]
    assert tree.trace_id in workload.affected_ids
    if top.kind == "failure":
        assert top.masked and top.fatal and label(tree, top.failed) == "api-gateway POST /v1/predict"
        assert label(tree, top.origin) == SCENARIOS[scenario].locus
        assert sum(s.is_error for s in tree.spans) == 1 and not tree.spans[top.origin].is_error
    else:
        assert top.kind == "n+1" and label(tree, top.parent) == SCENARIOS[scenario].locus and len(top.members) == 24
        assert top.overlapping_pairs == 0 and top.saving_ns > 0.7 * result.diagnosis.analysis.path.length_ns
    assert SCENARIOS[scenario].locus in result.sentence


def test_explain_reads_the_routers_retry_after_the_nlp_timeout() -> None:
    from tracectl.analysis.analyse import analyse_trace
    from tracectl.analysis.explain import explain_trace
    from tracectl.analysis.explain_text import label
    from tracectl.analysis.findings import Retry

    workload = generate("nlp-timeouts", 40)
    hit = next(t for t in workload.traces if t.trace_id in workload.affected_ids)
    d = explain_trace(analyse_trace(hit))
    top = d.findings[0]
    assert isinstance(top, Retry) and top.succeeded and len(top.attempts) == 2
    assert label(d.analysis.tree, top.attempts[0]) == "model-router nlp-model/Infer"
    assert d.failures == []  # the retry made the timeout good: the request did not fail


def test_servers_release_threads_and_ports() -> None:
    before = threading.active_count()
    servers, _ = start_sandbox("healthy", 10)
    port = int(servers.tempo_url.rsplit(":", 1)[1])
    assert httpx.get(f"{servers.tempo_url}/ready").text == "ready"
    servers.stop()
    assert threading.active_count() <= before
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0  # nothing listens any more


def test_sandbox_serve_prints_its_settings_and_stops_by_itself() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tracectl", "sandbox", "serve", "--scenario", "nlp-timeouts", "--requests", "20",
         "--tempo-port", "0", "--jaeger-port", "0", "--loki-port", "0", "--duration", "0.5", "--seed", "7"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "export TEMPO_ADDR=http://127.0.0.1:" in proc.stdout and "export LOKI_ADDR=" in proc.stdout
    assert "scenario nlp-timeouts · seed 7 · 20 traces" in proc.stdout
