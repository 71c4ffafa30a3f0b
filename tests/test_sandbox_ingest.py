"""The sandbox's ingest: OTLP/HTTP logs and metrics from the real OpenTelemetry SDK, OTLP JSON, and Loki's push
API, read back through the Loki API and tracectl's own commands."""

from __future__ import annotations

import gzip
import logging
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from tracectl.cli.main import app
from tracectl.sandbox import SandboxServers, Store

runner = CliRunner()
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN_ID = "00f067aa0ba902b7"


@pytest.fixture
def servers() -> Iterator[SandboxServers]:
    with SandboxServers(Store()) as running:
        yield running


def query(servers: SandboxServers, logql: str, categorize: bool = True) -> list[list[object]]:
    now = time.time_ns()
    headers = {"X-Loki-Response-Encoding-Flags": "categorize-labels"} if categorize else {}
    params = {"query": logql, "start": str(now - 3600 * 10**9), "end": str(now + 10**9), "direction": "forward"}
    doc = httpx.get(f"{servers.loki_url}/loki/api/v1/query_range", params=params, headers=headers).json()
    return [[r["stream"], *v] for r in doc["data"]["result"] for v in r["values"]]


def test_the_sdk_logging_handler_lands_in_loki_with_trace_context_as_structured_metadata(servers) -> None:  # type: ignore[no-untyped-def]
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.instrumentation.logging.handler import LoggingHandler
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    resource = Resource.create({"service.name": "feature-service", "service.namespace": "houses", "host.name": "h1"})
    logs = LoggerProvider(resource=resource)
    logs.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{servers.tempo_url}/v1/logs")))
    logger = logging.getLogger("test.ingest.features")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = LoggingHandler(logger_provider=logs)
    logger.addHandler(handler)
    tracer = TracerProvider(resource=resource).get_tracer("test")
    try:
        with tracer.start_as_current_span("lookup") as span:
            logger.warning("zip code %s not cached", "90210", extra={"zipcode": "90210"})
        logs.force_flush()
    finally:
        logger.removeHandler(handler)
        logs.shutdown()
    ctx = span.get_span_context()
    (labels, ts, line, extra), *_ = query(servers, '{service_name="feature-service"}')
    assert labels == {"service_name": "feature-service", "service_namespace": "houses",  # Loki's default index labels
                      "service_instance_id": resource.attributes["service.instance.id"]}  # fmt: skip
    assert line == "zip code 90210 not cached" and int(ts) > 0  # type: ignore[call-overload]
    meta = extra["structuredMetadata"]  # type: ignore[index]
    assert meta["trace_id"] == f"{ctx.trace_id:032x}" and meta["span_id"] == f"{ctx.span_id:016x}"
    assert meta["severity_text"] == "WARN" and meta["detected_level"] == "warn" and meta["zipcode"] == "90210"
    assert meta["host_name"] == "h1"  # a resource attribute Loki does not index: structured metadata
    assert query(servers, f'{{service_name="feature-service"}} | trace_id="{ctx.trace_id:032x}"')


def test_otlp_json_logs_on_lokis_own_endpoint_and_the_collector_one_read_the_same(servers) -> None:  # type: ignore[no-untyped-def]
    now = time.time_ns()
    doc = {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]},
           "scopeLogs": [{"scope": {"name": "app"}, "logRecords": [
               {"timeUnixNano": str(now), "severityNumber": 17, "severityText": "ERROR", "traceId": TRACE_ID,
                "spanId": SPAN_ID, "body": {"stringValue": "model timed out"},
                "attributes": [{"key": "http.route", "value": {"stringValue": "/predict"}}]}]}]}]}  # fmt: skip
    for url in (f"{servers.loki_url}/otlp/v1/logs", f"{servers.tempo_url}/v1/logs"):
        reply = httpx.post(url, content=orjson.dumps(doc), headers={"Content-Type": "application/json"})
        assert reply.status_code == 200 and reply.json() == {}
    rows = query(servers, '{service_name="api"} | trace_id="4bf92f3577b34da6a3ce929d0e0e4736"')
    assert len(rows) == 2
    meta = rows[0][3]["structuredMetadata"]  # type: ignore[index]
    assert meta == {"scope_name": "app", "http_route": "/predict", "severity_text": "ERROR", "severity_number": "17",
                    "detected_level": "error", "trace_id": TRACE_ID, "span_id": SPAN_ID}  # fmt: skip
    merged = query(servers, '{service_name="api"}', categorize=False)[0][0]
    assert merged["trace_id"] == TRACE_ID  # type: ignore[index]  # without the flag, metadata joins the labels


