"""Jaeger: v3 API first (trace-summaries where the server has it), v1 for older servers (BACKENDS.md, "Jaeger").

What a search means is the same as on Tempo (``backends/query.py``): service, operation and attributes hold on
one span, which is also what Jaeger's servers filter, so those go to the server (attribute values as text, the
only form its tag maps take); errors anywhere in the trace, trace durations and typed attribute values are
checked on the client. When that check drops hits from a full page, a warning says so: more may match beyond it.

How a missing endpoint is told apart from an answer: a v3 answer is JSON with ``result``, ``summaries`` or an
``error`` envelope (``No traces found`` is a 404 with such an envelope: an empty result, not a missing
endpoint). Anything else — a bare 404 page, or the UI's HTML that old query servers serve for unknown paths
with a 200 — means the endpoint is not there, and the next one is tried.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from tracectl.backends.http import HttpClient
from tracectl.backends.query import (
    SearchQuery,
    SearchResult,
    TraceSummary,
    attr_text,
    matches_filters,
    slowest_first,
    split_scope,
    summarise,
)
from tracectl.errors import BackendError, FormatError, InputError, TraceNotFound
from tracectl.formats.detect import LoadResult, read_bytes
from tracectl.formats.typed import INT64_MAX, Malformed, integer, read_list, text
from tracectl.ids import InvalidId, normalize_trace_id
from tracectl.timerange import go_duration, rfc3339

US = 1000
_V3_KEYS = ("result", "summaries", "error")


def _json_or_none(response: httpx.Response) -> Any:
    """The parsed body when it is JSON, else None (HTML pages, plain-text 404s)."""
    if "html" in response.headers.get("content-type", ""):
        return None
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None


def _is_v3(doc: Any) -> bool:
    return isinstance(doc, dict) and any(k in doc for k in _V3_KEYS)


def _no_traces(doc: Any) -> bool:
    err = doc.get("error") if isinstance(doc, dict) else None
    return isinstance(err, dict) and err.get("httpCode") == 404


class JaegerClient:
    name = "Jaeger"

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    # ------------------------------------------------------------------------------------------- search

    def search(self, q: SearchQuery) -> SearchResult:
        if q.traceql is not None:
            raise InputError("--traceql is Tempo's query language; Jaeger searches with --service/--operation/--attr")
        if not q.service:
            raise InputError("Jaeger needs --service to search (its API requires a service name)")
        v3 = self._v3_params(q)
        if not q.attributes:  # summaries carry no attributes: with --attr, whole traces are fetched and checked
            response = self.http.get("/api/v3/trace-summaries", params=v3, kind="search")
            doc = _json_or_none(response)
            if _is_v3(doc):
                if response.status_code == 200 and isinstance(doc.get("summaries"), list):
                    hits = _summaries(doc["summaries"])
                    kept = [h for h in hits if h.error_count or not q.errors]
                    return self._result(q, "v3 trace-summaries", kept, len(hits))
                if _no_traces(doc):
                    return self._result(q, "v3 trace-summaries", [], 0)
                raise self._error(response, doc, "the search")
        response = self.http.get("/api/v3/traces", params=v3, kind="search")
        doc = _json_or_none(response)
        if _is_v3(doc):
            if response.status_code == 200:
                traces = self._read(response, "Jaeger search").traces
                hits = [summarise(t) for t in traces if matches_filters(t, q)]
                return self._result(q, "v3 traces", hits, len(traces))
            if _no_traces(doc):
                return self._result(q, "v3 traces", [], 0)
            raise self._error(response, doc, "the search")
        return self._search_v1(q)

    def _v3_params(self, q: SearchQuery) -> dict[str, Any]:
        params: dict[str, Any] = {
            "query.service_name": q.service,
            "query.start_time_min": rfc3339(q.time.start_ns),
            "query.start_time_max": rfc3339(q.time.end_ns),
            "query.num_traces": q.limit,
        }
        if q.operation:
            params["query.operation_name"] = q.operation
        if q.min_duration_ns is not None:
            params["query.duration_min"] = go_duration(q.min_duration_ns)
        if q.max_duration_ns is not None:
            params["query.duration_max"] = go_duration(q.max_duration_ns)
        if q.attributes:
            params["query.attributes"] = _tag_map(q)
        return params

    def _search_v1(self, q: SearchQuery) -> SearchResult:
        params: dict[str, Any] = {
            "service": q.service,
            "start": q.time.start_ns // US,  # microseconds
            "end": q.time.end_ns // US,
            "limit": q.limit,
        }
        if q.operation:
            params["operation"] = q.operation
        if q.attributes:  # not "error": Jaeger would want it on the service's own span
            params["tags"] = _tag_map(q)
        if q.min_duration_ns is not None:
            params["minDuration"] = go_duration(q.min_duration_ns)  # filters spans, not traces: re-checked below
        if q.max_duration_ns is not None:
            params["maxDuration"] = go_duration(q.max_duration_ns)
        response = self.http.get("/api/traces", params=params, kind="search")
        doc = _json_or_none(response)
        if response.status_code != 200 or not isinstance(doc, dict) or doc.get("errors"):
            raise self._error(response, doc, "the search")
        traces = self._read(response, "Jaeger search").traces
        hits = [summarise(t, precision_ns=US) for t in traces if matches_filters(t, q)]  # v1 times are µs
        return self._result(q, "v1 /api/traces", hits, len(traces))

    def _result(self, q: SearchQuery, endpoint: str, hits: list[TraceSummary], returned: int) -> SearchResult:
        """``returned`` is how many traces the server sent before the client-side check kept ``hits``; a server
        that sent more than ``--limit`` is cut to the slowest ``--limit``, and the result says so."""
        shown = " ".join(
            [f"{endpoint} service={q.service}"]
            + ([f"operation={q.operation}"] if q.operation else [])
            + ([f"attributes={_tag_map(q)}"] if q.attributes else [])
            + (["errors anywhere (checked here)"] if q.errors else [])
        )
        ranked = slowest_first(hits)
        result = SearchResult(self.name, shown, ranked[: q.limit], complete=returned < q.limit)
        if len(ranked) > q.limit:
            result.warnings.append(
                f"Jaeger returned {len(ranked)} traces for --limit {q.limit}: kept the {q.limit} slowest"
            )
            result.limit_said = True
        if returned >= q.limit and len(hits) < returned:
            checks = {
                "errors in any span": q.errors,
                "typed attribute values": bool(q.attributes),
                "trace durations": q.min_duration_ns is not None or q.max_duration_ns is not None,
            }
            checked = ", ".join(name for name, on in checks.items() if on) or "the span conditions"
            result.warnings.append(
                f"Jaeger returned {returned} traces (--limit) and {len(hits)} passed the checks it cannot do "
                f"itself ({checked}): more may match beyond them; raise --limit to look further"
            )
            result.limit_said = True
        return result

    # ------------------------------------------------------------------------------------- trace by ID

    def get_trace(self, trace_id: str) -> LoadResult:
        tid = normalize_trace_id(trace_id)
        response = self.http.get(f"/api/v3/traces/{tid}", kind="trace")
        doc = _json_or_none(response)
        if _is_v3(doc):
            if response.status_code == 200:
                return self._found(response, tid)
            if _no_traces(doc) or response.status_code == 404:
                raise TraceNotFound(f"trace {tid} not found in Jaeger")
            raise self._error(response, doc, f"trace {tid}")
        response = self.http.get(f"/api/traces/{tid}", kind="trace")
        doc = _json_or_none(response)
        if response.status_code == 404 or (isinstance(doc, dict) and _v1_code(doc) == 404):
            raise TraceNotFound(f"trace {tid} not found in Jaeger")
        if response.status_code != 200 or not isinstance(doc, dict) or doc.get("errors"):
            raise self._error(response, doc, f"trace {tid}")
        return self._found(response, tid)

    def _found(self, response: httpx.Response, tid: str) -> LoadResult:
        result = self._read(response, f"Jaeger trace {tid}")
        if not any(t.trace_id == tid for t in result.traces):
            raise TraceNotFound(f"trace {tid} not found in Jaeger")
        return result.only(tid)

    def _read(self, response: httpx.Response, source: str) -> LoadResult:
        try:
            return read_bytes(response.content, source, allow_empty=True, compact=True)  # held with the others
        except FormatError as exc:
            raise BackendError(f"Jaeger sent an unreadable answer: {exc.problem}") from None

    def _error(self, response: httpx.Response, doc: Any, what: str) -> BackendError:
        message = self.http.redact(_envelope_message(doc)[:200]) or self.http.excerpt(response)
        return BackendError(f"Jaeger answered {response.status_code} to {what}" + (f": {message}" if message else ""))


def _tag_map(q: SearchQuery) -> str:
    """``--attr`` as Jaeger's JSON string map (``tags`` in v1, ``query.attributes`` in v3): unscoped names, the
    value's text."""
    return orjson.dumps({split_scope(k)[1]: attr_text(v) for k, v in q.attributes}).decode()


