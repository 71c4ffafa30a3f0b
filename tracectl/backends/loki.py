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

Limits: a read looks for one line past its limit (proof that there are more: ``truncated``) and stops as soon as
it has it, inside a tie too (the rest of the tie is not read; ``tie_cut_ns`` says the cut fell there). A
client-side ``keep`` test makes the limit count the lines it keeps. A window longer than Loki's
``max_query_length`` (400 "the query time range exceeds the limit") is read in consecutive windows of that
length, unless the caller names the flag that set the window. Tie splitting stops with a clear error past
``MAX_TIE_FILTERS`` filters, or as soon as Loki returns a line its part's filters exclude (it ignores them): the
query would otherwise grow until the URL is refused.

Responses in both forms are read: plain (structured metadata merged into stream labels) and ``categorize-labels``
(a third element per value with ``structuredMetadata`` and ``parsed``), which tracectl asks for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import httpx
import orjson

from tracectl.backends.http import HttpClient
from tracectl.backends.logql import log_mentions_trace, logql_literal, regex_literal, trace_log_query
from tracectl.errors import BackendError, InputError
from tracectl.formats.typed import INT64_MAX, Malformed, integer, lst, obj, read_list, text
from tracectl.model import LogRecord, Trace
from tracectl.timerange import rfc3339

CATEGORIZE = {"X-Loki-Response-Encoding-Flags": "categorize-labels"}
DEFAULT_BATCH = 1000  # lines per request; Loki's max_entries_limit_per_query is 5000 by default
MAX_REQUESTS = 10_000  # a guard against a server that never runs out; the deadline bounds the time anyway
MAX_TIE_FILTERS = 100  # line filters one tie part may carry (~4 KB of URL): past it, a clear error, not "URL too long"
_TOO_LONG = re.compile(r"the query time range exceeds the limit \(query length: [^,]*, limit: ([0-9a-z]+)\)")
_MODEL_DURATION = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
_UNIT_NS = {"y": 365 * 86400 * 10**9, "w": 7 * 86400 * 10**9, "d": 86400 * 10**9, "h": 3600 * 10**9,
            "m": 60 * 10**9, "s": 10**9, "ms": 10**6}  # fmt: skip

Filter = tuple[str, str]  # (LogQL line-filter operator, RE2 regex)
Keep = Callable[[LogRecord], bool]


@dataclass(slots=True)
class LogResult:
    query: str
    records: list[LogRecord]
    warnings: list[str] = field(default_factory=list)
    truncated: bool = False  # stopped at the limit with more (matching) lines available
    requests: int = 0
    limit: int = 0  # the limit that applied (0 = none)
    tie_cut_ns: int | None = None  # when the cut fell among lines sharing one timestamp: that timestamp
    windows: int = 1  # how many windows the range was read in (Loki's max_query_length split it)


