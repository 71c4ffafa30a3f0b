"""OTLP protobuf: ``TracesData`` / ``ExportTraceServiceRequest`` and Tempo's binary trace responses.

Tempo answers ``/api/traces/{id}`` with ``tempopb.Trace`` (field 1 = repeated ResourceSpans: wire-identical
to ``TracesData``) and ``/api/v2/traces/{id}`` with ``TraceByIDResponse`` (field 1 = Trace, 2 = metrics,
3 = status enum, 4 = message). The wrapper is declared here at run time so no Tempo code is needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from tracectl.errors import FormatError
from tracectl.formats._common import KINDS, STATUSES, group_for_writing, links_for_otlp, split_async_parent
from tracectl.formats.typed import INT64_MAX
from tracectl.ids import SPAN_ID_HEX_LEN, TRACE_ID_HEX_LEN, id_from_bytes, id_to_bytes
from tracectl.model import AttrValue, Event, Link, Resource, Scope, Span, StatusCode, Trace, group_traces


@cache
def _pb() -> Any:
    """Import the generated OTLP modules lazily (protobuf is slow to import) and declare Tempo's wrapper."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    from opentelemetry.proto.common.v1 import common_pb2
    from opentelemetry.proto.trace.v1 import trace_pb2

    pool = descriptor_pool.Default()
    name = "tracectl/tempo_compat.proto"
    try:
        pool.FindFileByName(name)
    except KeyError:
        fdp = descriptor_pb2.FileDescriptorProto(
            name=name, package="tracectl.tempo_compat", syntax="proto3", dependency=[trace_pb2.DESCRIPTOR.name]
        )
        trace_msg = fdp.message_type.add(name="Trace")
        trace_msg.field.add(
            name="resource_spans",
            number=1,
            label=descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED,
            type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
            type_name=".opentelemetry.proto.trace.v1.ResourceSpans",
        )
        resp = fdp.message_type.add(name="TraceByIDResponse")
        resp.field.add(
            name="trace",
            number=1,
            label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
            type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
            type_name=".tracectl.tempo_compat.Trace",
        )
        resp.field.add(
            name="status",
            number=3,
            label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
            type=descriptor_pb2.FieldDescriptorProto.TYPE_INT32,
        )
        resp.field.add(
            name="message",
            number=4,
            label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
            type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
        )
        pool.Add(fdp)
    response_cls = message_factory.GetMessageClass(
        pool.FindMessageTypeByName("tracectl.tempo_compat.TraceByIDResponse")
    )
    return trace_pb2, common_pb2, response_cls


# ---------------------------------------------------------------------------------------------- reading


def _any_value(v: Any) -> AttrValue:
    which = v.WhichOneof("value")
    if which == "string_value":
        return str(v.string_value)
    if which == "int_value":
        return int(v.int_value)
    if which == "bool_value":
        return bool(v.bool_value)
    if which == "double_value":
        return float(v.double_value)
    if which == "bytes_value":
        return bytes(v.bytes_value)
    if which == "array_value":
        return tuple(_any_value(x) for x in v.array_value.values)
    if which == "kvlist_value":
        return _attrs(v.kvlist_value.values)
    return ""


def _attrs(kvs: Iterable[Any]) -> dict[str, AttrValue]:
    return {kv.key: _any_value(kv.value) for kv in kvs}


def _spans_from_resource_spans(resource_spans: Iterable[Any], source: str) -> list[Span]:
    out: list[Span] = []
    for ri, rs in enumerate(resource_spans):
        resource = Resource(_attrs(rs.resource.attributes))
        for si, ss in enumerate(rs.scope_spans):
            scope = Scope(ss.scope.name, ss.scope.version)
            for pi, s in enumerate(ss.spans):
                where = f"resource_spans[{ri}].scope_spans[{si}].spans[{pi}]"
                out.append(_span(s, resource, scope, source, where))
    return out


def _span(s: Any, resource: Resource, scope: Scope, source: str, where: str) -> Span:
    if len(s.trace_id) not in (8, 16) or not any(s.trace_id):
        raise FormatError(source, f"{where}: trace_id is {len(s.trace_id)} bytes, expected 16")
    if len(s.span_id) != 8 or not any(s.span_id):
        raise FormatError(source, f"{where}: span_id is {len(s.span_id)} bytes, expected 8")
    trace_id = id_from_bytes(s.trace_id, TRACE_ID_HEX_LEN)
    parent = id_from_bytes(s.parent_span_id, SPAN_ID_HEX_LEN) if any(s.parent_span_id) else ""
    links = tuple(
        Link(
            id_from_bytes(lk.trace_id, TRACE_ID_HEX_LEN),
            id_from_bytes(lk.span_id, SPAN_ID_HEX_LEN),
            _attrs(lk.attributes),
        )
        for lk in s.links
    )
    follows_from, links = split_async_parent(trace_id, parent, links)
    return Span(
        trace_id=trace_id,
        span_id=id_from_bytes(s.span_id, SPAN_ID_HEX_LEN),
        parent_span_id=parent,
        name=s.name,
        start_ns=_time(s.start_time_unix_nano, source, f"{where}.start_time_unix_nano"),
        end_ns=_time(s.end_time_unix_nano, source, f"{where}.end_time_unix_nano"),
        kind=KINDS.get(int(s.kind), KINDS[0]),
        status=STATUSES.get(int(s.status.code), StatusCode.UNSET),
        status_message=s.status.message,
        attributes=_attrs(s.attributes),
        resource=resource,
        scope=scope,
        events=tuple(
            Event(_time(e.time_unix_nano, source, f"{where}.events[{i}]"), e.name, _attrs(e.attributes))
            for i, e in enumerate(s.events)
        ),
        links=links,
        follows_from=follows_from,
    )


