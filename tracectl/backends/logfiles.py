"""Saved log lines, read without a live Loki (``--logs-file FILE``, repeatable).

Accepted, sniffed from the content (gzip is read transparently, whatever the name):
- a Loki ``/loki/api/v1/query_range`` streams response, plain or ``categorize-labels`` (structured metadata and
  parsed fields kept apart), as ``curl … > logs.json`` saves it; several concatenated as JSON Lines;
- logcli's ``-o jsonl`` output: one ``{"labels": {…}, "line": "…", "timestamp": "<RFC 3339>"}`` per line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

from tracectl.backends.loki import streams_document
from tracectl.errors import BackendError, FormatError
from tracectl.formats.detect import read_file
from tracectl.model import LogRecord

_FRACTION = re.compile(r"\.(\d+)")
_EXPECTED = "expected a Loki query_range response or logcli -o jsonl output"


def read_log_files(paths: Iterable[str]) -> list[LogRecord]:
    """Every record of every file, oldest first."""
    records: list[LogRecord] = []
    for path in paths:
        records.extend(read_log_file(path))
    records.sort(key=lambda r: r.time_ns)
    return records


def read_log_file(path: str) -> list[LogRecord]:
    return read_log_bytes(read_file(path, "--logs-file", "a log file"), path)


def read_log_bytes(data: bytes, source: str) -> list[LogRecord]:
    if not data.strip():
        return []
    try:
        docs: list[Any] = [orjson.loads(data)]
    except orjson.JSONDecodeError:
        docs = []
        for n, line in enumerate(data.splitlines(), 1):
            if not line.strip():
                continue
            try:
                docs.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                raise FormatError(source, f"not JSON (line {n}: {exc.msg}); {_EXPECTED}") from None
    records: list[LogRecord] = []
    for n, doc in enumerate(docs, 1):
        where = f"line {n}: " if len(docs) > 1 else ""
        if isinstance(doc, dict) and "data" in doc:
            try:
                found, _ = streams_document(doc, "forward")
            except BackendError as exc:
                raise FormatError(source, f"{where}{str(exc).replace('Loki answered', 'holds')}") from None
            records.extend(found)
        elif isinstance(doc, dict) and isinstance(doc.get("line"), str):
            records.append(_logcli_entry(doc, source, where))
        else:
            raise FormatError(source, f"{where}JSON of an unexpected shape; {_EXPECTED}")
    return records


def _logcli_entry(doc: dict[str, Any], source: str, where: str) -> LogRecord:
    labels = doc.get("labels") or {}
    if not isinstance(labels, dict):
        raise FormatError(source, f"{where}labels must be an object")
    stamp = doc.get("timestamp")
    return LogRecord(
        time_ns=_instant(stamp, source, where),
        line=doc["line"],
        labels={str(k): str(v) for k, v in labels.items()},
    )


def _instant(value: Any, source: str, where: str) -> int:
    """An RFC 3339 timestamp with up to nanosecond digits (Go's time.Time in JSON), or epoch nanoseconds."""
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    if not isinstance(value, str):
        raise FormatError(source, f"{where}no timestamp")
    fraction = _FRACTION.search(value)
    digits = fraction.group(1) if fraction else ""
    plain = value[: fraction.start()] + value[fraction.end() :] if fraction else value
    try:
        dt = datetime.fromisoformat(plain.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise FormatError(source, f"{where}timestamp {value!r} is not RFC 3339") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp()) * 10**9 + int((digits + "000000000")[:9])
