"""`show TRACE --span ID`: one span whole, in the terminal, JSON and CSV; its log lines from the sandbox's Loki."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tracectl.cli.main import app
from tracectl.sandbox import SandboxServers, start_sandbox

runner = CliRunner()
ML = str(FIXTURES / "ml-inference.otlp.json")
CACHE_GET = "2e44158bae97ba95"


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(
        app, ["--no-color", "--tz", "UTC", *args], env={"COLUMNS": "80", "LOKI_ADDR": "", **(env or {})}
    )


def test_a_spans_attributes_events_and_place_in_the_table() -> None:
    result = run("show", ML, "--span", CACHE_GET.upper())  # any case
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith(f"Span {CACHE_GET}  feature-store cache.get  (internal)")
    assert "parent         feature-store GetFeatures" in out and "critical path  not on it" in out
    resource, span = out.index("resource attributes (3)"), out.index("span attributes (2)")
    assert resource < out.index("k8s.pod.name        feature-store-0becd") < span < out.index("cache.hit   false")
    assert "+121 µs   cache miss   cache.key=user:4821:features" in out
    assert "(no log lines: Loki not configured" in out


def test_json_and_csv_carry_the_same() -> None:
    doc = orjson.loads(run("show", ML, "--span", CACHE_GET, "-o", "json").stdout)
    assert doc["schema"] == "tracectl.span/v1" and doc["span_id"] == CACHE_GET and doc["status"] == "unset"
    assert doc["resource"]["service.name"] == "feature-store" and doc["attributes"] == {
        "cache.hit": False,
        "db.system": "redis",
    }
    assert [(e["name"], e["offset_ns"]) for e in doc["events"]] == [("cache miss", 121_000)]
    assert doc["cp_ns"] == 0 and doc["cp_share"] == 0.0 and doc["parent"]["name"] == "GetFeatures"
    assert doc["links"] == [] and doc["logs"] == []
    rows = run("show", ML, "--span", CACHE_GET, "-o", "csv").stdout.splitlines()
    assert rows[0] == "trace_id,span_id,section,offset_ns,key,value" and len(rows) == 1 + 3 + 2 + 2
    assert rows[-1].endswith(",event attribute,121000,cache.key,user:4821:features")


def test_an_unknown_span_is_a_usage_error() -> None:
    result = run("show", ML, "--span", "00000000000000aa")
    assert result.exit_code == 2 and result.stdout == "" and "span 00000000000000aa is not in" in result.stderr


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServers]:
    servers, _ = start_sandbox("nlp-network-delay", 60, end_ns=time.time_ns())
    try:
        yield servers
    finally:
        servers.stop()


def test_the_culprits_call_with_its_path_share_and_a_span_with_its_logs(sandbox: SandboxServers) -> None:
    env = {"TEMPO_ADDR": sandbox.tempo_url, "LOKI_ADDR": sandbox.loki_url, "JAEGER_ADDR": ""}
    search = orjson.loads(run("search", "-s", "api-gateway", "--since", "40m", "--limit", "1", "-o", "json",
                              env=env).stdout)  # fmt: skip
    trace_id = search["traces"][0]["trace_id"]
    shown = orjson.loads(run("show", trace_id, "--logs", "-o", "json", env=env).stdout)["traces"][0]
    call = next(s for s in shown["spans"] if s["name"] == "nlp-model/Infer")
    doc = orjson.loads(run("show", trace_id, "--span", call["span_id"], "-o", "json", env=env).stdout)
    assert doc["cp_ns"] == call["cp_ns"] and doc["cp_share"] == pytest.approx(call["cp_ns"] / shown["cp_length_ns"])
    assert doc["cp_share"] > 0.5  # the network delay the verdict names
    logged = next(s for s in shown["spans"] if s.get("logs"))
    table = run("show", trace_id, "--span", logged["span_id"], env=env).stdout
    assert f"log lines ({len(logged['logs'])})" in table
    doc = orjson.loads(run("show", trace_id, "--span", logged["span_id"], "-o", "json", env=env).stdout)
    assert doc["logs"] == logged["logs"]