def _time(value: int, source: str, where: str) -> int:
    """A fixed64 time, which must also fit int64 (every later computation is in signed 64-bit nanoseconds)."""
    if value > INT64_MAX:
        raise FormatError(source, f"{where}: {value} is out of range (0 to {INT64_MAX})")
    return int(value)


def read_bytes(data: bytes, source: str, allow_empty: bool = False) -> tuple[list[Trace], str]:
    """Decode OTLP protobuf (``TracesData`` or Tempo's ``TraceByIDResponse``). Returns traces and Tempo's status.

    ``allow_empty``: a message with no spans (Tempo's "not found") returns no traces instead of raising."""
    from google.protobuf.message import DecodeError

    trace_pb2, _, response_cls = _pb()
    candidates: list[tuple[list[Any], str]] = []
    errors: list[str] = []
    for parse in ("traces_data", "trace_by_id"):
        try:
            if parse == "traces_data":
                msg = trace_pb2.TracesData.FromString(data)
                candidates.append((list(msg.resource_spans), ""))
            else:
                resp = response_cls.FromString(data)
                status = "PARTIAL" if resp.status == 1 else ""
                candidates.append((list(resp.trace.resource_spans), status))
        except (DecodeError, RuntimeError, ValueError) as exc:
            errors.append(str(exc) or type(exc).__name__)
    for resource_spans, status in candidates:
        spans = [s for rs in resource_spans for ss in rs.scope_spans for s in ss.spans]
        if spans and all(len(s.span_id) == 8 and len(s.trace_id) in (8, 16) for s in spans):
            return group_traces(_spans_from_resource_spans(resource_spans, source)), status
    if not candidates:
        raise FormatError(source, f"not JSON, and not OTLP protobuf either (truncated or corrupt: {errors[0]})")
    if allow_empty and all(not any(ss.spans for rs in c[0] for ss in rs.scope_spans) for c in candidates):
        return [], candidates[-1][1]
    raise FormatError(source, "not JSON, and no trace spans found when decoded as OTLP protobuf")


# ---------------------------------------------------------------------------------------------- writing


def _set_any(target: Any, value: AttrValue) -> None:
    if isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        target.int_value = value
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, str):
        target.string_value = value
    elif isinstance(value, bytes):
        target.bytes_value = value
    elif isinstance(value, tuple | list):
        arr = target.array_value
        arr.SetInParent()
        for v in value:
            _set_any(arr.values.add(), v)
    else:
        kvl = target.kvlist_value
        kvl.SetInParent()
        for k, v in value.items():
            kv = kvl.values.add(key=k)
            _set_any(kv.value, v)


def _fill_attrs(target: Any, attrs: Any) -> None:
    for k, v in attrs.items():
        _set_any(target.add(key=k).value, v)


def dump_bytes(traces: Iterable[Trace], tempo_response: bool = False) -> bytes:
    """Serialise traces as ``TracesData`` (or as Tempo's v2 ``TraceByIDResponse`` when asked)."""
    trace_pb2, _, response_cls = _pb()
    msg = trace_pb2.TracesData()
    spans = (s for t in traces for s in t.spans)
    for resource, scope, group in group_for_writing(spans):
        rs = msg.resource_spans.add()
        _fill_attrs(rs.resource.attributes, resource.attributes)
        ss = rs.scope_spans.add()
        ss.scope.name, ss.scope.version = scope.name, scope.version
        for span in group:
            p = ss.spans.add(
                trace_id=id_to_bytes(span.trace_id),
                span_id=id_to_bytes(span.span_id),
                name=span.name,
                kind=int(span.kind),
                start_time_unix_nano=span.start_ns,
                end_time_unix_nano=span.end_ns,
            )
            if span.parent_span_id:
                p.parent_span_id = id_to_bytes(span.parent_span_id)
            p.status.code, p.status.message = int(span.status), span.status_message
            _fill_attrs(p.attributes, span.attributes)
            for e in span.events:
                pe = p.events.add(time_unix_nano=e.time_ns, name=e.name)
                _fill_attrs(pe.attributes, e.attributes)
            for lk in links_for_otlp(span):
                pl = p.links.add(trace_id=id_to_bytes(lk.trace_id), span_id=id_to_bytes(lk.span_id))
                _fill_attrs(pl.attributes, lk.attributes)
    if not tempo_response:
        return bytes(msg.SerializeToString())
    resp = response_cls()
    resp.trace.resource_spans.extend(msg.resource_spans)
    return bytes(resp.SerializeToString())
