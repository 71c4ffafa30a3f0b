"""Grafana Loki: ``query_range`` over a time window, paged past the server's limit without losing a line.

Times are nanoseconds; ``start`` is inclusive and ``end`` exclusive; a request returns the first ``limit`` lines
in its direction (Loki refuses a ``limit`` above ``max_entries_limit_per_query``, 5,000 by default).

Paging: a full page is complete up to its last timestamp, but the lines *at* that timestamp may be cut anywhere,
and any number of lines can share one timestamp. So the lines before it are kept, the lines at it (the tie) are
read on their own from the one-nanosecond window ``[t, t+1)``, and the next page starts past ``t``. A tie larger
than one request is split by content: at the first position where the lines seen differ, a regex line filter
and its negation (``|~`` / ``!~``) divide the tie into two disjoint parts, each read the same way. No line is
read twice, none is skipped, identical lines in different streams are all kept, and nothing depends on the
order Loki gives equal timestamps.

Responses in both forms are read: plain (structured metadata merged into stream labels) and ``categorize-labels``
(a third element per value with ``structuredMetadata`` and ``parsed``), which tracectl asks for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from tracectl.backends.http import HttpClient
from tracectl.backends.logql import log_mentions_trace, regex_literal, trace_log_query
from tracectl.errors import BackendError, InputError
from tracectl.formats.typed import INT64_MAX, Malformed, integer, lst, obj, read_list, text
from tracectl.model import LogRecord, Trace
from tracectl.quoting import go_quote

CATEGORIZE = {"X-Loki-Response-Encoding-Flags": "categorize-labels"}
DEFAULT_BATCH = 1000  # lines per request; Loki's max_entries_limit_per_query is 5000 by default
MAX_REQUESTS = 10_000  # a guard against a server that never runs out; the deadline bounds the time anyway

Filter = tuple[str, str]  # (LogQL line-filter operator, RE2 regex)


@dataclass(slots=True)
class LogResult:
    query: str
    records: list[LogRecord]
    warnings: list[str] = field(default_factory=list)
    truncated: bool = False  # stopped at the limit with more lines available
    requests: int = 0


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
        oldest first (``forward``), fetched ``batch`` lines a request (see the module's docstring)."""
        if direction not in ("backward", "forward"):
            raise InputError(f"direction must be backward or forward, not {direction!r}")
        if start_ns >= end_ns:
            raise InputError("impossible time range for Loki: start must be before end")
        result = LogResult(query, [])
        lo, hi = start_ns, end_ns
        while lo < hi:
            need = limit - len(result.records)
            if need <= 0:
                result.truncated = bool(self._page(query, lo, hi, 1, direction, result))
                break
            want = min(batch, need)
            page = self._page(query, lo, hi, want, direction, result)
            if len(page) < want:  # the window held no more
                result.records.extend(page)
                break
            boundary = page[-1].time_ns
            result.records.extend(r for r in page if r.time_ns != boundary)
            tie = self._read_tie(query, boundary, batch, result)
            room = limit - len(result.records)
            result.records.extend(tie[:room])
            if len(tie) > room:
                result.truncated = True
                break
            lo, hi = (boundary + 1, hi) if direction == "forward" else (lo, boundary)
        return result

    def _read_tie(self, query: str, ts: int, batch: int, result: LogResult) -> list[LogRecord]:
        """Every line at timestamp ``ts``, split by content until each part fits one request."""
        out: list[LogRecord] = []
        parts: list[tuple[Filter, ...]] = [()]
        while parts:
            filters = parts.pop()
            page = self._page(query + _logql_filters(filters), ts, ts + 1, batch, "forward", result)
            if len(page) < batch:
                out.extend(page)
                continue
            split = _split_filters([r.line for r in page], filters)
            if split is None:  # `batch` identical lines, each in its own stream: no filter tells them apart
                out.extend(page)
                result.warnings.append(
                    f"{batch} or more identical lines share timestamp {ts} ({page[0].line[:60]!r}): only {batch} "
                    "of them were read"
                )
                continue
            parts.extend(reversed([filters + extra for extra in split]))
        return out

    def _page(self, query: str, start: int, end: int, limit: int, direction: str, result: LogResult) -> list[LogRecord]:
        result.requests += 1
        if result.requests > MAX_REQUESTS:
            raise BackendError(f"Loki kept answering after {MAX_REQUESTS} requests for one query: stopped")
        params = {"query": query, "start": start, "end": end, "limit": limit, "direction": direction}
        response = self.http.get("/loki/api/v1/query_range", params=params, headers=CATEGORIZE, kind="logs")
        if response.status_code != 200:
            raise self.http.error(response, "the log query")
        records, warnings = parse_query_range(response, direction)
        result.warnings.extend(w for w in warnings if w not in result.warnings)
        return records[:limit]  # a server that answers with more than asked for is held to what was asked


def _logql_filters(filters: tuple[Filter, ...]) -> str:
    return "".join(f" {op} {_literal(regex)}" for op, regex in filters)


def _literal(regex: str) -> str:
    return f"`{regex}`" if "`" not in regex else go_quote(regex)


def _class_up_to(c: str) -> str:
    """An RE2 character class of every character up to ``c`` (Python's ``re`` reads it the same way)."""
    if c.isascii() and c.isalnum():
        top = c
    elif ord(c) < 0x20 or c == "\x7f":
        top = f"\\x{ord(c):02x}"
    elif c.isascii():
        top = "\\" + c  # punctuation, escaped: literal in both syntaxes
    else:
        top = c
    return f"[\\x00-{top}]"


