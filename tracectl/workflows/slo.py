"""``slo status``: each SLO now, from Prometheus — error ratios per window, burn rates, budget left, alerts.

Queries (kept on the result, so a reader can paste them into Prometheus): per SLO and per window of
``burn.WINDOWS`` one range query of the SLI's error ratio over the ``history`` before ``at`` (a point every
``step``, the last one at ``at``: the "now" value is that point), and one instant query of the error ratio over the
period at ``at`` for the budget. When a query answers several series (a spec that groups by a label) the worst
(highest) ratio counts. Model-quality SLIs are not Prometheus': tracectl computes them (``model_quality_hook``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracectl.errors import BackendError
from tracectl.results import Result
from tracectl.slo import burn
from tracectl.slo.rules import period_window
from tracectl.slo.spec import SLO, ModelQualitySLI, Severity
from tracectl.timerange import TimeRange

if TYPE_CHECKING:
    from tracectl.backends.prometheus import PrometheusClient, PromSeries
    from tracectl.workflows.session import Session

Points = tuple[tuple[int, float], ...]
NOT_EVALUATED = "computed by tracectl: not evaluated"


@dataclass(frozen=True, slots=True)
class SloStatusRequest:
    slos: Sequence[SLO]
    history_ns: int = 6 * 3600 * 10**9  # how far back "since when" and the sparkline look
    at_ns: int | None = None  # None: now


@dataclass(frozen=True, slots=True)
class AlertState:
    severity: Severity
    firing: bool
    since_ns: int | None  # when the current firing began (None when not firing)
    since_before_history: bool  # it fired over the whole history read: it began no later than since_ns
    windows: tuple[str, ...]  # the pairs firing now, "1h/5m"
    enabled: bool = True  # the spec's alerting disables it (it still shows here, as Sloth would not page)


@dataclass(slots=True)
class SloStatus:
    slo: SLO
    evaluated: bool = True
    error_ratios: dict[str, float] = field(default_factory=dict)  # window → error ratio now (NaN: no data)
    period_error_ratio: float = math.nan
    burn_history: dict[str, Points] = field(default_factory=dict)  # window → burn rates over the history
    alerts: list[AlertState] = field(default_factory=list)
    queries: dict[str, str] = field(default_factory=dict)
    note: str = ""
    quality: Any = None  # what tracectl computed for a model-quality SLI (workflows.model_quality)
    quality_breached: bool = False

    @property
    def sli(self) -> float:
        """The SLI now: 1 − the error ratio over 5 minutes."""
        return 1.0 - self.error_ratios.get("5m", math.nan)

    @property
    def burn_rates(self) -> dict[str, float]:
        return {w: burn.burn_rate(r, self.slo.objective) for w, r in self.error_ratios.items()}

    @property
    def error_budget_remaining(self) -> float:
        return burn.budget_remaining(self.period_error_ratio, self.slo.objective)

    def firing(self, severity: Severity | None = None) -> bool:
        return any(a.firing and a.enabled and (severity is None or a.severity is severity) for a in self.alerts)

    @property
    def burning(self) -> bool:
        return self.firing() or self.quality_breached


SLO_CSV_COLUMNS = (
    "service", "name", "objective", "sli", "error_budget_remaining", *(f"burn_rate_{w}" for w in burn.WINDOWS),
    "page", "ticket",
)  # fmt: skip


@dataclass(slots=True)
class SloStatusResult(Result, schema="tracectl.slo/v1", columns=SLO_CSV_COLUMNS):
    at_ns: int
    step_ns: int
    history_ns: int
    slos: list[SloStatus]
    warnings: list[str] = field(default_factory=list)
    triaged: list[Any] | None = None  # with --triage: a ``workflows.slo_triage.SloTriage`` per burning SLO


def choose_history_step(history_ns: int) -> int:
    """About 72 points over the history, on whole minutes (5 minutes for the default 6 hours)."""
    minute = 60 * 10**9
    return max(minute, (history_ns // 72) // minute * minute)


def slo_status(session: Session, request: SloStatusRequest) -> SloStatusResult:
    import time

    at = request.at_ns if request.at_ns is not None else time.time_ns()
    at -= at % 10**9  # whole seconds, so the range's last point is exactly `at`
    step = choose_history_step(request.history_ns)
    history = request.history_ns - request.history_ns % step
    result = SloStatusResult(at, step, history, [])
    client = session.prometheus() if any(not s.is_model_quality for s in request.slos) else None
    for slo in request.slos:
        if isinstance(slo.sli, ModelQualitySLI):
            result.slos.append(model_quality_hook(session, slo, at, result.warnings))
            continue
        assert client is not None  # noqa: S101 - asked for above whenever an SLO needs Prometheus
        try:
            result.slos.append(_evaluate(client, slo, TimeRange(at - history, at), step))
        except BackendError as exc:
            # One SLO whose query this Prometheus refuses (a subquery on a PromQL subset, a typo in the spec)
            # must not hide the others: it is shown as not evaluated, and said.
            result.slos.append(SloStatus(slo, evaluated=False, note="not evaluated: Prometheus refused its query"))
            result.warnings.append(f"{slo.service}/{slo.name}: {exc}")
            session.warn(f"{slo.service}/{slo.name}: {exc}")
    return result


def _evaluate(client: PrometheusClient, slo: SLO, time: TimeRange, step: int) -> SloStatus:
    status = SloStatus(slo)
    for window in burn.WINDOWS:
        query = slo.error_ratio_query(window)
        assert query is not None  # noqa: S101 - not a model-quality SLI
        status.queries[window] = query
        points = worst(client.query_range(query, time, step).series)
        now = points[-1][1] if points and points[-1][0] == time.end_ns else math.nan
        status.error_ratios[window] = now
        status.burn_history[window] = tuple((t, burn.burn_rate(v, slo.objective)) for t, v in points)
    period = period_window(slo.period_seconds)
    query = slo.error_ratio_query(period)
    assert query is not None  # noqa: S101
    status.queries[period] = query
    points = worst(client.query(query, time.end_ns).series)
    status.period_error_ratio = points[-1][1] if points else math.nan
    status.alerts = alert_states(slo, status.burn_rates, status.burn_history)
    return status


def worst(series: Sequence[PromSeries]) -> Points:
    """The highest value at each instant across the series (NaN only where every series is NaN)."""
    by_time: dict[int, float] = {}
    for s in series:
        for t, v in s.samples:
            old = by_time.get(t, math.nan)
            by_time[t] = v if math.isnan(old) or (not math.isnan(v) and v > old) else old
    return tuple(sorted(by_time.items()))


def alert_states(slo: SLO, rates: dict[str, float], history: dict[str, Points]) -> list[AlertState]:
    states = []
    now = burn.firing(rates, slo.period_seconds)
    instants = sorted({t for points in history.values() for t, _ in points})
    for severity in (Severity.PAGE, Severity.TICKET):
        pairs = tuple(
            f"{w.long}/{w.short}"
            for w in burn.ALERT_WINDOWS
            if w.severity is severity and burn.window_fires(rates, w, slo.period_seconds)
        )
        since = burn.firing_since(history, severity, slo.period_seconds) if now[severity] else None
        enabled = not slo.alerting.for_severity(severity).disabled
        before = since is not None and bool(instants) and since == instants[0]
        states.append(AlertState(severity, now[severity], since, before, pairs, enabled))
    return states


def model_quality_hook(session: Session, slo: SLO, at_ns: int, warnings: list[str]) -> SloStatus:
    """A model-quality SLI, computed by tracectl (``workflows.model_quality.evaluate_slo``: the predictions its
    spans record joined with the labelled sample). One that cannot be computed (no labels file, no backend, no
    labelled request found) is shown as not evaluated, with why, and does not hide the others."""
    from tracectl.errors import TracectlError
    from tracectl.workflows.model_quality import evaluate_slo

    try:
        quality = evaluate_slo(session, slo, at_ns)
    except TracectlError as exc:  # the line says not evaluated; why goes to stderr and the JSON's warnings
        warnings.append(f"{slo.service}/{slo.name}: {NOT_EVALUATED}: {exc}")
        session.warn(warnings[-1])
        return SloStatus(slo, evaluated=False, note=NOT_EVALUATED)
    return SloStatus(slo, note="computed by tracectl", quality=quality, quality_breached=quality.breached)


def crossed(result: SloStatusResult, rule: str) -> list[str]:
    """The reasons ``--fail-on rule`` (burning, page, ticket, budget) holds; empty when it does not."""
    reasons = []
    for s in result.slos:
        name = f"{s.slo.service}/{s.slo.name}"
        if rule == "page" and s.firing(Severity.PAGE):
            reasons.append(f"{name} pages")
        elif rule == "ticket" and s.firing():
            reasons.append(f"{name} fires {'a page' if s.firing(Severity.PAGE) else 'a ticket'}")
        elif rule == "burning" and s.burning:
            reasons.append(f"{name} is burning" if s.firing() else f"{name}'s model quality breaches its objective")
        elif rule == "budget" and s.evaluated and s.error_budget_remaining <= 0:
            reasons.append(f"{name} has spent its error budget")
    return reasons
