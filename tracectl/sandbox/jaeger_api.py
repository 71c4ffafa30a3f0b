"""The sandbox's Jaeger query API (v3 and v1) over the store."""

from __future__ import annotations

from datetime import datetime

import orjson

from tracectl.errors import FormatError
from tracectl.formats import jaeger_json, otlp_json
from tracectl.model import Span, Trace
from tracectl.quoting import go_value_text
from tracectl.sandbox.apis import BadRequest, Handler, Params, Reply, json_reply, trace_id_param
from tracectl.sandbox.store import Store
from tracectl.units import parse_duration


def _v3_error(status: int, message: str) -> Reply:
    return json_reply({"error": {"httpCode": status, "message": message}}, status)


def _rfc3339(params: Params, name: str) -> int:
    raw = params.get(name, "")
    if not raw:
        raise BadRequest(_v3_error(400, "query.start_time_min and query.start_time_max are required"))
    try:
        head, _, frac = raw.rstrip("Z").partition(".")
        seconds = int(datetime.fromisoformat(head + "+00:00").timestamp())
        return seconds * 10**9 + int((frac + "000000000")[:9] or 0)
    except ValueError:
        raise BadRequest(_v3_error(400, f"malformed parameter {name}: {raw!r}")) from None


def _jaeger_find(
    store: Store,
    service: str | None,
    operation: str | None,
    start_ns: int,
    end_ns: int,
    min_d: int | None,
    max_d: int | None,
    limit: int,
    tags: dict[str, str] | None = None,
) -> list[Trace]:
    found = []
    for trace, summary in store.traces():
        if not (start_ns <= summary.start_ns <= end_ns):
            continue
        for s in trace.spans:  # Jaeger's duration filters apply to spans, not traces
            if (service and s.service != service) or (operation and s.name != operation):
                continue
            if (min_d is not None and s.duration_ns < min_d) or (max_d is not None and s.duration_ns > max_d):
                continue
            if tags and not all(_tag_value(s, k) == v for k, v in tags.items()):
                continue
            found.append(trace)
            break
        if len(found) >= limit:
            break
    return found


def _tag_value(span: Span, key: str) -> str | None:
    """A tag's text as Jaeger compares it (``pcommon.Value.AsString``); ``error`` is the span's status."""
    if key == "error":
        return "true" if span.is_error else None
    value = span.attributes.get(key, span.resource.attributes.get(key))
    return go_value_text(value) if isinstance(value, str | bool | int | float) else None


def _v3_query(store: Store, params: Params) -> list[Trace]:
    start, end = _rfc3339(params, "query.start_time_min"), _rfc3339(params, "query.start_time_max")
    try:
        min_d = parse_duration(params["query.duration_min"]) if params.get("query.duration_min") else None
        max_d = parse_duration(params["query.duration_max"]) if params.get("query.duration_max") else None
    except FormatError as exc:
        raise BadRequest(_v3_error(400, f"malformed parameter query.duration: {exc}")) from None
    except Exception as exc:  # noqa: BLE001 - any parse failure is the client's malformed parameter
        raise BadRequest(_v3_error(400, f"malformed parameter query.duration: {exc}")) from None
    limit = int(params.get("query.search_depth") or params.get("query.num_traces") or 20)
    try:
        attributes = orjson.loads(params["query.attributes"]) if params.get("query.attributes") else None
    except orjson.JSONDecodeError as exc:
        raise BadRequest(_v3_error(400, f"malformed parameter query.attributes: {exc}")) from None
    if attributes is not None and not (
        isinstance(attributes, dict) and all(isinstance(v, str) for v in attributes.values())
    ):
        raise BadRequest(_v3_error(400, "malformed parameter query.attributes: not a map of strings"))
    return _jaeger_find(
        store, params.get("query.service_name"), params.get("query.operation_name"), start, end, min_d, max_d, limit,
        attributes,
    )  # fmt: skip