class RangeTooLong(BackendError):
    """Loki's 400 "the query time range exceeds the limit": ``limit_ns`` is its ``max_query_length``."""

    def __init__(self, message: str, limit_ns: int) -> None:
        super().__init__(message)
        self.limit_ns = limit_ns


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
        keep: Keep | None = None,
        range_flag: str | None = None,
    ) -> LogResult:
        """Up to ``limit`` lines (0 = all) matching ``query`` in ``[start_ns, end_ns)``, newest first
        (``backward``) or oldest first (``forward``), fetched ``batch`` lines a request (see the module's
        docstring). ``keep`` is a client-side filter on top of the query: the limit counts the lines it keeps.

        A window longer than Loki's ``max_query_length`` is read in consecutive windows of that length, unless
        ``range_flag`` names the flag the user set the range with: then the error says to narrow it with that."""
        if direction not in ("backward", "forward"):
            raise InputError(f"direction must be backward or forward, not {direction!r}")
        if start_ns >= end_ns:
            raise InputError("impossible time range for Loki: start must be before end")
        if limit < 0:
            raise InputError(f"the line limit must be 0 (all) or more, not {limit}")
        result = LogResult(query, [], limit=limit)
        target = limit + 1 if limit else None  # one line past the limit proves there are more
        try:
            self._read_window(query, start_ns, end_ns, target, direction, batch, keep, result)
        except RangeTooLong as exc:
            if range_flag is not None or exc.limit_ns <= 2 * 10**9 or result.records:
                hint = f"; narrow it with {range_flag}" if range_flag else ""
                raise BackendError(f"{exc}{hint}") from None
            step = exc.limit_ns - 10**9  # Loki compares lengths in milliseconds: stay clear of the edge
            windows = list(pairwise([*range(start_ns, end_ns, step), end_ns]))
            result.windows = len(windows)
            for lo, hi in windows if direction == "forward" else reversed(windows):
                if target is not None and len(result.records) >= target:
                    break
                self._read_window(query, lo, hi, target, direction, batch, keep, result)
        if limit and len(result.records) > limit:
            result.truncated = True
            last, first_left = result.records[limit - 1].time_ns, result.records[limit].time_ns
            result.tie_cut_ns = last if first_left == last else None
            del result.records[limit:]
        return result

    def sample(self, query: str, start_ns: int, end_ns: int, limit: int) -> list[LogRecord]:
        """The first ``limit`` lines of ``[start_ns, end_ns)`` in one request (a look at what the lines carry)."""
        return self._page(query, start_ns, end_ns, limit, "forward", LogResult(query, []))

    def _read_window(
        self, query: str, lo: int, hi: int, target: int | None, direction: str, batch: int, keep: Keep | None,
        result: LogResult,
    ) -> None:  # fmt: skip
        """Append to ``result`` the lines of ``[lo, hi)`` in ``direction`` order until ``target`` are kept."""
        out = result.records
        while lo < hi and (target is None or len(out) < target):
            need = None if target is None else target - len(out)
            want = batch if need is None else min(batch, need)  # with `keep`, a lower bound of what is needed
            page = self._page(query, lo, hi, want, direction, result)
            if len(page) < want:  # the window held no more
                out.extend(_kept(page, keep))
                return
            boundary = page[-1].time_ns
            out.extend(_kept((r for r in page if r.time_ns != boundary), keep))
            if target is not None and len(out) >= target:
                return
            self._read_tie(query, boundary, batch, None if target is None else target - len(out), keep, result)
            lo, hi = (boundary + 1, hi) if direction == "forward" else (lo, boundary)

    def _read_tie(
        self, query: str, ts: int, batch: int, room: int | None, keep: Keep | None, result: LogResult
    ) -> None:
        """The lines at timestamp ``ts``, split by content until each part fits one request; stops as soon as
        ``room`` lines are kept (the rest of the tie is not read)."""
        got: list[LogRecord] = []
        parts: list[tuple[Filter, ...]] = [()]
        while parts and (room is None or len(got) < room):
            filters = parts.pop()
            need = None if room is None else room - len(got)
            want = batch if need is None or keep is not None else min(batch, need)  # a part is split only when full
            page = self._page(query + _logql_filters(filters), ts, ts + 1, want, "forward", result)
            _check_split(page, filters, ts)
            kept = _kept(page, keep)
            if len(page) < want or (need is not None and len(kept) >= need):
                got.extend(kept)  # the whole part, or more than enough of it
                continue
            split = _split_filters([r.line for r in page], filters)
            if split is None:  # `batch` identical lines, each in its own stream: no filter tells them apart
                got.extend(kept)
                result.warnings.append(
                    f"{batch} or more identical lines share timestamp {ts} ({page[0].line[:60]!r}): only {batch} "
                    "of them were read"
                )
                continue
            if len(filters) + 2 > MAX_TIE_FILTERS:
                raise BackendError(
                    f"more than {batch} log lines share the timestamp {rfc3339(ts)} and {MAX_TIE_FILTERS} line "
                    "filters did not tell them apart (does this Loki apply line filters?): stopped there"
                )
            # The part with the fewest lines seen is read first: the likeliest to fit one request, so a limit
            # is met with the fewest requests that come back full (and are then split again).
            parts.extend(
                sorted((filters + extra for extra in split), key=lambda f: -_matching(page, f[len(filters) :]))
            )
        result.records.extend(got)

    def _page(self, query: str, start: int, end: int, limit: int, direction: str, result: LogResult) -> list[LogRecord]:
        result.requests += 1
        if result.requests > MAX_REQUESTS:
            raise BackendError(f"Loki kept answering after {MAX_REQUESTS} requests for one query: stopped")
        params = {"query": query, "start": start, "end": end, "limit": limit, "direction": direction}
        response = self.http.get("/loki/api/v1/query_range", params=params, headers=CATEGORIZE, kind="logs")
        if response.status_code != 200:
            error = self.http.error(response, "the log query")
            too_long = _TOO_LONG.search(response.text) if response.status_code == 400 else None
            if too_long is not None and (limit_ns := _model_duration(too_long.group(1))):
                raise RangeTooLong(str(error), limit_ns)
            raise error
        records, warnings = parse_query_range(response, direction)
        result.warnings.extend(w for w in warnings if w not in result.warnings)
        return records[:limit]  # a server that answers with more than asked for is held to what was asked


