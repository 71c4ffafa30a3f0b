"""`show` folds repeated calls: the sandbox's N+1 loop is one row with its count, sum and wall time, explain's
mark kept on it; `--expand` and JSON have every span."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from tracectl.cli.main import app
from tracectl.sandbox import SandboxServers, start_sandbox
from tracectl.units import format_duration

runner = CliRunner()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[SandboxServers, Any]]:
    servers, workload = start_sandbox("feature-store-n-plus-one", 60, end_ns=time.time_ns())
    try:
        yield servers, workload
    finally:
        servers.stop()


def show(servers: SandboxServers, *args: str) -> Any:
    env = {"TEMPO_ADDR": servers.tempo_url, "JAEGER_ADDR": "", "COLUMNS": "140"}
    result = runner.invoke(app, ["--no-color", "show", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_n_plus_one_loop_is_one_row(sandbox: tuple[SandboxServers, Any]) -> None:
    servers, workload = sandbox
    trace = next(t for t in workload.traces if t.trace_id in workload.affected_ids)
    lookups = sorted((s for s in trace.spans if s.name == "online_store.lookup"), key=lambda s: s.start_ns)
    n = len(lookups)
    assert n >= 10
    total = sum(s.end_ns - s.start_ns for s in lookups)
    wall = max(s.end_ns for s in lookups) - lookups[0].start_ns
    table = show(servers, trace.trace_id)
    row = f"×{n} N+1 online_store.lookup  (sum {format_duration(total)}, wall {format_duration(wall)})"
    assert table.count("online_store.lookup") == 1 and row in table, table
    assert f"{n - 1} spans of repeated calls folded into 1 row (--expand shows them)" in table
    expanded = show(servers, trace.trace_id, "--expand")
    assert expanded.count(f"×{n} N+1 online_store.lookup") == n and "folded" not in expanded
    doc = orjson.loads(show(servers, trace.trace_id, "-o", "json"))
    assert sum(s["name"] == "online_store.lookup" for s in doc["traces"][0]["spans"]) == n
