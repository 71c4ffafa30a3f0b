"""``slo status --triage``: each burning SLO triaged as its page would be (``triage --alert``): the SLO's service,
the suspects since its alert began firing (a model-quality SLO: since its first bad evaluation window), the
window before as the baseline, and the SLO's own way of telling bad requests (its latency threshold, its failures).

Read by attribute from ``slo status``'s result (``tracectl.workflows.slo``: ``SloStatusResult.slos[]`` with
``slo``, ``burning``, ``alerts[].firing/since_ns``, ``quality``), so this module imports nothing of it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tracectl.errors import TracectlError

if TYPE_CHECKING:
    from tracectl.workflows.session import Session
    from tracectl.workflows.triage import TriageResult

DEFAULT_LOOKBACK_NS = 3600 * 10**9  # a burning SLO with no start known: the last hour


@dataclass(slots=True)
class SloTriage:
    """One burning SLO and what triage found for it (or why it could not run)."""

    slo: str
    service: str
    since_ns: int
    result: TriageResult | None = None
    note: str = ""  # why there is no result


def burning_since(status: Any, now_ns: int) -> int:
    """When the SLO began to burn: its earliest firing alert's start, else its first bad model-quality window."""
    starts = [a.since_ns for a in getattr(status, "alerts", []) if a.firing and a.since_ns is not None]
    if starts:
        return int(min(starts))
    quality = getattr(status, "quality", None)
    run = getattr(getattr(quality, "breach", None), "consecutive", 0)
    windows = getattr(quality, "windows", [])
    if run and windows:
        return int(windows[-run].start_ns)
    return now_ns - DEFAULT_LOOKBACK_NS


def slo_alert_labels(slo: Any) -> dict[str, str]:
    """The labels the SLO's generated alerts carry (Sloth's): its own labels, sloth_service, sloth_slo."""
    labels = {str(k): str(v) for k, v in dict(getattr(slo, "labels", {}) or {}).items()}
    labels.update({"sloth_service": str(slo.service), "sloth_slo": str(slo.name)})
    name = str(getattr(getattr(slo, "alerting", None), "name", "") or "")
    labels["alertname"] = name or str(slo.name)
    return labels


def triage_burning(
    session: Session, status: Any, now_ns: int | None = None, max_traces: int = 500, logs: bool = True
) -> list[SloTriage]:
    """Triage every burning SLO of ``status`` (an ``SloStatusResult``), in its order."""
    from tracectl.backends.query import SearchQuery
    from tracectl.formats.alertmanager import Alert, AlertPayload
    from tracectl.workflows.triage import TriageOptions, triage
    from tracectl.workflows.triage_alert import apply_alert, slo_from_spec, start_from_alert

    now = now_ns if now_ns is not None else time.time_ns()
    out = []
    for n, s in enumerate(x for x in status.slos if x.burning):
        slo = s.slo
        since = min(burning_since(s, now), now - 60 * 10**9)  # at least a minute of requests to look at
        alert = Alert(n, slo_alert_labels(slo)["alertname"], "firing", slo_alert_labels(slo), {}, since, None)
        payload = AlertPayload("slo status", "firing", "", (alert,))
        try:
            start = start_from_alert(payload, now, slos=[slo_from_spec(slo)], source=f"SLO {slo.name}")
            options = TriageOptions(query=SearchQuery(time=start.suspect, service=start.service, limit=max_traces),
                                    logs=logs)  # fmt: skip
            found = triage(session, apply_alert(options, start, window_given=False, mode_given=False))
            out.append(SloTriage(str(slo.name), start.service, since, found))
        except TracectlError as exc:
            out.append(SloTriage(str(slo.name), str(slo.service), since, note=str(exc)))
    return out
