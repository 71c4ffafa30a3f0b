"""Triage starts from the metrics: with Prometheus configured and no window given, the change the metrics show
sets the suspect window (from the bucket the change began in to now) and the baseline (the hour before it).

Without Prometheus (and without Tempo's or Jaeger's own metrics), or when the metrics show no change, or cannot
be read, triage keeps its usual window (the last hour, as ``--since``'s default) and the note says why. The note
is the triage's first panel, and in its JSON (``metrics``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from tracectl.errors import TracectlError
from tracectl.timerange import TimeRange

if TYPE_CHECKING:
    from datetime import tzinfo

    from tracectl.analysis.red import SeriesChange
    from tracectl.workflows.metrics import MetricsResult
    from tracectl.workflows.session import Session
    from tracectl.workflows.triage import TriageOptions

BASELINE_NS = 3600 * 10**9  # at most this much before the change is the baseline


@dataclass(slots=True)
class MetricsWindow:
    """How the metrics chose (or did not choose) triage's windows."""

    used: bool  # the suspect and baseline windows come from the metrics
    note: str  # one line: what was done, or why not
    result: MetricsResult | None = None
    suspect: TimeRange | None = None
    baseline: TimeRange | None = None
    tz: tzinfo | None = None  # the reader's zone, for the times in the note and the evidence
    change: SeriesChange | None = None  # the change that set the windows
    source: str = "Prometheus"  # what the change was read from

    def evidence(self) -> str:
        """The sentence the verdict carries: when it began, and what lined up."""
        from tracectl.workflows.metrics_text import best_rollouts, clock, series_title

        tz, first = self.tz, self.change
        if not self.used or first is None:
            return ""
        text = f"Metrics: the {series_title(first.series)} rose at {clock(first.start_ns, tz)}"
        if self.result is None:
            return text + f" ({self.source})."
        deployed = best_rollouts(self.result.findings.lined_up)
        if deployed:
            step = self.result.step_ns  # a deployment is first seen in a step, as the change is: both by its start
            text += " as " + ", ".join(
                f"{d.service} deployed {d.version} at {clock(d.time_ns - step, tz)}" for d in deployed
            )
        traffic = self.result.findings.traffic
        if traffic is not None and traffic.changed:
            text += f"; traffic ×{traffic.factor:.2f}"
        return text + "."

    def document(self) -> dict[str, Any]:
        from tracectl.results import RenderOptions
        from tracectl.workflows.metrics_text import metrics_document

        doc = metrics_document(self.result, RenderOptions(tz=self.tz)) if self.result is not None else None
        change = None
        if doc is None and self.change is not None:
            c = self.change
            change = {"series": c.series, "start_ns": c.start_ns, "first_point_ns": c.change.time_ns,
                      "p_value": c.change.p_value, "method": "pettitt", "source": self.source}  # fmt: skip
        return {
            "used": self.used, "note": self.note,
            "suspect_window": None if self.suspect is None else [self.suspect.start_ns, self.suspect.end_ns],
            "baseline_window": None if self.baseline is None else [self.baseline.start_ns, self.baseline.end_ns],
            "change": doc["change"] if doc else change, "lined_up": doc["lined_up"] if doc else [],
            "edge": doc["edge"] if doc else None, "sentences": doc["sentences"] if doc else [],
            "queries": doc["queries"] if doc else {},
        }  # fmt: skip


def metrics_window(
    session: Session, service: str, operation: str | None, window: TimeRange, tz: tzinfo | None = None
) -> MetricsWindow:
    """Read ``service``'s metrics over ``window`` and, when they rose, the suspect and baseline windows."""
    from tracectl.workflows.metrics import MetricsRequest, metrics

    if not session.settings.prometheus_url:
        return _from_tempo(session, service, window, tz)
    try:
        result = metrics(session, MetricsRequest(service, window, operation))
    except TracectlError as exc:
        return MetricsWindow(False, f"The metrics could not set the window ({exc}): the last hour, as usual.", tz=tz)
    first = result.findings.first
    if first is None or not first.rose:
        return MetricsWindow(False, "The metrics show no rise in latency or errors over the last hour: slow "
                                    "requests against normal ones, as usual.", result, tz=tz)  # fmt: skip
    return _windows(first, window, "Prometheus", result, tz)


def _windows(
    first: SeriesChange, window: TimeRange, source: str, result: MetricsResult | None, tz: tzinfo | None
) -> MetricsWindow:
    from tracectl.workflows.metrics_text import clock, series_title

    suspect = TimeRange(first.start_ns, window.end_ns)
    baseline = TimeRange(max(window.start_ns, first.start_ns - BASELINE_NS), first.start_ns)
    note = (f"Window from the metrics ({source}): the {series_title(first.series)} rose at "
            f"{clock(first.start_ns, tz)}; suspects {clock(suspect.start_ns, tz)}–{clock(suspect.end_ns, tz)}, "
            f"baseline {clock(baseline.start_ns, tz)}–{clock(baseline.end_ns, tz)}.")  # fmt: skip
    return MetricsWindow(True, note, result, suspect, baseline, tz, first, source)


def _from_tempo(session: Session, service: str, window: TimeRange, tz: tzinfo | None) -> MetricsWindow:
    """No Prometheus: Tempo's TraceQL metrics or Jaeger's SPM metrics API, whichever the trace backend is."""
    from tracectl.backends.jaeger import JaegerClient
    from tracectl.backends.prometheus import choose_step
    from tracectl.backends.tempo import TempoClient
    from tracectl.workflows.tempo_red import jaeger_changes, tempo_changes

    usual = "the window is the last hour, slow requests against normal ones"
    backend = session.backend()
    if not isinstance(backend, TempoClient | JaegerClient):
        return MetricsWindow(False, f"No Prometheus (--prometheus-url, PROMETHEUS_ADDR): {usual}.", tz=tz)
    source = "Tempo's TraceQL metrics" if isinstance(backend, TempoClient) else "Jaeger's metrics API"
    step = choose_step(window)
    try:
        if isinstance(backend, TempoClient):
            changes = tempo_changes(backend, service, window, step)
        else:
            changes = jaeger_changes(backend, service, window, step)
    except TracectlError as exc:
        return MetricsWindow(False, f"No Prometheus, and {source} failed ({exc}): {usual}.", tz=tz)
    first = changes[0] if changes else None
    if first is None or not first.rose:
        return MetricsWindow(False, f"No Prometheus; {source} show no rise: {usual}.", tz=tz)
    return _windows(first, window, source, None, tz)


def start_from_metrics(session: Session, options: TriageOptions, tz: tzinfo | None = None) -> TriageOptions:
    """``options`` with the windows the metrics chose, and the ``MetricsWindow`` that says how."""
    query = options.query
    if query is None or query.service is None:
        return options
    found = metrics_window(session, query.service, query.operation, query.time, tz)
    chosen = replace(options, metrics_window=found)
    if found.used and found.suspect is not None and found.baseline is not None:
        chosen.query = replace(query, time=found.suspect)
        chosen.baseline_query = replace(query, time=found.baseline)
    return chosen