def _v1_code(doc: dict[str, Any]) -> int | None:
    errors = doc.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = errors[0].get("code")
        return int(code) if isinstance(code, int) else None
    return None


def _envelope_message(doc: Any) -> str:
    if not isinstance(doc, dict):
        return ""
    err = doc.get("error")
    if isinstance(err, dict):
        return str(err.get("message") or "")
    errors = doc.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("msg") or "")
    return ""


def _summaries(items: list[Any]) -> list[TraceSummary]:
    try:
        return read_list(items, "summaries", _summary)
    except Malformed as exc:
        raise BackendError(f"Jaeger trace-summaries answered with an unexpected shape: {exc}") from None


def _summary(raw: dict[str, Any]) -> TraceSummary:
    try:
        trace_id = normalize_trace_id(text(raw.get("traceId"), "traceId"))
    except InvalidId as exc:
        raise Malformed("traceId", f"not a valid trace ID ({exc})") from None
    start = integer(raw.get("minStartTimeUnixNano"), "minStartTimeUnixNano", 0)
    end = integer(raw.get("maxEndTimeUnixNano"), "maxEndTimeUnixNano", 0) or start
    services = read_list(raw.get("services"), "services", lambda s: text(s.get("name"), "name"))
    return TraceSummary(
        trace_id=trace_id,
        root_service=text(raw.get("rootServiceName"), "rootServiceName"),
        root_name=text(raw.get("rootOperationName"), "rootOperationName"),
        start_ns=start,
        duration_ns=end - start,
        span_count=integer(raw.get("spanCount"), "spanCount", 0, INT64_MAX),
        error_count=integer(raw.get("errorSpanCount"), "errorSpanCount", 0, INT64_MAX),
        services=tuple(sorted(services)),
    )
