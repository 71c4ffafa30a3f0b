"""A fake Loki ``query_range`` with Loki's documented semantics, for the Loki client's tests."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tracectl.quoting import go_unquote

_FILTER = re.compile(r'\s*(\|~|!~)\s*(`[^`]*`|"(?:[^"\\]|\\.)*")')
_TRAILING = re.compile(r'(?:\s*(?:\|~|!~)\s*(?:`[^`]*`|"(?:[^"\\]|\\.)*"))*$')  # the line filters at the end


class FakeLoki:
    """``query_range`` as Loki documents it: ``start`` inclusive, ``end`` exclusive, the first ``limit`` lines in
    ``direction`` order, equal timestamps in stream-label order (a stream's own lines in push order, reversed when
    going backward), regex line filters ``|~``/``!~`` after the query, and a cap per request (400 above it)."""

    def __init__(self, entries: list[tuple[int, str, str]], cap: int = 5000) -> None:
        self.entries = entries  # (ts, stream, line); Loki stores a (stream, ts, line) once
        self.cap = cap
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        p = request.url.params
        limit = int(p["limit"])
        if limit > self.cap:
            return httpx.Response(400, text=f"max entries limit per query exceeded, limit > max ({limit} > {self.cap})")
        filters = [(op, re.compile(go_unquote(lit))) for op, lit in _FILTER.findall(_TRAILING.search(p["query"])[0])]
        start, end = int(p["start"]), int(p["end"])
        forward = p["direction"] == "forward"
        chosen = [
            (ts, stream, seq, line)
            for seq, (ts, stream, line) in enumerate(self.entries)
            if start <= ts < end and all((rx.search(line) is not None) == (op == "|~") for op, rx in filters)
        ]
        chosen.sort(key=lambda e: (e[0], e[1], e[2]) if forward else (-e[0], e[1], -e[2]))
        by_stream: dict[str, list[list[Any]]] = {}
        for ts, stream, _seq, line in chosen[:limit]:
            by_stream.setdefault(stream, []).append([str(ts), line, {}])
        result = [{"stream": {"service_name": s}, "values": v} for s, v in by_stream.items()]
        return httpx.Response(200, json={"status": "success", "data": {"resultType": "streams", "result": result}})
