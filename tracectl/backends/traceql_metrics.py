"""Reading TraceQL metrics answers: ``/api/metrics/query_range`` (Tempo ≥ 2.4) and ``/api/metrics/query`` (≥ 2.6).

The quirks of the wire (BACKENDS-2026.md §2.2 and §2.6, checked against a real Tempo 3.0.3 in
``../shared/samples/tempo3``), each handled once here:

- a sample whose value is 0 has no ``value``; an empty answer may have no ``series`` at all;
- ``timestampMs`` is an int64 as a string, and a sample's time is the END of its bucket ``(T-step, T]``;
- doubles may be the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``;
- label values are typed (``stringValue``, ``intValue`` as a string, ``doubleValue``, ``boolValue``), and a
  missing attribute is the string ``"nil"`` (read as None);
- intrinsics come back under their legacy unscoped names (``by(span:name)`` → ``name``, ``trace:rootService`` →
  ``rootServiceName``): keys are mapped to the scoped spelling the query used;
- exemplar ``trace:id`` values are hex with leading zeros stripped: padded to 32 characters;
- ``compare()`` answers one series per attribute value with ``__meta_type`` = baseline / selection /
  baseline_total / selection_total (totals carry the attribute with a nil value), only the topN values of each,
  and may send ``__meta_error`` = ``__too_many_values__`` when an attribute had more, or (3.0.3,
  ``../shared/samples/tempo3/pushdown``) cut them silently: ``compare_rows`` puts them side by side, and a value
  absent from a side is unknown (None), not 0, unless that side's answer for the attribute is complete;
- ``status: PARTIAL`` (with ``message``) and ``completedJobs < totalJobs`` mean an incomplete answer: warnings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tracectl.errors import BackendError
from tracectl.formats.otlp_json import any_value
from tracectl.ids import InvalidId, normalize_trace_id

LabelValue = str | int | float | bool | None

# Legacy unscoped names Tempo uses for intrinsics in metrics labels → the scoped spelling.
LABEL_KEYS = {
    "name": "span:name",
    "status": "span:status",
    "kind": "span:kind",
    "duration": "span:duration",
    "statusMessage": "span:statusMessage",
    "rootServiceName": "trace:rootService",
    "rootName": "trace:rootName",
    "traceDuration": "trace:duration",
}
META_TYPE = "__meta_type"
META_ERROR = "__meta_error"
TOO_MANY_VALUES = "__too_many_values__"


@dataclass(frozen=True, slots=True)
class Exemplar:
    time_ns: int
    value: float
    trace_id: str | None  # 32 hex characters, or None when the exemplar names no trace
    labels: dict[str, LabelValue]  # without trace:id; a duration label is Tempo's text ("41.837814ms")


@dataclass(frozen=True, slots=True)
class Series:
    labels: dict[str, LabelValue]
    samples: tuple[tuple[int, float], ...] = ()  # (bucket end in ns, value); range queries
    exemplars: tuple[Exemplar, ...] = ()
    value: float | None = None  # instant queries

    def total(self) -> float:
        """The instant value, or the sum of the samples (NaN samples skipped)."""
        if self.value is not None:
            return self.value
        return math.fsum(v for _, v in self.samples if not math.isnan(v))


@dataclass(slots=True)
class MetricsResult:
    query: str
    instant: bool
    series: list[Series]
    completed_jobs: int | None = None
    total_jobs: int | None = None
    warnings: list[str] = field(default_factory=list)


def read_metrics(doc: Any, query: str, instant: bool) -> MetricsResult:
    """A ``QueryRangeResponse`` (or ``QueryInstantResponse`` when ``instant``) → typed series and warnings."""
    if not isinstance(doc, dict) or not isinstance(doc.get("series", []), list):
        raise BackendError(f"Tempo answered the metrics query with an unexpected shape ({type(doc).__name__})")
    series = [_series(raw, instant) for raw in doc.get("series") or []]
    metrics = doc.get("metrics")
    metrics = metrics if isinstance(metrics, dict) else {}
    done, total = metrics.get("completedJobs"), metrics.get("totalJobs")
    result = MetricsResult(
        query, instant, series, done if isinstance(done, int) else None, total if isinstance(total, int) else None
    )
    if doc.get("status") == "PARTIAL":
        result.warnings.append(f"Tempo marked the metrics PARTIAL: {doc.get('message') or 'some series are missing'}")
    if result.completed_jobs is not None and result.total_jobs and result.completed_jobs < result.total_jobs:
        result.warnings.append(
            f"Tempo answered the metrics query from {result.completed_jobs} of {result.total_jobs} jobs: "
            "values may be low"
        )
    return result


def _series(raw: Any, instant: bool) -> Series:
    if not isinstance(raw, dict):
        raise BackendError("Tempo sent a metrics series that is not an object")
    labels = read_labels(raw.get("labels"))
    if instant:
        return Series(labels, value=number(raw.get("value")))
    samples = tuple((_time_ns(s.get("timestampMs")), number(s.get("value"))) for s in raw.get("samples") or [])
    return Series(labels, samples, tuple(_exemplar(e) for e in raw.get("exemplars") or []))


def _exemplar(raw: dict[str, Any]) -> Exemplar:
    labels = read_labels(raw.get("labels"), canonical=False)
    tid = labels.pop("trace:id", None)
    try:
        trace_id = normalize_trace_id(str(tid)) if tid else None  # zero-stripped hex: padded
    except InvalidId:
        trace_id = None
    return Exemplar(_time_ns(raw.get("timestampMs")), number(raw.get("value")), trace_id, labels)


def read_labels(raw: Any, canonical: bool = True) -> dict[str, LabelValue]:
    """``[{key, value: {stringValue|intValue|doubleValue|boolValue}}]`` → a dict; "nil" → None."""
    out: dict[str, LabelValue] = {}
    for item in raw or []:
        if not isinstance(item, dict) or "key" not in item:
            raise BackendError("Tempo sent a metrics label without a key")
        key = str(item["key"])
        out[LABEL_KEYS.get(key, key) if canonical else key] = label_value(item.get("value"))
    return out


def label_value(raw: Any) -> LabelValue:
    """A typed label value; ``"nil"`` (how Tempo writes a missing attribute) → None."""
    if not isinstance(raw, dict) or not raw:
        return None
    try:
        value = any_value(raw)  # intValue as a string, "NaN"/"Infinity" doubles: read as OTLP JSON reads them
    except (TypeError, ValueError):
        raise BackendError(f"Tempo sent a metrics label value it cannot be read: {raw!r}") from None
    if value == "nil":
        return None
    return value if isinstance(value, str | bool | int | float) else str(value)


def number(raw: Any) -> float:
    """A proto3-JSON double: a number, ``"NaN"``/``"Infinity"``/``"-Infinity"``, or absent (= 0)."""
    if raw is None:
        return 0.0
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise BackendError(f"Tempo sent a metrics value that is not a number: {raw!r}")
    try:
        return float(raw)  # float() reads the three special strings proto3 JSON uses
    except ValueError:
        raise BackendError(f"Tempo sent a metrics value that is not a number: {raw!r}") from None


def _time_ns(raw: Any) -> int:
    try:
        return int(raw) * 1_000_000  # int64 milliseconds, as a string
    except (TypeError, ValueError):
        raise BackendError(f"Tempo sent a metrics timestamp that is not an integer: {raw!r}") from None


# -------------------------------------------------------------------------------------------- compare()


@dataclass(frozen=True, slots=True)
class CompareRow:
    """One attribute value in ``compare()`` (None: the spans without the attribute): spans carrying it in the
    selection and the baseline (None: unknown, the value was not among that side's topN), and the totals of each
    set."""

    attribute: str
    value: LabelValue
    selection: float | None
    baseline: float | None
    selection_total: float
    baseline_total: float

    @property
    def selection_share(self) -> float | None:
        if self.selection is None:
            return None
        return self.selection / self.selection_total if self.selection_total else 0.0

    @property
    def baseline_share(self) -> float | None:
        if self.baseline is None:
            return None
        return self.baseline / self.baseline_total if self.baseline_total else 0.0

    def gain(self) -> float | None:
        """How much larger the value's share is among the selection than the baseline; None when unknown."""
        a, b = self.selection_share, self.baseline_share
        return None if a is None or b is None else a - b


@dataclass(slots=True)
class CompareAnswer:
    rows: list[CompareRow]  # the most over-represented (known) first, then those with an unknown side
    truncated: list[str]  # attributes with a value not among the topN on either side: marked, or found cut
    saturated: list[str]  # attributes whose selection side may hold more than topN values (ask a larger topN)
    cut_share: dict[str, float] = field(default_factory=dict)  # saturated attribute → the largest share of the
    # selection a value cut from it can have (the smallest share among those that came back)


def compare_rows(series: Iterable[Series], top_n: int = 10) -> tuple[list[CompareRow], list[str]]:
    """``compare()`` series → rows per (attribute, value), largest selection share first, and the attributes
    whose answer was cut at topN."""
    answer = compare_answer(series, top_n)
    return answer.rows, answer.truncated


def compare_answer(series: Iterable[Series], top_n: int = 10) -> CompareAnswer:
    """``compare()`` series → rows side by side. A side's answer for an attribute is complete when it holds fewer
    than ``top_n`` values or its values add up to the side's total; else a value absent from it is unknown."""
    counts: dict[tuple[str, LabelValue], dict[str, float]] = {}
    totals: dict[str, dict[str, float]] = {}
    marked: set[str] = set()
    for s in series:
        kind = s.labels.get(META_TYPE)
        attrs = [(k, v) for k, v in s.labels.items() if k not in (META_TYPE, META_ERROR)]
        if len(attrs) != 1:
            continue
        (attr, value) = attrs[0]
        if s.labels.get(META_ERROR) == TOO_MANY_VALUES:
            marked.add(attr)
            continue
        if not isinstance(kind, str):
            continue
        if kind.endswith("_total"):
            slot = totals.setdefault(attr, {})
            slot[kind.removesuffix("_total")] = slot.get(kind.removesuffix("_total"), 0.0) + s.total()
        else:
            slot = counts.setdefault((attr, value), {})
            slot[kind] = slot.get(kind, 0.0) + s.total()
    seen: dict[tuple[str, str], list[float]] = {}  # (attribute, side) → the values' counts
    for (attr, _), c in counts.items():
        for which, n in c.items():
            seen.setdefault((attr, which), []).append(n)

    def complete(attr: str, side: str) -> bool:
        got = seen.get((attr, side), [])
        total = totals.get(attr, {}).get(side, 0.0)
        return attr not in marked and (len(got) < top_n or math.fsum(got) >= total - 0.5)

    def side(c: dict[str, float], attr: str, which: str) -> float | None:
        return c[which] if which in c else (0.0 if complete(attr, which) else None)

    rows = [
        CompareRow(
            attr,
            value,
            side(c, attr, "selection"),
            side(c, attr, "baseline"),
            totals.get(attr, {}).get("selection", 0.0),
            totals.get(attr, {}).get("baseline", 0.0),
        )
        for (attr, value), c in counts.items()
    ]
    rows.sort(key=lambda r: (r.gain() is None, -(r.gain() or 0.0), r.attribute, str(r.value)))
    names = {attr for attr, _ in counts} | marked
    cut = sorted(a for a in names if not (complete(a, "selection") and complete(a, "baseline")))
    saturated = sorted(a for a in names if not complete(a, "selection"))
    cut_share = {}
    for a in saturated:
        total = totals.get(a, {}).get("selection", 0.0)
        cut_share[a] = min(seen.get((a, "selection"), [0.0])) / total if total else 0.0
    return CompareAnswer(rows, cut, saturated, cut_share)