def test_loki_push_takes_string_timestamps_and_metadata_and_answers_204(servers) -> None:  # type: ignore[no-untyped-def]
    now = str(time.time_ns())
    body = {"streams": [{"stream": {"service_name": "ml-serving"},
                         "values": [[now, "request failed", {"trace_id": TRACE_ID}], [now, "plain line"]]}]}  # fmt: skip
    url = f"{servers.loki_url}/loki/api/v1/push"
    reply = httpx.post(url, content=gzip.compress(orjson.dumps(body)),
                       headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})  # fmt: skip
    assert reply.status_code == 204 and reply.content == b""
    rows = query(servers, '{service_name="ml-serving"}')
    assert [r[2] for r in rows] == ["request failed", "plain line"]
    assert rows[0][3] == {"structuredMetadata": {"trace_id": TRACE_ID}}
    as_number = {"streams": [{"stream": {"a": "b"}, "values": [[int(now), "x"]]}]}
    refused = httpx.post(url, json=as_number)
    assert refused.status_code == 400 and "timestamp must be a string" in refused.text
    assert httpx.post(url, content=b"\x00\x01", headers={"Content-Type": "application/x-protobuf"}).status_code == 415
    assert httpx.post(url, content=b"{", headers={"Content-Type": "application/json"}).status_code == 400
    assert len(query(servers, '{service_name="ml-serving"}')) == 2  # refused pushes stored nothing


def test_sdk_metrics_keep_exponential_and_explicit_histograms_whole(servers) -> None:  # type: ignore[no-untyped-def]
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
    from opentelemetry.sdk.resources import Resource

    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=f"{servers.tempo_url}/v1/metrics"), export_interval_millis=60_000
    )
    provider = MeterProvider(
        resource=Resource.create({"service.name": "predict-api"}), metric_readers=[reader],
        views=[View(instrument_name="http.server.request.duration", aggregation=ExponentialBucketHistogramAggregation())],
    )  # fmt: skip
    meter = provider.get_meter("test")
    duration = meter.create_histogram("http.server.request.duration", unit="s")
    price = meter.create_histogram("house.price.predicted", unit="USD")
    requests = meter.create_counter("predictions")
    for seconds in (0.010, 0.012, 0.250):
        duration.record(seconds, {"http.route": "/predict", "http.response.status_code": 200})
    for value in (150_000.0, 420_000.0):
        price.record(value)
    requests.add(3, {"model": "gbr"})
    provider.shutdown()  # one export: the final collection
    store = servers.store
    (exp,) = store.metrics("http.server.request.duration")
    assert exp.kind == "exponentialHistogram" and exp.count == 3 and exp.unit == "s"
    assert exp.sum == pytest.approx(0.272) and exp.min == pytest.approx(0.010) and exp.max == pytest.approx(0.250)
    assert sum(exp.positive.counts) == 3 and exp.scale <= 20 and exp.temporality == "cumulative"
    base = 2 ** (2**-exp.scale)
    top = max(i for i, c in enumerate(exp.positive.counts) if c) + exp.positive.offset
    assert base**top < 0.250 <= base ** (top + 1)  # the bucket that holds 250 ms is where the exporter put it
    assert exp.attributes == {"http.route": "/predict", "http.response.status_code": 200}
    assert exp.service == "predict-api"
    (hist,) = store.metrics("house.price.predicted")
    assert hist.kind == "histogram" and len(hist.bucket_counts) == len(hist.bounds) + 1 and sum(hist.bucket_counts) == 2
    (counter,) = store.metrics("predictions")
    assert counter.kind == "sum" and counter.value == 3 and counter.monotonic and counter.attributes == {"model": "gbr"}


def test_otlp_metrics_as_json_and_refusals(servers) -> None:  # type: ignore[no-untyped-def]
    doc = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [
        {"name": "queue.depth", "gauge": {"dataPoints": [{"timeUnixNano": "1", "asDouble": 4.5}]}},
        {"name": "latency", "summary": {"dataPoints": [{"count": "2", "sum": 3.0,
                                                        "quantileValues": [{"quantile": 0.5, "value": 1.5}]}]}},
        {"name": "h", "exponentialHistogram": {"aggregationTemporality": "AGGREGATION_TEMPORALITY_DELTA",
            "dataPoints": [{"count": "1", "scale": 3, "zeroCount": "0", "negative": {"offset": -2, "bucketCounts": ["1"]},
                            "exemplars": [{"asDouble": -0.3, "traceId": TRACE_ID, "spanId": SPAN_ID}]}]}},
    ]}]}]}  # fmt: skip
    reply = httpx.post(f"{servers.tempo_url}/v1/metrics", json=doc)
    assert reply.status_code == 200
    gauge, summary, exp = servers.store.metrics()
    assert gauge.value == 4.5 and gauge.service == "unknown_service"
    assert summary.quantiles == ((0.5, 1.5),) and summary.count == 2
    assert exp.temporality == "delta" and exp.negative.offset == -2 and exp.negative.counts == (1,)
    assert exp.exemplars[0].trace_id == TRACE_ID and exp.exemplars[0].value == -0.3
    bad = httpx.post(f"{servers.tempo_url}/v1/metrics", content=b"\xff\x00garbage",
                     headers={"Content-Type": "application/x-protobuf"})  # fmt: skip
    assert bad.status_code == 400 and "unreadable OTLP protobuf" in bad.text


def test_sandbox_serve_says_where_every_signal_goes() -> None:
    result = runner.invoke(app, ["sandbox", "serve", "--requests", "0", "--tempo-port", "0", "--jaeger-port", "0",
                                 "--loki-port", "0", "--duration", "0.1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:" in result.stdout
    assert "0 traces" in result.stdout
