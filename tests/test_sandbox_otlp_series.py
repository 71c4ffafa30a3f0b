"""OTLP metrics pushed to the sandbox become Prometheus series as Prometheus' OTLP receiver names them, replacing the
series the sandbox computes from traces for the same family and job."""

from __future__ import annotations

from tracectl.sandbox.metrics import Buckets, MetricPoint
from tracectl.sandbox.otlp_series import add_otlp_metrics, metric_name
from tracectl.sandbox.promseries import Family, SeriesDB

RESOURCE = {"service.name": "predict-api", "service.namespace": "house-prices", "service.instance.id": "i-1",
            "service.version": "1.4.0"}  # fmt: skip
ATTRS = {"http.route": "/predict", "http.request.method": "POST", "http.response.status_code": 200}
S = 10**9


def latency(t_s: int, counts: tuple[int, ...]) -> MetricPoint:
    """An exponential histogram at scale 3 (buckets 2**(1/8) apart) from bucket 8 on: values from 2 s."""
    return MetricPoint("http.server.request.duration", "exponentialHistogram", t_s * S, start_ns=100 * S, unit="s",
                       resource=RESOURCE, attributes=ATTRS, temporality="cumulative", count=sum(counts),
                       sum=2.5 * sum(counts), scale=3, positive=Buckets(8, counts))  # fmt: skip


def test_names_labels_zero_at_start_and_buckets() -> None:
    db = SeriesDB()
    db.declare(Family("http_server_request_duration_seconds", "histogram"))
    traced = {"job": "house-prices/predict-api", "instance": "predict-api-0"}
    db.add("http_server_request_duration_seconds_count", traced, 105_000, 7)  # computed from the traces
    calls = MetricPoint("app.calls", "sum", 110 * S, start_ns=100 * S, unit="{call}", resource=RESOURCE,
                        temporality="cumulative", monotonic=True, value=4)  # fmt: skip
    add_otlp_metrics(db, [latency(110, (1, 1, 0, 0, 0, 0, 0, 0, 2)), latency(120, (2, 1, 0, 0, 0, 0, 0, 0, 3)),
                          calls])  # fmt: skip
    assert metric_name(calls) == "app_calls_total"
    series = {tuple(sorted((k, v) for k, v in key if k != "__name__")): s for key, s in db.series.items()
              if dict(key)["__name__"] == "http_server_request_duration_seconds_count"}  # fmt: skip
    ((labels, counts),) = series.items()  # the trace-derived series of that job is gone: counted once
    assert dict(labels) == {"job": "house-prices/predict-api", "instance": "i-1", "http_route": "/predict",
                            "http_request_method": "POST", "http_response_status_code": "200"}  # fmt: skip
    assert counts.times_ms == [100_000, 110_000, 120_000] and counts.values == [0.0, 4.0, 6.0]  # zero at start
    buckets = {dict(k)["le"]: s.values[-1] for k, s in db.series.items()
               if dict(k)["__name__"] == "http_server_request_duration_seconds_bucket"}  # fmt: skip
    # at scale 2 (at most 2**(1/4) apart): bucket 8 and 9 of scale 3 are bucket 4 of scale 2, ending at 2**(5/4)
    at = next(v for le, v in buckets.items() if le != "+Inf" and abs(float(le) - 2 ** (5 / 4)) < 1e-9)
    assert at == 3 and buckets["+Inf"] == 6
    assert max(v for le, v in buckets.items() if le != "+Inf") == 6
    info = [dict(k) for k in db.series if dict(k)["__name__"] == "target_info"]
    assert info == [{"__name__": "target_info", "job": "house-prices/predict-api", "instance": "i-1",
                     "service_version": "1.4.0"}]  # fmt: skip
