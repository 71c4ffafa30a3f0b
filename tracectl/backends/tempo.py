"""Grafana Tempo: search (TraceQL or tags), trace by ID, every version from 2.0 (BACKENDS.md, "Tempo"), and
TraceQL metrics (``traceql_metrics.py`` reads them).

An empty or unparsable ``version`` in build info (a source build of 3.0.3 reports ``""``) means an unknown
version: the client then speaks to it as to a current Tempo.
"""

from __future__ import annotations

import math
import re
from typing import Any

import httpx
import orjson

from tracectl.backends.http import HttpClient
from tracectl.backends.query import (
    ROOT_NOT_RECEIVED,
    SearchQuery,
    SearchResult,
    TraceSummary,
    build_tags,
    build_traceql,
    capped_result,
)
from tracectl.backends.traceql_metrics import MetricsResult, read_metrics
from tracectl.errors import BackendError, FormatError, TraceNotFound
from tracectl.formats.detect import LoadResult, read_bytes
from tracectl.formats.typed import INT64_MAX, Malformed, integer, lst, obj, read_list, text
from tracectl.ids import InvalidId, normalize_trace_id
from tracectl.timerange import TimeRange, go_duration

PROTOBUF = "application/protobuf"
MS = 1_000_000
_VERSION = re.compile(r"v?(\d+)\.(\d+)")


class TempoClient:
    name = "Tempo"

    def __init__(self, http: HttpClient) -> None:
        self.http = http
        self._version: tuple[int, int] | bool | None = False  # False = not asked yet; None = unknown

    # ------------------------------------------------------------------------------------------ version

    def version(self) -> tuple[int, int] | None:
        """(major, minor) from ``/api/status/buildinfo``, asked once; None if the server does not say."""
        if self._version is False:
            self._version = None
            try:
                response = self.http.get("/api/status/buildinfo", kind="metadata")
                if response.status_code == 200:
                    match = _VERSION.match(text(obj(orjson.loads(response.content)).get("version")))
                    if match:
                        self._version = (int(match.group(1)), int(match.group(2)))
            except (orjson.JSONDecodeError, Malformed):
                self._version = None  # an odd buildinfo is no reason to fail: the newest API is assumed
        return self._version if isinstance(self._version, tuple) else None

    # ------------------------------------------------------------------------------------------- search

    def search(self, q: SearchQuery) -> SearchResult:
        params: dict[str, Any] = {**_seconds(q.time), "limit": q.limit}
        version = self.version() if q.traceql is None else None
        if q.traceql is not None:
            params["q"] = shown = q.traceql
        elif version is not None and version < (2, 2):
            # No trace-duration intrinsic in TraceQL before 2.2: the tags search filters trace durations itself.
            params["tags"] = shown = build_tags(q)
            if q.min_duration_ns is not None:
                params["minDuration"] = go_duration(q.min_duration_ns)
            if q.max_duration_ns is not None:
                params["maxDuration"] = go_duration(q.max_duration_ns)
        else:
            intrinsic = "traceDuration" if version is not None and version < (2, 5) else "trace:duration"
            params["q"] = shown = build_traceql(q, intrinsic)
        response = self.http.get("/api/search", params=params, kind="search")
        if response.status_code != 200:
            raise self.http.error(response, f"the search {shown!r}")
        doc = _json(response, "search")
        if not isinstance(doc, dict) or not isinstance(doc.get("traces") or [], list):
            raise BackendError(f"Tempo search answered with an unexpected shape (keys: {_keys(doc)})")
        try:
            hits = read_list(doc.get("traces"), "traces", _summary)
            metrics = obj(doc.get("metrics"), "metrics")
        except Malformed as exc:
            raise BackendError(f"Tempo search answered with an unexpected shape: {exc}") from None
        result = capped_result(self.name, shown, hits, q.limit)
        result.warnings.extend(_search_warnings(metrics, len(hits), q.limit))
        result.limit_said = result.limit_said or any("raise --limit" in w for w in result.warnings)
        result.complete = len(hits) < q.limit and not result.warnings  # a warning here means Tempo stopped early
        return result

    # ---------------------------------------------------------------------------------- TraceQL metrics

    def metrics_query_range(
        self, q: str, time: TimeRange, step_ns: int | None = None, exemplars: int | None = None
    ) -> MetricsResult:
        """``/api/metrics/query_range``: series of samples per step (Tempo picks the step when not given)."""
        params: dict[str, Any] = {"q": q, **_seconds(time)}
        if step_ns is not None:
            params["step"] = go_duration(step_ns)
        if exemplars is not None:
            params["exemplars"] = exemplars
        return self._metrics("/api/metrics/query_range", params, instant=False)

    def metrics_query(self, q: str, time: TimeRange) -> MetricsResult:
        """``/api/metrics/query`` (Tempo ≥ 2.6): one value per series over the whole range."""
        return self._metrics("/api/metrics/query", {"q": q, **_seconds(time)}, instant=True)

    def _metrics(self, path: str, params: dict[str, Any], instant: bool) -> MetricsResult:
        response = self.http.get(path, params=params, kind="metrics")
        if response.status_code != 200:  # plain-text 400s: parse errors, step and range limits
            raise self.http.error(response, f"the metrics query {params['q']!r}")
        return read_metrics(_json(response, "metrics query"), params["q"], instant)

    # ------------------------------------------------------------------------------------- trace by ID

    def get_trace(self, trace_id: str) -> LoadResult:
        """``/api/v2/traces`` (protobuf, JSON if that is what comes back), else v1 for servers before 2.6."""
        tid = normalize_trace_id(trace_id)
        source = f"Tempo trace {tid}"
        response = self.http.get(f"/api/v2/traces/{tid}", accept=PROTOBUF, kind="trace")
        if response.status_code == 404:  # no v2 endpoint: Tempo < 2.6
            response = self.http.get(f"/api/traces/{tid}", accept=PROTOBUF, kind="trace")
            if response.status_code == 404:
                raise TraceNotFound(f"trace {tid} not found in Tempo")
        excerpt = self.http.excerpt(response, 120)
        if response.status_code in (422, 413) or (response.status_code == 500 and "too large" in excerpt):
            raise BackendError(f"Tempo refused trace {tid}: too large ({response.status_code}: {excerpt})")
        if response.status_code != 200:
            raise self.http.error(response, f"trace {tid}")
        result = _decode_trace(response, source)
        if not result.traces or all(t.trace_id != tid for t in result.traces):
            raise TraceNotFound(f"trace {tid} not found in Tempo")
        return result.only(tid)


