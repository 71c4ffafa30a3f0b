"""TraceQL metrics through respx: the requests sent, and the answers of a real Tempo 3.0.3 read with every quirk
(``../shared/samples/tempo3``, read in place), plus the quirks no recording happened to show."""

from __future__ import annotations

import math

import httpx
import pytest
import respx

from tests.conftest import SAMPLES, TEMPO_BASE, needs_samples, tempo_client
from tracectl.backends.traceql_metrics import compare_rows, read_metrics
from tracectl.errors import BackendError
from tracectl.timerange import TimeRange

BASE = TEMPO_BASE
T3 = SAMPLES / "tempo3"
WINDOW = TimeRange(1_795_512_855 * 10**9, 1_795_514_655 * 10**9 - 1)  # the end is rounded up to whole seconds
QUANTILES = (
    '{resource.service.name="feature-service"} | quantile_over_time(duration, .5, .99) by (resource.service.name)'
)


def replay(tempo_router: respx.MockRouter, path: str, name: str) -> respx.Route:
    return tempo_router.get(path).mock(return_value=httpx.Response(200, content=(T3 / name).read_bytes()))


@needs_samples
def test_range_query_parameters_and_quantile_series(tempo_router: respx.MockRouter) -> None:
    route = replay(tempo_router, "/api/metrics/query_range",
                   "query_range__quantile_over_time_duration_p50_p99__feature-service.json")  # fmt: skip
    result = tempo_client().metrics_query_range(QUANTILES, WINDOW, step_ns=60 * 10**9)
    assert dict(route.calls.last.request.url.params) == {
        "q": QUANTILES, "start": "1795512855", "end": "1795514655", "step": "1m",
    }  # fmt: skip
    p50, p99 = result.series
    assert p50.labels == {"resource.service.name": "feature-service", "p": 0.5} and p99.labels["p"] == 0.99
    assert len(p50.samples) == 30 and p50.samples[0] == (1_795_512_840 * 10**9, 0.0)  # no "value": 0; ms → ns
    assert max(v for _, v in p99.samples) == pytest.approx(0.40276577470402675)  # seconds
    first = p50.exemplars[0]
    assert first.trace_id == "0ad62e0e6014cd81718f891fee9ee09a"  # sent with its leading zero stripped
    assert first.labels == {"resource.service.name": "feature-service", "duration": "9.985µs"}
    assert first.time_ns == 1_795_513_447_121 * 10**6 and first.value == pytest.approx(9.985e-06)
    assert not result.instant and result.warnings == []


@needs_samples
def test_rate_ungrouped_and_by_service_count_every_span(tempo_router: respx.MockRouter) -> None:
    replay(tempo_router, "/api/metrics/query_range", "query_range__rate__feature-store.json")
    (series,) = tempo_client().metrics_query_range('{resource.service.name="feature-store"} | rate()', WINDOW).series
    assert series.labels == {"__name__": "rate"}
    assert round(series.total() * 60) == 900  # 300 requests x 3 feature-store spans, as pushed
    replay(tempo_router, "/api/metrics/query_range", "query_range__rate_by_service_all.json")
    per_service = {
        s.labels["resource.service.name"]: round(s.total() * 60)
        for s in tempo_client().metrics_query_range("{} | rate() by (resource.service.name)", WINDOW).series
    }
    assert (
        per_service["api-gateway"] == 600 and per_service["inference-orchestrator"] == 1800 and len(per_service) == 11
    )


@needs_samples
def test_unscoped_intrinsic_label_keys_are_read_scoped(tempo_router: respx.MockRouter) -> None:
    replay(
        tempo_router,
        "/api/metrics/query_range",
        "query_range__count_over_time_trace_duration_gt_100ms_by_root_service.json",
    )
    result = tempo_client().metrics_query_range(
        "{trace:duration > 100ms && trace:rootService != nil} | count_over_time() by (trace:rootService)", WINDOW
    )
    assert sorted(s.labels["trace:rootService"] for s in result.series) == ["api-gateway", "predict-api"]
    exemplar = result.series[0].exemplars[0]
    assert exemplar.labels["traceDuration"] == "295.596ms" and len(exemplar.trace_id or "") == 32  # text, as sent


@needs_samples
def test_instant_queries(tempo_router: respx.MockRouter) -> None:
    route = replay(
        tempo_router, "/api/metrics/query", "query__instant_quantile_over_time_duration_p50_p99_by_service_all.json"
    )
    q = "{} | quantile_over_time(duration, .5, .99) by (resource.service.name)"
    result = tempo_client().metrics_query(q, TimeRange(1_795_512_888 * 10**9, 1_795_514_688 * 10**9))
    assert dict(route.calls.last.request.url.params) == {"q": q, "start": "1795512888", "end": "1795514688"}
    assert result.instant and len(result.series) == 22 and all(s.samples == () for s in result.series)
    gateway = {s.labels["p"]: s.value for s in result.series if s.labels["resource.service.name"] == "api-gateway"}
    assert gateway[0.5] == pytest.approx(0.04965448027336391) and gateway[0.99] > gateway[0.5]
    assert (result.completed_jobs, result.total_jobs) == (2, 2)


