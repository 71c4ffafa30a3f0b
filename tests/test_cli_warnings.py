"""Every warning that bears on a result is in the JSON document, not only on stderr (and stays there with -q):
a search Tempo cut short, a trace it marked PARTIAL, a trace that could not be fetched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import respx
from typer.testing import CliRunner

from tracectl.cli.main import app
from tracectl.formats import otlp_json, otlp_proto
from tracectl.sandbox.synth import ml_inference_trace

BASE = "http://tempo.test:3200"
TRACES = [ml_inference_trace(seed) for seed in range(6)]
PARTIAL, BROKEN = TRACES[0].trace_id, TRACES[1].trace_id
runner = CliRunner()


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_mocked=True, assert_all_called=False) as mock:
        mock.get("/api/status/buildinfo").mock(return_value=httpx.Response(200, json={"version": ""}))
        hits = [{"traceID": t.trace_id, "rootServiceName": "api-gateway", "startTimeUnixNano": "1", "durationMs": 40}
                for t in TRACES]  # fmt: skip
        body = {"traces": hits, "metrics": {"completedJobs": 1, "totalJobs": 4}}  # the limit stopped the search
        mock.get("/api/search").mock(return_value=httpx.Response(200, json=body))
        # A Tempo before 2.4 has no TraceQL metrics: triage without a window says so and keeps the last hour.
        mock.get("/api/metrics/query_range").mock(return_value=httpx.Response(404, text="404 page not found"))
        partial = {"trace": otlp_json.dump_document([TRACES[0]], ids="base64"), "status": "PARTIAL",
                   "message": "trace exceeds max size"}  # fmt: skip
        mock.get(f"/api/v2/traces/{PARTIAL}").mock(return_value=httpx.Response(200, json=partial))
        mock.get(f"/api/v2/traces/{BROKEN}").mock(return_value=httpx.Response(500, text="querier: context canceled"))
        for t in TRACES[2:]:
            mock.get(f"/api/v2/traces/{t.trace_id}").mock(
                return_value=httpx.Response(200, content=otlp_proto.dump_bytes([t], tempo_response=True))
            )
        yield mock


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--tempo-url", BASE, *args], env={"TEMPO_ADDR": "", "JAEGER_ADDR": ""})


CUT = "Tempo returned the first 6 traces it found and stopped (1 of 4 jobs searched)"
SKIPPED = f"skipped trace {BROKEN}: Tempo answered 500 to trace {BROKEN}: querier: context canceled"
PARTIAL_NOTE = f"Tempo trace {PARTIAL}: Tempo marked this trace PARTIAL: trace exceeds max size"


def assert_has(warnings: list[str], *expected: str) -> None:
    for text in expected:
        assert any(text in w for w in warnings), (text, warnings)


def test_search_json_keeps_the_cut_even_when_quiet(router: respx.MockRouter) -> None:
    result = run("-q", "search", "-s", "api-gateway", "--limit", "6", "--order", "recent", "-o", "json")
    assert result.exit_code == 0 and result.stderr == ""
    assert_has(orjson.loads(result.stdout)["warnings"], CUT)


def test_blame_json_has_the_cut_the_partial_and_the_skipped_trace(router: respx.MockRouter) -> None:
    result = run("blame", "--search", "-s", "api-gateway", "--limit", "6", "--skip-bad", "-o", "json",
                 "--max-skipped", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["traces"] == 5  # the broken one is skipped, the partial one counted
    skipped = [{"source": BROKEN, "reason": SKIPPED.split(": ", 1)[1]}]
    assert doc["inputs"] == {"requested": 6, "analysed": 5, "skipped": 1, "skipped_inputs": skipped}
    assert "analysed 5 of 6 requested trace(s) (1 skipped)" in result.stderr
    assert_has(doc["warnings"], CUT, SKIPPED, PARTIAL_NOTE)
    assert len(doc["warnings"]) == 3 and SKIPPED in result.stderr.replace("\n", " ")


def test_triage_json_and_report_have_them(router: respx.MockRouter, tmp_path: Path) -> None:
    report = tmp_path / "incident.md"
    result = run("triage", "-s", "api-gateway", "--limit", "6", "--no-logs", "-o", "json", "--report", str(report),
                 "--max-skipped", "20%")  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["counts"]["traces"] == 5
    assert doc["inputs"]["requested"] == 6 and doc["inputs"]["analysed"] == 5
    assert_has(doc["warnings"], CUT, SKIPPED, PARTIAL_NOTE)
    assert result.stderr.count(CUT) == 1  # said once on stderr, not repeated
    assert doc["metrics"]["used"] is False and "Tempo's TraceQL metrics failed" in doc["metrics"]["note"]
    text = report.read_text()
    assert "## Warnings" in text and CUT in text and SKIPPED in text


def test_triage_over_the_default_share_of_skipped_traces_exits_4(router: respx.MockRouter) -> None:
    result = run("triage", "-s", "api-gateway", "--limit", "6", "--no-logs", "-o", "json")
    assert result.exit_code == 4  # 1 of 6 is more than the default 10 %
    assert orjson.loads(result.stdout)["inputs"]["skipped"] == 1  # the result is still printed whole
    assert "more skipped than --max-skipped 10% allows" in result.stderr


def test_show_and_path_json_have_the_partial_note(router: respx.MockRouter) -> None:
    doc = orjson.loads(run("-q", "show", PARTIAL, "-o", "json").stdout)
    assert doc["warnings"] == [PARTIAL_NOTE] and doc["traces"][0]["notes"] == [PARTIAL_NOTE.split(": ", 1)[1]]
    assert orjson.loads(run("-q", "path", PARTIAL, "-o", "json").stdout)["warnings"] == [PARTIAL_NOTE]
