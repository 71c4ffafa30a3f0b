"""Grafana Loki: ``query_range`` over a time window, paged past the server's limit the way logcli does it.

Times are nanoseconds; ``start`` is inclusive and ``end`` exclusive. Paging backward re-queries with
``end = oldest timestamp + 1 ns`` (forward: ``start = newest timestamp``) and drops the lines already seen at
that boundary timestamp, counted per (stream, line) so that real duplicate lines survive. Responses in both
forms are read: plain (structured metadata merged into stream labels) and ``categorize-labels`` (a third
element per value with ``structuredMetadata`` and ``parsed``), which tracectl asks for.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from tracectl.backends.http import HttpClient
from tracectl.backends.logql import log_mentions_trace, trace_log_query
from tracectl.errors import BackendError, InputError
from tracectl.model import LogRecord, Trace

CATEGORIZE = {"X-Loki-Response-Encoding-Flags": "categorize-labels"}
DEFAULT_BATCH = 1000  # lines per request; Loki's max_entries_limit_per_query is usually 5000
MAX_PAGES = 10_000


@dataclass(slots=True)
class LogResult:
    query: str
    records: list[LogRecord]
    warnings: list[str] = field(default_factory=list)
    truncated: bool = False  # stopped at the limit with more lines available


def _key(record: LogRecord) -> tuple[Any, ...]:
    return (tuple(sorted(record.labels.items())), tuple(sorted(record.metadata.items())), record.line)


class LokiClient:
    name = "Loki"

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def query_range(
        self,
        query: str,
        start_ns: int,
        end_ns: int,
        limit: int = 5000,
        direction: str = "backward",
        batch: int = DEFAULT_BATCH,
    ) -> LogResult:
        """Up to ``limit`` lines matching ``query`` in ``[start_ns, end_ns)``, newest first (``backward``) or
        oldest first (``forward``), fetched ``batch`` lines at a time."""
        if direction not in ("backward", "forward"):
            raise InputError(f"direction must be backward or forward, not {direction!r}")
        if start_ns >= end_ns:
            raise InputError("impossible time range for Loki: start must be before end")
        result = LogResult(query, [])
        seen_at_boundary: Counter[tuple[Any, ...]] = Counter()
        lo, hi = start_ns, end_ns
        for _ in range(MAX_PAGES):
            remaining = limit - len(result.records)
            if remaining <= 0:
                result.truncated = True
                break
            # The boundary timestamp is asked again: ask for the lines already seen there on top of the rest.
            want = min(batch, remaining + sum(seen_at_boundary.values()))
            page, warnings = self._page(query, lo, hi, want, direction)
            result.warnings.extend(w for w in warnings if w not in result.warnings)
            fresh = []
            budget = Counter(seen_at_boundary)
            for record in page:
                k = (record.time_ns, *_key(record))
                if budget[k] > 0:  # already returned by the previous page at the boundary timestamp
                    budget[k] -= 1
                    continue
                fresh.append(record)
            result.records.extend(fresh[: limit - len(result.records)])
            if len(page) < want:
                break  # the server had no more
            if not fresh:
                result.warnings.append(
                    f"more than {want} lines share one timestamp: raise the batch size to read past it"
                )
                break
            boundary = page[-1].time_ns
            seen_at_boundary = Counter((r.time_ns, *_key(r)) for r in page if r.time_ns == boundary)
            if direction == "backward":
                hi = boundary + 1  # end is exclusive: the boundary timestamp is asked again
            else:
                lo = boundary
        return result

    def _page(self, query: str, start: int, end: int, limit: int, direction: str) -> tuple[list[LogRecord], list[str]]:
        params = {"query": query, "start": start, "end": end, "limit": limit, "direction": direction}
        response = self.http.get("/loki/api/v1/query_range", params=params, headers=CATEGORIZE)
        if response.status_code != 200:
            raise self.http.error(response, "the log query")
        return parse_query_range(response, direction)


def parse_query_range(
    response: httpx.Response | bytes, direction: str = "backward"
) -> tuple[list[LogRecord], list[str]]:
    """Read a ``query_range`` streams answer (either encoding) into records sorted in ``direction`` order."""
    content = response.content if isinstance(response, httpx.Response) else response
    try:
        doc = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise BackendError(f"Loki answered with invalid JSON ({exc.msg})") from None
    return streams_document(doc, direction)


def streams_document(doc: Any, direction: str = "backward") -> tuple[list[LogRecord], list[str]]:
    """Records from a parsed ``query_range`` streams document (either encoding), sorted in ``direction`` order."""
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, dict) or doc.get("status") not in (None, "success"):
        raise BackendError(
            f"Loki answered with an unexpected shape (status {doc.get('status') if isinstance(doc, dict) else '?'})"
        )
    if data.get("resultType") != "streams":
        raise BackendError(f"Loki answered {data.get('resultType')!r}, not log streams: the query is a metric query")
    records = []
    for stream in data.get("result") or []:
        labels = {str(k): str(v) for k, v in (stream.get("stream") or {}).items()}
        for value in stream.get("values") or []:
            extra = value[2] if len(value) > 2 and isinstance(value[2], dict) else {}
            records.append(
                LogRecord(
                    time_ns=int(value[0]),
                    line=str(value[1]),
                    labels=labels,
                    metadata=_pairs(extra.get("structuredMetadata")),
                    parsed=_pairs(extra.get("parsed")),
                )
            )
    records.sort(key=lambda r: r.time_ns, reverse=direction == "backward")
    warnings = [str(w) for w in doc.get("warnings") or []]
    return records, warnings


def _pairs(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):  # some versions: [{"name": ..., "value": ...}]
        return {str(p.get("name")): str(p.get("value")) for p in value if isinstance(p, dict)}
    return {}


@dataclass(frozen=True, slots=True)
class LogQueryOptions:
    strategy: str = "line"
    label_map: dict[str, str] = field(default_factory=lambda: {"service.name": "service_name"})
    trace_field: str = "trace_id"
    template: str | None = None
    margin_ns: int = 5 * 10**9
    limit: int = 5000
    batch: int = DEFAULT_BATCH


def fetch_trace_logs(client: LokiClient, trace: Trace, options: LogQueryOptions) -> LogResult:
    """The log lines of ``trace``: its window widened by the margin on both sides, oldest first."""
    query = trace_log_query(trace, options.strategy, options.label_map, options.trace_field, options.template)
    start = min(s.start_ns for s in trace.spans) - options.margin_ns
    end = max(s.end_ns for s in trace.spans) + options.margin_ns + 1  # end is exclusive
    result = client.query_range(query, start, end, options.limit, "forward", options.batch)
    if options.strategy == "line":  # the substring filter may match a longer hex string: keep whole-ID mentions
        result.records = [r for r in result.records if log_mentions_trace(r.line, trace.trace_id)]
    return result
