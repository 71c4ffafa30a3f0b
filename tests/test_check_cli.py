"""``tracectl check`` and W3C traceparents through the CLI: documents, exit codes, the selected span in ``show``."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tracectl.cli.main import app
from tracectl.errors import InputError
from tracectl.formats import otlp_json
from tracectl.formats.detect import read_source
from tracectl.model import Resource, Trace
from tracectl.sandbox import SandboxServers, start_sandbox
from tracectl.workflows.sources import parse_traceparent

runner = CliRunner()
ML = str(FIXTURES / "ml-inference.otlp.json")
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def cli(*args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, list(args), env=env)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[SandboxServers, Any]]:
    servers, workload = start_sandbox("healthy", 30, end_ns=time.time_ns())
    try:
        yield servers, workload
    finally:
        servers.stop()


@pytest.fixture
def anonymous(tmp_path: Path) -> Path:
    """The ML fixture with one service's name removed: a critical finding."""
    first = read_source(ML).traces[0]
    victim = first.spans[0].service
    spans = tuple(replace(s, resource=Resource({})) if s.service == victim else s for s in first.spans)
    path = tmp_path / "anonymous.json"
    path.write_bytes(orjson.dumps(otlp_json.dump_document([Trace(first.trace_id, spans)])))
    return path


def test_check_json_document(anonymous: Path) -> None:
    result = cli("check", str(anonymous), "-o", "json")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["schema"] == "tracectl.check/v1" and doc["warnings"] == [] and doc["source"] == str(anonymous)
    top = doc["findings"][0]
    assert (top["rule"], top["impact"], top["service"]) == ("service-name", "critical", "unknown_service")
    assert top["failed"] == top["checked"] > 0 and top["example_trace_id"] and top["fix"].startswith("Set OTEL_SERVICE")
    assert top["causes"][0]["spans"] == top["failed"]
    worst = doc["services"][0]
    assert worst["service"] == "unknown_service" and worst["score"] < 90 and worst["findings"] >= 1
    assert {r["rule"] for r in doc["rules"]} >= {"propagation", "service-name", "span-kind", "clock-skew"}


def test_check_fail_on_exits_6_naming_the_service(anonymous: Path) -> None:
    result = cli("check", str(anonymous), "--fail-on", "score<95", "--fail-on", "critical>0", "-o", "json")
    assert result.exit_code == 6 and orjson.loads(result.stdout)["findings"]  # the answer is still written
    assert (
        "unknown_service scores" in result.stderr
        and "< 95" in result.stderr
        and "1 critical findings > 0" in result.stderr
    )
    assert cli("check", ML, "--fail-on", "score<10").exit_code == 0


@pytest.mark.parametrize("expr", ["score>80", "critical<1", "p99>2s", "score<lots"])
def test_check_fail_on_refuses_what_it_cannot_mean(expr: str) -> None:
    result = cli("check", ML, "--fail-on", expr)
    assert result.exit_code == 2 and "--fail-on" in result.stderr


def test_check_needs_inputs_or_a_search() -> None:
    result = cli("check")
    assert result.exit_code == 2 and "--search" in result.stderr
    assert cli("check", ML, "--search", "-s", "x").exit_code == 2  # files and a search: one or the other


def test_check_over_a_backend_search(sandbox) -> None:  # type: ignore[no-untyped-def]
    servers, _ = sandbox
    env = {"TEMPO_ADDR": servers.tempo_url}
    result = cli("check", "--search", "-s", "api-gateway", "--since", "40m", "--limit", "10", "-o", "json", env=env)
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["traces"] == 10 and doc["source"] == "Tempo search: 10 traces fetched" and doc["findings"] == []
    assert all(s["score"] == 100.0 for s in doc["services"])


def test_gzip_inputs_are_read_and_corrupt_ones_are_exit_2(tmp_path: Path) -> None:
    packed = tmp_path / "trace.json.gz"
    packed.write_bytes(gzip.compress(Path(ML).read_bytes()))
    unpacked = orjson.loads(cli("check", ML, "-o", "json").stdout)
    result = cli("check", str(packed), "-o", "json")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)  # the same judgement as of the plain file: the gzip was read, not skipped
    assert doc["traces"] == unpacked["traces"] == 1 and doc["services"] == unpacked["services"]
    assert doc["findings"] == unpacked["findings"] and doc["source"] == str(packed)
    packed.write_bytes(gzip.compress(Path(ML).read_bytes())[:40])
    result = cli("show", str(packed))
    assert result.exit_code == 2 and "gzip data is corrupt or truncated" in result.stderr


