"""``tracectl explain`` as a user and a script see it: the sentence, the JSON contract, one row per finding, the
reports, and bad input."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from click.testing import Result
from typer.testing import CliRunner

from tests.builders import sid, span, trace
from tests.conftest import FIXTURES
from tests.test_explain import SERVER, call
from tracectl.cli.main import app
from tracectl.formats import otlp_json
from tracectl.model import Span, SpanKind, Trace

runner = CliRunner()
EXPLAIN_KEYS = {"schema", "trace_id", "source", "start_ns", "duration_ns", "cp_length_ns", "span_count", "services",
                "error_spans", "selected_span_id", "sentence", "findings", "minor_findings", "warnings"}  # fmt: skip
FINDING_KEYS = {"rank", "kind", "cost_ns", "saving_ns", "share", "sentence", "parent_span_id", "spans"}


def write(path: Path, *traces: Trace) -> str:
    path.write_bytes(orjson.dumps(otlp_json.dump_document(traces)))
    return str(path)


def timeout_and_loop() -> Trace:
    """A gateway whose route timeout fired while the model (no error) ran on, after an N+1 of feature reads."""
    gateway = span("gateway", 0, 2000, kind=SERVER, service="gateway", error=True, **{"http.response.status_code": 504})
    reads: list[Span] = [call(f"read{i}", "HGET", 10 + i * 100, 100 + i * 100, "features", service="features",
                              kind=SpanKind.CLIENT, **{"db.system": "redis"}) for i in range(8)]  # fmt: skip
    return trace(
        gateway,
        span("features", 5, 900, "gateway", service="features", kind=SERVER),
        *reads,
        span("model", 905, 2600, "gateway", service="model", kind=SERVER),
    )


def run(*args: str) -> Result:
    return runner.invoke(app, ["--tz", "UTC", *args])


def test_table_says_one_sentence_then_the_findings(tmp_path: Path) -> None:
    result = run("explain", write(tmp_path / "t.json", timeout_and_loop()))
    assert result.exit_code == 0, result.output
    out = result.stdout
    lines = [x for x in out.splitlines() if x.strip()]
    first = " ".join(x.strip() for x in lines).split("The request failed", 1)  # wrapped at 80 columns
    assert "2025-11-24T08:20:00" in first[0] and "1. where" not in first[0]  # the header, then the sentence
    assert first[1].startswith(" at gateway gateway (a timeout), but the time went to model model")
    assert "1. where the failure began" in out and "N+1 calls" in out and sid("model") in out


def test_json_is_the_documented_contract(tmp_path: Path) -> None:
    result = run("explain", write(tmp_path / "t.json", timeout_and_loop()), "-o", "json")
    doc = orjson.loads(result.stdout)
    assert set(doc) == EXPLAIN_KEYS and doc["schema"] == "tracectl.explain/v1"
    assert doc["trace_id"] == "7" * 32 and doc["span_count"] == 11 and doc["error_spans"] == 1
    kinds = [f["kind"] for f in doc["findings"]]
    assert kinds[0] == "failure" and "n+1" in kinds and "dominant" in kinds
    assert [f["rank"] for f in doc["findings"]] == list(range(1, len(kinds) + 1))
    assert all(set(f) >= FINDING_KEYS for f in doc["findings"])
    fail = doc["findings"][0]
    assert fail["origin_span_id"] == sid("model") and fail["failed_span_id"] == sid("gateway")
    assert fail["masked"] is True and fail["timeout"] is True and fail["mechanism"] is None
    assert fail["spans"][0] == {"role": "origin", "span_id": sid("model"), "service": "model", "name": "model",
                                "start_ns": fail["spans"][0]["start_ns"], "duration_ns": 1695 * 10**6,
                                "cp_ns": fail["spans"][0]["cp_ns"], "status": "unset"}  # fmt: skip
    loop = next(f for f in doc["findings"] if f["kind"] == "n+1")
    assert loop["parent_span_id"] == sid("features") and loop["count"] == 8 and loop["overlapping_pairs"] == 0
    assert loop["operation"] == {"service": "features", "name": "HGET"} and loop["sum_ns"] == 720 * 10**6
    assert 0 < loop["saving_ns"] <= doc["cp_length_ns"]


def test_jsonl_and_csv_have_one_row_per_finding(tmp_path: Path) -> None:
    path = write(tmp_path / "t.json", timeout_and_loop())
    doc = orjson.loads(run("explain", path, "-o", "json").stdout)
    lines = [orjson.loads(x) for x in run("explain", path, "-o", "jsonl").stdout.splitlines()]
    rows = list(csv.DictReader(io.StringIO(run("explain", path, "-o", "csv").stdout)))
    assert [x["kind"] for x in lines] == [r["kind"] for r in rows] == [f["kind"] for f in doc["findings"]]
    assert lines[0]["span_id"] == sid("model") and rows[0]["service"] == "model"
    assert next(r for r in rows if r["kind"] == "n+1")["count"] == "8"


@pytest.mark.parametrize("suffix", ["md", "html"])
def test_report_holds_the_sentence_and_every_finding(tmp_path: Path, suffix: str) -> None:
    report = tmp_path / f"incident.{suffix}"
    result = run("explain", write(tmp_path / "t.json", timeout_and_loop()), "--report", str(report))
    assert result.exit_code == 0 and f"report written to {report}" in result.stderr
    text = report.read_text()
    assert "but the time went to" in text and sid("model") in text and sid("features") in text
    if suffix == "html":
        assert (
            text.lower().startswith("<!doctype html>")
            and "<script" not in text
            and "http" not in text.split("<body")[0]
        )


def test_several_traces_explain_the_slowest_unless_one_is_picked(tmp_path: Path) -> None:
    slow = timeout_and_loop()
    fast = trace(replace(span("quick", 0, 5, kind=SERVER), trace_id="a" * 32), trace_id="a" * 32)
    path = write(tmp_path / "two.json", fast, slow)
    result = run("explain", path, "-o", "json")
    assert orjson.loads(result.stdout)["trace_id"] == "7" * 32
    assert "holds 2 traces; explaining the slowest" in result.stderr
    picked = orjson.loads(run("explain", path, "--trace-id", "a" * 32, "-o", "json").stdout)
    assert picked["trace_id"] == "a" * 32 and picked["warnings"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["explain", str(FIXTURES / "bad/invalid.json")], "not valid JSON"),
        (["explain", "no-such-file.json"], "no such file"),
        (["explain", str(FIXTURES / "ml-inference.otlp.json"), "--report", "out.pdf"], "must end in .md or .html"),
        (["explain", str(FIXTURES / "ml-inference.otlp.json"), "-o", "raw"], "raw"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and result.stdout == ""
    assert message in result.stderr and "Traceback" not in result.stderr


def test_show_marks_the_error_origin_and_the_n_plus_one_calls(tmp_path: Path) -> None:
    path = write(tmp_path / "t.json", timeout_and_loop())
    doc = orjson.loads(run("show", path, "-o", "json").stdout)
    marked = {s["span_id"]: s["marks"] for s in doc["traces"][0]["spans"] if s["marks"]}
    assert marked == {sid("model"): ["origin"], **{sid(f"read{i}"): ["n+1"] for i in range(8)}}
    assert all(s["marks"] == [] for s in doc["traces"][0]["spans"] if s["span_id"] not in marked)
    table = runner.invoke(app, ["show", path, "--expand"], env={"COLUMNS": "120"}).stdout
    assert "⊗ origin model model" in table and table.count("×8 N+1 HGET") == 8
    folded = runner.invoke(app, ["show", path], env={"COLUMNS": "120"}).stdout  # the mark stays on the one row
    assert folded.count("×8 N+1 HGET  (sum 720 ms, wall 790 ms)") == 1 and "7 spans of repeated calls" in folded
    assert "⊗ origin: where a failure began" in table and "×N N+1: one of N calls" in table
    rows = list(csv.DictReader(io.StringIO(run("show", path, "-o", "csv").stdout)))
    assert len(rows) == 11 and "marks" not in rows[0]  # the CSV columns stay as they were


def test_a_traceparent_selects_its_span_even_past_the_rows_shown(tmp_path: Path) -> None:
    path = write(tmp_path / "t.json", timeout_and_loop())
    parent = f"00-{'7' * 32}-{sid('read6')}-01"
    doc = orjson.loads(run("explain", path, "--trace-id", parent, "-o", "json").stdout)
    assert doc["selected_span_id"] == sid("read6") and doc["warnings"] == []
    table = runner.invoke(app, ["explain", path, "--trace-id", parent], env={"COLUMNS": "100"}).stdout
    assert f"{sid('read6')} ◀" in table and "the span the traceparent names" in table
    gone = run("explain", path, "--trace-id", f"00-{'7' * 32}-{'ab' * 8}-01", "-o", "json")
    assert gone.exit_code == 0 and "not in the trace" in orjson.loads(gone.stdout)["warnings"][0]


def test_html_report_renders_in_headless_chromium_offline(tmp_path: Path) -> None:
    from tests.conftest import headless_dom

    page = tmp_path / "incident.html"
    assert run("explain", write(tmp_path / "t.json", timeout_and_loop()), "--report", str(page)).exit_code == 0
    dom = headless_dom(page, tmp_path, "docs/explain.md")
    assert "but the time went to model model" in dom and "<svg" in dom and dom.count("<rect") >= 11
    assert dom.count("<h3>") == len(
        orjson.loads(run("explain", str(tmp_path / "t.json"), "-o", "json").stdout)["findings"]
    )


def test_show_marks_a_retry_with_its_attempt_number(tmp_path: Path) -> None:
    retried = trace(
        span("api", 0, 500, kind=SERVER, service="api"),
        call("try1", "POST /score", 0, 200, "api", service="api", error=True),
        call("try2", "POST /score", 250, 480, "api", service="api"),
    )
    path = write(tmp_path / "r.json", retried)
    table = runner.invoke(app, ["show", path], env={"COLUMNS": "120"}).stdout
    assert "↻ retry 2 POST /score" in table and "↻ a call made again after it failed" in table
    assert "⊗" not in table  # the retry made the failure good: no origin to mark
