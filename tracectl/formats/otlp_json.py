"""OTLP JSON: reading every variant Tempo, Jaeger v3 and OpenTelemetry exporters write, and writing it back.

Variants read (BACKENDS.md, "OTLP JSON"): top key ``resourceSpans`` or ``batches``; inner
``scopeSpans``/``scope`` or Tempo 1.x ``instrumentationLibrarySpans``/``instrumentationLibrary``; hex or
base64 IDs; int64 as strings or numbers; kind and status code as enum names or integers. The wrappers
``{"trace": …}`` (Tempo v2) and ``{"result": …}`` (Jaeger v3) are unwrapped by ``tracectl.formats.detect``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal

from tracectl.errors import FormatError
from tracectl.formats._common import KINDS, STATUSES, group_for_writing, links_for_otlp, split_async_parent
from tracectl.ids import InvalidId, id_to_base64, normalize_parent_id, normalize_span_id, normalize_trace_id
from tracectl.model import (
    AttrValue,
    Event,
    Link,
    Resource,
    Scope,
    Span,
    SpanKind,
    StatusCode,
    Trace,
)

# ---------------------------------------------------------------------------------------------- reading


def any_value(value: Mapping[str, Any]) -> AttrValue:
    """Convert an OTLP JSON ``AnyValue`` to a Python value."""
    if "stringValue" in value:
        return str(value["stringValue"])
    if "intValue" in value:
        return int(value["intValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "bytesValue" in value:
        return base64.b64decode(value["bytesValue"])
    if "arrayValue" in value:
        return tuple(any_value(v) for v in (value["arrayValue"] or {}).get("values") or ())
    if "kvlistValue" in value:
        return attributes((value["kvlistValue"] or {}).get("values"))
    return ""  # an empty AnyValue


def attributes(items: Iterable[Mapping[str, Any]] | None) -> dict[str, AttrValue]:
    if not items:
        return {}
    return {kv["key"]: any_value(kv.get("value") or {}) for kv in items}


def read_resource_spans(
    resource_spans: Iterable[Mapping[str, Any]], source: str, top_key: str = "resourceSpans"
) -> list[Span]:
    """Read the spans of a list of OTLP ``ResourceSpans`` (a.k.a. Tempo ``batches``)."""
    spans: list[Span] = []
    if not isinstance(resource_spans, list):
        raise FormatError(source, f"'{top_key}' is not a list")
    for ri, rs in enumerate(resource_spans):
        if not isinstance(rs, dict):
            raise FormatError(source, f"{top_key}[{ri}] is not an object")
        resource = Resource(attributes((rs.get("resource") or {}).get("attributes")))
        inner_key = "scopeSpans" if "scopeSpans" in rs else "instrumentationLibrarySpans"
        for si, ss in enumerate(rs.get(inner_key) or ()):
            raw_scope = ss.get("scope") or ss.get("instrumentationLibrary") or {}
            scope = Scope(raw_scope.get("name") or "", raw_scope.get("version") or "")
            for pi, raw in enumerate(ss.get("spans") or ()):
                try:
                    spans.append(_span(raw, resource, scope))
                except (KeyError, TypeError, ValueError, InvalidId, binascii.Error) as exc:
                    where = f"{top_key}[{ri}].{inner_key}[{si}].spans[{pi}]"
                    raise FormatError(source, f"{where}: {_describe(exc)}") from None
    return spans


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return str(exc) or type(exc).__name__


def _span(raw: Mapping[str, Any], resource: Resource, scope: Scope) -> Span:
    trace_id = raw.get("traceId")
    span_id = raw.get("spanId")
    if not trace_id:
        raise ValueError("span has no traceId")
    if not span_id:
        raise ValueError("span has no spanId")
    trace_id = normalize_trace_id(trace_id)
    parent = normalize_parent_id(raw.get("parentSpanId"))
    kind = KINDS.get(raw.get("kind", 0))
    if kind is None:
        raise ValueError(f"unknown span kind {raw.get('kind')!r}")
    status_raw = raw.get("status") or {}
    status = STATUSES.get(status_raw.get("code", 0))
    if status is None:
        raise ValueError(f"unknown status code {status_raw.get('code')!r}")
    links = tuple(
        Link(normalize_trace_id(link["traceId"]), normalize_span_id(link["spanId"]), attributes(link.get("attributes")))
        for link in raw.get("links") or ()
    )
    follows_from, links = split_async_parent(trace_id, parent, links)
    return Span(
        trace_id=trace_id,
        span_id=normalize_span_id(span_id),
        parent_span_id=parent,
        name=raw.get("name") or "",
        start_ns=int(raw.get("startTimeUnixNano") or 0),
        end_ns=int(raw.get("endTimeUnixNano") or 0),
        kind=kind,
        status=status,
        status_message=status_raw.get("message") or "",
        attributes=attributes(raw.get("attributes")),
        resource=resource,
        scope=scope,
        events=tuple(
            Event(int(ev.get("timeUnixNano") or 0), ev.get("name") or "", attributes(ev.get("attributes")))
            for ev in raw.get("events") or ()
        ),
        links=links,
        follows_from=follows_from,
    )


# ---------------------------------------------------------------------------------------------- writing

IdEncoding = Literal["hex", "base64"]


def to_any_value(value: AttrValue) -> dict[str, Any]:
    """Convert a Python attribute value to an OTLP JSON ``AnyValue`` (int64 as a string, as protobuf JSON does)."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode("ascii")}
    if isinstance(value, tuple | list):
        return {"arrayValue": {"values": [to_any_value(v) for v in value]}}
    return {"kvlistValue": {"values": to_attributes(value)}}