@needs_samples
def test_compare_puts_selection_and_baseline_side_by_side(tempo_router: respx.MockRouter) -> None:
    replay(tempo_router, "/api/metrics/query_range", "query_range__compare_status_error__all.json")
    rows, truncated = compare_rows(tempo_client().metrics_query_range("{} | compare({status = error})", WINDOW).series)
    by_key = {(r.attribute, r.value): r for r in rows}
    failing = by_key[("resource.service.name", "postprocess")]
    assert (failing.selection, failing.selection_total) == (99, 99) and failing.selection_share == 1.0
    assert failing.baseline_share == pytest.approx(1707 / 19432)
    assert by_key[("span:status", "error")].baseline == 0  # "status" came back unscoped
    assert rows[0].attribute in ("span:name", "span:status", "span:statusMessage")
    # no __too_many_values__ came back, but these answers hold topN values that do not add up to the total
    assert truncated == ["resource.k8s.pod.name", "resource.service.name", "span.fault.injected_sleep_ms",
                         "span.house.zipcode", "span:name"]  # fmt: skip
    pod = by_key[("resource.k8s.pod.name", "inference-orchestrator-27bc3")]
    assert pod.selection is None and pod.selection_share is None and pod.gain() is None  # unknown, not 0
    missing = by_key[("resource.cluster", None)]  # "nil": the spans without the attribute
    assert missing.baseline > 0 and missing.baseline_total == 19432


def test_quirks_no_recording_showed() -> None:
    doc = {
        "series": [
            {"labels": [{"key": "__meta_type", "value": {"stringValue": "selection"}},
                        {"key": "span.http.status_code", "value": {"intValue": "503"}}],
             "samples": [{"timestampMs": "1000", "value": "NaN"}, {"timestampMs": "2000", "value": 3},
                         {"timestampMs": "3000", "value": "Infinity"}, {"timestampMs": "4000"}]},
            {"labels": [{"key": "__meta_type", "value": {"stringValue": "selection"}},
                        {"key": "__meta_error", "value": {"stringValue": "__too_many_values__"}},
                        {"key": "span.user.id", "value": {"stringValue": "nil"}}], "samples": []},
            {"labels": [{"key": "b", "value": {"boolValue": True}}, {"key": "d", "value": {"doubleValue": "-Infinity"}}],
             "samples": []},
        ],
        "metrics": {"completedJobs": 1, "totalJobs": 3},
        "status": "PARTIAL",
        "message": "response exceeds max series",
    }  # fmt: skip
    result = read_metrics(doc, "q", instant=False)
    values = [v for _, v in result.series[0].samples]
    assert math.isnan(values[0]) and values[1:] == [3.0, math.inf, 0.0]
    assert result.series[0].labels["span.http.status_code"] == 503 and result.series[0].samples[0][0] == 10**9
    assert result.series[2].labels == {"b": True, "d": -math.inf}
    assert result.warnings == [
        "Tempo marked the metrics PARTIAL: response exceeds max series",
        "Tempo answered the metrics query from 1 of 3 jobs: values may be low",
    ]
    rows, truncated = compare_rows(result.series)
    assert truncated == ["span.user.id"] and rows[0].value == 503 and rows[0].selection == math.inf
    empty = read_metrics({"metrics": {"completedJobs": 1, "totalJobs": 1}}, "{} | rate() > 5", instant=True)
    assert empty.series == [] and empty.warnings == []  # "series" absent: nothing passed the filter
    with pytest.raises(BackendError, match="not a number: 'lots'"):
        read_metrics({"series": [{"labels": [], "value": "lots"}]}, "q", instant=True)


def test_plain_text_400_is_a_backend_error_in_the_servers_words(tempo_router: respx.MockRouter) -> None:
    text = "parse error at line 1, col 11: syntax error: unexpected $end, expecting )"
    tempo_router.get("/api/metrics/query_range").mock(return_value=httpx.Response(400, text=text))
    with pytest.raises(BackendError) as err:
        tempo_client().metrics_query_range("{} | rate(", WINDOW)
    assert str(err.value) == f"Tempo answered 400 to the metrics query '{{}} | rate(': {text}"
    assert err.value.exit_code == 5
    tempo_router.get("/api/metrics/query").mock(return_value=httpx.Response(200, text="<html>proxy login</html>"))
    with pytest.raises(BackendError, match="invalid JSON"):
        tempo_client().metrics_query("{} | rate()", WINDOW)
