"""The sandbox's Tempo routes, as a real Tempo 3.0.3 answers them (``../shared/samples/tempo3`` recorded one).

Search in unix seconds (parsed as uint32, so milliseconds are a 400), typed TraceQL (``traceql.py``), hits with
zero-stripped hex IDs, ``durationMs`` in whole milliseconds (omitted when 0), ``spanSet`` and ``spanSets`` whose
spans carry only the attributes the query selected, ``serviceStats``, and ``completedJobs < totalJobs`` when the
limit stopped the search. Trace by ID: v2 "not found" is a 200 with an empty trace (``{"trace":{},"metrics":{}}``,
or the 4 bytes ``0a 00 12 00`` in protobuf), v1 a 404 with an empty body; IDs are hex only. Build info has an
empty version, as a source build of 3.0.3 reports. Errors are plain text, in Tempo's words.
"""

from __future__ import annotations

import shlex
from typing import Any

from tracectl.errors import FormatError
from tracectl.formats import otlp_json, otlp_proto
from tracectl.formats.detect import read_bytes
from tracectl.ids import short_trace_id
from tracectl.model import Span, StatusCode, Trace
from tracectl.quoting import go_value_text
from tracectl.sandbox import tempo_metrics, traceql
from tracectl.sandbox.apis import BadRequest, Handler, Params, Reply, json_reply, match, text_reply
from tracectl.sandbox.store import Store, Summary
from tracectl.units import parse_duration

PROTOBUF = "application/protobuf"
BUILDINFO = {"version": "", "revision": "", "branch": "", "buildUser": "", "buildDate": "", "goVersion": "go1.27.3"}
NOT_FOUND_PB = b"\x0a\x00\x12\x00"  # TraceByIDResponse{trace: {}, metrics: {}}
JOBS = 4  # the search is split into this many jobs, scanned in order; reaching the limit cancels the rest
MAX_RANGE_S = 168 * 3600  # query_frontend.search.max_duration
MAX_SPSS = 100
UINT32 = 2**32 - 1


def _bad(message: str) -> BadRequest:
    return BadRequest(text_reply(400, message))


def _uint32(params: Params, name: str) -> int:
    """``start``/``end`` as Tempo reads them: ``strconv.ParseUint(s, 10, 32)``."""
    raw = params.get(name) or "0"
    if not raw.isdigit():
        raise _bad(f'invalid {name}: strconv.ParseUint: parsing "{raw}": invalid syntax')
    if int(raw) > UINT32:
        raise _bad(f'invalid {name}: strconv.ParseUint: parsing "{raw}": value out of range')
    return int(raw)


def _positive(params: Params, name: str, default: int) -> int:
    raw = params.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad(f'invalid {name}: strconv.Atoi: parsing "{raw}": invalid syntax') from None
    if value <= 0:
        raise _bad(f"invalid {name}: must be a positive number")
    return value


def _window(params: Params) -> tuple[int, int]:
    start, end = _uint32(params, "start"), _uint32(params, "end")
    if start or end:
        if end <= start:
            raise _bad(f"http parameter start must be before end. received start={start} end={end}")
        if end - start > MAX_RANGE_S:
            raise _bad(f"range specified by start and end exceeds {MAX_RANGE_S} seconds. received start={start} "
                       f"end={end}")  # fmt: skip
    return start, end


