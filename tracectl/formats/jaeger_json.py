"""Jaeger JSON (the v1 ``/api/traces`` model and Jaeger UI's "Download JSON"): reading and writing.

Wire facts (BACKENDS.md, "Jaeger query API"): times in microseconds; ``references`` with ``CHILD_OF`` or
``FOLLOWS_FROM``; ``tags`` typed string|bool|int64|float64|binary; ``processes`` keyed by ``processID``
(or an inline ``process``); span kind in the ``span.kind`` tag, error in ``error=true``. OTLP-only facts
travel in the tags Jaeger's own OTLP translator uses (``otel.status_code``, ``otel.scope.name``, …).

Parent = the first ``CHILD_OF`` reference to a span present in the trace, else the first ``FOLLOWS_FROM``
to one present; if none is present, the first reference in the same trace (the span is then an orphan).
The other references become links. Arrays and key/value lists have no Jaeger tag type: they are written
as JSON strings, as Jaeger does, and read back as strings. Jaeger references carry no attributes, so link
attributes other than the reference type are lost, and a root span's link to a span of its own trace reads
back as a FOLLOWS_FROM parent. Times are whole microseconds.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from tracectl.errors import FormatError
from tracectl.formats import fastpath
from tracectl.formats._common import KINDS, REF_TYPE_KEY, freeze
from tracectl.formats.typed import (
    INT64_MAX,
    Malformed,
    b64bytes,
    boolean,
    integer,
    number,
    obj,
    read_list,
    text,
    within,
)
from tracectl.ids import InvalidId, normalize_span_id, normalize_trace_id
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
    group_traces,
)

US = 1000  # nanoseconds per microsecond
MAX_US = INT64_MAX // US  # a time in microseconds that still fits 64 bits in nanoseconds

_KIND_TAG = "span.kind"
_ERROR_TAG = "error"
_STATUS_CODE_TAG = "otel.status_code"
_STATUS_DESC_TAG = "otel.status_description"
_SCOPE_NAME_TAG = "otel.scope.name"
_SCOPE_VERSION_TAG = "otel.scope.version"
_EVENT_NAME_FIELD = "event"


# ---------------------------------------------------------------------------------------------- reading


def _tag_value(tag: dict[str, Any]) -> AttrValue:
    kind = text(tag.get("type"), "type").lower() or "string"
    value = tag.get("value")
    if kind == "bool":
        return boolean(value, "value")
    if kind == "int64":
        return integer(value, "value")
    if kind == "float64":
        return number(value, "value")
    if kind == "binary":
        return b64bytes(value, "value")
    if kind == "string":
        return text(value, "value")
    raise Malformed("type", f"unknown tag type {kind!r}")


def _tag(tag: dict[str, Any]) -> tuple[str, AttrValue]:
    if "key" not in tag:
        raise Malformed("", "missing field 'key'")
    return text(tag["key"], "key"), _tag_value(tag)


def _tags(items: Any, path: str) -> dict[str, AttrValue]:
    return dict(read_list(items, path, _tag))


def read_traces(traces: list[Any], source: str, where: str = "data") -> list[Trace]:
    """Read a list of Jaeger trace objects (``{"traceID", "spans", "processes"}``)."""
    spans: list[Span] = []
    memo = fastpath.Memo()
    for ti, raw in enumerate(traces):
        if not isinstance(raw, dict) or not isinstance(raw.get("spans"), list):
            raise FormatError(source, f"{where}[{ti}] is not a Jaeger trace (no 'spans' list)")
        try:
            spans.extend(_trace_spans(raw, memo))
        except Malformed as exc:
            raise FormatError(source, str(exc.under(f"{where}[{ti}]"))) from None
    return group_traces(spans)


def _trace_spans(raw: dict[str, Any], memo: fastpath.Memo) -> list[Span]:
    processes = {
        str(pid): within(f"processes.{pid}", _resource, proc)
        for pid, proc in obj(raw.get("processes"), "processes").items()
    }
    items = raw["spans"]
    present = {_present_id(s, memo) for s in items}
    if not fastpath.ENABLED:
        return read_list(items, "spans", lambda s: _span(s, processes, present))
    out = []
    for i, item in enumerate(items):
        span = _fast_span(item, processes, present, memo) if type(item) is dict else None
        if span is None:  # not as Jaeger writes it: the checked reader reads it, or names what is wrong
            try:
                span = _span(obj(item), processes, present)
            except Malformed as exc:
                raise exc.under(f"spans[{i}]") from None
        out.append(span)
        items[i] = None  # read once: each span's parsed JSON goes as soon as the span is built (peak memory)
    return out


def _present_id(span: Any, memo: fastpath.Memo) -> str:
    """The normalised ID of a span, to tell which references point inside the trace ("" when it has none)."""
    raw = span.get("spanID") if isinstance(span, dict) else None
    return (memo.span_id(raw) or "") if isinstance(raw, str) else ""  # a bad ID is reported when the span is read


def _fast_span(
    raw: dict[str, Any], processes: dict[str, Resource], present: set[str], memo: fastpath.Memo
) -> Span | None:
    """One span as ``_span`` reads it, checks fused into decoding (``tracectl.formats.fastpath``), or None to leave
    it to ``_span``."""
    logs = raw.get("logs")
    if not (logs is None or (type(logs) is list and not logs)) or type(raw.get("process")) is dict:
        return None
    trace_id = fastpath.trace_id(raw.get("traceID"))
    span_id = memo.span_id(raw.get("spanID"))
    pid = raw.get("processID")
    resource = processes.get(pid) if type(pid) is str else None
    tags = fastpath.jaeger_tags(raw.get("tags"), memo)
    if trace_id is None or span_id is None or resource is None or tags is None:
        return None
    refs = raw.get("references")
    parsed = []
    if refs is not None:
        if type(refs) is not list:
            return None
        for ref in refs:
            if type(ref) is not dict:
                return None
            rt, tid, sid = ref.get("refType"), ref.get("traceID"), memo.span_id(ref.get("spanID"))
            if type(rt) is not str or not rt or sid is None:
                return None
            tid = fastpath.trace_id(tid) if tid else trace_id
            if tid is None:
                return None
            parsed.append((rt.upper(), tid, sid))
    name = raw.get("operationName")
    if name is None:
        name = ""
    elif type(name) is not str:
        return None
    start = fastpath.uint(raw.get("startTime"), MAX_US)
    duration = fastpath.uint(raw.get("duration"), MAX_US - start)
    if start < 0 or duration < 0:
        return None
    kind = KINDS.get(str(tags.pop(_KIND_TAG, "unspecified")).lower(), SpanKind.UNSPECIFIED)
    status, message = _status(tags)
    scope = memo.scope(str(tags.pop(_SCOPE_NAME_TAG, "")), str(tags.pop(_SCOPE_VERSION_TAG, "")))
    parent, follows_from, links = _parent_and_links(parsed, trace_id, present)
    return Span(trace_id, span_id, parent, memo.share(name), start * US, (start + duration) * US, kind, status,
                message, tags, resource, scope, (), links, follows_from)  # fmt: skip


def _resource(proc: Any) -> Resource:
    proc = obj(proc)
    attrs: dict[str, AttrValue] = {"service.name": text(proc.get("serviceName"), "serviceName")}
    attrs.update(_tags(proc.get("tags"), "tags"))
    return Resource(attrs)


def _span(raw: dict[str, Any], processes: dict[str, Resource], present: set[Any]) -> Span:
    if not raw.get("traceID"):
        raise Malformed("", "span has no traceID")
    if not raw.get("spanID"):
        raise Malformed("", "span has no spanID")
    trace_id = _id(raw["traceID"], "traceID", normalize_trace_id)
    span_id = _id(raw["spanID"], "spanID", normalize_span_id)
    if isinstance(raw.get("process"), dict):
        resource = within("process", _resource, raw["process"])
    else:
        pid = raw.get("processID")
        if not isinstance(pid, str) or pid not in processes:
            raise Malformed("", f"processID {pid!r} is not in 'processes'")
        resource = processes[pid]

    tags = _tags(raw.get("tags"), "tags")
    kind = KINDS.get(str(tags.pop(_KIND_TAG, "unspecified")).lower(), SpanKind.UNSPECIFIED)
    status, message = _status(tags)
    scope = Scope(str(tags.pop(_SCOPE_NAME_TAG, "")), str(tags.pop(_SCOPE_VERSION_TAG, "")))

    refs = read_list(raw.get("references"), "references", lambda ref: _reference(ref, trace_id))
    parent, follows_from, links = _parent_and_links(refs, trace_id, present)
    start = integer(raw.get("startTime"), "startTime", 0, MAX_US) * US
    duration = integer(raw.get("duration"), "duration", -start // US, MAX_US - start // US) * US
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=text(raw.get("operationName"), "operationName"),
        start_ns=start,
        end_ns=start + duration,
        kind=kind,
        status=status,
        status_message=message,
        attributes=tags,
        resource=resource,
        scope=scope,
        events=tuple(read_list(raw.get("logs"), "logs", _event)),
        links=links,
        follows_from=follows_from,
    )


def _event(log: dict[str, Any]) -> Event:
    fields = _tags(log.get("fields"), "fields")
    name = fields.pop(_EVENT_NAME_FIELD, "")
    return Event(integer(log.get("timestamp"), "timestamp", 0, MAX_US) * US, str(name), fields)


def _id(value: Any, path: str, normalise: Callable[[str], str]) -> str:
    try:
        return normalise(text(value, path))
    except InvalidId as exc:
        raise Malformed(path, str(exc)) from None


def _reference(ref: dict[str, Any], trace_id: str) -> tuple[str, str, str]:
    ref_trace = _id(ref["traceID"], "traceID", normalize_trace_id) if ref.get("traceID") else trace_id
    ref_type = text(ref.get("refType"), "refType").upper() or "CHILD_OF"
    if "spanID" not in ref:
        raise Malformed("", "missing field 'spanID'")
    return ref_type, ref_trace, _id(ref["spanID"], "spanID", normalize_span_id)


def _status(tags: dict[str, AttrValue]) -> tuple[StatusCode, str]:
    code = str(tags.pop(_STATUS_CODE_TAG, "")).upper()
    message = str(tags.pop(_STATUS_DESC_TAG, ""))
    error = tags.get(_ERROR_TAG)
    if error is True or error == "true":
        tags.pop(_ERROR_TAG)
        return StatusCode.ERROR, message
    if code == "ERROR":
        return StatusCode.ERROR, message
    if code == "OK":
        return StatusCode.OK, message
    return StatusCode.UNSET, message


def _parent_and_links(
    parsed: list[tuple[str, str, str]], trace_id: str, present: set[Any]
) -> tuple[str, bool, tuple[Link, ...]]:
    chosen = None
    for wanted in ("CHILD_OF", "FOLLOWS_FROM"):
        chosen = next(
            (i for i, (rt, tid, sid) in enumerate(parsed) if rt == wanted and tid == trace_id and sid in present), None
        )
        if chosen is not None:
            break
    if chosen is None:  # an orphan: keep the reference it names so the tree can report the missing parent
        chosen = next((i for i, (_, tid, _s) in enumerate(parsed) if tid == trace_id), None)
    parent, follows_from = "", False
    links = []
    for i, (rt, tid, sid) in enumerate(parsed):
        if i == chosen:
            parent, follows_from = sid, rt == "FOLLOWS_FROM"
        else:
            links.append(Link(tid, sid, {REF_TYPE_KEY: rt.lower()}))
    return parent, follows_from, tuple(links)


# ---------------------------------------------------------------------------------------------- writing


def _to_tag(key: str, value: AttrValue) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "type": "bool", "value": value}
    if isinstance(value, int):
        return {"key": key, "type": "int64", "value": value}
    if isinstance(value, float):
        return {"key": key, "type": "float64", "value": value}
    if isinstance(value, bytes):
        return {"key": key, "type": "binary", "value": base64.b64encode(value).decode("ascii")}
    if isinstance(value, str):
        return {"key": key, "type": "string", "value": value}
    return {"key": key, "type": "string", "value": orjson.dumps(_jsonable(value)).decode()}


def _jsonable(value: AttrValue) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _span_tags(span: Span) -> list[dict[str, Any]]:
    tags = [_to_tag(k, v) for k, v in span.attributes.items()]
    if span.scope.name:
        tags.append(_to_tag(_SCOPE_NAME_TAG, span.scope.name))
    if span.scope.version:
        tags.append(_to_tag(_SCOPE_VERSION_TAG, span.scope.version))
    if span.kind is not SpanKind.UNSPECIFIED:
        tags.append(_to_tag(_KIND_TAG, span.kind.label))
    if span.status is StatusCode.ERROR:
        tags.append(_to_tag(_ERROR_TAG, True))
    if span.status is not StatusCode.UNSET:
        tags.append(_to_tag(_STATUS_CODE_TAG, span.status.name))
    if span.status_message:
        tags.append(_to_tag(_STATUS_DESC_TAG, span.status_message))
    return tags


def trace_to_json(trace: Trace) -> dict[str, Any]:
    """One trace in Jaeger's v1 model (``/api/traces/{id}`` returns ``{"data": [this]}``)."""
    process_ids: dict[Any, str] = {}
    processes: dict[str, Any] = {}
    spans = []
    for span in trace.spans:
        key = freeze(span.resource.attributes)
        pid = process_ids.get(key)
        if pid is None:
            pid = process_ids[key] = f"p{len(process_ids) + 1}"
            rest = {k: v for k, v in span.resource.attributes.items() if k != "service.name"}
            processes[pid] = {"serviceName": span.service, "tags": [_to_tag(k, v) for k, v in rest.items()]}
        refs = []
        if span.parent_span_id:
            ref_type = "FOLLOWS_FROM" if span.follows_from else "CHILD_OF"
            refs.append({"refType": ref_type, "traceID": span.trace_id, "spanID": span.parent_span_id})
        for link in span.links:
            ref_type = "CHILD_OF" if link.attributes.get(REF_TYPE_KEY) == "child_of" else "FOLLOWS_FROM"
            refs.append({"refType": ref_type, "traceID": link.trace_id, "spanID": link.span_id})
        spans.append(
            {
                "traceID": span.trace_id,
                "spanID": span.span_id,
                "operationName": span.name,
                "references": refs,
                "startTime": span.start_ns // US,
                "duration": (span.end_ns - span.start_ns) // US,
                "tags": _span_tags(span),
                "logs": [
                    {
                        "timestamp": e.time_ns // US,
                        "fields": [_to_tag(_EVENT_NAME_FIELD, e.name)]
                        + [_to_tag(k, v) for k, v in e.attributes.items()],
                    }
                    for e in span.events
                ],
                "processID": pid,
                "warnings": None,
            }
        )
    return {"traceID": trace.trace_id, "spans": spans, "processes": processes, "warnings": None}


def dump_document(traces: Iterable[Trace]) -> dict[str, Any]:
    """The ``/api/traces`` envelope, which is also what Jaeger UI's "Download JSON" writes."""
    data = [trace_to_json(t) for t in traces]
    return {"data": data, "total": len(data), "limit": 0, "offset": 0, "errors": None}
