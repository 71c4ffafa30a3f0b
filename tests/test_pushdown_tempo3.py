"""Issue 28: the push-down against what a real Tempo 3.0.3 answered (``../shared/samples/tempo3/pushdown``): the
newest part of the window is counted, log2-bucketed p99s do not rank services, and a ``compare()`` value cut
silently at topN is unknown, not 0; the sandbox answers the same way."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import httpx
import orjson
import respx
from typer.testing import CliRunner

from tests.conftest import SAMPLES, needs_samples, tempo_client
from tracectl.backends.query import SearchQuery
from tracectl.cli.main import app
from tracectl.timerange import TimeRange

PD = SAMPLES / "tempo3" / "pushdown"
START, END = 1_796_566_777, 1_796_570_378  # the recorded triage's window (--since 1h), in unix seconds
WINDOW = TimeRange(START * 10**9 + 600_000_000, END * 10**9 - 400_000_000)  # an hour, not on whole seconds
COUNT_Q = '{ resource.service.name = "api-gateway" && kind = server } | count_over_time()'
SCOPE = '{ trace:rootService = "api-gateway" }'


def recorded(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = orjson.loads((PD / name).read_bytes())
    return doc


def session(warned: list[str]) -> Any:
    client = tempo_client()
    return SimpleNamespace(backend=lambda: client, warn=warned.append)


@needs_samples
def test_the_tail_tempo_left_out_of_the_steps_is_counted_with_an_instant_query(tempo_router: respx.MockRouter) -> None:
    from tracectl.workflows.triage_pushdown import _count

    steps = recorded("query_range__count_over_time_6m_window_ending_now__last_partial_step_dropped.json")
    tempo_router.get("/api/status/buildinfo").mock(return_value=httpx.Response(200, json={"version": ""}))
    ranged = tempo_router.get("/api/metrics/query_range").mock(return_value=httpx.Response(200, json=steps["body"]))
    # Not recorded: the instant answers for the head (before the first step boundary: no traffic yet) and the
    # tail after the last whole step, which Tempo had left out of the range (3,000 − 2,993 requests).
    counts = {str(START): 0, "1796570280": 7}
    instant = tempo_router.get("/api/metrics/query").mock(side_effect=lambda r: httpx.Response(200, json={
        "series": [{"labels": [{"key": "__name__", "value": {"stringValue": "count_over_time"}}],
                    "value": counts[r.url.params["start"]]}]}))  # fmt: skip
    warned: list[str] = []
    parts = _count(session(warned), SearchQuery(WINDOW, "api-gateway", limit=200))
    assert parts is not None and warned == []
    # whole 6m steps only, from the first boundary in the window to the last one before its end
    assert dict(ranged.calls[0].request.url.params) == {"q": COUNT_Q, "start": "1796567040", "end": "1796570280",
                                                        "step": "6m"}  # fmt: skip
    assert [dict(c.request.url.params) for c in instant.calls] == [
        {"q": COUNT_Q, "start": str(START), "end": "1796567040"},  # the head, clipped to the window
        {"q": COUNT_Q, "start": "1796570280", "end": str(END)},  # the tail Tempo trimmed from the range
    ]
    by_how: dict[str, int] = {}
    for p in parts:
        by_how[p.how] = by_how.get(p.how, 0) + p.count
    assert by_how == {"instant": 7, "step": 2993}  # the recorded steps hold 2,993 requests
    assert parts[-1].time == TimeRange(1_796_570_280 * 10**9, WINDOW.end_ns) and parts[-1].count == 7
    assert [p.time.start_ns for p in parts] == sorted(p.time.start_ns for p in parts)  # slices for the sampler


@needs_samples
def test_bucketed_p99s_do_not_rank_services(tempo_router: respx.MockRouter) -> None:
    from tracectl.workflows.triage_pushdown import Pushdown, _latency

    slow = recorded("query__instant_quantile_over_time_p50_p99_by_service__slow_traces.json")
    other = recorded("query__instant_quantile_over_time_p50_p99_by_service__other_traces.json")
    tempo_router.get("/api/metrics/query", params={"q": slow["request"]["params"]["q"]}).mock(
        return_value=httpx.Response(200, json=slow["body"]))  # fmt: skip
    tempo_router.get("/api/metrics/query", params={"q": other["request"]["params"]["q"]}).mock(
        return_value=httpx.Response(200, json=other["body"]))  # fmt: skip
    pushed = Pushdown([], SCOPE, "x")
    window = TimeRange(START * 10**9, END * 10**9)
    spanset = '{ trace:rootService = "api-gateway" && trace:duration %s 306ms }'
    rows = _latency(tempo_client(), pushed, (window, spanset % ">="), (window, spanset % "<"), ([], []))
    by = {r.service: r for r in rows}
    # inference-orchestrator's p99 "grew" ×2.4 and audit-logger's ×1.1 between two interpolations in
    # power-of-two buckets; ranked by that, they came third and fourth. Neither clears the buckets' widths.
    assert round(by["inference-orchestrator"].p99_ratio, 2) == 2.38 and not by["inference-orchestrator"].p99_resolved
    assert [r.service for r in rows[:2]] == ["feature-store", "api-gateway"]
    assert all(r.rank_ratio() == r.p50_ratio for r in rows)  # no sample spans here: the p50s rank
    assert [r.service for r in rows] == sorted(by, key=lambda s: (-by[s].p50_ratio, s))
    assert by["feature-store"].growth()[0] == "p50" and by["api-gateway"].growth()[0] == "p50"


@needs_samples
def test_a_compare_value_cut_at_top_n_yields_no_attribute_row(tempo_router: respx.MockRouter) -> None:
    from tracectl.workflows.triage_pushdown import Pushdown, _compare

    doc = recorded("query__instant_compare_slow_vs_all__top10_cut_without_meta_error.json")
    route = tempo_router.get("/api/metrics/query").mock(return_value=httpx.Response(200, json=doc["body"]))
    warned: list[str] = []
    result = SimpleNamespace(warnings=[])
    pushed = Pushdown([], SCOPE, "x")
    rows = _compare(session(warned), tempo_client(), pushed, (SCOPE, "{ trace:duration >= 306ms }", ""),  # type: ignore[arg-type]
                    TimeRange(START * 10**9, END * 10**9), result)  # type: ignore[arg-type]  # fmt: skip
    # topN 10 (Tempo's default) as recorded; not asked again: every value cut from the suspects' side holds less
    # than the smallest that came back (span:name: 384 of 10,368 spans, 3.7 %), under the 10 points reported
    assert [c.request.url.params["q"] for c in route.calls] == [doc["request"]["params"]["q"]] and warned == []
    # span:name=Process: 384 of 10,368 suspect spans, absent from the baseline's top 10: read as 0, it was a 3.7 %
    # share against 0 %. Unknown, it is no row; and nothing else crossed the threshold here.
    assert rows == [] and "span:name" in pushed.unknown


def test_compare_is_asked_again_when_a_cut_value_could_be_reported(tempo_router: respx.MockRouter) -> None:
    from tracectl.workflows.triage_pushdown import Pushdown, _compare

    def series(kind: str, value: str | None, n: float) -> dict[str, Any]:
        label = {"stringValue": "nil" if value is None else value}
        return {"labels": [{"key": "__meta_type", "value": {"stringValue": kind}},
                           {"key": "span.pod", "value": label}], "value": n}  # fmt: skip

    # the suspects' pods, all of them; the baseline's top 10 (800 of its 900 spans) lack pod c, 45 % of the
    # suspects: its baseline share is unknown, and could be anything up to 80/900
    chosen = [series("selection", p, n) for p, n in (("a", 30), ("b", 25), ("c", 45))]
    usual = [series("baseline", f"p{k}", 80) for k in range(10)]
    cut = [*chosen, series("selection_total", None, 100), *usual, series("baseline_total", None, 900)]
    whole = [*cut, series("baseline", "c", 50), series("baseline", "a", 25), series("baseline", "b", 25)]
    route = tempo_router.get("/api/metrics/query").mock(side_effect=[
        httpx.Response(200, json={"series": cut}), httpx.Response(200, json={"series": whole})])  # fmt: skip
    pushed = Pushdown([], SCOPE, "x")
    rows = _compare(session([]), tempo_client(), pushed, (SCOPE, "{ status = error }", ", 1, 2"),  # type: ignore[arg-type]
                    TimeRange(START * 10**9, END * 10**9), SimpleNamespace(warnings=[]))  # type: ignore[arg-type]  # fmt: skip
    assert [c.request.url.params["q"] for c in route.calls] == [
        f"{SCOPE} | compare({{ status = error }}, 10, 1, 2)",
        f"{SCOPE} | compare({{ status = error }}, 100, 1, 2)",
    ]
    assert [(r.value, r.selection, r.baseline) for r in rows] == [("c", 45, 50), ("a", 30, 25), ("b", 25, 25)]
    assert pushed.unknown == []  # the answer with topN 100 is whole


def test_the_sandbox_trims_metrics_ends_as_tempo_3_does() -> None:
    from tracectl.sandbox import Store, generate
    from tracectl.sandbox.server import SandboxServers
    from tracectl.sandbox.tempo_metrics import log2_bucket, log2_quantile

    now = 1_763_972_400 * 10**9  # the sandbox's clock: the workload ends "now"
    workload = generate("feature-store-gc", 300, end_ns=now)
    store = Store(clock=lambda: now + 10 * 10**9)  # ten seconds later: the last 40 s are past the cutoff
    store.add_traces(workload.traces)
    servers = SandboxServers(store).start()
    try:
        client = httpx.Client(base_url=servers.tempo_url)
        q = '{ resource.service.name = "api-gateway" && kind = server } | count_over_time()'
        start, end = (now - 1800 * 10**9) // 10**9, now // 10**9
        ranged = client.get("/api/metrics/query_range", params={"q": q, "start": start, "end": end, "step": "60s"})
        instant = client.get("/api/metrics/query", params={"q": q, "start": start, "end": end})
        quantile = client.get("/api/metrics/query", params={
            "q": "{ resource.service.name = \"feature-store\" } | quantile_over_time(duration, .5)",
            "start": start, "end": end})  # fmt: skip
        client.close()
    finally:
        servers.stop()
    horizon = now + 10 * 10**9 - 30 * 10**9
    samples = ranged.json()["series"][0]["samples"]
    last = int(samples[-1]["timestampMs"]) * 10**6
    assert last == horizon - horizon % (60 * 10**9)  # cut to now − 30 s and aligned to the left
    starts = [t.spans[0].start_ns for t in workload.traces]
    assert sum(s.get("value", 0) for s in samples) == sum(s <= last for s in starts)
    assert instant.json()["series"][0]["value"] == sum(s <= horizon for s in starts)  # cut, not aligned
    durations = [s.duration_ns for t in workload.traces for s in t.spans
                 if s.service == "feature-store" and start * 10**9 < s.start_ns <= horizon]  # fmt: skip
    value = quantile.json()["series"][0]["value"]
    assert value == log2_quantile(durations, 0.5) and value <= log2_bucket(sorted(durations)[len(durations) // 2])


def test_log2_quantiles_follow_tempo() -> None:
    from tracectl.sandbox.tempo_metrics import log2_bucket, log2_quantile

    assert [log2_bucket(n) for n in (1, 2, 3, 4, 5, 1024, 1025)] == [-1, 2, 4, 4, 8, 1024, 2048]
    # 3 values in (2^28, 2^29] ns: the p100 is the bucket's bound; the median interpolates exponentially
    # from the bound below (no previous bucket: one power of two down)
    values = [300_000_000, 400_000_000, 500_000_000]
    assert log2_quantile(values, 1.0) == 2**29 / 1e9
    assert log2_quantile(values, 0.5) == 2 ** (28 + 2 / 3) / 1e9
    # the previous non-empty bucket is the lower bound, however far below: a p50 far from any value
    assert log2_quantile([1_000_000, 400_000_000, 400_000_000, 400_000_000], 0.5) == 2 ** (20 + 9 / 3) / 1e9


def test_onset_places_the_fault_late_and_bad_fractions_are_one_line_errors() -> None:
    out = CliRunner().invoke(app, ["sandbox", "serve", "--onset", "1.5", "--requests", "1", "--duration", "0"])
    assert out.exit_code == 2 and "--onset: 1.5 is not a fraction of the window in [0, 1)" in out.output
    assert "Traceback" not in out.output


def test_late_onset_triage_counts_every_request_and_names_the_culprit() -> None:
    import dataclasses

    from tracectl.sandbox import SCENARIOS, SandboxServers, Store, generate

    scenario = dataclasses.replace(SCENARIOS["feature-store-gc"], onset=0.95)
    end = time.time_ns() - 60 * 10**9  # past Tempo's 30 s cutoff: every request can be counted
    workload = generate(scenario, 3000, seed=7, end_ns=end)
    store = Store()
    store.add_traces(workload.traces)
    servers = SandboxServers(store).start()
    try:
        out = CliRunner().invoke(app, ["triage", "-s", "api-gateway", "--since", "35m", "--max-traces", "200",
                                       "--no-logs", "-o", "json"], env={"TEMPO_ADDR": servers.tempo_url})  # fmt: skip
    finally:
        servers.stop()
    assert out.exit_code == 0, out.output
    doc = orjson.loads(out.stdout)
    (window,) = doc["pushdown"]["windows"]
    assert window["traces_counted"] == 3000 == len(workload.traces)
    assert set(window["counted_by"]) == {"step", "instant", "search"}  # each part asked, whatever it held
    assert sum(window["counted_by"].values()) == 3000
    assert doc["verdict"]["culprit"] == "feature-store"


def test_a_large_share_is_drawn_from_pieces_and_a_zero_share_from_none() -> None:
    from tracectl.backends.query import SearchResult, TraceSummary
    from tracectl.workflows.triage_pushdown import _sample

    asked: list[tuple[int, int, int]] = []

    def search(q: SearchQuery) -> SearchResult:
        asked.append((q.time.start_ns, q.time.end_ns, q.limit))
        hits = [
            TraceSummary(f"{q.time.start_ns:x}{k:04x}", "api-gateway", "", q.time.start_ns, 1) for k in range(q.limit)
        ]
        return SearchResult("Tempo", "q", hits)

    backend = SimpleNamespace(search=search)
    s = SimpleNamespace(backend=lambda: backend)
    query = SearchQuery(TimeRange(0, 200 * 10**9), "api-gateway", limit=20)
    ids = _sample(s, query, [(TimeRange(0, 100 * 10**9), 1), (TimeRange(100 * 10**9, 200 * 10**9), 999)])  # type: ignore[arg-type]
    # the first slice's share rounds to 0: not searched; the second's 20 come from 7 pieces (at most 3 each), so a
    # fault that began late in the slice is in the sample
    assert len(ids) == 20 and len(asked) == 7 and sum(n for *_, n in asked) == 20
    assert asked[0][0] == 100 * 10**9 and asked[-1][1] == 200 * 10**9 and max(n for *_, n in asked) == 3
