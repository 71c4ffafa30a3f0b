"""A number printed is a number of what was analysed: one trace per asked ID, inputs de-duplicated, and every
multi-trace result saying how many traces it was asked for, analysed and skipped (``--max-skipped`` → exit 4)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from tracectl.cli.main import app
from tracectl.cli.skipped import parse_max_skipped, too_many_skipped
from tracectl.errors import InputError
from tracectl.formats import otlp_json, otlp_proto
from tracectl.formats.detect import LoadResult
from tracectl.sandbox.synth import ml_inference_trace
from tracectl.workflows.sources import InputCounts, Loaded, Skipped, drop_repeated_traces

BASE = "http://tempo.test:3200"
TRACES = [ml_inference_trace(seed) for seed in range(12)]
IDS = [t.trace_id for t in TRACES]
runner = CliRunner()


def proto(*traces: object) -> httpx.Response:
    return httpx.Response(200, content=otlp_proto.dump_bytes(list(traces), tempo_response=True))  # type: ignore[arg-type]


@pytest.fixture
def tempo() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_mocked=True, assert_all_called=False) as mock:
        mock.get("/api/status/buildinfo").mock(return_value=httpx.Response(200, json={"version": "2.6.0"}))
        yield mock


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(
        app, ["--tempo-url", BASE, *args], env={"TEMPO_ADDR": "", "JAEGER_ADDR": "", "TRACECTL_RETRIES": "1"}
    )


def search_hits(tempo: respx.MockRouter, ids: list[str]) -> None:
    hits = [{"traceID": i, "rootServiceName": "api-gateway", "startTimeUnixNano": "1", "durationMs": 40} for i in ids]
    tempo.get("/api/search").mock(return_value=httpx.Response(200, json={"traces": hits}))


def test_an_answer_holding_another_trace_adds_only_the_asked_one(tempo: respx.MockRouter) -> None:
    for n, t in enumerate(TRACES[:8]):  # a misbehaving proxy: a neighbour's trace rides along with two answers
        extra = [TRACES[8 + n // 3]] if n in (2, 5) else []  # traces 8 and 9
        tempo.get(f"/api/v2/traces/{t.trace_id}").mock(return_value=proto(t, *extra))
    result = run("blame", *IDS[:8], "-o", "json")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["traces"] == 8 and doc["inputs"] == {"requested": 8, "analysed": 8, "skipped": 0, "skipped_inputs": []}
    assert max(row["traces"] for row in doc["rows"]) == 8  # the rows and the totals agree
    dropped = [w for w in doc["warnings"] if "other trace(s)" in w]
    assert len(dropped) == 2 and IDS[8] in dropped[0] + dropped[1] and IDS[9] in dropped[0] + dropped[1]


def test_mixed_faults_count_only_good_fetches_and_exit_4_past_the_threshold(tempo: respx.MockRouter) -> None:
    good, faults = TRACES[:6], TRACES[6:12]
    for t in good:
        tempo.get(f"/api/v2/traces/{t.trace_id}").mock(return_value=proto(t))
    f404, f500, other, cut, html, flaky = (t.trace_id for t in faults)
    tempo.get(f"/api/v2/traces/{f404}").mock(return_value=httpx.Response(404, text="not found"))
    tempo.get(f"/api/traces/{f404}").mock(return_value=httpx.Response(404, text="not found"))
    tempo.get(f"/api/v2/traces/{f500}").mock(return_value=httpx.Response(500, text="boom"))
    tempo.get(f"/api/v2/traces/{other}").mock(return_value=proto(good[0]))  # a different trace only
    tempo.get(f"/api/v2/traces/{cut}").mock(return_value=httpx.Response(200, content=proto(faults[3]).content[:90]))
    tempo.get(f"/api/v2/traces/{html}").mock(
        return_value=httpx.Response(200, text="<html><body>Log in</body></html>", headers={"content-type": "text/html"})
    )
    tempo.get(f"/api/v2/traces/{flaky}").mock(side_effect=[httpx.Response(503, text="once"), proto(faults[5])])
    ids = [t.trace_id for t in TRACES]
    search_hits(tempo, ids)

    result = run("blame", *ids, "--skip-bad", "-o", "json", "--max-skipped", "50%")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    analysed = len(good) + 1  # the flaky one came back on retry
    assert doc["traces"] == analysed
    assert doc["inputs"]["requested"] == 12 and doc["inputs"]["analysed"] == analysed
    assert sorted(s["source"] for s in doc["inputs"]["skipped_inputs"]) == sorted([f404, f500, other, cut, html])
    assert f"analysed {analysed} of 12 requested trace(s) (5 skipped)" in result.stderr

    tempo.get(f"/api/v2/traces/{flaky}").mock(return_value=proto(faults[5]))
    strict = run("blame", *ids, "--skip-bad", "-o", "json")  # 5 of 12 lost is over the default 10 %
    assert strict.exit_code == 4 and orjson.loads(strict.stdout)["inputs"]["skipped"] == 5
    assert "--max-skipped 10%" in strict.stderr
    assert run("blame", *ids, "--skip-bad", "-o", "json", "--max-skipped", "5").exit_code == 0
    assert run("blame", *ids, "--skip-bad", "-o", "json", "--max-skipped", "4").exit_code == 4

    triage = run("triage", "-s", "api-gateway", "--since", "1h", "--limit", "50", "--no-logs", "-o", "json")
    assert triage.exit_code == 4, triage.output  # triage loses 5 of its 12 traces: no normal-looking verdict
    tdoc = orjson.loads(triage.stdout)
    assert tdoc["counts"]["traces"] == tdoc["inputs"]["analysed"] == analysed


def test_the_same_id_or_file_twice_is_one_trace(tempo: respx.MockRouter, tmp_path: Path) -> None:
    tempo.get(f"/api/v2/traces/{IDS[0]}").mock(return_value=proto(TRACES[0]))
    tempo.get(f"/api/v2/traces/{IDS[1]}").mock(return_value=proto(TRACES[1]))
    doc = orjson.loads(run("blame", IDS[0], IDS[0].upper(), IDS[1], IDS[0], "-o", "json").stdout)
    assert doc["traces"] == 2 and doc["inputs"]["requested"] == 2
    assert f"{IDS[0]} was given 3 times: read once" in doc["warnings"]

    one, two = tmp_path / "a.json", tmp_path / "b.json"
    one.write_bytes(orjson.dumps(otlp_json.dump_document([TRACES[0]])))
    two.write_bytes(
        orjson.dumps(otlp_json.dump_document([TRACES[0], TRACES[1]]))
    )  # the first trace again, in another file
    doc = orjson.loads(run("blame", str(one), str(one), str(tmp_path / "." / "a.json"), str(two), "-o", "json").stdout)
    assert doc["traces"] == 2 and doc["inputs"] == {"requested": 2, "analysed": 2, "skipped": 0, "skipped_inputs": []}
    assert any("given 3 times" in w for w in doc["warnings"])
    assert any(f"trace {IDS[0]} is in 2 inputs" in w for w in doc["warnings"])


def test_max_skipped_values() -> None:
    assert parse_max_skipped("10%") == (0.1, True) and parse_max_skipped("3") == (3.0, False)
    for bad in ("ten", "1.5", "150%", "-1", ""):
        with pytest.raises(InputError, match="--max-skipped"):
            parse_max_skipped(bad)
    half = InputCounts(5, [Skipped(str(n), "x") for n in range(5)])
    assert too_many_skipped(half, (0.4, True)) and not too_many_skipped(half, (0.5, True))
    assert not too_many_skipped(InputCounts(0, []), (0.0, True))


@given(st.lists(st.integers(0, 5), max_size=12), st.integers(0, 4))
def test_counts_always_add_up_and_each_trace_is_kept_once(layout: list[int], lost: int) -> None:
    """Sources holding any mix of repeated traces: every trace ID is analysed exactly once, and requested is
    always analysed plus skipped."""
    loaded = Loaded([LoadResult(f"s{n}", [TRACES[i]], "otlp") for n, i in enumerate(layout)])
    loaded.skipped = [Skipped(f"bad{n}", "unreadable") for n in range(lost)]
    drop_repeated_traces(loaded)
    kept = [t.trace_id for t in loaded.traces]
    assert sorted(kept) == sorted({TRACES[i].trace_id for i in layout})
    counts = loaded.counts
    assert counts.requested == counts.analysed + lost and counts.analysed == len(set(layout))
    assert counts.document()["skipped"] == lost
