"""Jaeger's SPM metrics API (``/api/metrics/calls|errors|latencies``, BACKENDS-2026.md §3.1), for triage's window
when there is no Prometheus and the trace backend is Jaeger.

Parameters are integers in milliseconds (``endTs``, ``lookback``, ``step``, ``ratePer``: Go durations are not
accepted), ``service`` and ``spanKind`` (``server``), ``quantile`` for latencies. The answer is a ``MetricFamily``
in protojson: ``metrics[].metricPoints[]`` with ``gaugeValue.doubleValue`` (``"NaN"`` possible) and an RFC 3339
``timestamp``. ``errors`` is a ratio (errors / calls); latencies are in the histogram's unit, milliseconds by
default. Without a metrics backend Jaeger answers 501 in its ``errors[{code, msg}]`` envelope.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from tracectl.errors import BackendError

if TYPE_CHECKING:
    from tracectl.backends.jaeger import JaegerClient
    from tracectl.timerange import TimeRange

MS = 10**6
Points = tuple[tuple[int, float], ...]


def spm_params(service: str, time: TimeRange, step_ns: int) -> dict[str, Any]:
    """The parameters for one window: a point per step (on multiples of the step, as Prometheus' are), each rate
    over its own step."""
    end = time.end_ns - time.end_ns % step_ns
    lookback = (end - time.start_ns) // step_ns * step_ns
    return {"service": service, "spanKind": "server", "endTs": end // MS, "lookback": lookback // MS,
            "step": step_ns // MS, "ratePer": step_ns // MS}  # fmt: skip


def spm_series(client: JaegerClient, what: str, params: dict[str, Any]) -> Points:
    """``what`` = calls, errors or latencies: the points of the one series (the service's), in time order."""
    response = client.http.get(f"/api/metrics/{what}", params=params, kind="metrics")
    try:
        doc = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        doc = None
    if response.status_code != 200 or not isinstance(doc, dict):
        errors = doc.get("errors") if isinstance(doc, dict) else None
        message = errors[0].get("msg") if isinstance(errors, list) and errors and isinstance(errors[0], dict) else ""
        raise BackendError(f"Jaeger's metrics API refused {what} (HTTP {response.status_code}): "
                           f"{message or client.http.excerpt(response, 160)}")  # fmt: skip
    try:
        metrics = doc.get("metrics") or []
        return tuple(sorted(_point(p) for p in metrics[0].get("metricPoints") or ())) if metrics else ()
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise BackendError(f"Jaeger answered {what} with an unexpected metric family ({exc})") from None


def _point(raw: dict[str, Any]) -> tuple[int, float]:
    stamp = datetime.fromisoformat(str(raw["timestamp"]).replace("Z", "+00:00"))
    return round(stamp.timestamp() * 1000) * MS, float(raw["gaugeValue"]["doubleValue"])