# ------------------------------------------------------------------------------------------------ traceparent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"00-{TRACE}-00f067aa0ba902b7-01", (TRACE, "00f067aa0ba902b7", True)),
        (f"00-{TRACE.upper()}-00F067AA0BA902B7-00", (TRACE, "00f067aa0ba902b7", False)),
        (f"traceparent: 00-{TRACE}-00f067aa0ba902b7-01", (TRACE, "00f067aa0ba902b7", True)),
        (f"cc-{TRACE}-00f067aa0ba902b7-01-what-the-future-adds", (TRACE, "00f067aa0ba902b7", True)),
    ],
)
def test_traceparents_that_are_valid(text: str, expected: tuple[str, str, bool]) -> None:
    parent = parse_traceparent(text)
    assert parent is not None and (parent.trace_id, parent.span_id, parent.sampled) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (f"ff-{TRACE}-00f067aa0ba902b7-01", "version ff is invalid"),
        (f"00-{'0' * 32}-00f067aa0ba902b7-01", "the trace ID is all zeros"),
        (f"00-{TRACE}-{'0' * 16}-01", "the parent span ID is all zeros"),
        (f"00-{TRACE[:-1]}-00f067aa0ba902b7-01", "the trace ID must be 32 hex characters"),
        (f"00-{TRACE}-00f067aa0ba902bz-01", "the parent span ID must be 16 hex characters"),
        (f"00-{TRACE}-00f067aa0ba902b7-1", "the flags must be 2 hex characters"),
        (f"00-{TRACE}-00f067aa0ba902b7-01-extra", "version 00 has exactly four fields"),
    ],
)
def test_traceparents_that_break_the_w3c_rules_are_exit_2(text: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        parse_traceparent(text)
    result = cli("show", text, env={"TEMPO_ADDR": "http://127.0.0.1:9"})  # refused before any request
    assert result.exit_code == 2 and problem in result.stderr and "not a valid traceparent" in result.stderr


def test_not_a_traceparent_at_all_is_none() -> None:
    assert parse_traceparent(TRACE) is None and parse_traceparent("traces/a.json") is None


def test_show_selects_the_span_a_traceparent_names_in_a_file() -> None:
    trace = read_source(ML).traces[0]
    chosen = trace.spans[len(trace.spans) // 2]
    header = f"00-{trace.trace_id}-{chosen.span_id}-01"
    doc = orjson.loads(cli("show", ML, "--trace-id", header, "-o", "json").stdout)
    (shown,) = doc["traces"]
    assert shown["selected_span_id"] == chosen.span_id
    assert [s["span_id"] for s in shown["spans"] if s.get("selected")] == [chosen.span_id]
    table = cli("show", ML, "--trace-id", header, "--max-depth", "0", env={"COLUMNS": "140"})
    assert table.exit_code == 0 and "◀ traceparent" in table.stdout  # kept visible though deeper than --max-depth
    assert f"◀ the span the traceparent names ({chosen.span_id})" in table.stdout


def test_a_traceparent_fetches_its_trace_and_says_when_its_span_is_missing(sandbox) -> None:  # type: ignore[no-untyped-def]
    servers, workload = sandbox
    trace = workload.traces[0]
    env = {"TEMPO_ADDR": servers.tempo_url}
    doc = orjson.loads(cli("show", f"00-{trace.trace_id}-{trace.spans[1].span_id}-01", "-o", "json", env=env).stdout)
    assert doc["traces"][0]["selected_span_id"] == trace.spans[1].span_id and doc["warnings"] == []
    missing = cli("show", f"00-{trace.trace_id}-{'ab' * 8}-01", "-o", "json", env=env)
    assert missing.exit_code == 0 and "span abababababababab of the traceparent is not in the trace" in missing.stderr
    assert orjson.loads(missing.stdout)["warnings"] == [
        "span abababababababab of the traceparent is not in the trace (not received, or not exported)"
    ]
    blame = cli("blame", f"00-{trace.trace_id}-{trace.spans[0].span_id}-01", "-o", "json", env=env)
    assert blame.exit_code == 0 and orjson.loads(blame.stdout)["trace_id"] == trace.trace_id
