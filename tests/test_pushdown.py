"""Fleet scale (issue 13, item 5): a window larger than ``--max-traces`` is counted by Tempo, sampled across its
length, and its span latency by service and ``compare()`` are pushed down to Tempo's TraceQL metrics."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import orjson
import respx
from typer.testing import CliRunner

from tests.conftest import SAMPLES, TEMPO_BASE, needs_samples, tempo_client
from tracectl.cli.main import app
from tracectl.formats import otlp_json
from tracectl.sandbox import generate, start_sandbox

T0 = 1_763_971_200  # 2025-11-24T08:00:00Z, a multiple of the 360 s count step
T1 = T0 + 3600
WINDOW = ["--from", "2025-11-24T08:00:00Z", "--to", "2025-11-24T09:00:00Z"]
COUNT_Q = '{ resource.service.name = "api-gateway" && kind = server } | count_over_time()'
SCOPE = '{ trace:rootService = "api-gateway"'
QUANTILES = "| quantile_over_time(duration, .5, .99) by (resource.service.name)"


def triage_json(env: dict[str, str], *args: str) -> tuple[dict[str, Any], str]:
    out = CliRunner().invoke(app, ["triage", "-s", "api-gateway", "--no-logs", *args, "-o", "json"], env=env)
    assert out.exit_code == 0, out.output
    return orjson.loads(out.stdout), out.stderr


def _label(key: str, value: Any) -> dict[str, Any]:
    kind = "doubleValue" if isinstance(value, float) else "stringValue"
    return {"key": key, "value": {kind: value}}


def _instant(request: httpx.Request) -> httpx.Response:
    q = request.url.params["q"]
    if "compare(" in q:  # span.cache.hit=false on 3 of 4 suspect spans, 1 of 10 baseline spans
        rows = [
            ("selection", "span.cache.hit", "false", 3),
            ("baseline", "span.cache.hit", "false", 1),
            ("selection_total", "span.cache.hit", "nil", 4),
            ("baseline_total", "span.cache.hit", "nil", 10),
        ]
        return httpx.Response(200, json={"series": [{"labels": [_label("__meta_type", t), _label(k, v)], "value": n}
                                                    for t, k, v, n in rows]})  # fmt: skip
    slow = ">=" in q
    values = {("feature-store", 0.5): 0.3 if slow else 0.005, ("feature-store", 0.99): 0.45 if slow else 0.01,
              ("api-gateway", 0.5): 0.36 if slow else 0.04, ("api-gateway", 0.99): 0.5 if slow else 0.06,
              ("audit-logger", 0.5): 0.0, ("audit-logger", 0.99): 0.002}  # fmt: skip
    series = [{"labels": [_label("resource.service.name", s), _label("p", p)], **({"value": v} if v else {})}
              for (s, p), v in values.items()]  # fmt: skip  # a 0 has no "value": Tempo's quirk
    return httpx.Response(200, json={"series": series, "metrics": {"completedJobs": 1, "totalJobs": 1}})


def test_the_exact_queries_sent_when_the_window_holds_more_than_the_budget(tempo_router: respx.MockRouter) -> None:
    traces = generate("feature-store-gc", 12, seed=5, end_ns=T1 * 10**9).traces
    by_id = {t.trace_id: t for t in traces}
    offsets = {str(T0): 0, str(T0 + 3240): 4}  # the two slices that hold traces: different traces each

    def search(request: httpx.Request) -> httpx.Response:
        first = offsets.get(request.url.params["start"], 8)
        chosen = traces[first : first + int(request.url.params["limit"])]
        return httpx.Response(200, json={"traces": [{"traceID": t.trace_id, "rootServiceName": "api-gateway",
                                                     "startTimeUnixNano": str(t.spans[0].start_ns), "durationMs": 1}
                                                    for t in chosen], "metrics": {}})  # fmt: skip

    def trace(request: httpx.Request) -> httpx.Response:
        found = by_id[request.url.path.rsplit("/", 1)[1]]
        return httpx.Response(200, json={"trace": otlp_json.dump_document([found], ids="base64")})

    counts = {"series": [{"labels": [_label("__name__", "count_over_time")], "samples": [
        {"timestampMs": str((T0 + 360) * 1000), "value": 5}, {"timestampMs": str((T0 + 720) * 1000)},
        {"timestampMs": str(T1 * 1000), "value": 7}]}]}  # fmt: skip
    tempo_router.get("/api/status/buildinfo").mock(return_value=httpx.Response(200, json={"version": "3.0.3"}))
    searches = tempo_router.get("/api/search").mock(side_effect=search)
    count = tempo_router.get("/api/metrics/query_range").mock(return_value=httpx.Response(200, json=counts))
    tempo_router.get(url__regex=r"/api/v2/traces/\w+").mock(side_effect=trace)
    instant = tempo_router.get("/api/metrics/query").mock(side_effect=_instant)

    doc, stderr = triage_json({"TEMPO_ADDR": TEMPO_BASE}, *WINDOW, "--max-traces", "4", "--slo", "300ms")

    sent = [dict(c.request.url.params) for c in searches.calls]
    assert [(s["start"], s["end"], s["limit"]) for s in sent] == [
        (str(T0), str(T1), "4"),  # the budget: a full page
        (str(T0), str(T0 + 360), "1"),  # 5 of 12 requests: 1 of the 4 traces
        (str(T0 + 3240), str(T1), "3"),  # 7 of 12: the other 3
    ]
    assert dict(count.calls[0].request.url.params) == {"q": COUNT_Q, "start": str(T0), "end": str(T1), "step": "6m"}
    assert [dict(c.request.url.params) for c in instant.calls] == [
        {"q": f"{SCOPE} && trace:duration >= 300ms }} {QUANTILES}", "start": str(T0), "end": str(T1)},
        {"q": f"{SCOPE} && trace:duration < 300ms }} {QUANTILES}", "start": str(T0), "end": str(T1)},
        {"q": f"{SCOPE} }} | compare({{ trace:duration >= 300ms }})", "start": str(T0), "end": str(T1)},
    ]
    pushed = doc["pushdown"]
    parts = [{"start_ns": (T0 + a) * 10**9, "end_ns": (T0 + a + 360) * 10**9, "traces": n, "counted_by": "step"}
             for a, n in ((0, 5), (360, 0), (3240, 7))]  # fmt: skip
    assert pushed["windows"] == [{"start_ns": T0 * 10**9, "end_ns": T1 * 10**9, "traces_counted": 12,
                                  "traces_fetched": 4, "max_traces": 4, "count_query": COUNT_Q,
                                  "counted_by": {"step": 12}, "parts": parts}]  # fmt: skip
    assert [s["service"] for s in pushed["services"]] == ["feature-store", "api-gateway", "audit-logger"]
    assert pushed["services"][0] == {"service": "feature-store", "suspect_p50_ns": 300_000_000,
                                     "suspect_p99_ns": 450_000_000, "baseline_p50_ns": 5_000_000,
                                     "baseline_p99_ns": 10_000_000, "p50_ratio": 60.0,
                                     "p99_ratio": 45.0, "p99_resolved": True, "rank_ratio": 60.0,
                                     "sample_p99_ratio": None}  # fmt: skip  # 4 traces: no sample p99
    assert pushed["services"][2]["suspect_p50_ns"] == 0  # the sample without "value"
    assert pushed["attributes"] == [{"attribute": "span.cache.hit", "value": "false", "suspect_share": 0.75,
                                     "baseline_share": 0.1, "suspect_spans": 3.0, "baseline_spans": 1.0}]  # fmt: skip
    said = "the window holds about 12 traces (Tempo's count), more than --max-traces 4: fetched 4 of them"
    assert said in stderr and any(w.startswith(said) for w in doc["warnings"])


def test_a_full_page_that_tempo_counts_within_the_budget_is_fetched_as_before(tempo_router: respx.MockRouter) -> None:
    traces = generate("feature-store-gc", 3, seed=5, end_ns=T1 * 10**9).traces
    hits = [{"traceID": t.trace_id, "rootServiceName": "api-gateway", "startTimeUnixNano": str(t.spans[0].start_ns),
             "durationMs": 1} for t in traces]  # fmt: skip
    by_id = {t.trace_id: t for t in traces}
    counts = {"series": [{"labels": [_label("__name__", "count_over_time")],
                          "samples": [{"timestampMs": str(T1 * 1000), "value": 3}]}]}  # fmt: skip
    tempo_router.get("/api/status/buildinfo").mock(return_value=httpx.Response(200, json={"version": "3.0.3"}))
    searches = tempo_router.get("/api/search").mock(return_value=httpx.Response(200, json={"traces": hits}))
    count = tempo_router.get("/api/metrics/query_range").mock(return_value=httpx.Response(200, json=counts))
    tempo_router.get(url__regex=r"/api/v2/traces/\w+").mock(side_effect=lambda r: httpx.Response(
        200, json={"trace": otlp_json.dump_document([by_id[r.url.path.rsplit("/", 1)[1]]], ids="base64")}))  # fmt: skip
    doc, stderr = triage_json({"TEMPO_ADDR": TEMPO_BASE}, *WINDOW, "--max-traces", "3")
    assert searches.call_count == 1 and count.call_count == 1  # counted, then no sample drawn, nothing pushed down
    assert doc["pushdown"] is None and doc["counts"]["traces"] == 3
    assert "3 traces is the --limit" in stderr  # the full page is still said, as before


def test_a_plain_text_400_on_compare_leaves_the_latency_evidence(tempo_router: respx.MockRouter) -> None:
    from tracectl.timerange import TimeRange
    from tracectl.workflows.triage_pushdown import Pushdown, _compare

    tempo_router.get("/api/metrics/query").mock(return_value=httpx.Response(
        400, text="parse error at line 1, col 11: syntax error: unexpected $end", headers={"content-type": "text/plain"}))  # fmt: skip
    warned: list[str] = []
    result = SimpleNamespace(warnings=[])
    pushed = Pushdown([], "{ }", "x")
    rows = _compare(SimpleNamespace(warn=warned.append), tempo_client(), pushed,  # type: ignore[arg-type]
                    ("{ }", "{ status = error }", ""), TimeRange(T0 * 10**9, T1 * 10**9), result)  # type: ignore[arg-type]  # fmt: skip
    assert rows == [] and "compare() not pushed down" in warned[0] and "unexpected $end" in warned[0]
    assert result.warnings == warned and pushed.queries == ["{ } | compare({ status = error })"]


def test_pushed_down_names_the_same_culprit_as_a_full_fetch_over_real_http() -> None:
    servers, _ = start_sandbox("feature-store-gc", 300, end_ns=time.time_ns())
    try:
        env = {"TEMPO_ADDR": servers.tempo_url}
        full, _ = triage_json(env, "--since", "1h")
        sampled, stderr = triage_json(env, "--since", "1h", "--max-traces", "60")
        jaeger, jaeger_err = triage_json({"JAEGER_ADDR": servers.jaeger_url}, "--since", "1h", "--max-traces", "60")
    finally:
        servers.stop()
    assert full["pushdown"] is None and full["counts"]["traces"] == 300
    assert sampled["verdict"]["culprit"] == full["verdict"]["culprit"] == "feature-store"
    (window,) = sampled["pushdown"]["windows"]
    assert window["traces_counted"] == 300 and 50 <= window["traces_fetched"] <= 60 == window["max_traces"]
    assert sampled["counts"]["traces"] == window["traces_fetched"]
    assert sampled["pushdown"]["services"][0]["service"] == "feature-store"  # Tempo's numbers agree
    assert "Pushed down" not in stderr and "fetched" in stderr
    assert jaeger["pushdown"] is None and jaeger["verdict"]["culprit"] == "feature-store"  # sampled across the window
    assert "Jaeger has no query engine" in jaeger_err and "raise --max-traces" in jaeger_err
    assert 50 <= jaeger["counts"]["traces"] <= 60


def test_the_terminal_and_the_report_say_what_was_pushed_down(tmp_path: Path) -> None:
    servers, _ = start_sandbox("feature-store-gc", 120, end_ns=time.time_ns())
    try:
        out = CliRunner().invoke(app, ["triage", "-s", "api-gateway", "--since", "1h", "--max-traces", "40",
                                       "--no-logs", "--report", str(tmp_path / "r.md")],
                                 env={"TEMPO_ADDR": servers.tempo_url, "COLUMNS": "80"})  # fmt: skip
    finally:
        servers.stop()
    assert out.exit_code == 0, out.output
    text = " ".join(out.stdout.split())
    assert "Pushed down to Tempo: 120 traces counted, 40 fetched; slow traces" in text
    assert "Span latency by service (Tempo's quantiles, log2 buckets): feature-store p99 ≈" in text
    assert "Slow threshold: Tempo's p90 ≈" in text
    report = (tmp_path / "r.md").read_text()
    assert "## Pushed down to Tempo\n\n- Pushed down to Tempo: 120 traces counted, 40 fetched" in report


@needs_samples
def test_the_sandbox_answers_in_tempo_3_shapes() -> None:
    from tracectl.backends.http import HttpClient, HttpConfig
    from tracectl.backends.tempo import TempoClient
    from tracectl.backends.traceql_metrics import compare_rows
    from tracectl.timerange import TimeRange

    servers, workload = start_sandbox("feature-store-gc", 60, end_ns=T1 * 10**9)
    try:
        http = HttpClient(HttpConfig(servers.tempo_url, "Tempo", retries=0))
        tempo = TempoClient(http)
        window = TimeRange(T0 * 10**9, T1 * 10**9)
        raw = orjson.loads(http.get("/api/metrics/query", params={
            "q": "{ } | quantile_over_time(duration, .5, .99) by (resource.service.name)", "start": T0, "end": T1},
            kind="metrics").content)  # fmt: skip
        counted = tempo.metrics_query_range("{ } | count_over_time() by (resource.service.name)", window, 60 * 10**9)
        compared = tempo.metrics_query('{ } | compare({ resource.service.name = "feature-store" }, 3)', window)
    finally:
        servers.stop()
    real = orjson.loads((SAMPLES / "tempo3" / "query__instant_quantile_over_time_duration_p50_p99_by_service_all.json")
                        .read_bytes())  # fmt: skip
    assert set(raw) == set(real) and set(raw["series"][0]) == set(real["series"][0]) == {"labels", "value"}
    assert [lab["key"] for lab in raw["series"][0]["labels"]] == ["resource.service.name", "p"]
    spans = {}
    for t in workload.traces:
        for s in t.spans:
            spans[s.service] = spans.get(s.service, 0) + 1
    assert {s.labels["resource.service.name"]: round(s.total()) for s in counted.series} == spans
    assert not [s for s in compared.series if "__meta_error" in s.labels]  # Tempo 3.0.3 cuts at topN silently
    rows, truncated = compare_rows(compared.series, 3)
    service = {r.value: r for r in rows if r.attribute == "resource.service.name"}
    assert service["feature-store"].selection == service["feature-store"].selection_total == spans["feature-store"]
    # 3 of the baseline's 10 services came back: feature-store's baseline count is unknown, not 0
    assert service["feature-store"].baseline is None and service["feature-store"].gain() is None
    assert "span:name" in truncated and "resource.service.name" in truncated


def test_both_windows_over_the_budget_compare_the_window_with_the_baseline_window() -> None:
    servers, _ = start_sandbox("cv-cold-start", 600, end_ns=time.time_ns())
    try:  # no window given: Tempo's TraceQL metrics choose both (docs/triage.md)
        doc, _ = triage_json({"TEMPO_ADDR": servers.tempo_url}, "--max-traces", "120")
    finally:
        servers.stop()
    pushed = doc["pushdown"]
    assert doc["mode"] == "windows" and doc["verdict"]["culprit"] == "cv-model", (doc["metrics"], doc["counts"], pushed)
    suspect, baseline = pushed["windows"]
    for window in (suspect, baseline):  # the budget: what some slices lacked was asked of the others
        assert 110 <= window["traces_fetched"] <= 120 < window["traces_counted"]
    assert pushed["compared"] == "the window against the baseline window"
    assert pushed["queries"][-1] == (f'{{ trace:rootService = "api-gateway" }} | compare({{ }}, 10, '
                                     f"{suspect['start_ns']}, {suspect['end_ns']})")  # fmt: skip
    top = pushed["services"][0]
    assert top["service"] == "cv-model" and top["p99_ratio"] > 5 > top["p50_ratio"]  # a cold start: the tail only