def to_attributes(attrs: Mapping[str, AttrValue]) -> list[dict[str, Any]]:
    return [{"key": k, "value": to_any_value(v)} for k, v in attrs.items()]


def _span_to_json(span: Span, enc: IdEncoding) -> dict[str, Any]:
    ident = id_to_base64 if enc == "base64" else str
    out: dict[str, Any] = {
        "traceId": ident(span.trace_id),
        "spanId": ident(span.span_id),
    }
    if span.parent_span_id:
        out["parentSpanId"] = ident(span.parent_span_id)
    out["name"] = span.name
    if span.kind is not SpanKind.UNSPECIFIED:
        out["kind"] = f"SPAN_KIND_{span.kind.name}" if enc == "base64" else int(span.kind)
    out["startTimeUnixNano"] = str(span.start_ns)
    out["endTimeUnixNano"] = str(span.end_ns)
    if span.attributes:
        out["attributes"] = to_attributes(span.attributes)
    if span.events:
        out["events"] = [
            {
                "timeUnixNano": str(e.time_ns),
                "name": e.name,
                **({"attributes": to_attributes(e.attributes)} if e.attributes else {}),
            }
            for e in span.events
        ]
    links = links_for_otlp(span)
    if links:
        out["links"] = [
            {
                "traceId": ident(lk.trace_id),
                "spanId": ident(lk.span_id),
                **({"attributes": to_attributes(lk.attributes)} if lk.attributes else {}),
            }
            for lk in links
        ]
    status: dict[str, Any] = {}
    if span.status is not StatusCode.UNSET:
        status["code"] = f"STATUS_CODE_{span.status.name}" if enc == "base64" else int(span.status)
    if span.status_message:
        status["message"] = span.status_message
    out["status"] = status
    return out


def resource_spans_json(spans: Iterable[Span], ids: IdEncoding = "hex") -> list[dict[str, Any]]:
    """Spans as a list of OTLP JSON ``ResourceSpans``; ``ids="base64"`` writes Tempo's flavour."""
    out: list[dict[str, Any]] = []
    by_resource: dict[int, dict[str, Any]] = {}
    for resource, scope, group in group_for_writing(spans):
        rs = by_resource.get(id(resource))
        if rs is None:
            rs = {"resource": {"attributes": to_attributes(resource.attributes)}, "scopeSpans": []}
            by_resource[id(resource)] = rs
            out.append(rs)
        scope_json: dict[str, Any] = {"name": scope.name} if scope.name else {}
        if scope.version:
            scope_json["version"] = scope.version
        rs["scopeSpans"].append({"scope": scope_json, "spans": [_span_to_json(s, ids) for s in group]})
    return out


def iter_spans(traces: Iterable[Trace]) -> Iterator[Span]:
    for trace in traces:
        yield from trace.spans


def dump_document(traces: Iterable[Trace], ids: IdEncoding = "hex", top_key: str = "resourceSpans") -> dict[str, Any]:
    """An OTLP JSON document (``{"resourceSpans": [...]}``) holding every span of the given traces."""
    return {top_key: resource_spans_json(iter_spans(traces), ids)}
