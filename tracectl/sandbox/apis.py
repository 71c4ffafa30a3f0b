"""The request and reply plumbing every sandbox API module shares: ``Reply``, ``BadRequest``, route matching and
parameter parsing. Each API has its own module: ``tempo_api.py``, ``jaeger_api.py``, ``loki_api.py``,
``prom_api.py``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from tracectl.ids import InvalidId, normalize_trace_id
from tracectl.sandbox.store import Store


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] | None = None


class BadRequest(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


Params = dict[str, str]
Handler = Callable[[Store, str, Params, Params, bytes], Reply]


def match(pattern: str, path: str) -> dict[str, str] | None:
    regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$"
    m = re.match(regex, path)
    return m.groupdict() if m else None


def json_reply(obj: Any, status: int = 200, content_type: str = "application/json") -> Reply:
    return Reply(status, orjson.dumps(obj), content_type)


def text_reply(status: int, text: str) -> Reply:
    return Reply(status, text.encode(), "text/plain; charset=utf-8")


def trace_id_param(path: str, pattern: str, bad: Callable[[str], Reply]) -> str:
    raw = (match(pattern, path) or {}).get("id", "")
    try:
        return normalize_trace_id(raw)
    except InvalidId as exc:
        raise BadRequest(bad(str(exc))) from None


def int_param(params: Params, name: str, default: int | None, bad: Callable[[str], Reply]) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(bad(f"invalid {name}: {raw!r}")) from None
