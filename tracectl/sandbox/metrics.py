"""Metric points as an OTLP exporter sends them, kept whole for the sandbox's store.

Every data point of every OTLP metric type is kept with what it carries: gauges and sums as one value (sums
with their temporality and monotonicity), explicit-bucket histograms with their bounds and bucket counts,
exponential histograms with their scale, zero bucket and positive/negative bucket runs, summaries with their
quantiles, and every point's exemplars (with the trace and span IDs that link a metric to a trace). Nothing is
converted to Prometheus names or labels here: that is the reader's job (BACKENDS-2026.md §4.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tracectl.formats.otlp_json import attributes
from tracectl.ids import InvalidId, normalize_span_id, normalize_trace_id
from tracectl.model import EMPTY_SCOPE, Attributes, Scope

METRIC_KINDS = ("gauge", "sum", "histogram", "exponentialHistogram", "summary")
_TEMPORALITY = {0: "unspecified", 1: "delta", 2: "cumulative"}


@dataclass(frozen=True, slots=True)
class Buckets:
    """One side of an exponential histogram: bucket ``offset + i`` holds ``counts[i]``."""

    offset: int = 0
    counts: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Exemplar:
    time_ns: int
    value: float
    trace_id: str = ""
    span_id: str = ""
    attributes: Attributes = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MetricPoint:
    """One data point of one metric stream. ``kind`` is the OTLP type: gauge, sum, histogram,
    exponentialHistogram or summary; only the fields of that type are set."""

    name: str
    kind: str
    time_ns: int
    start_ns: int = 0
    unit: str = ""
    description: str = ""
    resource: Attributes = field(default_factory=dict)
    scope: Scope = EMPTY_SCOPE
    attributes: Attributes = field(default_factory=dict)
    temporality: str = ""  # sums and histograms: "delta" | "cumulative"
    monotonic: bool = False  # sums
    value: float | None = None  # gauges and sums (an int stays an int)
    count: int = 0  # histograms and summaries
    sum: float | None = None
    min: float | None = None
    max: float | None = None
    bounds: tuple[float, ...] = ()  # explicit-bucket histograms: len(bucket_counts) == len(bounds) + 1
    bucket_counts: tuple[int, ...] = ()
    scale: int = 0  # exponential histograms: base = 2 ** (2 ** -scale)
    zero_count: int = 0
    zero_threshold: float = 0.0
    positive: Buckets = Buckets()
    negative: Buckets = Buckets()
    quantiles: tuple[tuple[float, float], ...] = ()  # summaries: (quantile, value)
    exemplars: tuple[Exemplar, ...] = ()
    flags: int = 0  # 1 = no recorded value (a stale marker)

    @property
    def service(self) -> str:
        name = self.resource.get("service.name")
        return name if isinstance(name, str) and name else "unknown_service"


def _number(point: Mapping[str, Any]) -> float | None:
    if "asInt" in point:
        return int(point["asInt"])
    if "asDouble" in point:
        return float(point["asDouble"])
    return None


def _optional_float(point: Mapping[str, Any], key: str) -> float | None:
    return float(point[key]) if point.get(key) is not None else None


def _id(raw: Any, normalize: Any) -> str:
    try:
        return str(normalize(str(raw))) if raw else ""
    except InvalidId:
        return ""


def _exemplar(e: Mapping[str, Any]) -> Exemplar:
    trace_id, span_id = _id(e.get("traceId"), normalize_trace_id), _id(e.get("spanId"), normalize_span_id)
    value = float(_number(e) or 0.0)
    return Exemplar(int(e.get("timeUnixNano") or 0), value, trace_id, span_id, attributes(e.get("filteredAttributes")))


def _buckets(raw: Mapping[str, Any] | None) -> Buckets:
    raw = raw or {}
    return Buckets(int(raw.get("offset") or 0), tuple(int(c) for c in raw.get("bucketCounts") or ()))


def _temporality(data: Mapping[str, Any]) -> str:
    raw = data.get("aggregationTemporality") or 0
    if isinstance(raw, str):  # enum name in hand-written JSON
        return raw.removeprefix("AGGREGATION_TEMPORALITY_").lower()
    return _TEMPORALITY.get(int(raw), "unspecified")


def _typed_fields(kind: str, data: Mapping[str, Any], point: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``point`` that its metric type defines."""
    if kind in ("gauge", "sum"):
        return {"value": _number(point), **({"temporality": _temporality(data),
                "monotonic": bool(data.get("isMonotonic"))} if kind == "sum" else {})}  # fmt: skip
    common: dict[str, Any] = {"count": int(point.get("count") or 0), "sum": _optional_float(point, "sum")}
    if kind == "summary":
        quantiles = tuple((float(q.get("quantile") or 0), float(q.get("value") or 0))
                          for q in point.get("quantileValues") or ())  # fmt: skip
        return {**common, "quantiles": quantiles}
    common.update(temporality=_temporality(data), min=_optional_float(point, "min"), max=_optional_float(point, "max"))
    if kind == "histogram":
        return {**common, "bounds": tuple(float(b) for b in point.get("explicitBounds") or ()),
                "bucket_counts": tuple(int(c) for c in point.get("bucketCounts") or ())}  # fmt: skip
    return {**common, "scale": int(point.get("scale") or 0), "zero_count": int(point.get("zeroCount") or 0),
            "zero_threshold": float(point.get("zeroThreshold") or 0.0), "positive": _buckets(point.get("positive")),
            "negative": _buckets(point.get("negative"))}  # fmt: skip


def read_metrics(doc: Mapping[str, Any]) -> list[MetricPoint]:
    """Every data point of an OTLP ``ExportMetricsServiceRequest`` (as JSON)."""
    out: list[MetricPoint] = []
    for rm in doc.get("resourceMetrics") or ():
        resource = attributes((rm.get("resource") or {}).get("attributes"))
        for sm in rm.get("scopeMetrics") or ():
            raw_scope = sm.get("scope") or {}
            scope = Scope(raw_scope.get("name") or "", raw_scope.get("version") or "")
            for metric in sm.get("metrics") or ():
                kind = next((k for k in METRIC_KINDS if k in metric), None)
                if kind is None:
                    continue  # a metric without data: nothing to keep
                data = metric[kind] or {}
                about = {
                    "name": metric.get("name") or "", "kind": kind, "unit": metric.get("unit") or "",
                    "description": metric.get("description") or "", "resource": resource, "scope": scope,
                }  # fmt: skip
                out.extend(_point(about, data, point) for point in data.get("dataPoints") or ())
    return out


def _point(about: dict[str, Any], data: Mapping[str, Any], point: Mapping[str, Any]) -> MetricPoint:
    return MetricPoint(
        **about,
        time_ns=int(point.get("timeUnixNano") or 0),
        start_ns=int(point.get("startTimeUnixNano") or 0),
        attributes=attributes(point.get("attributes")),
        exemplars=tuple(_exemplar(e) for e in point.get("exemplars") or ()),
        flags=int(point.get("flags") or 0),
        **_typed_fields(about["kind"], data, point),
    )
