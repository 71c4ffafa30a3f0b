"""Log lines tied to traces and spans, and counted per component and level (pure; reading lives in backends).

A line belongs to a trace by its trace ID: structured metadata, a parsed field, a label, a field of a JSON body,
or a known trace ID found as a whole hex token in the message text (``TraceID: 4bf9…``, ``trace=4bf9…``; padded,
64-bit and zero-stripped forms alike). Failing that, to the one trace with a span of the line's service
running at the line's time (several candidates: the line stays with the window, not a trace).

Within a trace, a line belongs to a span by its span ID (the same places, the text included), otherwise to the
deepest span of its service whose time window contains it; otherwise it stays with the trace, unmatched.

A multi-line event (a stack trace stored one line per entry: ``\\tat …``, ``Caused by: …``, ``... 12 more``,
``  File "…"``) is one event: continuation lines join the line before them in the same stream.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import orjson

from tracectl.analysis.tree import MAX_VALID_NS, MIN_VALID_NS, SpanTree
from tracectl.ids import InvalidId, normalize_span_id, normalize_trace_id
from tracectl.model import LogRecord

LEVELS = ("fatal", "error", "warn", "info", "debug", "trace", "unknown")
_LEVEL_ALIASES = {
    "critical": "fatal", "crit": "fatal", "fatal": "fatal", "panic": "fatal", "emergency": "fatal", "alert": "fatal",
    "error": "error", "err": "error", "eror": "error", "warning": "warn", "warn": "warn", "info": "info",
    "information": "info", "notice": "info", "debug": "debug", "dbug": "debug", "trace": "trace",
}  # fmt: skip
_LEVEL_IN_TEXT = re.compile(r"\b(FATAL|CRITICAL|PANIC|ERROR|ERR|WARNING|WARN|INFO|DEBUG|TRACE)\b", re.IGNORECASE)
_SPAN_FIELDS = ("span_id", "spanId", "spanID", "span.id")
_TRACE_FIELDS = ("trace_id", "traceId", "traceID", "trace.id")
_SERVICE_FIELDS = ("service_name", "service", "service.name", "app", "job")
_LEVEL_FIELDS = ("level", "detected_level", "severity_text", "severity", "lvl", "log.level")
_MESSAGE_FIELDS = ("msg", "message", "log", "line", "body")  # "log": a container runtime's JSON wrapper
_HEX_TOKEN = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{8,32}(?![0-9A-Za-z])")
_CONTINUATION = re.compile(r"^(?:\s+(?:at |\.\.\. ?\d+|File \")|\s*Caused by:|\s*\.\.\. \d+ (?:more|common)|\s*\}?$)")


@dataclass(frozen=True, slots=True)
class MatchedLog:
    record: LogRecord
    node: int  # span node in the tree, or -1 when no span matched
    level: str
    how: str  # "span_id" | "time" | "none"


def body_of(record: LogRecord) -> Mapping[str, object]:
    """The line parsed as a JSON object, or empty."""
    line = record.line.lstrip()
    if not line.startswith("{"):
        return {}
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError:
        return {}
    return doc if isinstance(doc, dict) else {}


_body = body_of


def message_of(record: LogRecord, body: Mapping[str, object] | None = None) -> str:
    """The application's message: a JSON body's message field (or a container wrapper's ``log``), else the line."""
    b = body_of(record) if body is None else body
    for name in _MESSAGE_FIELDS:
        value = b.get(name)
        if isinstance(value, str):
            return value.rstrip("\n")
    return record.line


def level_of(record: LogRecord, body: Mapping[str, object] | None = None) -> str:
    b = body_of(record) if body is None else body
    value = record.get(*_LEVEL_FIELDS)
    if value is None:
        value = next((str(b[f]) for f in _LEVEL_FIELDS if f in b), None)
    if value is None:
        match = _LEVEL_IN_TEXT.search(message_of(record, b)[:200])
        value = match.group(1) if match else None
    return _LEVEL_ALIASES.get(value.lower(), "unknown") if value else "unknown"


def level_spellings(levels: Iterable[str]) -> list[str]:
    """Every word ``level_of`` reads as one of ``levels`` (``error`` → err, eror, error)."""
    wanted = set(levels)
    return sorted(word for word, level in _LEVEL_ALIASES.items() if level in wanted)


def level_field(record: LogRecord) -> str | None:
    """The label, structured metadata or parsed field ``level_of`` takes this line's level from; None when the
    level comes from the line itself (a JSON body's field or a word in the text), or there is none."""
    for source in (record.metadata, record.parsed, record.labels):
        for name in _LEVEL_FIELDS:
            if source.get(name):
                return name
    return None


def level_body_field(record: LogRecord) -> str | None:
    """The top-level field of a JSON body ``level_of`` takes the level from (when no label carries it), or None."""
    body = body_of(record)
    return next((f for f in _LEVEL_FIELDS if f in body), None)


def _field(record: LogRecord, body: Mapping[str, object], names: tuple[str, ...]) -> str | None:
    return record.get(*names) or next((str(body[f]) for f in names if body.get(f)), None)


def span_id_of(record: LogRecord, body: Mapping[str, object]) -> str | None:
    raw = _field(record, body, _SPAN_FIELDS)
    if not raw:
        return None
    try:
        return normalize_span_id(raw)
    except InvalidId:
        return None


def service_of(record: LogRecord, body: Mapping[str, object]) -> str | None:
    return _field(record, body, _SERVICE_FIELDS)


def is_continuation(record: LogRecord, body: Mapping[str, object] | None = None) -> bool:
    """A stack-trace line (or the like) that continues the event before it."""
    return bool(_CONTINUATION.match(message_of(record, body)))


def _hex_tokens(text: str) -> list[str]:
    return [t.lower().lstrip("0") for t in _HEX_TOKEN.findall(text)]


def match_logs(tree: SpanTree, records: Iterable[LogRecord]) -> list[MatchedLog]:
    """Attach each line to a span (by span ID, else by service and time), in time order."""
    by_span_id: dict[str, int] = {}
    for i, span in enumerate(tree.spans):
        by_span_id.setdefault(
            span.span_id, i if not tree.keys[i].endswith("#server") else by_span_id.get(span.span_id, i)
        )
    by_stripped = {sid.lstrip("0"): node for sid, node in by_span_id.items()}
    by_service: dict[str, list[int]] = {}
    for i, span in enumerate(tree.spans):
        by_service.setdefault(span.service, []).append(i)
    out = []
    for record in sorted(records, key=lambda r: r.time_ns):
        body = body_of(record)
        level = level_of(record, body)
        sid = span_id_of(record, body)
        node = by_span_id.get(sid, -1) if sid is not None else -1
        if node < 0:
            node = next((by_stripped[t] for t in _hex_tokens(message_of(record, body)) if t in by_stripped), -1)
        if node >= 0:
            out.append(MatchedLog(record, node, level, "span_id"))
            continue
        node = _by_time(tree, by_service.get(service_of(record, body) or "", []), record.time_ns)
        out.append(MatchedLog(record, node, level, "time" if node >= 0 else "none"))
    return out


def _by_time(tree: SpanTree, candidates: list[int], time_ns: int) -> int:
    inside = [i for i in candidates if tree.start[i] <= time_ns <= tree.end[i]]
    if not inside:
        return -1
    return max(inside, key=lambda i: (tree.depth[i], tree.start[i], -i))  # the innermost span


def level_counts(matched: Iterable[MatchedLog], tree: SpanTree) -> Counter[tuple[str, str]]:
    """(service, level) → number of lines; unmatched lines count under their own service label or "(unknown)"."""
    counts: Counter[tuple[str, str]] = Counter()
    for m in matched:
        own = service_of(m.record, body_of(m.record)) or "(unknown)"
        counts[(tree.spans[m.node].service if m.node >= 0 else own, m.level)] += 1
    return counts


# ---------------------------------------------------------------------------------------- lines to traces


@dataclass(slots=True)
class Event:
    """One log event: a line, with the continuation lines that followed it in its stream folded in."""

    record: LogRecord
    level: str
    message: str
    service: str | None
    trace_id: str | None
    continued: list[LogRecord] = field(default_factory=list)  # the continuation lines folded into it

    @property
    def lines(self) -> int:
        return 1 + len(self.continued)


def _trace_index(trees: Sequence[SpanTree]) -> dict[str, str]:
    """Every spelling of each known trace ID (zero-stripped, so padded and 64-bit forms meet) → the ID."""
    return {t.trace_id.lstrip("0"): t.trace_id for t in trees}


class _TimeIndex:
    """Per service, the time window each trace spends in it; a line's time finds the trace if only one fits."""

    def __init__(self, trees: Sequence[SpanTree]) -> None:
        windows: dict[str, dict[str, list[int]]] = defaultdict(dict)
        for tree in trees:
            for i, span in enumerate(tree.spans):
                w = windows[span.service].setdefault(tree.trace_id, [tree.start[i], tree.end[i]])
                w[0], w[1] = min(w[0], tree.start[i]), max(w[1], tree.end[i])
        self.sorted: dict[str, list[tuple[int, int, str]]] = {}
        self.longest: dict[str, int] = {}
        for service, per_trace in windows.items():
            rows = sorted((s, e, tid) for tid, (s, e) in per_trace.items())
            self.sorted[service] = rows
            self.longest[service] = max(e - s for s, e, _ in rows)
        self.starts = {svc: [r[0] for r in rows] for svc, rows in self.sorted.items()}

    def find(self, service: str | None, time_ns: int) -> str | None:
        rows = self.sorted.get(service or "")
        if not rows:
            return None
        found = None
        k = bisect.bisect_right(self.starts[service or ""], time_ns) - 1
        floor = time_ns - self.longest[service or ""]
        while k >= 0 and rows[k][0] >= floor:
            if rows[k][1] >= time_ns:
                if found is not None and found != rows[k][2]:
                    return None  # two traces were in that service at that time: ambiguous
                found = rows[k][2]
            k -= 1
        return found


def trace_events(records: Iterable[LogRecord], trees: Sequence[SpanTree]) -> list[Event]:
    """Lines folded into events (per stream, in time order) and tied to one of ``trees`` where possible."""
    known = _trace_index(trees)
    times = _TimeIndex(trees)
    streams: dict[tuple[tuple[str, str], ...], list[LogRecord]] = defaultdict(list)
    for r in records:
        streams[tuple(sorted(r.labels.items()))].append(r)
    events: list[Event] = []
    for lines in streams.values():
        last: Event | None = None
        for record in sorted(lines, key=lambda r: r.time_ns):
            body = body_of(record)
            if last is not None and is_continuation(record, body):
                last.continued.append(record)
                continue
            message = message_of(record, body)
            service = service_of(record, body)
            trace_id, carries_id = _trace_of(record, body, message, known)
            last = Event(record, level_of(record, body), message, service, trace_id)
            if trace_id is None and not carries_id:  # a line naming some other trace is not ours by time
                last.trace_id = times.find(service, record.time_ns)
            events.append(last)
    events.sort(key=lambda e: e.record.time_ns)
    return events


def _trace_of(
    record: LogRecord, body: Mapping[str, object], message: str, known: dict[str, str]
) -> tuple[str | None, bool]:
    """(the known trace the line names, whether it names a trace ID at all: a field, or a 32-hex token)."""
    raw = _field(record, body, _TRACE_FIELDS)
    if raw:
        try:
            return known.get(normalize_trace_id(raw).lstrip("0")), True
        except InvalidId:
            pass
    tokens = _HEX_TOKEN.findall(message)
    found = next((known[t] for t in (x.lower().lstrip("0") for x in tokens) if t in known), None)
    return found, found is not None or any(len(t) == 32 for t in tokens)


def records_of(tree: SpanTree, records: Iterable[LogRecord]) -> list[LogRecord]:
    """The lines that belong to ``tree``'s trace (continuation lines with their event), oldest first."""
    out = []
    for e in trace_events(records, [tree]):
        if e.trace_id == tree.trace_id:
            out.append(e.record)
            out.extend(e.continued)
    return out


def log_window(tree: SpanTree, margin_ns: int) -> tuple[int, int]:
    """The time range to ask for a trace's log lines: its repaired start and end (a span at t=0 or near the int64
    limit was already set right by the tree) widened by ``margin_ns`` on each side, end exclusive, and clamped to
    the years a real timestamp can be in (1980-2200), so no raw time can make the window absurd."""
    margin = max(margin_ns, 0)
    start = min(max(tree.wall_start - margin, MIN_VALID_NS), MAX_VALID_NS)
    end = min(max(tree.wall_end + margin + 1, start + 1), MAX_VALID_NS)
    return start, max(end, start + 1)
