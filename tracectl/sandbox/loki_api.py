"""The sandbox's Loki query API over the store."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

from tracectl.model import LogRecord
from tracectl.sandbox import logql_engine
from tracectl.sandbox.apis import BadRequest, Handler, Params, Reply, json_reply, text_reply
from tracectl.sandbox.store import Store

LOKI_MAX_ENTRIES = 5000


def _loki_time(raw: str | None, default: int) -> int:
    if not raw:
        return default
    if re.fullmatch(r"\d+", raw):
        value = int(raw)
        return value if value > 10**12 else value * 10**9  # nanoseconds, or whole seconds
    if re.fullmatch(r"\d+\.\d*", raw):
        return round(float(raw) * 10**9)
    head, _, frac = raw.rstrip("Z").partition(".")
    return int(datetime.fromisoformat(head + "+00:00").timestamp()) * 10**9 + int((frac + "0" * 9)[:9] or 0)


def loki_query_range(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
    try:
        query = logql_engine.parse(params.get("query", ""))
    except logql_engine.LogQLError as exc:
        raise BadRequest(text_reply(400, str(exc))) from None
    limit = int(params.get("limit") or 100)
    if limit > LOKI_MAX_ENTRIES:
        raise BadRequest(
            text_reply(
                400, f"max entries limit per query exceeded, limit > max_entries_limit ({limit} > {LOKI_MAX_ENTRIES})"
            )
        )
    try:
        end = _loki_time(params.get("end"), time.time_ns())  # Loki's defaults: the hour before now
        start = _loki_time(params.get("start"), end - 3600 * 10**9)
    except ValueError as exc:
        raise BadRequest(text_reply(400, f"invalid time: {exc}")) from None
    direction = params.get("direction", "backward")
    selected: list[tuple[LogRecord, dict[str, str]]] = []
    for record in store.logs():
        if not (start <= record.time_ns < end) or not query.stream_matches(dict(record.labels)):
            continue
        parsed = query.run(record)
        if parsed is not None:
            selected.append((record, parsed))
    selected.sort(key=lambda rp: rp[0].time_ns, reverse=direction == "backward")
    selected = selected[:limit]
    categorize = "categorize-labels" in headers.get("x-loki-response-encoding-flags", "")
    streams: dict[tuple[tuple[str, str], ...], list[list[Any]]] = {}
    for record, parsed in selected:
        if categorize:
            key = tuple(sorted(record.labels.items()))
            extra: dict[str, Any] = {}
            if record.metadata:
                extra["structuredMetadata"] = dict(record.metadata)
            if parsed:
                extra["parsed"] = parsed
            streams.setdefault(key, []).append([str(record.time_ns), record.line, extra])
        else:  # structured metadata and parsed fields are merged into the stream labels
            key = tuple(sorted({**record.labels, **record.metadata, **parsed}.items()))
            streams.setdefault(key, []).append([str(record.time_ns), record.line])
    data: dict[str, Any] = {
        "resultType": "streams",
        "result": [{"stream": dict(k), "values": v} for k, v in streams.items()],
        "stats": {"summary": {"totalEntriesReturned": len(selected)}},
    }
    if categorize:
        data["encodingFlags"] = ["categorize-labels"]
    return json_reply({"status": "success", "data": data})


LOKI_ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/loki/api/v1/query_range", loki_query_range),
    ("GET", "/ready", lambda *_: text_reply(200, "ready")),
    (
        "GET",
        "/loki/api/v1/labels",
        lambda store, *_: json_reply(
            {"status": "success", "data": sorted({k for r in store.logs() for k in r.labels})}
        ),
    ),
]