def _seconds(time: TimeRange) -> dict[str, int]:
    """Unix seconds, widened to whole seconds: search rejects nanoseconds, and metrics would read milliseconds
    as nanoseconds."""
    return {"start": time.start_ns // 10**9, "end": math.ceil(time.end_ns / 10**9)}


def _decode_trace(response: httpx.Response, source: str) -> LoadResult:
    try:
        return read_bytes(response.content, source, allow_empty=True, compact=True)  # held with the others
    except FormatError as exc:
        raise BackendError(f"Tempo sent an unreadable trace: {exc.problem}") from None


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise BackendError(f"Tempo answered the {what} with invalid JSON ({exc.msg})") from None


def _search_warnings(metrics: dict[str, Any], found: int, limit: int) -> list[str]:
    """Tempo stops searching once it has ``limit`` traces (the first found, not the slowest), or when jobs
    fail or time out: say which, since either cuts the result."""
    done, total = metrics.get("completedJobs"), metrics.get("totalJobs")
    if not (isinstance(done, int) and isinstance(total, int) and done < total):
        return []
    if found >= limit:
        return [
            f"Tempo returned the first {found} traces it found and stopped ({done} of {total} jobs searched): "
            "there may be more (and slower) ones; raise --limit or narrow the time range"
        ]
    return [
        f"Tempo stopped the search early ({done} of {total} jobs): results may be incomplete; "
        "narrow the time range or retry"
    ]


def _keys(doc: Any) -> str:
    return ", ".join(sorted(doc)[:5]) if isinstance(doc, dict) else type(doc).__name__


def _summary(raw: dict[str, Any]) -> TraceSummary:
    try:
        trace_id = normalize_trace_id(text(raw.get("traceID"), "traceID"))  # hex with leading zeros stripped
    except InvalidId as exc:
        raise Malformed("traceID", f"not a valid trace ID ({exc})") from None
    root_service = text(raw.get("rootServiceName"), "rootServiceName")
    spansets = lst(raw.get("spanSets"), "spanSets") or ([raw["spanSet"]] if raw.get("spanSet") else [])
    matched = sum(integer(obj(s, "spanSets").get("matched"), "spanSets.matched", 0) for s in spansets)
    # Tempo ≥ 2.4: spans and errors per service (fields omitted when 0)
    stats = {str(k): obj(v, f"serviceStats.{k}") for k, v in obj(raw.get("serviceStats"), "serviceStats").items()}
    return TraceSummary(
        trace_id=trace_id,
        root_service="" if root_service == ROOT_NOT_RECEIVED else root_service,
        root_name=text(raw.get("rootTraceName"), "rootTraceName"),
        start_ns=integer(raw.get("startTimeUnixNano"), "startTimeUnixNano", 0),
        duration_ns=integer(raw.get("durationMs"), "durationMs", 0, INT64_MAX // MS) * MS,  # whole ms; absent: 0
        span_count=sum(integer(v.get("spanCount"), "spanCount", 0) for v in stats.values()) if stats else None,
        error_count=sum(integer(v.get("errorCount"), "errorCount", 0) for v in stats.values()) if stats else None,
        services=tuple(sorted(stats)),
        matched=matched if spansets else None,
        duration_precision_ns=MS,
    )