def _kept(records: Iterable[LogRecord], keep: Keep | None) -> list[LogRecord]:
    return list(records) if keep is None else [r for r in records if keep(r)]


def _model_duration(text: str) -> int:
    """Nanoseconds of a Prometheus-style duration as Loki prints its limits (``30d1h``, ``721h``); 0 if unread."""
    parts = _MODEL_DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return 0
    return sum(int(n) * _UNIT_NS[u] for n, u in parts)


def _matching(page: list[LogRecord], filters: tuple[Filter, ...]) -> int:
    compiled = [(op == "|~", re.compile(regex)) for op, regex in filters]
    return sum(all((rx.search(r.line) is not None) == positive for positive, rx in compiled) for r in page)


def _check_split(page: list[LogRecord], filters: tuple[Filter, ...], ts: int) -> None:
    """Every line of a tie part must pass the part's filters: a Loki that ignores them would be asked forever."""
    if not filters:
        return
    compiled = [(op, re.compile(regex)) for op, regex in filters]  # our filters read the same in RE2 and Python
    for record in page:
        if any((rx.search(record.line) is not None) != (op == "|~") for op, rx in compiled):
            raise BackendError(
                f"Loki ignored the line filters that split the lines sharing timestamp {ts} (it returned "
                f"{record.line[:40]!r}, which they exclude): those lines cannot be read past one request"
            )


def _logql_filters(filters: tuple[Filter, ...]) -> str:
    return "".join(f" {op} {logql_literal(regex)}" for op, regex in filters)


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
    if len(first) == i:  # a line that ends at i sorts first: "a character up to the largest seen" splits it off
        pivot = chars[-1]
    else:  # the character that halves the lines seen (weighted, so each part holds about half of them)
        seen = sorted(line[i] for line in lines)
        pivot = min(seen[(len(seen) - 1) // 2], chars[-2])
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
    limit: int = 5000  # 0 = every line
    batch: int = DEFAULT_BATCH
    margin_flag: str | None = None  # set when the user chose the margin: a too-long window is then an error naming it


def fetch_trace_logs(
    client: LokiClient,
    trace: Trace,
    options: LogQueryOptions,
    pipeline: str = "",
    keep: Keep | None = None,
    window: tuple[int, int] | None = None,
) -> LogResult:
    """The log lines of ``trace``, oldest first, over ``window`` (start, exclusive end): the workflows pass the one
    computed from the repaired tree (``analysis.logs.log_window``); without it, the spans' raw times widened by
    the margin on both sides. ``pipeline`` is appended to the query (filters Loki applies); ``keep`` filters in
    the client, and the limit counts its lines."""
    query = trace_query(trace, options)
    start, end = window if window is not None else trace_window(trace, options)
    if options.strategy == "line":  # the substring filter may match a longer hex string: keep whole-ID mentions
        mentions = trace.trace_id
        keep = _both(lambda r: log_mentions_trace(r.line, mentions), keep)
    return client.query_range(
        query + pipeline, start, end, options.limit, "forward", options.batch, keep=keep, range_flag=options.margin_flag
    )


def trace_query(trace: Trace, options: LogQueryOptions) -> str:
    """The LogQL query for the trace's lines under the options' strategy (no extra filters)."""
    return trace_log_query(trace, options.strategy, options.label_map, options.trace_field, options.template)


def trace_window(trace: Trace, options: LogQueryOptions) -> tuple[int, int]:
    """``[start, end)`` in nanoseconds: the trace's time span widened by the margin on both sides."""
    start = min(s.start_ns for s in trace.spans) - options.margin_ns
    end = max(s.end_ns for s in trace.spans) + options.margin_ns + 1  # end is exclusive
    return start, end


def _both(first: Keep, second: Keep | None) -> Keep:
    return first if second is None else (lambda r: first(r) and second(r))
