"""Log lines matched to spans, and counted per component and level (pure; Loki I/O lives in backends).

A line belongs to a span by its span ID when it carries one (structured metadata, a parsed field, a label, or
a JSON body); otherwise to the deepest span of its service whose time window contains it; otherwise it stays
with the trace, unmatched.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import orjson

from tracectl.analysis.tree import SpanTree
from tracectl.ids import InvalidId, normalize_span_id
from tracectl.model import LogRecord

LEVELS = ("fatal", "error", "warn", "info", "debug", "trace", "unknown")
_LEVEL_ALIASES = {
    "critical": "fatal", "crit": "fatal", "fatal": "fatal", "panic": "fatal", "emergency": "fatal", "alert": "fatal",
    "error": "error", "err": "error", "eror": "error", "warning": "warn", "warn": "warn", "info": "info",
    "information": "info", "notice": "info", "debug": "debug", "dbug": "debug", "trace": "trace",
}  # fmt: skip
_LEVEL_IN_TEXT = re.compile(r"\b(FATAL|CRITICAL|PANIC|ERROR|ERR|WARNING|WARN|INFO|DEBUG|TRACE)\b", re.IGNORECASE)
_SPAN_FIELDS = ("span_id", "spanId", "spanID", "span.id")
_SERVICE_FIELDS = ("service_name", "service", "service.name", "app", "job")
_LEVEL_FIELDS = ("level", "detected_level", "severity_text", "severity", "lvl", "log.level")


@dataclass(frozen=True, slots=True)
class MatchedLog:
    record: LogRecord
    node: int  # span node in the tree, or -1 when no span matched
    level: str
    how: str  # "span_id" | "time" | "none"


def _body(record: LogRecord) -> Mapping[str, object]:
    line = record.line.lstrip()
    if not line.startswith("{"):
        return {}
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError:
        return {}
    return doc if isinstance(doc, dict) else {}


def level_of(record: LogRecord, body: Mapping[str, object] | None = None) -> str:
    value = record.get(*_LEVEL_FIELDS)
    if value is None:
        b = _body(record) if body is None else body
        value = next((str(b[f]) for f in _LEVEL_FIELDS if f in b), None)
    if value is None:
        match = _LEVEL_IN_TEXT.search(record.line[:200])
        value = match.group(1) if match else None
    return _LEVEL_ALIASES.get(value.lower(), "unknown") if value else "unknown"


def span_id_of(record: LogRecord, body: Mapping[str, object]) -> str | None:
    raw = record.get(*_SPAN_FIELDS) or next((str(body[f]) for f in _SPAN_FIELDS if f in body), None)
    if not raw:
        return None
    try:
        return normalize_span_id(raw)
    except InvalidId:
        return None


def service_of(record: LogRecord, body: Mapping[str, object]) -> str | None:
    return record.get(*_SERVICE_FIELDS) or next((str(body[f]) for f in _SERVICE_FIELDS if f in body), None)


def match_logs(tree: SpanTree, records: Iterable[LogRecord]) -> list[MatchedLog]:
    """Attach each line to a span (by span ID, else by service and time), in time order."""
    by_span_id: dict[str, int] = {}
    for i, span in enumerate(tree.spans):
        by_span_id.setdefault(
            span.span_id, i if not tree.keys[i].endswith("#server") else by_span_id.get(span.span_id, i)
        )
    by_service: dict[str, list[int]] = {}
    for i, span in enumerate(tree.spans):
        by_service.setdefault(span.service, []).append(i)
    out = []
    for record in sorted(records, key=lambda r: r.time_ns):
        body = _body(record)
        level = level_of(record, body)
        sid = span_id_of(record, body)
        if sid is not None and sid in by_span_id:
            out.append(MatchedLog(record, by_span_id[sid], level, "span_id"))
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
        service = tree.spans[m.node].service if m.node >= 0 else (service_of(m.record, _body(m.record)) or "(unknown)")
        counts[(service, m.level)] += 1
    return counts