def jaeger_v3_find(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
    traces = _v3_query(store, params)
    if not traces:
        return _v3_error(404, "No traces found")
    return json_reply({"result": otlp_json.dump_document(traces)})  # all matched traces merged into one list


def jaeger_v3_summaries(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
    out = []
    for trace in _v3_query(store, params):
        summary = store.summary(trace.trace_id)
        if summary is None:  # cannot happen: the trace came from the store
            continue
        per_service: dict[str, list[int]] = {}
        for s in trace.spans:
            entry = per_service.setdefault(s.service, [0, 0])
            entry[0] += 1
            entry[1] += s.is_error
        ids = {s.span_id for s in trace.spans}
        out.append(
            {
                "traceId": trace.trace_id,
                "rootServiceName": summary.root.service if summary.root else "",
                "rootOperationName": summary.root_name,
                "minStartTimeUnixNano": str(summary.start_ns),
                "maxEndTimeUnixNano": str(summary.end_ns),
                "spanCount": len(trace.spans),
                "errorSpanCount": sum(s.is_error for s in trace.spans),
                "orphanSpanCount": sum(1 for s in trace.spans if s.parent_span_id and s.parent_span_id not in ids),
                "services": [
                    {"name": k, "spanCount": v[0], "errorSpanCount": v[1]} for k, v in sorted(per_service.items())
                ],
            }
        )
    return json_reply({"summaries": out})


def jaeger_v3_trace(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
    tid = trace_id_param(path, "/api/v3/traces/{id}", lambda m: _v3_error(400, f"malformed parameter trace_id: {m}"))
    trace = store.trace(tid)
    if trace is None:
        return _v3_error(404, "trace not found")
    return json_reply({"result": otlp_json.dump_document([trace])})


def _v1_error(status: int, msg: str) -> Reply:
    body = {"data": None, "total": 0, "limit": 0, "offset": 0, "errors": [{"code": status, "msg": msg}]}
    return json_reply(body, status, "text/plain; charset=utf-8")  # Jaeger serves these as text/plain


def jaeger_v1_find(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
    if not params.get("service"):
        raise BadRequest(_v1_error(400, "parameter 'service' is required"))
    try:
        start = int(params.get("start") or 0) * 1000  # microseconds
        end = int(params.get("end") or 2**62 // 1000) * 1000
        tags = orjson.loads(params["tags"]) if params.get("tags") else None
        min_d = parse_duration(params["minDuration"]) if params.get("minDuration") else None
        max_d = parse_duration(params["maxDuration"]) if params.get("maxDuration") else None
    except Exception as exc:  # noqa: BLE001 - malformed parameters are the client's 400
        raise BadRequest(_v1_error(400, f"malformed parameter: {exc}")) from None
    traces = _jaeger_find(
        store,
        params["service"],
        params.get("operation"),
        start,
        end,
        min_d,
        max_d,
        int(params.get("limit") or 20),
        tags,
    )
    doc = jaeger_json.dump_document(traces)
    doc["total"] = len(traces)
    return json_reply(doc)


def jaeger_v1_trace(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
    tid = trace_id_param(path, "/api/traces/{id}", lambda m: _v1_error(400, m))
    trace = store.trace(tid)
    if trace is None:
        return _v1_error(404, "trace not found")
    return json_reply(jaeger_json.dump_document([trace]))


def _operations(store: Store, service: str) -> list[tuple[str, str]]:
    return sorted({(s.name, s.kind.label) for t, _ in store.traces() for s in t.spans if s.service == service})


JAEGER_ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/api/v3/traces", jaeger_v3_find),
    ("GET", "/api/v3/trace-summaries", jaeger_v3_summaries),
    ("GET", "/api/v3/traces/{id}", jaeger_v3_trace),
    ("GET", "/api/v3/services", lambda store, *_: json_reply({"services": store.services()})),
    (
        "GET",
        "/api/v3/operations",
        lambda store, path, params, *_: json_reply(
            {"operations": [{"name": n, "spanKind": k} for n, k in _operations(store, params.get("service", ""))]}
        ),
    ),
    ("GET", "/api/traces", jaeger_v1_find),
    ("GET", "/api/traces/{id}", jaeger_v1_trace),
    (
        "GET",
        "/api/services",
        lambda store, *_: json_reply(
            {"data": store.services(), "total": len(store.services()), "limit": 0, "offset": 0, "errors": None}
        ),
    ),
    (
        "GET",
        "/api/services/{service}/operations",
        lambda store, path, *_: json_reply(
            {"data": [n for n, _ in _operations(store, path.split("/")[3])], "errors": None}
        ),
    ),
]
