# Point the example's OpenTelemetry SDK and tracectl at `tracectl sandbox serve` on its default ports:
#   source examples/house-prices/env.sh
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:3200   # the sandbox's OTLP/HTTP receiver (traces, logs, metrics)
export TEMPO_ADDR=http://127.0.0.1:3200
export LOKI_ADDR=http://127.0.0.1:3100
export TRACECTL_LOG_STRATEGY=metadata   # OTLP logs carry the trace ID as structured metadata, not in the line
