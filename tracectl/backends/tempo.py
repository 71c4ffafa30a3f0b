"""Grafana Tempo: search (TraceQL or tags) and trace by ID, every version from 2.0 (BACKENDS.md, "Tempo")."""

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
from tracectl.errors import BackendError, FormatError, TraceNotFound
from tracectl.formats.detect import LoadResult, read_bytes
from tracectl.formats.typed import INT64_MAX, Malformed, integer, lst, obj, read_list, text
from tracectl.ids import InvalidId, normalize_trace_id
from tracectl.timerange import go_duration

PROTOBUF = "application/protobuf"
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
        params: dict[str, Any] = {
            "start": q.time.start_ns // 10**9,  # unix seconds: Tempo rejects nanoseconds
            "end": math.ceil(q.time.end_ns / 10**9),
            "limit": q.limit,
        }
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
        done, total = metrics.get("completedJobs"), metrics.get("totalJobs")
        if isinstance(done, int) and isinstance(total, int) and done < total:
            result.warnings.append(
                f"Tempo stopped the search early ({done} of {total} jobs): results may be incomplete; "
                "narrow the time range or raise --limit"
            )
        return result

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
        return result


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
    return TraceSummary(
        trace_id=trace_id,
        root_service="" if root_service == ROOT_NOT_RECEIVED else root_service,
        root_name=text(raw.get("rootTraceName"), "rootTraceName"),
        start_ns=integer(raw.get("startTimeUnixNano"), "startTimeUnixNano", 0),
        duration_ns=integer(raw.get("durationMs"), "durationMs", 0, INT64_MAX // 1_000_000) * 1_000_000,  # absent: 0
        matched=matched if spansets else None,
    )
