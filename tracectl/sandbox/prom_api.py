"""The sandbox's Prometheus: ``/metrics`` for a real Prometheus to scrape, and the HTTP API for the PromQL subset.

Routes as Prometheus 2.42 answers them (BACKENDS-2026.md §5): ``/api/v1/query`` (``query``, ``time``),
``/api/v1/query_range`` (``query``, ``start``, ``end``, ``step``; more than 11,000 points is a 400), GET or POST
(form), ``/api/v1/label/{name}/values`` (``match[]``, ``start``, ``end``), ``/api/v1/status/buildinfo``,
``/-/ready``. Times are unix seconds (fractions allowed) or RFC 3339; values are strings, timestamps numbers;
errors are the ``{"status": "error", "errorType", "error"}`` envelope with Prometheus' words.

The series are computed from the store's traces (``red_metrics``) when first asked for and again when traces
arrive, so traces pushed over OTLP show up in the metrics too.
"""

from __future__ import annotations

import io
import math
import threading
import time
from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qs

from tracectl.sandbox import promql
from tracectl.sandbox.apis import BadRequest, Handler, Params, Reply, json_reply
from tracectl.sandbox.promseries import SeriesDB
from tracectl.sandbox.red_metrics import FAMILIES, INTERVAL_S, build_series
from tracectl.sandbox.store import Store

MAX_POINTS = 11_000
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
BUILDINFO = {"version": "2.42.0", "revision": "tracectl-sandbox", "branch": "", "buildUser": "", "buildDate": "",
             "goVersion": "go1.19.8"}  # fmt: skip


class PromSource:
    """The series of one store, rebuilt when its traces change."""

    def __init__(self, store: Store, families: tuple[str, ...] = FAMILIES, interval_s: int = INTERVAL_S) -> None:
        self.store = store
        self.families = families
        self.interval_s = interval_s
        self._db: SeriesDB | None = None
        self._built_for = (-1, -1)
        self._lock = threading.Lock()

    def db(self) -> SeriesDB:
        from tracectl.sandbox.otlp_series import add_otlp_metrics

        traces = [t for t, _ in self.store.traces()]
        pushed = self.store.metrics()  # what applications sent over OTLP: served as Prometheus stores it
        with self._lock:
            if self._db is None or self._built_for != (len(traces), len(pushed)):
                spans = [s for t in traces for s in t.spans]
                start = min((s.start_ns for s in spans), default=time.time_ns())
                end = max((s.end_ns for s in spans), default=start)
                self._db = build_series(traces, start, end, self.families, self.interval_s)
                add_otlp_metrics(self._db, pushed)
                self._built_for = (len(traces), len(pushed))
            return self._db


def _error(message: str, kind: str = "bad_data", status: int = 400) -> BadRequest:
    return BadRequest(json_reply({"status": "error", "errorType": kind, "error": message}, status))


