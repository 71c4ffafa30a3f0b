"""What the sandbox accepts besides OTLP traces: OTLP/HTTP logs and metrics, and Loki's push API.

The Tempo server doubles as the sandbox's OTLP/HTTP receiver, as a Collector in front of Tempo, Loki and
Prometheus would be: ``/v1/traces``, ``/v1/logs`` and ``/v1/metrics`` on one port, so an SDK configured with
``OTEL_EXPORTER_OTLP_ENDPOINT`` sends all three signals. The Loki server also takes logs the ways Loki does:
``POST /otlp/v1/logs`` and ``POST /loki/api/v1/push`` (BACKENDS-2026.md §6.3).

OTLP logs are stored as Loki 3 stores them: the body is the line; ``service.name`` and Loki's other default
index attributes (``service.namespace``, ``k8s.pod.name``, …) become stream labels with dots turned into
underscores; trace and span IDs (lowercase hex), severity, scope and every other attribute become structured
metadata. Metrics are kept as points (``tracectl.sandbox.metrics``) for a later PromQL subset to serve.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from tracectl.formats.otlp_json import any_value, attributes
from tracectl.ids import InvalidId, normalize_span_id, normalize_trace_id
from tracectl.model import AttrValue, LogRecord
from tracectl.sandbox.apis import BadRequest, Handler, Params, Reply
from tracectl.sandbox.metrics import read_metrics
from tracectl.sandbox.store import Store

# Loki's default `default_resource_attributes_as_index_labels` (pkg/loghttp/push/otlp_config.go).
LOKI_INDEX_ATTRIBUTES = (
    "service.name", "service.namespace", "service.instance.id", "deployment.environment", "cloud.region",
    "cloud.availability_zone", "k8s.cluster.name", "k8s.namespace.name", "k8s.pod.name", "k8s.container.name",
    "container.name", "k8s.replicaset.name", "k8s.deployment.name", "k8s.statefulset.name", "k8s.daemonset.name",
    "k8s.cronjob.name", "k8s.job.name",
)  # fmt: skip
# OTLP severity number → Loki's `detected_level` (1–4 trace, 5–8 debug, 9–12 info, 13–16 warn, 17–20 error, 21+).
_DETECTED_LEVELS = ("trace", "debug", "info", "warn", "error", "critical")


def _text(status: int, text: str) -> Reply:
    return Reply(status, text.encode(), "text/plain; charset=utf-8")


def otlp_document(body: bytes, headers: Params, message: str) -> dict[str, Any]:
    """An OTLP/HTTP request body as an OTLP JSON object: JSON as sent, protobuf (``message`` names its type)
    converted with protobuf's own JSON mapping (camelCase names, int64 as strings, base64 IDs, integer enums)."""
    if not body.strip():
        return {}
    if "json" in headers.get("content-type", "") or body.lstrip()[:1] == b"{":
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(_text(400, f"unreadable OTLP JSON: {exc}")) from None
        if not isinstance(doc, dict):
            raise BadRequest(_text(400, "unreadable OTLP JSON: the body is not an object"))
        return doc
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError

    cls = _message_class(message)
    try:
        parsed = cls.FromString(body)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise BadRequest(_text(400, f"unreadable OTLP protobuf: {exc}")) from None
    doc = json_format.MessageToDict(parsed, use_integers_for_enums=True)
    return dict(doc)


def _message_class(message: str) -> Any:
    if message == "logs":
        from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

        return logs_service_pb2.ExportLogsServiceRequest
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2

    return metrics_service_pb2.ExportMetricsServiceRequest


def _ok(headers: Params) -> Reply:
    """An empty Export*ServiceResponse, in the encoding of the request."""
    if "json" in headers.get("content-type", ""):
        return Reply(200, b"{}", "application/json")
    return Reply(200, b"", "application/x-protobuf")


# ------------------------------------------------------------------------------------------------ OTLP logs


def label_name(key: str) -> str:
    """An attribute key as Loki spells it in labels and structured metadata (``service.name`` → ``service_name``)."""
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in key)
    return "_" + out if out[:1].isdigit() else out