def tempo_search(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
    if params.get("q") and params.get("tags"):
        raise _bad("invalid request: can't specify tags and q in the same query")
    limit = _positive(params, "limit", 20)
    spss = _positive(params, "spss", 3)
    if spss > MAX_SPSS:
        raise _bad(f"invalid spss: spans per span set exceeds {MAX_SPSS}. received {spss}")
    start, end = _window(params)
    query, min_d, max_d = _tempo_query(params)
    everything = store.traces()
    jobs = min(JOBS, max(len(everything), 1))
    hits: list[dict[str, Any]] = []
    completed = 0
    for job in range(jobs):
        for trace, summary in everything[job * len(everything) // jobs : (job + 1) * len(everything) // jobs]:
            if end and not (summary.start_ns <= end * 10**9 and summary.end_ns >= start * 10**9):
                continue
            if (min_d is not None and summary.duration < min_d) or (max_d is not None and summary.duration > max_d):
                continue
            spans = query.matches(trace, summary)
            if spans is not None and len(hits) < limit:
                hits.append(_hit(trace, summary, spans, query, spss))
        completed += 1
        if len(hits) >= limit:
            break
    size = sum(len(t.spans) for t, _ in everything) * 200  # a plausible block size for the metrics
    metrics = {"inspectedBytes": str(size * completed // jobs), "totalBlocks": 1, "completedJobs": completed,
               "totalJobs": jobs, "totalBlockBytes": str(size)}  # fmt: skip
    return json_reply({"traces": hits, "metrics": metrics})


def _tempo_query(params: Params) -> tuple[traceql.Query, int | None, int | None]:
    try:
        if params.get("q"):
            return traceql.parse(params["q"]), None, None
        pairs = [pair.partition("=") for pair in shlex.split(params.get("tags", ""))]
        conds = [_tag_condition(key, value) for key, _, value in pairs]
        min_d = parse_duration(params["minDuration"]) if params.get("minDuration") else None
        max_d = parse_duration(params["maxDuration"]) if params.get("maxDuration") else None
    except traceql.TraceQLError as exc:
        raise _bad(str(exc)) from None
    except (ValueError, FormatError) as exc:
        raise _bad(f"invalid tags or duration: {exc}") from None
    return traceql.Query((traceql.Spanset((), tuple(conds)),)), min_d, max_d


def _tag_condition(key: str, value: str) -> traceql.Condition:
    """A logfmt tag of the old search: matched against the attribute's text, on any span of the trace."""
    if key == "service.name":
        return traceql.Condition("attr:resource:service.name", "=", traceql.Typed("string", value))
    if key == "name":
        return traceql.Condition("span:name", "=", traceql.Typed("string", value))
    if key == "error" and value == "true":
        return traceql.Condition("span:status", "=", traceql.Typed("status", StatusCode.ERROR))
    return traceql.Condition(f"attr:any:{key}", "=", traceql.Typed("text", value))


def _hit(trace: Trace, summary: Summary, spans: list[Span], query: traceql.Query, spss: int) -> dict[str, Any]:
    spanset = {"spans": [_hit_span(s, query) for s in spans[:spss]], "matched": len(spans)}
    hit: dict[str, Any] = {
        "traceID": short_trace_id(summary.trace_id),  # Tempo strips leading zeros
        "rootServiceName": summary.root_service,
        "startTimeUnixNano": str(summary.start_ns),
    }
    if summary.root_name:
        hit["rootTraceName"] = summary.root_name
    duration_ms = summary.duration // 1_000_000  # whole milliseconds, truncated
    if duration_ms:
        hit["durationMs"] = duration_ms  # absent when 0, as Tempo's JSON omits zero values
    hit["spanSet"] = spanset  # deprecated, still sent by 3.0.3
    hit["spanSets"] = [spanset]
    stats: dict[str, dict[str, int]] = {}
    for s in trace.spans:
        entry = stats.setdefault(s.service, {"spanCount": 0})
        entry["spanCount"] += 1
        if s.is_error:
            entry["errorCount"] = entry.get("errorCount", 0) + 1  # omitted when 0
    hit["serviceStats"] = dict(sorted(stats.items()))
    return hit


def _hit_span(span: Span, query: traceql.Query) -> dict[str, Any]:
    """A matched span as search shows it: its name only when selected, and the attributes the query tested."""
    out: dict[str, Any] = {
        "spanID": span.span_id,
        "startTimeUnixNano": str(span.start_ns),
        "durationNanos": str(span.duration_ns),
    }
    attributes = []
    for cond in query.conditions_met(span):
        kind, _, rest = cond.target.partition(":")
        if kind == "span" and rest == "name":
            out["name"] = span.name
        elif kind == "span" and rest in ("status", "kind"):
            value = span.status if rest == "status" else span.kind
            attributes.append({"key": rest, "value": {"stringValue": value.name.lower()}})
        elif kind == "attr":
            scope, _, name = rest.partition(":")
            found = traceql.attribute(span, scope, name)
            if found is not None and not any(a["key"] == name for a in attributes):
                attributes.append({"key": name, "value": otlp_json.to_any_value(found)})
    if attributes:
        out["attributes"] = attributes
    return out


def _trace_id(path: str, pattern: str) -> str:
    """A hex trace ID as Tempo reads it (``util.HexStringToTraceID``): hex only, left-padded, at most 128 bits."""
    raw = (match(pattern, path) or {}).get("id", "")
    for pos, ch in enumerate(raw, 1):
        if ch not in "0123456789abcdefABCDEF":
            raise _bad(f"trace IDs can only contain hex characters: invalid character '{ch}' at position {pos}")
    if len(raw) > 32:
        raise _bad("trace IDs can't be larger than 128 bits")
    return raw.lower().rjust(32, "0")


def tempo_trace_v1(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
    trace = store.trace(_trace_id(path, "/api/traces/{id}"))
    if trace is None:
        return Reply(404, b"", "text/plain; charset=utf-8")
    if PROTOBUF in headers.get("accept", ""):
        return Reply(200, otlp_proto.dump_bytes([trace]), PROTOBUF)
    return json_reply(otlp_json.dump_document([trace], ids="base64", top_key="batches"))


def tempo_trace_v2(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
    trace = store.trace(_trace_id(path, "/api/v2/traces/{id}"))
    protobuf = PROTOBUF in headers.get("accept", "")
    if trace is None:  # not a 404: a 200 with an empty trace
        return Reply(200, NOT_FOUND_PB, PROTOBUF) if protobuf else json_reply({"trace": {}, "metrics": {}})
    if protobuf:
        data = otlp_proto.dump_bytes([trace], tempo_response=True)
        return Reply(200, data + _metrics_field(len(data)), PROTOBUF)
    return json_reply({"trace": otlp_json.dump_document([trace], ids="base64"), "metrics": {"inspectedBytes":
                       str(len(trace.spans) * 600)}})  # fmt: skip


def _metrics_field(inspected_bytes: int) -> bytes:
    """TraceByIDResponse field 2 (metrics) holding field 1 (inspectedBytes), as Tempo appends it."""
    varint = bytearray()
    value = inspected_bytes
    while True:
        byte, value = value & 0x7F, value >> 7
        varint.append(byte | (0x80 if value else 0))
        if not value:
            break
    return b"\x12" + bytes([len(varint) + 1]) + b"\x08" + bytes(varint)


def tempo_tags(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
    resource: set[str] = set()
    span: set[str] = set()
    for trace, _ in store.traces():
        for s in trace.spans:
            resource.update(s.resource.attributes)
            span.update(s.attributes)
    intrinsic = ["duration", "kind", "name", "rootName", "rootServiceName", "span:duration", "span:kind", "span:name",
                 "span:status", "status", "statusMessage", "trace:duration", "trace:rootName", "trace:rootService",
                 "traceDuration"]  # fmt: skip
    scopes = [
        {"name": "intrinsic", "tags": intrinsic},
        {"name": "resource", "tags": sorted(resource)},
        {"name": "span", "tags": sorted(span)},
    ]
    wanted = params.get("scope")
    if wanted and wanted not in ("intrinsic", "resource", "span", "event", "link", "instrumentation", "none"):
        raise _bad(f"invalid scope: {wanted}")
    chosen = [s for s in scopes if not wanted or wanted == "none" or s["name"] == wanted]
    return json_reply({"scopes": chosen, "metrics": {"inspectedBytes": "0"}})


_TAG_TYPES = {"boolValue": "bool", "intValue": "int", "doubleValue": "float", "stringValue": "string"}


def tempo_tag_values(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
    tag = (match("/api/v2/search/tag/{tag}/values", path) or {})["tag"]
    scope, _, name = tag.partition(".")
    if tag.startswith("."):
        scope, name = "any", tag[1:]
    elif scope not in ("resource", "span"):
        scope, name = "any", tag
    values: dict[str, str] = {}
    for trace, _ in store.traces():
        for s in trace.spans:
            found = traceql.attribute(s, scope, name)
            if isinstance(found, str | bool | int | float):
                values[go_value_text(found)] = _TAG_TYPES[next(iter(otlp_json.to_any_value(found)))]
    tag_values = [{"type": kind, "value": value} for value, kind in sorted(values.items())]
    return json_reply({"tagValues": tag_values, "metrics": {"inspectedBytes": "0"}})


def tempo_ingest(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
    try:
        result = read_bytes(body, "OTLP export", allow_empty=True)
    except FormatError as exc:
        raise BadRequest(text_reply(400, f"unreadable OTLP payload: {exc.problem}")) from None
    store.add_traces(result.traces)
    if "json" in headers.get("content-type", ""):
        return json_reply({})
    return Reply(200, b"", "application/x-protobuf")  # an empty ExportTraceServiceResponse


TEMPO_ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/api/search", tempo_search),
    ("GET", "/api/traces/{id}", tempo_trace_v1),
    ("GET", "/api/v2/traces/{id}", tempo_trace_v2),
    ("GET", "/api/v2/search/tags", tempo_tags),
    ("GET", "/api/v2/search/tag/{tag}/values", tempo_tag_values),
    ("GET", "/api/metrics/query_range", tempo_metrics.metrics_query_range),
    ("GET", "/api/metrics/query", tempo_metrics.metrics_query),
    ("GET", "/api/status/buildinfo", lambda *_: json_reply(BUILDINFO)),
    ("GET", "/ready", lambda *_: text_reply(200, "ready")),
    ("GET", "/api/echo", lambda *_: text_reply(200, "echo")),
    ("POST", "/v1/traces", tempo_ingest),
]