def _time_ms(params: Params, name: str, default: int | None = None) -> int:
    raw = params.get(name, "")
    if not raw:
        if default is not None:
            return default
        raise _error(f'invalid parameter "{name}": cannot parse "" to a valid timestamp')
    try:
        return round(float(raw) * 1000)
    except ValueError:
        pass
    try:
        return round(datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        raise _error(f'invalid parameter "{name}": cannot parse "{raw}" to a valid timestamp') from None


def _step_ms(params: Params) -> int:
    raw = params.get("step", "")
    try:
        return round(float(raw) * 1000)
    except ValueError:
        pass
    try:
        return promql.duration_ms(raw)
    except promql.PromQLError:
        raise _error(f'invalid parameter "step": cannot parse "{raw}" to a valid duration') from None


def _form(params: Params, body: bytes) -> dict[str, list[str]]:
    """GET parameters and a POSTed form, every value of each (``match[]`` repeats)."""
    merged = {k: [v] for k, v in params.items()}
    if body:
        for k, vs in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items():
            merged.setdefault(k, []).extend(vs)
    return merged


def _parsed(query: str) -> promql.Node:
    try:
        return promql.parse(query)
    except promql.PromQLError as exc:
        raise _error(str(exc)) from None


def _value_text(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    import numpy as np

    return str(np.format_float_positional(v, trim="-"))  # Go's FormatFloat(v, 'f', -1, 64)


def _stamp(t_ms: int) -> int | float:
    return t_ms // 1000 if t_ms % 1000 == 0 else t_ms / 1000


def _metric(key: promql.Labels) -> dict[str, str]:
    return dict(key)


def query(source: PromSource) -> Handler:
    def handle(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
        form = {k: v[-1] for k, v in _form(params, body).items()}
        node = _parsed(form.get("query", ""))
        at = _time_ms(form, "time", time.time_ns() // 10**6)
        result = _evaluate(source, node, [at])
        if isinstance(result, float):
            return json_reply({"status": "success", "data": {"resultType": "scalar",
                                                             "result": [_stamp(at), _value_text(result)]}})  # fmt: skip
        vector = [{"metric": _metric(k), "value": [_stamp(at), _value_text(points[0][1])]} for k, points in result]
        return json_reply({"status": "success", "data": {"resultType": "vector", "result": vector}})

    return handle


def query_range(source: PromSource) -> Handler:
    def handle(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
        form = {k: v[-1] for k, v in _form(params, body).items()}
        start, end = _time_ms(form, "start"), _time_ms(form, "end")
        if end < start:
            raise _error('invalid parameter "end": end timestamp must not be before start time')
        step = _step_ms(form)
        if step <= 0:
            raise _error("zero or negative query resolution step widths are not accepted. Try a positive integer")
        if (end - start) / step > MAX_POINTS:
            raise _error("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
                         "resolution (?step=XX)")  # fmt: skip
        node = _parsed(form.get("query", ""))
        result = _evaluate(source, node, list(range(start, end + 1, step)))
        if isinstance(result, float):
            raise _error('invalid expression type "scalar" for range query, must be Scalar or instant Vector')
        matrix = [{"metric": _metric(k), "values": [[_stamp(t), _value_text(v)] for t, v in points]}
                  for k, points in result]  # fmt: skip
        return json_reply({"status": "success", "data": {"resultType": "matrix", "result": matrix}})

    return handle


Points = list[tuple[int, float]]


def _evaluate(source: PromSource, node: promql.Node, times: list[int]) -> list[tuple[promql.Labels, Points]] | float:
    evaluator = promql.Evaluator(source.db(), node)
    series: dict[promql.Labels, Points] = {}
    for t in times:
        try:
            value = evaluator.at(t)
        except promql.PromQLError as exc:
            raise _error(str(exc)) from None
        if isinstance(value, float):
            if len(times) == 1:
                return value
            value = {(): value}
        for key, v in value.items():
            series.setdefault(key, []).append((t, v))
    return sorted(series.items())


def _matching_labels(source: PromSource, params: Params, body: bytes) -> list[dict[str, str]]:
    """The label sets of the series with samples in ``start``..``end`` that one of ``match[]`` selects."""
    form = _form(params, body)
    start = _time_ms({"s": form.get("start", [""])[-1]}, "s", -(2**62))
    end = _time_ms({"e": form.get("end", [""])[-1]}, "e", 2**62)
    selectors = [_parsed(m) for m in form.get("match[]", [])]
    out = []
    for key, samples in source.db().series.items():
        labels = dict(key)
        if not samples.times_ms or samples.times_ms[-1] < start or samples.times_ms[0] > end:
            continue
        if selectors and not any(isinstance(s, promql.Selector) and promql.matches(labels, s.matchers)
                                 for s in selectors):  # fmt: skip
            continue
        out.append(labels)
    return out


def label_values(source: PromSource) -> Handler:
    def handle(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
        label = path.split("/")[4]
        values = {labels[label] for labels in _matching_labels(source, params, body) if label in labels}
        return json_reply({"status": "success", "data": sorted(values)})

    return handle


def label_names(source: PromSource) -> Handler:
    def handle(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
        names = {name for labels in _matching_labels(source, params, body) for name in labels}
        return json_reply({"status": "success", "data": sorted(names)})

    return handle


def exposition(source: PromSource) -> Handler:
    def handle(store: Store, path: str, params: Params, headers: Params, body: bytes) -> Reply:
        out = io.StringIO()
        source.db().write_openmetrics(out, timestamps=False)
        return Reply(200, out.getvalue().encode(), OPENMETRICS)

    return handle


def routes(source: PromSource) -> list[tuple[str, str, Handler]]:
    ok: Callable[..., Reply] = lambda *_: Reply(200, b"Prometheus Server is Ready.\n", "text/plain; charset=utf-8")  # noqa: E731
    table: list[tuple[str, str, Handler]] = []
    for method in ("GET", "POST"):
        table += [(method, "/api/v1/query", query(source)), (method, "/api/v1/query_range", query_range(source)),
                  (method, "/api/v1/label/{name}/values", label_values(source)),
                  (method, "/api/v1/labels", label_names(source))]  # fmt: skip
    table += [
        ("GET", "/api/v1/status/buildinfo", lambda *_: json_reply({"status": "success", "data": BUILDINFO})),
        ("GET", "/metrics", exposition(source)),
        ("GET", "/-/ready", ok),
        ("GET", "/-/healthy", ok),
    ]
    return table


def dump_openmetrics(db: SeriesDB) -> str:
    """Every sample with its timestamp, for ``promtool tsdb create-blocks-from openmetrics``."""
    out = io.StringIO()
    db.write_openmetrics(out, timestamps=True)
    return out.getvalue()
