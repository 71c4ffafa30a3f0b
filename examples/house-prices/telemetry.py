"""OpenTelemetry for one service of the example: traces, metrics and logs, all over OTLP/HTTP.

The exporters read the standard variables (``OTEL_EXPORTER_OTLP_ENDPOINT``, default http://localhost:4318), so
the same code sends to a Collector, to Grafana's stack, or to ``tracectl sandbox serve``. Nothing here is
specific to tracectl.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

# The stable HTTP semantic conventions (http.request.method, http.response.status_code, url.full, and the
# http.server.request.duration histogram in seconds) instead of the pre-1.0 names the instrumentations default to.
os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")

SERVICE_NAMESPACE = "house-prices"


@dataclass
class Telemetry:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider
    logger: logging.Logger

    def shutdown(self) -> None:
        """Flush everything still buffered (spans, the last metric collection, log records), then stop."""
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
        self.logger_provider.shutdown()


def setup(service_name: str, version: str = "1.4.0") -> Telemetry:
    """Install global tracer, meter and logger providers for ``service_name`` and return them."""
    resource = Resource.create(
        {
            "service.name": service_name,  # not OTEL_SERVICE_NAME: both services run with one environment
            "service.namespace": SERVICE_NAMESPACE,
            "service.version": version,
            "deployment.environment.name": os.environ.get("DEPLOYMENT_ENVIRONMENT", "dev"),
        }
    )
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(tracer_provider)

    # Latency as an exponential histogram: fine resolution at every scale, no bucket boundaries to guess.
    # Exported every 10 s (OTEL_METRIC_EXPORT_INTERVAL, in ms, overrides it): the SDK's default of 60 s is longer
    # than a run of the example, which would leave one point per series, too few for a rate. `shutdown()`
    # exports the last collection at exit.
    interval_ms = float(os.environ.get("OTEL_METRIC_EXPORT_INTERVAL", "10000"))
    meter_provider = MeterProvider(
        resource=resource,
        metric_readers=[PeriodicExportingMetricReader(OTLPMetricExporter(), export_interval_millis=interval_ms)],
        views=[
            View(instrument_name="http.server.request.duration", aggregation=ExponentialBucketHistogramAggregation()),
            View(instrument_name="http.client.request.duration", aggregation=ExponentialBucketHistogramAggregation()),
        ],
    )
    metrics.set_meter_provider(meter_provider)

    # Records written through `logging` carry the active span's trace and span IDs.
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    logger = logging.getLogger(service_name)
    logger.setLevel(logging.INFO)
    logger.addHandler(LoggingHandler(logger_provider=logger_provider))
    return Telemetry(tracer_provider, meter_provider, logger_provider, logger)