def _at(position: int) -> str:
    """A regex prefix that skips ``position`` characters (RE2 repeats at most 1,000 at a time)."""
    if position == 0:
        return "^"
    return "^(?s:" + ".{1000}" * (position // 1000) + (f".{{{position % 1000}}}" if position % 1000 else "") + ")"


def _split_filters(lines: list[str], filters: tuple[Filter, ...]) -> list[tuple[Filter, ...]] | None:
    """Filters that divide the lines matching ``filters`` into disjoint parts covering them all, each holding
    some of ``lines`` (so each is smaller than the whole); None when ``lines`` are identical and already
    isolated (nothing left to split them by)."""
    distinct = sorted(set(lines))
    first, last = distinct[0], distinct[-1]
    if len(distinct) == 1:  # the same line again and again: isolate it, and read what is not it apart
        exact = (("|~", _at(0) + regex_literal(first)), ("!~", _at(len(first) + 1)))
        if exact[0] in filters and exact[1] in filters:
            return None
        return [exact, (("!~", exact[0][1]),), (exact[0], ("|~", exact[1][1]))]
    i = next((k for k, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), min(len(first), len(last)))
    chars = sorted({line[i] for line in distinct if len(line) > i})
    # A line that ends at i sorts first: "a character up to the largest seen" then splits it from the rest.
    pivot = chars[-1] if len(first) == i else chars[(len(chars) - 1) // 2]
    regex = _at(i) + _class_up_to(pivot)
    return [(("|~", regex),), (("!~", regex),)]


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
    try:
        streams = read_list(data.get("result"), "data.result", _stream)
        warnings = [text(w, "warnings") for w in lst(doc.get("warnings"), "warnings")]
    except Malformed as exc:
        raise BackendError(f"Loki answered with an unexpected shape: {exc}") from None
    records = [record for stream in streams for record in stream if record is not None]
    skipped = sum(record is None for stream in streams for record in stream)
    if skipped:  # one corrupt timestamp (seen in real exports) should not cost every other line
        warnings.append(f"{skipped} log line(s) with a negative timestamp skipped")
    records.sort(key=lambda r: r.time_ns, reverse=direction == "backward")
    return records, warnings


def _stream(stream: dict[str, Any]) -> list[LogRecord | None]:
    labels = _pairs(stream.get("stream"), "stream")
    return [_value(value, labels, f"values[{i}]") for i, value in enumerate(lst(stream.get("values"), "values"))]


def _value(value: Any, labels: dict[str, str], path: str) -> LogRecord | None:
    """One ``[ts, line]`` or ``[ts, line, {structuredMetadata, parsed}]``; None for a line whose timestamp is an
    integer before the epoch (it cannot be placed, and it says nothing about the others)."""
    if not isinstance(value, list) or len(value) < 2:
        raise Malformed(path, "expected [timestamp, line] (a list of two or three)")
    extra = obj(value[2], f"{path}[2]") if len(value) > 2 else {}
    time_ns = integer(value[0], f"{path}[0]", -INT64_MAX - 1, INT64_MAX)
    if time_ns < 0:
        return None
    return LogRecord(
        time_ns=time_ns,
        line=text(value[1], f"{path}[1]"),
        labels=labels,
        metadata=_pairs(extra.get("structuredMetadata"), f"{path}[2].structuredMetadata"),
        parsed=_pairs(extra.get("parsed"), f"{path}[2].parsed"),
    )


def _pairs(value: Any, path: str) -> dict[str, str]:
    """Labels as an object of strings, or (some versions) a list of ``{"name", "value"}``."""
    if isinstance(value, list):
        return dict(read_list(value, path, lambda p: (text(p.get("name"), "name"), text(p.get("value"), "value"))))
    return {str(k): text(v, f"{path}.{k}") for k, v in obj(value, path).items()}


@dataclass(frozen=True, slots=True)
class LogQueryOptions:
    strategy: str = "line"
    label_map: dict[str, str] = field(default_factory=lambda: {"service.name": "service_name"})
    trace_field: str = "trace_id"
    template: str | None = None
    margin_ns: int = 5 * 10**9
    limit: int = 5000
    batch: int = DEFAULT_BATCH


def fetch_trace_logs(
    client: LokiClient, trace: Trace, options: LogQueryOptions, window: tuple[int, int] | None = None
) -> LogResult:
    """The log lines of ``trace``, oldest first, over ``window`` (start, exclusive end): the workflows pass the one
    computed from the repaired tree (``analysis.logs.log_window``); without it, the spans' raw times widened by
    the margin on both sides."""
    query = trace_log_query(trace, options.strategy, options.label_map, options.trace_field, options.template)
    if window is not None:
        start, end = window
    else:
        start = min(s.start_ns for s in trace.spans) - options.margin_ns
        end = max(s.end_ns for s in trace.spans) + options.margin_ns + 1  # end is exclusive
    result = client.query_range(query, start, end, options.limit, "forward", options.batch)
    if options.strategy == "line":  # the substring filter may match a longer hex string: keep whole-ID mentions
        result.records = [r for r in result.records if log_mentions_trace(r.line, trace.trace_id)]
    return result
