"""Alert notifications as receivers get them: Alertmanager's webhook payload (version 4) and Grafana's alerting
webhook (the same ``alerts[]`` with fields of its own around and in them). Pure parsing, bytes → model.

Only what triage needs is kept: each alert's name, status, labels, annotations and times. ``endsAt`` is the
zero time (``0001-01-01T00:00:00Z``) while an alert fires: read as None. Every error names the source and the
field (``alert.json: alerts[1].startsAt: …``).
"""

from __future__ import annotations

import re
from calendar import timegm
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tracectl.errors import FormatError

ALERTMANAGER_VERSION = "4"
# Where the service is named, most specific first (``job`` keeps what follows its last "/": "ns/api" → "api").
SERVICE_LABELS = ("service.name", "service_name", "service", "sloth_service", "job")
_GRAFANA_FIELDS = ("orgId", "state", "title", "message")
_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9})\d*)?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert of a notification, as Alertmanager (or Grafana) sent it."""

    index: int  # its place in alerts[], from 0
    name: str  # the alertname label ("" when absent)
    status: str  # firing | resolved
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_ns: int
    ends_ns: int | None  # None: still firing (the zero time)
    fingerprint: str = ""
    generator_url: str = ""

    @property
    def firing(self) -> bool:
        return self.status == "firing"


@dataclass(frozen=True, slots=True)
class AlertPayload:
    """A webhook notification: a group of alerts and what the sender says about them."""

    sender: str  # "Alertmanager" or "Grafana"
    status: str  # the group's: firing | resolved
    receiver: str
    alerts: tuple[Alert, ...]
    group_labels: Mapping[str, str] = field(default_factory=dict)
    common_labels: Mapping[str, str] = field(default_factory=dict)
    external_url: str = ""


def parse_time(text: object, where: str, source: str) -> int | None:
    """An RFC 3339 time as Go writes it (nanoseconds, an offset) → ns since the epoch; the zero time → None."""
    m = _TIME.fullmatch(text.strip()) if isinstance(text, str) else None
    if m is None:
        raise FormatError(source, f"{where}: {text!r} is not an RFC 3339 time (like 2026-12-06T14:02:11Z)")
    year, month, day, hour, minute, second, frac, zulu, sign, off_h, off_m = m.groups()
    if int(year) <= 1:
        return None  # Go's zero time: no end yet
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:
        raise FormatError(source, f"{where}: {text!r} is not a valid date and time") from None
    seconds = timegm(moment.timetuple())
    if not zulu:
        offset = (int(off_h) * 60 + int(off_m)) * 60
        seconds -= offset if sign == "+" else -offset
    return seconds * 10**9 + int((frac or "").ljust(9, "0"))


def _labels(value: object, where: str, source: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FormatError(source, f"{where}: expected an object of label names to values, got {type(value).__name__}")
    return {str(k): v if isinstance(v, str) else str(v) for k, v in value.items()}


def _alert(raw: object, index: int, source: str) -> Alert:
    where = f"alerts[{index}]"
    if not isinstance(raw, dict):
        raise FormatError(source, f"{where}: expected an object, got {type(raw).__name__}")
    labels = _labels(raw.get("labels"), f"{where}.labels", source)
    if "startsAt" not in raw:
        raise FormatError(source, f"{where}: no startsAt (when the alert began)")
    starts = parse_time(raw["startsAt"], f"{where}.startsAt", source)
    if starts is None:
        raise FormatError(source, f"{where}.startsAt: the zero time says nothing of when the alert began")
    ends = parse_time(raw["endsAt"], f"{where}.endsAt", source) if raw.get("endsAt") else None
    status = raw.get("status", "firing")
    if status not in ("firing", "resolved"):
        raise FormatError(source, f"{where}.status: {status!r} is neither firing nor resolved")
    if ends is not None and ends <= starts and status == "resolved":
        raise FormatError(source, f"{where}: endsAt is not after startsAt")
    if ends is not None and status == "firing":
        ends = None  # Alertmanager sets endsAt to a resolve timeout ahead while the alert fires: not an end
    return Alert(index, labels.get("alertname", ""), status, labels,
                 _labels(raw.get("annotations"), f"{where}.annotations", source), starts, ends,
                 str(raw.get("fingerprint") or ""), str(raw.get("generatorURL") or ""))  # fmt: skip


def parse_alert_payload(data: bytes, source: str) -> AlertPayload:
    """Alertmanager's webhook payload (``version: "4"``) or Grafana's (which adds ``orgId``, ``state``, …)."""
    import orjson

    try:
        doc: Any = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise FormatError(source, f"not JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict):
        raise FormatError(source, "not an alert notification: expected a JSON object with alerts[]")
    grafana = any(k in doc for k in _GRAFANA_FIELDS)
    version = doc.get("version")
    if not grafana and version is not None and str(version) != ALERTMANAGER_VERSION:
        raise FormatError(source, f"version {version!r}: only Alertmanager's webhook version 4 (or Grafana's) is read")
    alerts = doc.get("alerts")
    if not isinstance(alerts, list):
        raise FormatError(source, "not an alert notification: no alerts[] (an Alertmanager or Grafana webhook body)")
    if not alerts:
        raise FormatError(source, "alerts[] is empty: no alert to start from")
    return AlertPayload(
        "Grafana" if grafana else "Alertmanager", str(doc.get("status") or ""), str(doc.get("receiver") or ""),
        tuple(_alert(a, n, source) for n, a in enumerate(alerts)),
        _labels(doc.get("groupLabels"), "groupLabels", source),
        _labels(doc.get("commonLabels"), "commonLabels", source),
        str(doc.get("externalURL") or ""),
    )  # fmt: skip


def alert_service(alert: Alert) -> tuple[str, str] | None:
    """The service the alert is about and the label that named it, or None."""
    for label in SERVICE_LABELS:
        value = alert.labels.get(label, "").strip()
        if label == "job":
            value = value.rsplit("/", 1)[-1].strip()
        if value:
            return value, label
    return None


def pick_alert(alerts: Sequence[Alert], index: int | None = None) -> tuple[Alert, str]:
    """The alert to start from, and why that one: ``index`` when given, else the firing alert that started first
    (resolved ones only when none fires), ties by place in the payload."""
    if index is not None:
        if not 0 <= index < len(alerts):
            raise IndexError(index)
        return alerts[index], f"alerts[{index}] as asked"
    firing = [a for a in alerts if a.firing]
    pool = firing or list(alerts)
    chosen = min(pool, key=lambda a: (a.starts_ns, a.index))
    if len(alerts) == 1:
        return chosen, "the only alert"
    which = "firing alert" if firing else "alert (none fires)"
    return chosen, f"the earliest {which} of {len(alerts)}"
