"""A fake Loki ``query_range`` with Loki's documented semantics, for the Loki client's tests."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import islice
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
        # Built once, not per request (the 12,000-line tests ask hundreds of times): each entry as the record the
        # pipeline sees, and the entries in each direction's answer order, with the sort key that bisects a range.
        self._records = [
            LogRecord(ts, line, {"service_name": stream}, dict(meta[0]) if meta else {})
            for ts, stream, line, *meta in entries
        ]
        forward = sorted(range(len(entries)), key=lambda i: (entries[i][0], entries[i][1], i))
        backward = sorted(range(len(entries)), key=lambda i: (-entries[i][0], entries[i][1], -i))
        self._order = {"forward": forward, "backward": backward}
        self._key = {"forward": [entries[i][0] for i in forward], "backward": [-entries[i][0] for i in backward]}

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
        direction = "forward" if p["direction"] == "forward" else "backward"
        order, key = self._order[direction], self._key[direction]
        if direction == "forward":  # start <= ts < end
            lo, hi = bisect_left(key, start), bisect_left(key, end)
        else:  # the key is -ts: -end < -ts <= -start
            lo, hi = bisect_right(key, -end), bisect_right(key, -start)
        chosen: list[int] = []  # the first `limit` entries of the range, in answer order, that pass the pipeline
        for seq in islice(order, lo, hi):
            if len(chosen) >= limit:
                break
            if pipeline.run(self._records[seq]) is not None:
                chosen.append(seq)
        by_stream: dict[str, list[list[Any]]] = {}
        for seq in chosen:
            ts, stream, line, *meta = self.entries[seq]
            extra = {"structuredMetadata": meta[0]} if meta and meta[0] else {}
            by_stream.setdefault(stream, []).append([str(ts), line, extra])
        result = [{"stream": {"service_name": s}, "values": v} for s, v in by_stream.items()]
        return httpx.Response(200, json={"status": "success", "data": {"resultType": "streams", "result": result}})
