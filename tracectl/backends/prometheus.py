"""Prometheus' HTTP API (and what speaks it: Mimir, Thanos, VictoriaMetrics): ``/api/v1/query``,
``/api/v1/query_range`` and label values, on the shared HTTP layer (tenant, auth, retries, byte budget, deadline).

Wire facts (BACKENDS-2026.md §5, checked against Debian's Prometheus 2.42 by the tests):

- times are sent as unix seconds (a decimal, never an exponent); answers carry timestamps as JSON numbers in
  seconds and sample values as strings (``"NaN"``, ``"+Inf"`` and ``"-Inf"`` included);
- ``data.resultType`` is ``matrix`` (``values``, and for native histograms ``histograms``), ``vector``
  (``value`` or ``histogram``), ``scalar`` or ``string`` (``[t, "v"]``);
- a range query may not ask for more than 11,000 points per series: ``choose_step`` never does, and a ``--step``
  that would is refused here (exit 2) before any request, naming the smallest step that works;
- errors come in an envelope ``{"status": "error", "errorType", "error"}``. tracectl escapes and checks everything
  it puts into a query, so any refusal (``bad_data`` included) is the server's: exit 5 with its words. Warnings in
  a successful answer are kept on the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import orjson

from tracectl.backends.http import HttpClient
from tracectl.errors import BackendError, InputError
from tracectl.timerange import TimeRange

MAX_POINTS = 11_000  # per series, per range query (web/api/v1/api.go)
SECOND = 10**9
# Steps a person reads at a glance; the first that keeps a range under TARGET_POINTS is chosen.
STEPS_S = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800)
TARGET_POINTS = 180
MIN_WINDOW_NS = 60 * SECOND  # rate() windows shorter than this may hold fewer than two scrapes


@dataclass(frozen=True, slots=True)
class NativeHistogram:
    """A native histogram sample: count, sum and buckets ``(boundary rule, lower, upper, count)`` where the rule
    is 0 open left, 1 open right, 2 open both, 3 closed both."""

    count: float
    sum: float
    buckets: tuple[tuple[int, float, float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class PromSeries:
    """One series: its labels and its samples ``(time ns, value)`` (a vector holds one); native histograms apart."""

    labels: dict[str, str]
    samples: tuple[tuple[int, float], ...] = ()
    histograms: tuple[tuple[int, NativeHistogram], ...] = ()


@dataclass(slots=True)
class PromResult:
    query: str
    result_type: str  # matrix, vector, scalar or string
    series: list[PromSeries]
    warnings: list[str] = field(default_factory=list)


def seconds_text(ns: int) -> str:
    """Unix seconds (or a step in seconds) as Prometheus parses them: a plain decimal, ms precision at most."""
    return format(Decimal(round(ns / 10**6)) / 1000, "f")


def choose_step(time: TimeRange, floor_ns: int = STEPS_S[0] * SECOND) -> int:
    """The step for a range: the first of ``STEPS_S`` (at least ``floor_ns``) that keeps the series under
    ``TARGET_POINTS`` points, so a chart stays readable; never more than ``MAX_POINTS``."""
    for seconds in STEPS_S:
        step = seconds * SECOND
        if step >= floor_ns and time.duration_ns / step <= TARGET_POINTS:
            return step
    return max(floor_ns, math.ceil(time.duration_ns / MAX_POINTS / SECOND) * SECOND)


def check_step(time: TimeRange, step_ns: int, flag: str = "--step") -> None:
    """Refuse a step that gives more points than Prometheus answers (11,000 per series)."""
    if step_ns <= 0:
        raise InputError(f"{flag} must be positive")
    if time.duration_ns / step_ns > MAX_POINTS:
        smallest = math.ceil(time.duration_ns / MAX_POINTS / SECOND)
        raise InputError(
            f"{flag}: {step_ns / SECOND:g} s gives {time.duration_ns // step_ns:,} points per series over this range; "
            f"Prometheus answers at most {MAX_POINTS:,}: use a step of at least {smallest} s, or a shorter range"
        )


class PrometheusClient:
    name = "Prometheus"

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def query(self, expr: str, at_ns: int) -> PromResult:
        """An instant query at ``at_ns``."""
        return self._ask("/api/v1/query", {"query": expr, "time": seconds_text(at_ns)}, expr)

    def query_range(self, expr: str, time: TimeRange, step_ns: int) -> PromResult:
        """A range query: one point per ``step_ns`` from ``time.start_ns`` to ``time.end_ns``."""
        check_step(time, step_ns)
        params = {"query": expr, "start": seconds_text(time.start_ns), "end": seconds_text(time.end_ns),
                  "step": seconds_text(step_ns)}  # fmt: skip
        return self._ask("/api/v1/query_range", params, expr)

    def label_values(self, label: str, match: list[str], time: TimeRange) -> list[str]:
        """The values ``label`` takes on the series ``match`` selects (an index lookup: no samples are read)."""
        params: dict[str, Any] = {"match[]": match, "start": seconds_text(time.start_ns),
                                  "end": seconds_text(time.end_ns)}  # fmt: skip
        doc = self._envelope(self.http.get(f"/api/v1/label/{label}/values", params=params, kind="metrics"), label)
        data = doc.get("data")
        if not isinstance(data, list) or not all(isinstance(v, str) for v in data):
            raise BackendError(f"Prometheus answered the values of {label} with an unexpected shape")
        return sorted(data)

    def label_names(self, match: list[str], time: TimeRange) -> list[str]:
        """The label names of the series ``match`` selects."""
        params: dict[str, Any] = {"match[]": match, "start": seconds_text(time.start_ns),
                                  "end": seconds_text(time.end_ns)}  # fmt: skip
        doc = self._envelope(self.http.get("/api/v1/labels", params=params, kind="metrics"), "the label names")
        data = doc.get("data")
        if not isinstance(data, list) or not all(isinstance(v, str) for v in data):
            raise BackendError("Prometheus answered the label names with an unexpected shape")
        return sorted(data)

    def _ask(self, path: str, params: dict[str, Any], expr: str) -> PromResult:
        doc = self._envelope(self.http.get(path, params=params, kind="metrics"), f"the query {expr!r}")
        result = read_result(doc.get("data"), expr)
        result.warnings.extend(f"Prometheus: {w}" for w in doc.get("warnings") or () if isinstance(w, str))
        return result

    def _envelope(self, response: httpx.Response, what: str) -> dict[str, Any]:
        """The answer's JSON envelope, or a one-line ``BackendError`` in the server's words."""
        try:
            doc = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            doc = None
        if not isinstance(doc, dict) or "status" not in doc:
            if response.status_code == 200:
                raise BackendError(
                    f"Prometheus at {self.http.config.base_url!r} did not answer {what} with Prometheus' API "
                    "(not JSON with a status): check --prometheus-url"
                )
            raise self.http.error(response, what)
        if doc["status"] != "success":
            kind = str(doc.get("errorType") or "error")
            message = self.http.redact(str(doc.get("error") or "")[:300])
            raise BackendError(f"Prometheus refused {what} ({kind}, HTTP {response.status_code}): {message}")
        return doc


def read_result(data: Any, query: str = "") -> PromResult:
    """``data`` of a query answer → series. Raises ``BackendError`` for anything that is not the documented shape."""
    if not isinstance(data, dict) or not isinstance(data.get("resultType"), str):
        raise BackendError(f"Prometheus answered {query!r} without a resultType")
    kind, raw = data["resultType"], data.get("result")
    try:
        if kind in ("scalar", "string"):
            return PromResult(query, kind, [PromSeries({}, (_point(raw),) if kind == "scalar" else ())])
        if not isinstance(raw, list):
            raise TypeError("result is not a list")
        return PromResult(query, kind, [_series(item, kind) for item in raw])
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        raise BackendError(f"Prometheus answered {query!r} with an unexpected {kind} ({exc})") from None


def _series(item: Any, kind: str) -> PromSeries:
    labels = item["metric"]
    if not isinstance(labels, dict):
        raise TypeError("metric is not an object")
    labels = {str(k): str(v) for k, v in labels.items()}
    if kind == "vector":
        points = (_point(item["value"]),) if "value" in item else ()
        hists = (_histogram_point(item["histogram"]),) if "histogram" in item else ()
        return PromSeries(labels, points, hists)
    if kind != "matrix":
        raise ValueError(f"unknown resultType {kind!r}")
    return PromSeries(
        labels,
        tuple(_point(v) for v in item.get("values") or ()),
        tuple(_histogram_point(h) for h in item.get("histograms") or ()),
    )


def _time_ns(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise TypeError(f"timestamp {raw!r} is not a number")
    return round(raw * 1000) * 10**6  # seconds with millisecond precision


def _point(raw: Any) -> tuple[int, float]:
    t, v = raw
    return _time_ns(t), float(v)  # "NaN", "+Inf", "-Inf" read as such


def _histogram_point(raw: Any) -> tuple[int, NativeHistogram]:
    t, h = raw
    buckets = tuple((int(b[0]), float(b[1]), float(b[2]), float(b[3])) for b in h.get("buckets") or ())
    return _time_ns(t), NativeHistogram(float(h["count"]), float(h["sum"]), buckets)