def _flat(value: AttrValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return orjson.dumps(value, default=list).decode()


def _severity(record: Mapping[str, Any]) -> tuple[str, int]:
    number = record.get("severityNumber") or 0
    if isinstance(number, str):  # an enum name in hand-written JSON: SEVERITY_NUMBER_WARN
        names = ("UNSPECIFIED", "TRACE", "TRACE2", "TRACE3", "TRACE4", "DEBUG", "DEBUG2", "DEBUG3", "DEBUG4",
                 "INFO", "INFO2", "INFO3", "INFO4", "WARN", "WARN2", "WARN3", "WARN4", "ERROR", "ERROR2", "ERROR3",
                 "ERROR4", "FATAL", "FATAL2", "FATAL3", "FATAL4")  # fmt: skip
        short = number.removeprefix("SEVERITY_NUMBER_")
        number = names.index(short) if short in names else 0
    return str(record.get("severityText") or ""), int(number)


def _id(raw: Any, normalize: Callable[[str], str]) -> str:
    if not raw:
        return ""
    try:
        return normalize(str(raw))
    except InvalidId:
        return ""


def log_records(doc: Mapping[str, Any]) -> list[LogRecord]:
    """The log records of an OTLP ``ExportLogsServiceRequest`` (as JSON), shaped as Loki 3 stores them."""
    out: list[LogRecord] = []
    for rl in doc.get("resourceLogs") or ():
        resource = attributes((rl.get("resource") or {}).get("attributes"))
        labels = {label_name(k): _flat(v) for k, v in resource.items() if k in LOKI_INDEX_ATTRIBUTES}
        labels.setdefault("service_name", "unknown_service")
        resource_meta = {label_name(k): _flat(v) for k, v in resource.items() if k not in LOKI_INDEX_ATTRIBUTES}
        for sl in rl.get("scopeLogs") or ():
            scope = sl.get("scope") or {}
            scope_meta = {"scope_name": scope.get("name") or "", "scope_version": scope.get("version") or ""}
            scope_meta.update({label_name(k): _flat(v) for k, v in attributes(scope.get("attributes")).items()})
            for record in sl.get("logRecords") or ():
                out.append(_log_record(record, labels, {**resource_meta, **scope_meta}))
    return out


def _log_record(record: Mapping[str, Any], labels: dict[str, str], inherited: dict[str, str]) -> LogRecord:
    time_ns = int(record.get("timeUnixNano") or 0) or int(record.get("observedTimeUnixNano") or 0)
    body = any_value(record.get("body") or {})
    meta = {**inherited, **{label_name(k): _flat(v) for k, v in attributes(record.get("attributes")).items()}}
    text, number = _severity(record)
    if text:
        meta["severity_text"] = text
    if number:
        meta["severity_number"] = str(number)
        meta["detected_level"] = _DETECTED_LEVELS[min((number - 1) // 4, len(_DETECTED_LEVELS) - 1)]
    trace_id = _id(record.get("traceId"), normalize_trace_id)
    span_id = _id(record.get("spanId"), normalize_span_id)
    if trace_id:
        meta["trace_id"] = trace_id
    if span_id:
        meta["span_id"] = span_id
    if record.get("observedTimeUnixNano"):
        meta["observed_timestamp"] = str(record["observedTimeUnixNano"])
    meta = {k: v for k, v in meta.items() if v != ""}
    return LogRecord(time_ns, _flat(body) if body != "" else "", dict(labels), meta)


def otlp_logs(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
    doc = otlp_document(body, headers, "logs")
    try:
        records = log_records(doc)
    except (TypeError, ValueError, AttributeError) as exc:
        raise BadRequest(_text(400, f"unreadable OTLP logs: {exc}")) from None
    store.add_logs(records)
    return _ok(headers)


def otlp_metrics(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
    doc = otlp_document(body, headers, "metrics")
    try:
        points = read_metrics(doc)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise BadRequest(_text(400, f"unreadable OTLP metrics: {exc}")) from None
    store.add_metrics(points)
    return _ok(headers)


# ------------------------------------------------------------------------------------------------ Loki push


def loki_push(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
    """``POST /loki/api/v1/push`` with a JSON body: 204 on success, 400 with Loki's kind of message otherwise."""
    content_type = headers.get("content-type", "application/json")
    if "json" not in content_type:
        raise BadRequest(_text(415, f"the sandbox accepts JSON pushes only, not {content_type}"))
    try:
        doc = orjson.loads(body)
        records = list(_pushed_records(doc))
    except orjson.JSONDecodeError as exc:
        raise BadRequest(_text(400, f"loghttp.PushRequest: {exc}")) from None
    except (TypeError, ValueError) as exc:
        raise BadRequest(_text(400, str(exc))) from None
    store.add_logs(records)
    return Reply(204, b"", "text/plain")


def _pushed_records(doc: Any) -> Iterable[LogRecord]:
    if not isinstance(doc, dict) or not isinstance(doc.get("streams"), list):
        raise ValueError('loghttp.PushRequest: expected {"streams": [...]}')
    for n, stream in enumerate(doc["streams"]):
        labels = stream.get("stream") if isinstance(stream, dict) else None
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise ValueError(f"streams[{n}].stream: expected an object of string label values")
        for m, value in enumerate(stream.get("values") or ()):
            where = f"streams[{n}].values[{m}]"
            if not isinstance(value, list) or len(value) not in (2, 3):
                raise ValueError(f"{where}: expected [<ns timestamp string>, <line>] or [..., {{metadata}}]")
            if not isinstance(value[0], str) or not value[0].isdigit():
                raise ValueError(f"{where}: the timestamp must be a string of nanoseconds, not {value[0]!r}")
            if not isinstance(value[1], str):
                raise ValueError(f"{where}: the line must be a string")
            meta = value[2] if len(value) == 3 else {}
            if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
                raise ValueError(f"{where}: structured metadata must be an object of strings")
            yield LogRecord(int(value[0]), value[1], dict(labels), dict(meta))


# The OTLP receiver's extra signals (on the Tempo server, beside /v1/traces) and Loki's own ingest routes.
COLLECTOR_ROUTES: list[tuple[str, str, Handler]] = [
    ("POST", "/v1/logs", otlp_logs),
    ("POST", "/v1/metrics", otlp_metrics),
]
LOKI_INGEST_ROUTES: list[tuple[str, str, Handler]] = [
    ("POST", "/loki/api/v1/push", loki_push),
    ("POST", "/otlp/v1/logs", otlp_logs),
]
