"""The sandbox Jaeger's SPM metrics API (``/api/metrics/calls|errors|latencies``), computed from its traces as
Jaeger's Prometheus queries would compute them from span metrics (BACKENDS-2026.md §3.1): points from
``endTs − lookback`` to ``endTs`` every ``step``, each over the ``ratePer`` before it; ``errors`` is errors /
calls (``"NaN"`` without calls); latencies are exact quantiles in milliseconds. Parameters are integer
milliseconds; a missing service is Jaeger's 400.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from tracectl.model import SpanKind
from tracectl.sandbox.apis import BadRequest, Handler, Params, Reply, json_reply
from tracectl.sandbox.store import Store

KINDS = {"server": SpanKind.SERVER, "client": SpanKind.CLIENT, "internal": SpanKind.INTERNAL,
         "producer": SpanKind.PRODUCER, "consumer": SpanKind.CONSUMER}  # fmt: skip
NAMES = {"calls": "service_call_rate", "errors": "service_error_rate", "latencies": "service_latencies"}


def _bad(message: str, code: int = 400) -> BadRequest:
    return BadRequest(json_reply({"data": None, "total": 0, "limit": 0, "offset": 0,
                                  "errors": [{"code": code, "msg": message}]}, code))  # fmt: skip


def _ms(params: Params, name: str, default: int) -> int:
    raw = params.get(name, "")
    if not raw:
        return default
    if not raw.isdigit():
        raise _bad(f"unable to parse param '{name}': strconv.ParseInt: parsing \"{raw}\": invalid syntax")
    return int(raw)


def _value(v: float) -> Any:
    return "NaN" if math.isnan(v) else v


def _stamp(t_ms: int) -> str:
    return datetime.fromtimestamp(t_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _handler(what: str) -> Handler:
    def handle(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
        service = params.get("service", "")
        if not service:
            raise _bad("please provide at least one service name")
        kind = KINDS.get(params.get("spanKind", "server"), SpanKind.SERVER)
        quantile = float(params.get("quantile", "nan")) if what == "latencies" else 0.0
        if what == "latencies" and not 0 < quantile <= 1:
            raise _bad("please provide a quantile between (0, 1]")
        end = _ms(params, "endTs", 0) or round(datetime.now(UTC).timestamp() * 1000)
        lookback, step = _ms(params, "lookback", 3_600_000), _ms(params, "step", 5000)
        rate_per = _ms(params, "ratePer", 600_000)
        spans = sorted((s.start_ns // 10**6, s.duration_ns / 1e6, s.is_error) for t, _ in store.traces()
                       for s in t.spans if s.service == service and s.kind is kind)  # fmt: skip
        points = []
        for t in range(end - lookback, end + 1, max(step, 1)):
            inside = [(d, e) for start, d, e in spans if t - rate_per < start <= t]
            if what == "calls":
                value = len(inside) / (rate_per / 1000)
            elif what == "errors":
                value = sum(e for _, e in inside) / len(inside) if inside else math.nan
            else:
                ordered = sorted(d for d, _ in inside)
                value = ordered[min(len(ordered) - 1, math.ceil(quantile * len(ordered)) - 1)] if ordered else math.nan
            points.append({"gaugeValue": {"doubleValue": _value(value)}, "timestamp": _stamp(t)})
        metric = {"labels": [{"name": "service_name", "value": service}], "metricPoints": points}
        return json_reply({"name": NAMES[what], "type": "GAUGE", "help": NAMES[what], "metrics": [metric]})

    return handle


ROUTES: list[tuple[str, str, Handler]] = [("GET", f"/api/metrics/{w}", _handler(w)) for w in NAMES]
