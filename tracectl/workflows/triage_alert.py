"""Triage started by an alert: the service, the suspect window and the baseline come from an Alertmanager (or
Grafana) notification, and the way suspects are chosen from the SLO the alert names (``--slo-spec``).

The suspect window runs from the alert's ``startsAt`` to its ``endsAt`` (to now while it fires); the baseline is
the window before it, as long as the suspect window but at least ``MIN_BASELINE_NS`` and at most
``MAX_BASELINE_NS``. A latency SLO's threshold makes the suspects the requests slower than it; an availability
SLO makes them the failing ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from tracectl.errors import InputError
from tracectl.formats.alertmanager import SERVICE_LABELS, Alert, AlertPayload, alert_service, pick_alert
from tracectl.timerange import TimeRange

if TYPE_CHECKING:
    from tracectl.workflows.triage import TriageOptions

MIN_BASELINE_NS = 15 * 60 * 10**9
MAX_BASELINE_NS = 3600 * 10**9
_LE = re.compile(r"""\ble\s*=~?\s*["']([0-9.eE+-]+)["']""")  # a histogram bucket bound in an SLI's query


@dataclass(frozen=True, slots=True)
class AlertSlo:
    """What triage takes from an SLO: how its bad events are recognised in traces."""

    name: str
    alert_names: tuple[str, ...] = ()  # the alert names the spec gives it (Sloth's alerting.name)
    mode: str = "errors"  # errors (availability) | latency | quality (a model-quality SLO)
    threshold_ns: int | None = None  # latency SLOs: slower than this is bad
    objective: float | None = None  # ratio, e.g. 0.999


@dataclass(frozen=True, slots=True)
class AlertStart:
    """The alert triage started from, and what was read from it."""

    alert: Alert
    sender: str  # Alertmanager | Grafana
    chosen: str  # why this alert of the payload
    alerts: int  # how many the payload held
    service: str
    service_from: str  # the label that named it, or --service
    suspect: TimeRange
    baseline: TimeRange
    slo: AlertSlo | None = None
    slo_note: str = ""  # why no SLO was used, when a spec was given

    def sentence(self, tz: tzinfo | None = None) -> str:
        from tracectl.units import format_timestamp

        a = self.alert
        name = a.name or f"alerts[{a.index}]"
        until = "now (firing)" if a.ends_ns is None else format_timestamp(a.ends_ns, tz)
        text = (f"Alert {name} ({self.sender}, {a.status}; {self.chosen}): {self.service} from "
                f"{'--service' if self.service_from == '--service' else 'label ' + self.service_from}; suspects "
                f"{format_timestamp(self.suspect.start_ns, tz)} to {until}, baseline the "
                f"{round(self.baseline.duration_ns / 60e9)} min before.")  # fmt: skip
        if self.slo is not None:
            how = {
                "latency": f"requests slower than {(self.slo.threshold_ns or 0) / 1e6:g} ms",
                "quality": "the models' inputs and outputs compared",
            }.get(self.slo.mode, "failing requests")
            text += f" SLO {self.slo.name}: suspects are its bad events, {how}."
        elif self.slo_note:
            text += f" {self.slo_note}"
        return text

    def document(self) -> dict[str, Any]:
        a = self.alert
        slo = self.slo
        return {
            "name": a.name, "index": a.index, "status": a.status, "sender": self.sender, "chosen": self.chosen,
            "alerts": self.alerts, "labels": dict(a.labels), "starts_ns": a.starts_ns, "ends_ns": a.ends_ns,
            "fingerprint": a.fingerprint, "service": self.service, "service_from": self.service_from,
            "suspect_window": [self.suspect.start_ns, self.suspect.end_ns],
            "baseline_window": [self.baseline.start_ns, self.baseline.end_ns],
            "slo": None if slo is None else {"name": slo.name, "mode": slo.mode, "threshold_ns": slo.threshold_ns,
                                             "objective": slo.objective},
            "slo_note": self.slo_note,
        }  # fmt: skip


def start_from_alert(
    payload: AlertPayload, now_ns: int, index: int | None = None, service: str | None = None,
    slos: Sequence[AlertSlo] | None = None, source: str = "the alert",
) -> AlertStart:  # fmt: skip
    """Choose the alert (``index``, else the earliest firing one) and read its service, windows and SLO."""
    try:
        alert, chosen = pick_alert(payload.alerts, index)
    except IndexError:
        raise InputError(f"--alert-index: {index} is not in alerts[] ({source} holds {len(payload.alerts)})") from None
    named = alert_service(alert)
    if service:
        named = (service, "--service")
    if named is None:
        what = alert.name or f"alerts[{alert.index}]"
        others = [a.index for a in payload.alerts if a is not alert and alert_service(a) is not None]
        hint = f" or --alert-index {others[0]} (it has one)" if others else ""
        raise InputError(f"{source}: alert {what} has no service label ({', '.join(SERVICE_LABELS)}): give --service"
                         f"{hint}")  # fmt: skip
    end = alert.ends_ns if alert.ends_ns is not None else now_ns
    if end <= alert.starts_ns:
        raise InputError(f"{source}: alert {alert.name or alert.index} starts after now (startsAt in the future)")
    suspect = TimeRange(alert.starts_ns, end)
    length = min(max(suspect.duration_ns, MIN_BASELINE_NS), MAX_BASELINE_NS)
    baseline = TimeRange(alert.starts_ns - length, alert.starts_ns)
    slo, note = (None, "") if slos is None else match_slo(alert, slos)
    return AlertStart(alert, payload.sender, chosen, len(payload.alerts), named[0], named[1], suspect, baseline,
                      slo, note)  # fmt: skip


def match_slo(alert: Alert, slos: Sequence[AlertSlo]) -> tuple[AlertSlo | None, str]:
    """The SLO the alert names: its ``sloth_slo`` label, else its alertname (an SLO's name or alert name)."""
    wanted = alert.labels.get("sloth_slo")
    names = ", ".join(s.name for s in slos) or "none"
    if wanted:
        found = next((s for s in slos if s.name == wanted), None)
        if found is None:
            raise InputError(f"--slo-spec: the alert names SLO {wanted!r} (sloth_slo), not in the spec (SLOs: {names})")
        return found, ""
    found = next((s for s in slos if alert.name and alert.name in (s.name, *s.alert_names)), None)
    if found is None:
        return None, f"The alert names no SLO of --slo-spec (no sloth_slo label; alertname {alert.name!r})."
    return found, ""


def apply_alert(options: TriageOptions, start: AlertStart, window_given: bool, mode_given: bool) -> TriageOptions:
    """``options`` searching the alert's windows (unless --since/--from/--to/a baseline were given) with the
    SLO's way of choosing suspects (unless --slo or --errors were)."""
    chosen = replace(options, alert=start)
    if chosen.query is not None and not window_given:
        chosen.query = replace(chosen.query, time=start.suspect)
        chosen.baseline_query = replace(chosen.query, time=start.baseline)
    if start.slo is not None and not mode_given:
        if start.slo.mode == "latency" and start.slo.threshold_ns is not None:
            chosen.mode, chosen.slo_ns = "latency", start.slo.threshold_ns
        elif start.slo.mode == "errors":
            chosen.mode = "errors"
        elif start.slo.mode == "quality":  # the models' inputs and outputs, whatever latency and errors say
            chosen.quality = True
    return chosen


def slo_from_spec(slo: Any) -> AlertSlo:
    """An SLO of ``tracectl.slo.spec`` (issue 23's model) as triage needs it: a threshold SLI (OpenSLO
    ``thresholdMetric``) or a query on a histogram bucket (``le="0.25"``) is a latency SLO, the rest count
    failures. Read by attribute, so this module needs nothing of the spec's but its field names."""
    sli = getattr(slo, "sli", None)
    alerting = getattr(slo, "alerting", None)
    alert_name = str(getattr(alerting, "name", "") or "")
    alert_names = (alert_name,) if alert_name else ()
    threshold_s: float | None = None
    if sli is not None and hasattr(sli, "threshold") and hasattr(sli, "op") and hasattr(sli, "query"):
        threshold_s = float(sli.threshold)
    else:
        queries = " ".join(str(getattr(sli, k, "") or "") for k in ("error_query", "total_query", "error_ratio_query"))
        m = _LE.search(queries)
        threshold_s = float(m.group(1)) if m else None
    mode = "latency" if threshold_s is not None else "errors"
    if sli is not None and hasattr(sli, "prediction_attribute"):
        mode, threshold_s = "quality", None
    threshold_ns = round(threshold_s * 1e9) if threshold_s is not None else None
    return AlertSlo(str(slo.name), alert_names, mode, threshold_ns, getattr(slo, "objective", None))


def load_alert_slos(paths: Sequence[str]) -> list[AlertSlo]:
    """The SLOs of the spec files (Sloth or OpenSLO), as triage needs them."""
    import importlib

    try:
        spec = importlib.import_module("tracectl.slo.spec")
    except ImportError:
        raise InputError("--slo-spec: this build has no SLO spec reader (tracectl.slo)") from None
    return [slo_from_spec(s) for s in spec.load_specs(paths)]
