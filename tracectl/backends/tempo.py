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
    slowest_first,
)
from tracectl.backends.traceql_metrics import MetricsResult, read_metrics
from tracectl.errors import BackendError, FormatError, TraceNotFound
from tracectl.formats.detect import LoadResult, read_bytes
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
                response = self.http.get("/api/status/buildinfo")
                if response.status_code == 200:
                    match = _VERSION.match(str(orjson.loads(response.content).get("version", "")))
                    if match:
                        self._version = (int(match.group(1)), int(match.group(2)))
            except (orjson.JSONDecodeError, AttributeError):
                self._version = None
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
        response = self.http.get("/api/search", params=params)
        if response.status_code != 200:
            raise self.http.error(response, f"the search {shown!r}")
        doc = _json(response, "search")
        if not isinstance(doc, dict) or not isinstance(doc.get("traces", []), list):
            raise BackendError(f"Tempo search answered with an unexpected shape (keys: {_keys(doc)})")
        result = SearchResult(self.name, shown, slowest_first(_summary(t) for t in doc.get("traces") or []))
        result.warnings.extend(_search_warnings(doc.get("metrics") or {}, len(result.traces), q.limit))
        result.limit_said = any("raise --limit" in w for w in result.warnings)
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
        response = self.http.get(path, params=params)
        if response.status_code != 200:  # plain-text 400s: parse errors, step and range limits
            raise self.http.error(response, f"the metrics query {params['q']!r}")
        return read_metrics(_json(response, "metrics query"), params["q"], instant)

    # ------------------------------------------------------------------------------------- trace by ID

    def get_trace(self, trace_id: str) -> LoadResult:
        """``/api/v2/traces`` (protobuf, JSON if that is what comes back), else v1 for servers before 2.6."""
        tid = normalize_trace_id(trace_id)
        source = f"Tempo trace {tid}"
        response = self.http.get(f"/api/v2/traces/{tid}", accept=PROTOBUF)
        if response.status_code == 404:  # no v2 endpoint: Tempo < 2.6
            response = self.http.get(f"/api/traces/{tid}", accept=PROTOBUF)
            if response.status_code == 404:
                raise TraceNotFound(f"trace {tid} not found in Tempo")
        if response.status_code in (422, 413) or (response.status_code == 500 and "too large" in response.text):
            raise BackendError(f"Tempo refused trace {tid}: too large ({response.status_code}: {response.text[:120]})")
        if response.status_code != 200:
            raise self.http.error(response, f"trace {tid}")
        result = _decode_trace(response, source)
        if not result.traces or all(t.trace_id != tid for t in result.traces):
            raise TraceNotFound(f"trace {tid} not found in Tempo")
        return result


def _seconds(time: TimeRange) -> dict[str, int]:
    """Unix seconds, widened to whole seconds: search rejects nanoseconds, and metrics would read milliseconds
    as nanoseconds."""
    return {"start": time.start_ns // 10**9, "end": math.ceil(time.end_ns / 10**9)}


def _decode_trace(response: httpx.Response, source: str) -> LoadResult:
    try:
        return read_bytes(response.content, source, allow_empty=True)
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
        trace_id = normalize_trace_id(str(raw["traceID"]))  # hex with leading zeros stripped
    except (KeyError, InvalidId) as exc:
        raise BackendError(f"Tempo search returned a trace without a valid traceID ({exc})") from None
    root_service = raw.get("rootServiceName") or ""
    spansets = raw.get("spanSets") or ([raw["spanSet"]] if raw.get("spanSet") else [])
    matched = sum(int(s.get("matched") or 0) for s in spansets) if spansets else None
    stats = raw.get("serviceStats")  # Tempo ≥ 2.4: spans and errors per service ({} fields omitted when 0)
    stats = stats if isinstance(stats, dict) and all(isinstance(v, dict) for v in stats.values()) else None
    return TraceSummary(
        trace_id=trace_id,
        root_service="" if root_service == ROOT_NOT_RECEIVED else root_service,
        root_name=raw.get("rootTraceName") or "",
        start_ns=int(raw.get("startTimeUnixNano") or 0),
        duration_ns=int(raw.get("durationMs") or 0) * MS,  # whole ms, truncated; absent when 0
        span_count=sum(int(v.get("spanCount") or 0) for v in stats.values()) if stats else None,
        error_count=sum(int(v.get("errorCount") or 0) for v in stats.values()) if stats else None,
        services=tuple(sorted(stats)) if stats else (),
        matched=matched,
        duration_precision_ns=MS,
    )
