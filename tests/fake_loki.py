"""A fake Loki ``query_range`` with Loki's documented semantics, for the Loki client's tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from tracectl.model import LogRecord
from tracectl.sandbox import logql_engine

Entry = tuple[int, str, str] | tuple[int, str, str, dict[str, str]]  # (ts, stream, line[, structured metadata])


class FakeLoki:
    """``query_range`` as Loki documents it: ``start`` inclusive, ``end`` exclusive, the first ``limit`` lines in
    ``direction`` order, equal timestamps in stream-label order (a stream's own lines in push order, reversed when
    going backward), the query's pipeline applied to every line as Loki applies it (line filters ``|=``, ``!=``,
    ``|~``, ``!~`` anywhere in it, label filters on structured metadata; the sandbox's LogQL engine), a cap per
    request (400 above it), and optionally Loki's ``max_query_length`` (400 "the query time range exceeds the
    limit"). The stream selector is not checked: every entry is in the queried streams."""

    def __init__(self, entries: Sequence[Entry], cap: int = 5000, max_query_length_ns: int = 0) -> None:
        self.entries = entries  # Loki stores a (stream, ts, line) once
        self.cap = cap
        self.max_query_length_ns = max_query_length_ns
        self.requests = 0
        self.queries: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        p = request.url.params
        self.queries.append(p["query"])
        limit = int(p["limit"])
        if limit > self.cap:
            return httpx.Response(400, text=f"max entries limit per query exceeded, limit > max ({limit} > {self.cap})")
        start, end = int(p["start"]), int(p["end"])
        if self.max_query_length_ns and (end // 10**6 - start // 10**6) * 10**6 > self.max_query_length_ns:
            hours = self.max_query_length_ns // (3600 * 10**9)
            return httpx.Response(
                400, text=f"the query time range exceeds the limit (query length: {(end - start) // 10**9}s, "
                f"limit: {hours // 24}d{hours % 24}h)"
            )  # fmt: skip
        try:
            pipeline = logql_engine.parse(p["query"])
        except logql_engine.LogQLError as exc:
            return httpx.Response(400, text=str(exc))
        forward = p["direction"] == "forward"
        chosen = [
            (ts, stream, seq, line)
            for seq, (ts, stream, line, *meta) in enumerate(self.entries)
            if start <= ts < end
            and pipeline.run(LogRecord(ts, line, {"service_name": stream}, dict(meta[0]) if meta else {})) is not None
        ]
        chosen.sort(key=lambda e: (e[0], e[1], e[2]) if forward else (-e[0], e[1], -e[2]))
        by_stream: dict[str, list[list[Any]]] = {}
        for ts, stream, seq, line in chosen[:limit]:
            meta = self.entries[seq][3] if len(self.entries[seq]) > 3 else {}  # type: ignore[misc]
            by_stream.setdefault(stream, []).append([str(ts), line, {"structuredMetadata": meta} if meta else {}])
        result = [{"stream": {"service_name": s}, "values": v} for s, v in by_stream.items()]
        return httpx.Response(200, json={"status": "success", "data": {"resultType": "streams", "result": result}})
