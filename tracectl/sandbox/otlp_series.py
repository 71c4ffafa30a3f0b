"""OTLP metrics pushed to the sandbox, served through PromQL as Prometheus' OTLP receiver stores them.

An application's own metrics (an OpenTelemetry SDK exporting ``http.server.request.duration``) are what a real
``tracectl metrics`` reads in production; the sandbox serves them, under the names and labels Prometheus gives
them (BACKENDS-2026.md §4.2):

- the name sanitised (``.`` → ``_``), the unit's suffix added (``s`` → ``_seconds``, ``ms`` → ``_milliseconds``,
  ``By`` → ``_bytes``; a ``{annotation}`` unit adds nothing), ``_total`` on a monotonic sum;
- ``job`` = ``service.namespace/service.name`` (or ``service.name``), ``instance`` = ``service.instance.id``,
  every data point attribute a label (sanitised); the resource's other attributes on ``target_info``;
- cumulative values as they are, from a zero at the stream's start time (created-timestamp zero ingestion, so
  the requests before the first export count), delta values summed into cumulative ones;
- an exponential histogram as classic buckets (``le`` at its bucket boundaries, at the coarsest scale the
  series used, at most 2**(1/4) apart), where Prometheus would keep a native histogram: the sandbox's PromQL
  subset reads classic buckets, and the quantiles come out the same to within a bucket.

Where a service sends its own series of a family, the series the sandbox computes from its traces for that
family and job are dropped, so nothing is counted twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from tracectl.sandbox.metrics import MetricPoint
from tracectl.sandbox.promseries import Family, SeriesDB, family_of, labels_of, le_text

MAX_SCALE = 2  # exponential buckets at most 2**(1/4) ≈ 1.19 apart: enough for a p99, few series
_UNITS = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds", "By": "bytes",
          "KiBy": "kibibytes", "MiBy": "mebibytes", "1": "ratio", "%": "percent", "min": "minutes",
          "h": "hours"}  # fmt: skip
_INVALID = re.compile(r"[^a-zA-Z0-9_:]")
_RESOURCE_LABELS = ("service.name", "service.namespace", "service.instance.id")


def sanitise(name: str) -> str:
    out = _INVALID.sub("_", name)
    return f"_{out}" if out[:1].isdigit() else out


def metric_name(p: MetricPoint) -> str:
    """``http.server.request.duration`` in ``s`` → ``http_server_request_duration_seconds`` (histograms get their
    ``_bucket``/``_count``/``_sum`` when written, counters ``_total`` here)."""
    name = sanitise(p.name)
    unit = "" if p.unit.startswith("{") else _UNITS.get(p.unit, sanitise(p.unit) if p.unit else "")
    if unit and not name.endswith(f"_{unit}"):
        name += f"_{unit}"
    return f"{name}_total" if p.kind == "sum" and p.monotonic and not name.endswith("_total") else name


def job_labels(resource: Mapping[str, object]) -> dict[str, str]:
    service, namespace = resource.get("service.name"), resource.get("service.namespace")
    job = f"{namespace}/{service}" if namespace else str(service or "unknown_service")
    instance = resource.get("service.instance.id")
    return {"job": job, **({"instance": str(instance)} if instance else {})}


def add_otlp_metrics(db: SeriesDB, points: Sequence[MetricPoint]) -> None:
    """Write ``points`` into ``db`` as Prometheus series, replacing the trace-derived ones they duplicate."""
    streams: dict[tuple[str, tuple[tuple[str, str], ...]], list[MetricPoint]] = {}
    for p in sorted(points, key=lambda p: p.time_ns):
        if p.kind not in ("gauge", "sum", "histogram", "exponentialHistogram") or p.flags & 1:
            continue
        labels = {**job_labels(dict(p.resource)), **{sanitise(k): str(v) for k, v in p.attributes.items()}}
        streams.setdefault((metric_name(p), tuple(sorted(labels.items()))), []).append(p)
    _drop_duplicated(db, {(name, dict(key)["job"]) for name, key in streams})
    for (name, key), stream in streams.items():
        _write(db, name, dict(key), stream)
    _target_info(db, points)


def _drop_duplicated(db: SeriesDB, sent: set[tuple[str, str]]) -> None:
    """The series computed from traces of a family and job that the service also sent itself."""
    for key in list(db.series):
        labels = dict(key)
        family = family_of(labels["__name__"], db.families)
        base = family.name if family is not None else labels["__name__"]
        if (base, labels.get("job", "")) in sent or (labels["__name__"], labels.get("job", "")) in sent:
            del db.series[key]


def _write(db: SeriesDB, name: str, labels: dict[str, str], stream: list[MetricPoint]) -> None:
    first = stream[0]
    kind = {"gauge": "gauge", "sum": "counter" if first.monotonic else "gauge"}.get(first.kind, "histogram")
    db.declare(Family(name.removesuffix("_total") if kind == "counter" else name, kind, first.description))
    by_ms: dict[int, MetricPoint] = {}
    for p in stream:
        by_ms[p.time_ns // 10**6] = p  # one sample per millisecond: the last one
    zero_ms = _created_ms(first, min(by_ms))
    if kind != "histogram":
        if zero_ms is not None and kind == "counter":
            db.add(name, labels, zero_ms, 0.0)
        total = 0.0
        for t_ms, p in sorted(by_ms.items()):
            value = float(p.value or 0)
            total = total + value if p.temporality == "delta" else value
            db.add(name, labels, t_ms, total)
        return
    bounds = _bounds(list(by_ms.values()))
    running: list[float] | None = None
    count = total_sum = 0.0
    if zero_ms is not None:
        for le in [*(le_text(b) for b in bounds), "+Inf"]:
            db.add(f"{name}_bucket", {**labels, "le": le}, zero_ms, 0.0)
        db.add(f"{name}_count", labels, zero_ms, 0.0)
        db.add(f"{name}_sum", labels, zero_ms, 0.0)
    for t_ms, p in sorted(by_ms.items()):
        cumulative = _cumulative(p, bounds)
        delta = p.temporality == "delta"
        running = [a + b for a, b in zip(running, cumulative, strict=True)] if delta and running else cumulative
        count = count + p.count if delta else float(p.count)
        total_sum = total_sum + (p.sum or 0.0) if delta else float(p.sum or 0.0)
        for bound, n in zip(bounds, running, strict=True):
            db.add(f"{name}_bucket", {**labels, "le": le_text(bound)}, t_ms, n)
        db.add(f"{name}_bucket", {**labels, "le": "+Inf"}, t_ms, count)
        db.add(f"{name}_count", labels, t_ms, count)
        db.add(f"{name}_sum", labels, t_ms, total_sum)


def _created_ms(first: MetricPoint, first_ms: int) -> int | None:
    """A cumulative stream starts from zero at its start time: that zero, as Prometheus' created-timestamp zero
    ingestion writes it, so a rate counts the requests before the first export too (None: no such time)."""
    if first.temporality != "cumulative" or first.kind not in ("sum", "histogram", "exponentialHistogram"):
        return None
    start_ms = first.start_ns // 10**6
    return start_ms if 0 < start_ms < first_ms else None


def _bounds(stream: Iterable[MetricPoint]) -> list[float]:
    """Every sample's bucket boundaries, the same set for all (a histogram's ``le`` series never come and go)."""
    points = list(stream)
    explicit = sorted({b for p in points for b in p.bounds})
    exponential = [p for p in points if p.kind == "exponentialHistogram" and p.positive.counts]
    if not exponential:
        return explicit
    scale = min(MAX_SCALE, *(p.scale for p in exponential))
    lo = min(_index(p.positive.offset, p.scale, scale) for p in exponential)
    hi = max(_index(p.positive.offset + len(p.positive.counts) - 1, p.scale, scale) for p in exponential)
    base = 2.0 ** (2.0**-scale)
    return [base ** (i + 1) for i in range(lo, hi + 1)]


def _index(index: int, scale: int, target: int) -> int:
    """Bucket ``index`` at ``scale`` is inside bucket ``index >> (scale - target)`` at the coarser ``target``."""
    return index >> (scale - target)


def _cumulative(p: MetricPoint, bounds: list[float]) -> list[float]:
    """How many observations were at or below each bound."""
    if p.kind == "histogram":
        out, seen = [], 0.0
        counts = list(p.bucket_counts)
        for bound in bounds:
            seen = sum(c for b, c in zip(p.bounds, counts, strict=False) if b <= bound)
            out.append(seen)
        return out
    base = 2.0 ** (2.0**-p.scale)
    uppers = [base ** (p.positive.offset + i + 1) for i in range(len(p.positive.counts))]
    below = p.zero_count + sum(p.negative.counts)
    return [below + sum(c for u, c in zip(uppers, p.positive.counts, strict=True) if u <= bound * (1 + 1e-9))
            for bound in bounds]  # fmt: skip


def _target_info(db: SeriesDB, points: Sequence[MetricPoint]) -> None:
    """``target_info``: one series per resource, its attributes (but the job's and the instance's) as labels."""
    db.declare(Family("target", "info", "Target metadata"))
    times: dict[tuple[tuple[str, str], ...], list[int]] = {}
    for p in points:
        resource = dict(p.resource)
        labels = {**job_labels(resource), **{sanitise(k): str(v) for k, v in resource.items()
                                              if k not in _RESOURCE_LABELS}}  # fmt: skip
        times.setdefault(tuple(sorted(labels.items())), []).append(p.time_ns // 10**6)
    for key, stamps in times.items():
        if labels_of("target_info", dict(key)) in db.series:
            continue
        for t_ms in sorted(set(stamps)):
            db.add("target_info", dict(key), t_ms, 1)
