"""OTLP JSON: reading every variant Tempo, Jaeger v3 and OpenTelemetry exporters write, and writing it back.

Variants read (BACKENDS.md, "OTLP JSON"): top key ``resourceSpans`` or ``batches``; inner
``scopeSpans``/``scope`` or Tempo 1.x ``instrumentationLibrarySpans``/``instrumentationLibrary``; hex or
base64 IDs; int64 as strings or numbers; kind and status code as enum names or integers. The wrappers
``{"trace": …}`` (Tempo v2) and ``{"result": …}`` (Jaeger v3) are unwrapped by ``tracectl.formats.detect``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Literal

from tracectl.errors import FormatError
from tracectl.formats import fastpath
from tracectl.formats._common import KINDS, STATUSES, enum_value, group_for_writing, links_for_otlp, split_async_parent
from tracectl.formats.typed import (
    MAX_DEPTH,
    Malformed,
    b64bytes,
    boolean,
    integer,
    kind_of,
    lst,
    number,
    obj,
    read_list,
    text,
    within,
)
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


def any_value(value: Any, depth: int = 0) -> AttrValue:
    """Convert an OTLP JSON ``AnyValue`` to a Python value. Raises ``Malformed`` (path relative to the value)."""
    value = obj(value)
    if depth > MAX_DEPTH:
        raise Malformed("", f"attribute value nested deeper than {MAX_DEPTH} levels")
    if "stringValue" in value:
        return text(value["stringValue"], "stringValue")
    if "intValue" in value:
        return integer(value["intValue"], "intValue")
    if "boolValue" in value:
        return boolean(value["boolValue"], "boolValue")
    if "doubleValue" in value:
        return number(value["doubleValue"], "doubleValue")
    if "bytesValue" in value:
        return b64bytes(value["bytesValue"], "bytesValue")
    if "arrayValue" in value:
        items = obj(value["arrayValue"], "arrayValue").get("values")
        out = []
        for i, item in enumerate(lst(items, "arrayValue.values")):
            out.append(within(f"arrayValue.values[{i}]", lambda v: any_value(v, depth + 1), item))
        return tuple(out)
    if "kvlistValue" in value:
        items = obj(value["kvlistValue"], "kvlistValue").get("values")
        return within("kvlistValue.values", lambda v: attributes(v, depth + 1), items)
    return ""  # an empty AnyValue


def attributes(items: Any, depth: int = 0) -> dict[str, AttrValue]:
    """A list of OTLP ``KeyValue`` as a dict. Raises ``Malformed`` (path relative to the list)."""
    out: dict[str, AttrValue] = {}
    for i, kv in enumerate(lst(items)):
        key = kv.get("key") if isinstance(kv, dict) else None
        if not isinstance(key, str):
            raise _bad_key(kv).under(f"[{i}]")
        try:
            out[key] = any_value(kv.get("value"), depth)
        except Malformed as exc:
            raise exc.under(f"[{i}].value") from None
    return out


def _bad_key(kv: Any) -> Malformed:
    if not isinstance(kv, dict):
        return Malformed("", f"expected an object, got {kind_of(kv)}")
    if kv.get("key") is None:
        return Malformed("", "missing field 'key'")
    return Malformed("key", f"expected a string, got {kind_of(kv['key'])}")


def read_resource_spans(resource_spans: Any, source: str, top_key: str = "resourceSpans") -> list[Span]:
    """Read the spans of a list of OTLP ``ResourceSpans`` (a.k.a. Tempo ``batches``). Raises ``FormatError``
    naming the JSON path of the first thing that is not what OTLP says it is."""
    memo = fastpath.Memo()
    try:
        groups = read_list(resource_spans, top_key, lambda rs: _one_resource(rs, memo))
    except Malformed as exc:
        raise FormatError(source, str(exc)) from None
    return [span for group in groups for span in group]


def _one_resource(rs: dict[str, Any], memo: fastpath.Memo) -> list[Span]:
    raw_resource = obj(rs.get("resource"), "resource")
    resource = Resource(within("resource.attributes", attributes, raw_resource.get("attributes")))
    inner_key = "scopeSpans" if "scopeSpans" in rs else "instrumentationLibrarySpans"
    groups = read_list(rs.get(inner_key), inner_key, lambda ss: _scope_spans(ss, resource, memo))
    return [span for group in groups for span in group]


def _scope_spans(ss: dict[str, Any], resource: Resource, memo: fastpath.Memo) -> list[Span]:
    key = "scope" if ss.get("scope") is not None else "instrumentationLibrary"
    raw_scope = obj(ss.get(key), key)
    scope = memo.scope(text(raw_scope.get("name"), f"{key}.name"), text(raw_scope.get("version"), f"{key}.version"))
    items = ss.get("spans")
    if type(items) is not list or not fastpath.ENABLED:
        return read_list(items, "spans", lambda raw: _span(raw, resource, scope))
    out = []
    for i, raw in enumerate(items):
        span = fastpath.otlp_span(raw, resource, scope, memo) if type(raw) is dict else None
        if span is None:  # not as exporters write it: the checked reader reads it, or names what is wrong
            try:
                span = _span(obj(raw), resource, scope)
            except Malformed as exc:
                raise exc.under(f"spans[{i}]") from None
        out.append(span)
        items[i] = None  # read once: each span's parsed JSON goes as soon as the span is built (peak memory)
    return out


def _id(value: Any, path: str, normalise: Callable[[str], str]) -> str:
    try:
        return normalise(text(value, path))
    except InvalidId as exc:
        raise Malformed(path, str(exc)) from None


def _span(raw: dict[str, Any], resource: Resource, scope: Scope) -> Span:
    if not raw.get("traceId"):
        raise Malformed("", "span has no traceId")
    if not raw.get("spanId"):
        raise Malformed("", "span has no spanId")
    trace_id = _id(raw["traceId"], "traceId", normalize_trace_id)
    parent = _id(raw.get("parentSpanId"), "parentSpanId", normalize_parent_id)
    kind = enum_value(KINDS, raw.get("kind", 0))
    if kind is None:
        raise Malformed("kind", f"unknown span kind {raw.get('kind')!r}")
    status_raw = obj(raw.get("status"), "status")
    status = enum_value(STATUSES, status_raw.get("code", 0))
    if status is None:
        raise Malformed("status.code", f"unknown status code {status_raw.get('code')!r}")
    attrs = within("attributes", attributes, raw.get("attributes"))
    links = tuple(read_list(raw["links"], "links", _link)) if raw.get("links") else ()
    follows_from, links = split_async_parent(trace_id, parent, links)
    return Span(
        trace_id=trace_id,
        span_id=_id(raw["spanId"], "spanId", normalize_span_id),
        parent_span_id=parent,
        name=text(raw.get("name"), "name"),
        start_ns=integer(raw.get("startTimeUnixNano"), "startTimeUnixNano", 0),
        end_ns=integer(raw.get("endTimeUnixNano"), "endTimeUnixNano", 0),
        kind=kind,
        status=status,
        status_message=text(status_raw.get("message"), "status.message"),
        attributes=attrs,
        resource=resource,
        scope=scope,
        events=tuple(read_list(raw.get("events"), "events", _event)) if raw.get("events") else (),
        links=links,
        follows_from=follows_from,
    )


def _event(ev: dict[str, Any]) -> Event:
    attrs = within("attributes", attributes, ev.get("attributes"))
    return Event(integer(ev.get("timeUnixNano"), "timeUnixNano", 0), text(ev.get("name"), "name"), attrs)


def _link(link: dict[str, Any]) -> Link:
    attrs = within("attributes", attributes, link.get("attributes"))
    trace_id = _id(link.get("traceId"), "traceId", normalize_trace_id)
    return Link(trace_id, _id(link.get("spanId"), "spanId", normalize_span_id), attrs)


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
