"""The SLOs of the sandbox's ML-serving stack: the text of ``examples/slo/ml-serving.sloth.yml`` (a test keeps the
two identical), packaged so that ``sandbox serve --prometheus real`` loads the rules ``slo rules`` makes for it
without a checkout of the repository."""

from __future__ import annotations

SPEC_NAME = "examples/slo/ml-serving.sloth.yml"
SPEC_TEXT = """\
# SLOs of the sandbox's ML-serving stack (`tracectl sandbox serve`), in Sloth's prometheus/v1 form.
#
#   tracectl slo rules examples/slo/ml-serving.sloth.yml | promtool check rules /dev/stdin
#   tracectl slo status examples/slo/ml-serving.sloth.yml --prometheus-url "$PROMETHEUS_ADDR"
#
# The queries read the metric families the sandbox exposes (OpenTelemetry's HTTP server histogram with
# job="ml-serving/<service>", and Tempo's span metrics). `model_quality` is tracectl's own extension
# (docs/slo.md): tracectl computes it from the spans and a labelled sample; Prometheus does not.
version: "prometheus/v1"
service: "ml-serving"
labels:
  owner: "ml-platform"
  tier: "1"
slos:
  - name: "gateway-availability"
    objective: 99.9
    description: "Prediction requests the API gateway answers without a 5xx."
    labels:
      service: "api-gateway"  # the service `tracectl triage --alert` investigates
    sli:
      events:
        # `or vector(0)`: with no 5xx at all the error series does not exist, and the ratio must read 0, not "no data".
        error_query: sum(rate(http_server_request_duration_seconds_count{job="ml-serving/api-gateway", http_response_status_code=~"5.."}[{{.window}}])) or vector(0)
        total_query: sum(rate(http_server_request_duration_seconds_count{job="ml-serving/api-gateway"}[{{.window}}]))
    alerting:
      name: MLServingGatewayAvailability
      labels:
        category: "availability"
      annotations:
        summary: "The API gateway is burning its availability error budget."
        runbook: "tracectl triage -s api-gateway --since 1h"
      page_alert:
        labels:
          severity: "critical"
      ticket_alert:
        labels:
          severity: "warning"

  - name: "gateway-latency"
    objective: 99
    description: "Prediction requests the API gateway answers within 750 ms."
    labels:
      service: "api-gateway"
    sli:
      events:
        error_query: |
          sum(rate(http_server_request_duration_seconds_count{job="ml-serving/api-gateway"}[{{.window}}]))
          -
          sum(rate(http_server_request_duration_seconds_bucket{job="ml-serving/api-gateway", le="0.75"}[{{.window}}]))
        total_query: sum(rate(http_server_request_duration_seconds_count{job="ml-serving/api-gateway"}[{{.window}}]))
    alerting:
      name: MLServingGatewayLatency
      labels:
        category: "latency"
      annotations:
        summary: "The API gateway is burning its latency error budget."
      page_alert:
        labels:
          severity: "critical"
      ticket_alert:
        disable: true

  - name: "nlp-precision"
    objective: 95
    description: "Precision of the NLP model's predictions on the daily labelled sample, 7-day rolling."
    labels:
      service: "nlp-model"
    sli:
      model_quality:
        metric: precision
        service: nlp-model
        prediction_attribute: ml.prediction.confidence
        labels_file: labels.jsonl
        threshold: 0.5
        evaluation_window: 7d
        page_below: 0.93
    alerting:
      name: MLServingNLPPrecision
      labels:
        category: "model-quality"
"""


def rules_yaml() -> str:
    """The Prometheus rules for the sandbox's SLOs (recordings and multiwindow multi-burn-rate alerts)."""
    from tracectl.slo.rules import to_yaml
    from tracectl.slo.spec import parse_spec_text

    return to_yaml(parse_spec_text(SPEC_TEXT, SPEC_NAME), [SPEC_NAME])
