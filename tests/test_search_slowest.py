"""`search --order slowest`: the window's N longest traces from backends that return the first N they find.

Against respx fakes that answer as Tempo and Jaeger do (the first matches in their own order, a duration bound
honoured), with every query asserted; and against the sandbox over loopback HTTP, where the answer must equal the
window's N longest traces, within the stated number of requests."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest
import respx
from typer.testing import CliRunner

from tracectl.cli.main import app
from tracectl.sandbox import start_sandbox
from tracectl.sandbox.server import SandboxServers
from tracectl.sandbox.store import summarise
from tracectl.units import parse_duration
from tracectl.workflows.search_slowest import MAX_REQUESTS

TEMPO, JAEGER = "http://tempo.test:3200", "http://jaeger.test:16686"
runner = CliRunner()
MS = 1_000_000
# 60 traces in the order the fake backends find them: the short ones come first, the long ones are scattered.
DURATIONS_MS = [20 + (i * 37) % 50 for i in range(60)]
for position, long_ms in zip((7, 19, 23, 31, 38, 44, 52, 57), (900, 450, 610, 300, 780, 520, 333, 700), strict=True):
    DURATIONS_MS[position] = long_ms
IDS = [f"{i + 1:032x}" for i in range(60)]
LONGEST_5 = sorted(range(60), key=lambda i: -DURATIONS_MS[i])[:5]


def cli(*args: str, env: dict[str, str]) -> Any:
    return runner.invoke(app, list(args), env={"TEMPO_ADDR": "", "JAEGER_ADDR": "", **env})


def first_found(bound_ns: int, limit: int) -> list[int]:
    return [i for i, ms in enumerate(DURATIONS_MS) if ms * MS >= bound_ns][:limit]


@pytest.fixture
def tempo() -> Iterator[tuple[respx.MockRouter, list[tuple[str, str]]]]:
    asked: list[tuple[str, str]] = []

    def search(request: httpx.Request) -> httpx.Response:
        params = parse_qs(urlsplit(str(request.url)).query)
        q, limit = params["q"][0], params["limit"][0]
        asked.append((q, limit))
        bound = re.search(r"trace:duration >= (\S+) }", q)
        hits = first_found(parse_duration(bound.group(1)) if bound else 0, int(limit))
        traces = [{"traceID": IDS[i].lstrip("0"), "rootServiceName": "api-gateway", "rootTraceName": "POST /predict",
                   "startTimeUnixNano": str(1_800_000_000 * 10**9 + i), "durationMs": DURATIONS_MS[i]}
                  for i in hits]  # fmt: skip
        done = 1 if len(hits) >= int(limit) else 4  # the limit stops the search early
        return httpx.Response(200, json={"traces": traces, "metrics": {"completedJobs": done, "totalJobs": 4}})

    with respx.mock(base_url=TEMPO, assert_all_mocked=True, assert_all_called=False) as mock:
        mock.get("/api/status/buildinfo").mock(return_value=httpx.Response(200, json={"version": "3.0.3"}))
        mock.get("/api/search").mock(side_effect=search)
        quantiles = {"series": [{"labels": [{"key": "p", "value": {"doubleValue": p}}], "value": v}
                                for p, v in ((0.9, 0.070), (0.99, 0.300), (0.999, 0.700))]}  # fmt: skip
        mock.get("/api/metrics/query", name="quantiles", params={"q": '{ resource.service.name = "api-gateway" } | '
                                                    "quantile_over_time(duration, 0.9, 0.99, 0.999)"}).mock(
            return_value=httpx.Response(200, json=quantiles)
        )  # fmt: skip
        yield mock, asked


def test_tempo_finds_the_five_longest_with_a_quantile_guess_and_two_searches(tempo: Any) -> None:
    _, asked = tempo
    result = cli("search", "-s", "api-gateway", "--since", "1h", "--limit", "5", "-o", "json",
                 env={"TEMPO_ADDR": TEMPO})  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert [t["trace_id"] for t in doc["traces"]] == [IDS[i] for i in LONGEST_5]
    assert [t["duration_ns"] // MS for t in doc["traces"]] == [900, 780, 700, 610, 520]
    spans = '{ resource.service.name = "api-gateway"'
    # the first page (5 short ones, cut), the quantiles (p99 = 300 ms: 8 traces, all came back), nothing more
    assert asked == [(f"{spans} }}", "5"), (f"{spans} && trace:duration >= 300ms }}", "25")]
    method = doc["method"]
    assert method == {"order": "slowest", "exact": True, "requests": 3, "searches": 2, "metrics_requests": 1,
                      "bound_ns": 300 * MS, "note": method["note"]}  # fmt: skip
    assert "at least 300 ms" in method["note"] and doc["warnings"] == []
    assert "3 requests (2 searches, 1 TraceQL metrics)" in result.stderr


def test_tempo_bisects_when_the_guess_is_not_enough(tempo: Any) -> None:
    """Twenty asked for: p99 and p90 hold too few: the search goes down between them and the first page."""
    _, asked = tempo
    result = cli("search", "-s", "api-gateway", "--since", "1h", "--limit", "20", "-o", "json",
                 env={"TEMPO_ADDR": TEMPO})  # fmt: skip
    doc = orjson.loads(result.stdout)
    expected = sorted(range(60), key=lambda i: (-DURATIONS_MS[i], IDS[i]))[:20]
    assert [t["duration_ns"] // MS for t in doc["traces"]] == [DURATIONS_MS[i] for i in expected]
    assert doc["method"]["exact"] and doc["method"]["requests"] <= MAX_REQUESTS
    bounds = [re.search(r">= (\S+) }", q).group(1) if ">=" in q else None for q, _ in asked]  # type: ignore[union-attr]
    # p99 (300 ms) and p90 (70 ms) hold too few; the geometric middle of 20 ms (the first page's shortest) and
    # 70 ms holds twenty or more, and fewer than a page (60): all of them came back
    assert bounds == [None, "300ms", "70ms", "37ms"]
    assert [limit for _, limit in asked] == ["20", "60", "60", "60"]
    assert doc["method"]["searches"] == len(asked)


def test_recent_is_one_search_newest_first(tempo: Any) -> None:
    mock, asked = tempo
    result = cli("search", "-s", "api-gateway", "--order", "recent", "--limit", "5", "-o", "json",
                 env={"TEMPO_ADDR": TEMPO})  # fmt: skip
    doc = orjson.loads(result.stdout)
    assert [t["trace_id"] for t in doc["traces"]] == [IDS[i] for i in (4, 3, 2, 1, 0)]
    assert doc["method"]["order"] == "recent" and len(asked) == 1 and not mock.routes["quantiles"].called
    assert any("first 5 traces it found" in w for w in doc["warnings"])


@pytest.fixture
def jaeger() -> Iterator[list[dict[str, list[str]]]]:
    asked: list[dict[str, list[str]]] = []

    def summaries(request: httpx.Request) -> httpx.Response:
        params = parse_qs(urlsplit(str(request.url)).query)
        asked.append(params)
        bound = parse_duration(params["query.duration_min"][0]) if "query.duration_min" in params else 0
        hits = first_found(bound, int(params["query.num_traces"][0]))
        start = 1_800_000_000 * 10**9
        return httpx.Response(200, json={"summaries": [
            {"traceId": IDS[i], "rootServiceName": "api-gateway", "rootOperationName": "POST /predict",
             "minStartTimeUnixNano": str(start), "maxEndTimeUnixNano": str(start + DURATIONS_MS[i] * MS),
             "spanCount": 4, "errorSpanCount": 0, "services": [{"name": "api-gateway"}]} for i in hits]})  # fmt: skip

    with respx.mock(base_url=JAEGER, assert_all_mocked=True, assert_all_called=True) as mock:
        mock.get("/api/v3/trace-summaries").mock(side_effect=summaries)
        yield asked


def test_jaeger_bisects_min_duration(jaeger: list[dict[str, list[str]]]) -> None:
    result = cli("--backend", "jaeger", "search", "-s", "api-gateway", "--limit", "5", "-o", "json",
                 env={"JAEGER_ADDR": JAEGER})  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert [t["trace_id"] for t in doc["traces"]] == [IDS[i] for i in LONGEST_5]
    sent = [(p.get("query.duration_min", [None])[0], p["query.num_traces"][0]) for p in jaeger]
    # the first page (cut), then from its longest trace (68 ms): eleven traces, every one that long
    assert sent == [(None, "5"), ("68ms", "25")]
    assert doc["method"]["exact"] and doc["method"]["requests"] == len(sent) <= MAX_REQUESTS
    assert all(p["query.service_name"] == ["api-gateway"] for p in jaeger)


# ------------------------------------------------------------------------------------------ the sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServers]:
    servers, _ = start_sandbox("nlp-network-delay", 300, end_ns=time.time_ns())
    try:
        yield servers
    finally:
        servers.stop()


@pytest.mark.parametrize("backend", ["tempo", "jaeger"])
@pytest.mark.parametrize("limit", [5, 20])
def test_sandbox_search_is_the_windows_longest(sandbox: SandboxServers, backend: str, limit: int) -> None:
    env = {"TEMPO_ADDR": sandbox.tempo_url, "JAEGER_ADDR": sandbox.jaeger_url}
    result = cli("--backend", backend, "search", "-s", "api-gateway", "--since", "40m", "--limit", str(limit),
                 "-o", "json", env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    window = sorted((summarise(t) for t, _ in sandbox.store.traces()), key=lambda s: -s.duration)
    assert all(s.root_service == "api-gateway" for s in window)
    step = MS if backend == "tempo" else 1  # Tempo's search gives whole milliseconds
    longest = [s.duration // step for s in window[:limit]]
    assert [t["duration_ns"] // step for t in doc["traces"]] == longest
    assert doc["method"]["exact"] and doc["method"]["requests"] <= MAX_REQUESTS
    assert longest[0] * step > 400 * MS  # the incident's slow requests, not the first found


class _AlwaysFull:
    """A backend whose every answer reaches its limit (a huge window of equal traces): never provably complete."""

    name = "Tempo"

    def __init__(self) -> None:
        self.calls = 0

    def search(self, q: Any) -> Any:
        from tracectl.backends.query import SearchResult, TraceSummary

        self.calls += 1
        hits = [TraceSummary(f"{self.calls:016x}{i:016x}", "gw", "op", i, 50 * MS + i, duration_precision_ns=MS)
                for i in range(q.limit)]  # fmt: skip
        return SearchResult("Tempo", "{ }", hits, complete=False)


def test_the_request_budget_holds_and_an_inexact_list_says_so() -> None:
    from tracectl.backends.query import SearchQuery
    from tracectl.timerange import TimeRange
    from tracectl.workflows.search_slowest import find_slowest

    backend = _AlwaysFull()
    result, method = find_slowest(backend, SearchQuery(TimeRange(0, 10**12), service="gw", limit=5))  # type: ignore[arg-type]
    assert backend.calls == method.searches == method.requests <= MAX_REQUESTS and not method.exact
    assert len(result.traces) == 5 and result.warnings == [method.note] and "perhaps not" in method.note


def test_raw_traceql_is_one_search_said_as_such(tempo: Any) -> None:
    _, asked = tempo
    result = cli("search", "--traceql", "{ }", "--limit", "5", "-o", "json", env={"TEMPO_ADDR": TEMPO})
    doc = orjson.loads(result.stdout)
    assert asked == [("{ }", "5")] and not doc["method"]["exact"]
    assert "cannot be added to a raw --traceql query" in doc["method"]["note"]  # said on stderr too
    assert any("first 5 traces it found" in w for w in doc["warnings"]) and "raw --traceql" in result.stderr
