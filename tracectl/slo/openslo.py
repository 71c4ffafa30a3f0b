"""OpenSLO ``apiVersion: openslo/v1``, ``kind: SLO`` documents → :class:`tracectl.slo.spec.SLO`.

Read: ``metadata.name/displayName/labels/annotations``, ``spec.service``, ``spec.description``,
``spec.budgetingMethod``, ``spec.timeWindow[0].duration`` (rolling), an inline ``spec.indicator`` with a
``ratioMetric`` (``counter``, ``good`` or ``bad``, ``total``, or ``raw`` + ``rawType``) or a ``thresholdMetric``
whose metric source is Prometheus, and ``spec.objectives[]`` (``target`` or ``targetPercent``; ``op``/``value``
for thresholds). One SLO per objective. Other kinds in the same file (Service, AlertPolicy…) are skipped.
``spec.indicator.spec.modelQuality`` is tracectl's own extension (docs/slo.md).
"""

from __future__ import annotations

import re
from typing import Any

from tracectl.slo._fields import Node, duration_seconds, model_quality
from tracectl.slo.sloth import _camel
from tracectl.slo.spec import (
    SLI,
    SLO,
    WINDOW_PLACEHOLDER,
    Alerting,
    EventsSLI,
    ModelQualitySLI,
    RawSLI,
    SpecFormat,
    ThresholdOp,
    ThresholdSLI,
    has_window,
)

API_VERSION = "openslo/v1"
_SELECTOR = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:]*\s*(\{[^{}]*\})?$")
_METADATA = ("name", "displayName", "labels", "annotations")
_SPEC = (
    "description",
    "service",
    "indicator",
    "indicatorRef",
    "timeWindow",
    "budgetingMethod",
    "objectives",
    "alertPolicies",
)


def parse(document: dict[str, Any], source: str, default_period_seconds: int) -> list[SLO]:
    root = Node.of(document, source, "")
    root.only(("apiVersion", "kind", "metadata", "spec"))
    if root.text("apiVersion") != API_VERSION:
        raise root.fail("apiVersion", f"{document['apiVersion']!r}: tracectl reads {API_VERSION}")
    if root.text("kind") != "SLO":
        return []  # Service, SLI, AlertPolicy… documents may share the file
    metadata = root.req_child("metadata")
    name = metadata.text("name")
    metadata = metadata.named(name)
    metadata.only(_METADATA)
    spec = root.req_child("spec").named(name)
    spec.only(_SPEC)
    if spec.has("indicatorRef"):
        raise spec.fail("indicatorRef", "references to separate SLI documents are not supported; inline the indicator")
    service = spec.text("service")
    period = _period(spec, default_period_seconds)
    method = spec.text("budgetingMethod", "Occurrences")
    if method not in {"Occurrences", "Timeslices", "RatioTimeslices"}:
        raise spec.fail("budgetingMethod", f"{method!r}: Occurrences, Timeslices or RatioTimeslices")
    indicator = spec.req_child("indicator")
    indicator.only(("metadata", "spec"))
    body = indicator.req_child("spec")
    objectives = spec.items("objectives")
    labels = _labels(metadata)
    slos = []
    for index, objective in enumerate(objectives):
        objective.only(("displayName", "name", "op", "value", "target", "targetPercent", "timeSliceTarget",
                        "timeSliceWindow", "compositeWeight"))  # fmt: skip
        slo_name = name if len(objectives) == 1 else f"{name}-{_slug(objective, index)}"
        sli = _indicator(body, service, objective)
        slos.append(
            SLO(
                name=slo_name,
                service=service,
                objective=_target(objective),
                sli=sli,
                alerting=Alerting(name=_camel(service) + _camel(slo_name)),
                period_seconds=period,
                description=spec.text("description", "") or metadata.text("displayName", ""),
                labels=labels,
                source=source,
                format=SpecFormat.OPENSLO,
            )
        )
    return slos


def _period(spec: Node, default: int) -> int:
    windows = spec.items("timeWindow", required=False)
    if not windows:
        return default
    if len(windows) > 1:
        raise spec.fail("timeWindow", "one time window only")
    window = windows[0]
    window.only(("duration", "isRolling", "calendar"))
    if not window.flag("isRolling", True):
        raise window.fail("isRolling", "calendar-aligned windows are not supported; use a rolling window")
    return duration_seconds(window, "duration", default)


