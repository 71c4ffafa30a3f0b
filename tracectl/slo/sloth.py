"""Sloth ``version: "prometheus/v1"`` documents → :class:`tracectl.slo.spec.SLO`.

Field names follow Sloth's spec (``service``, ``labels``, ``slos[].name/objective/description/labels/sli/alerting``);
``sli.model_quality`` is tracectl's own extension (docs/slo.md). Sloth's ``sli.plugin`` needs Sloth's plugins and
is refused with a clear message.
"""

from __future__ import annotations

import re
from typing import Any

from tracectl.slo._fields import Node, model_quality
from tracectl.slo.spec import (
    SLI,
    SLO,
    Alerting,
    AlertSpec,
    EventsSLI,
    RawSLI,
    SpecFormat,
    has_window,
)

VERSION = "prometheus/v1"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def parse(document: dict[str, Any], source: str, default_period_seconds: int) -> list[SLO]:
    root = Node.of(document, source, "")
    root.only(("version", "service", "labels", "slos"))
    version = root.text("version")
    if version != VERSION:
        raise root.fail("version", f'{version!r}: tracectl reads Sloth\'s "{VERSION}" specs')
    service = root.text("service")
    service_labels = root.labels("labels")
    return [_slo(node, service, service_labels, default_period_seconds) for node in root.items("slos", required=True)]


def _slo(node: Node, service: str, service_labels: dict[str, str], period: int) -> SLO:
    name = node.text("name")
    if not _NAME.match(name):
        raise node.fail("name", f"{name!r}: letters, digits, '-', '_' and '.' only")
    node = node.named(name)
    node.only(("name", "objective", "description", "labels", "sli", "alerting"))
    objective_percent = node.number("objective")
    if not 0 < objective_percent < 100:
        raise node.fail("objective", f"{objective_percent:g}: a percentage between 0 and 100 (99.9), exclusive")
    sli = _sli(node.req_child("sli"), service)
    return SLO(
        name=name,
        service=service,
        objective=round(objective_percent / 100, 12),
        sli=sli,
        alerting=_alerting(node.child("alerting", required=False), service, name),
        period_seconds=period,
        description=node.text("description", ""),
        labels={**service_labels, **node.labels("labels")},
        source=node.source,
        format=SpecFormat.SLOTH,
    )


def _sli(node: Node, service: str) -> SLI:
    node.only(("events", "raw", "plugin", "model_quality"))
    present = [key for key in ("events", "raw", "plugin", "model_quality") if node.has(key)]
    if len(present) != 1:
        raise node.fail(None, "needs exactly one of events, raw, model_quality")
    kind = present[0]
    if kind == "plugin":
        raise node.fail("plugin", "Sloth SLI plugins are not supported by tracectl; use events or raw")
    body = node.req_child(kind)
    if kind == "model_quality":
        return model_quality(body, service)
    if kind == "raw":
        body.only(("error_ratio_query",))
        return RawSLI(_windowed(body, "error_ratio_query"))
    body.only(("error_query", "total_query"))
    return EventsSLI(_windowed(body, "error_query"), _windowed(body, "total_query"))


def _windowed(node: Node, key: str) -> str:
    query = node.text(key).strip()
    if not has_window(query):
        raise node.fail(key, "must use the {{.window}} placeholder, e.g. rate(x_total[{{.window}}])")
    return query


def _alerting(node: Node | None, service: str, name: str) -> Alerting:
    default_name = _camel(service) + _camel(name)
    if node is None:
        return Alerting(name=default_name)
    node.only(("name", "labels", "annotations", "page_alert", "ticket_alert"))
    alert_name = node.text("name", default_name)
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", alert_name):
        raise node.fail("name", f"{alert_name!r}: an alert name is letters, digits and '_' (Prometheus rule)")
    return Alerting(
        name=alert_name,
        labels=node.labels("labels"),
        annotations=node.labels("annotations", label_names=False),
        page=_alert(node.child("page_alert", required=False)),
        ticket=_alert(node.child("ticket_alert", required=False)),
    )


def _alert(node: Node | None) -> AlertSpec:
    if node is None:
        return AlertSpec()
    node.only(("disable", "labels", "annotations"))
    return AlertSpec(
        disabled=node.flag("disable"),
        labels=node.labels("labels"),
        annotations=node.labels("annotations", label_names=False),
    )


def _camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)