def _target(objective: Node) -> float:
    if objective.has("targetPercent"):
        percent = objective.number("targetPercent")
        if not 0 < percent < 100:
            raise objective.fail("targetPercent", f"{percent:g}: between 0 and 100, exclusive")
        return round(percent / 100, 12)
    target = objective.number("target")
    if not 0 < target < 1:
        raise objective.fail("target", f"{target:g}: a ratio between 0 and 1, exclusive (0.999, not 99.9)")
    return target


def _indicator(body: Node, service: str, objective: Node) -> SLI:
    body.only(("ratioMetric", "thresholdMetric", "modelQuality"))
    present = [key for key in ("ratioMetric", "thresholdMetric", "modelQuality") if body.has(key)]
    if len(present) != 1:
        raise body.fail(None, "needs exactly one of ratioMetric, thresholdMetric, modelQuality")
    kind = present[0]
    node = body.req_child(kind)
    if kind == "modelQuality":
        sli: ModelQualitySLI = model_quality(node, service)
        return sli
    if kind == "thresholdMetric":
        node.only(("metricSource",))
        op_text = objective.text("op")
        try:
            op = ThresholdOp(op_text)
        except ValueError:
            raise objective.fail("op", f"{op_text!r}: one of lt, lte, gt, gte") from None
        return ThresholdSLI(query=_query(node, "metricSource"), op=op, threshold=objective.number("value"))
    node.only(("counter", "good", "bad", "total", "raw", "rawType"))
    counter = node.flag("counter", True)
    if node.has("raw"):
        raw = _query(node.req_child("raw"), "metricSource")
        if not has_window(raw):
            raise node.fail("raw", "a raw ratio query must use {{.window}}")
        raw_type = node.text("rawType", "failure")
        if raw_type not in {"success", "failure"}:
            raise node.fail("rawType", f"{raw_type!r}: success or failure")
        return RawSLI(raw if raw_type == "failure" else f"1 - ({raw})")
    total = _windowed(node, "total", counter)
    if node.has("good") == node.has("bad"):
        raise node.fail(None, "needs exactly one of good, bad")
    if node.has("bad"):
        return EventsSLI(error_query=_windowed(node, "bad", counter), total_query=total)
    return EventsSLI(error_query=f"({total}) - ({_windowed(node, 'good', counter)})", total_query=total)


def _query(node: Node, key: str) -> str:
    source = node.req_child(key)
    source.only(("type", "metricSourceRef", "spec"))
    source_type = source.text("type", "Prometheus")
    if source_type.lower() != "prometheus":
        raise source.fail("type", f"{source_type!r}: tracectl reads Prometheus metric sources only")
    spec = source.req_child("spec")
    spec.only(("query", "promql"))
    return (spec.text("promql") if spec.has("promql") else spec.text("query")).strip()


def _windowed(node: Node, key: str, counter: bool) -> str:
    """A good/bad/total query as a per-window template: kept if it has ``{{.window}}``; a bare counter selector
    becomes ``sum(increase(selector[{{.window}}]))``."""
    query = _query(node.req_child(key), "metricSource")
    if has_window(query):
        return query
    if counter and _SELECTOR.match(query):
        return f"sum(increase({query}[{WINDOW_PLACEHOLDER}]))"
    raise node.fail(f"{key}.metricSource.spec.query", "needs {{.window}} in its range, or a bare counter selector")


def _labels(metadata: Node) -> dict[str, str]:
    value = metadata.data.get("labels")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise metadata.fail("labels", "must be a mapping")
    out: dict[str, str] = {}
    for key, raw in value.items():
        item = ",".join(str(x) for x in raw) if isinstance(raw, list) else raw
        if isinstance(item, dict) or item is None:
            raise metadata.fail(f"labels.{key}", "must be a string or a list of strings")
        out[re.sub(r"[^A-Za-z0-9_]", "_", str(key))] = str(item)
    return out


def _slug(objective: Node, index: int) -> str:
    for key in ("name", "displayName"):
        if objective.has(key):
            slug = re.sub(r"[^a-z0-9]+", "-", objective.text(key).lower()).strip("-")
            if slug:
                return slug
    return str(index + 1)
