"""``slo status``: one line per SLO (budget bar, burn sparkline, the alert firing), and the ``tracectl.slo/v1``
JSON document and rows."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from tracectl.render.metrics_view import clock
from tracectl.render.registry import Renderer
from tracectl.slo import burn
from tracectl.slo.rules import number, period_window
from tracectl.slo.spec import EventsSLI, ModelQualitySLI, RawSLI, Severity, ThresholdSLI
from tracectl.timerange import rfc3339

if TYPE_CHECKING:
    from rich.console import Console

    from tracectl.results import RenderOptions
    from tracectl.workflows.slo import AlertState, SloStatus, SloStatusResult
    from tracectl.workflows.slo_triage import SloTriage

BAR = 8
SPARK = 10
NAME_MAX = 24


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _kind(status: SloStatus) -> str:
    sli = status.slo.sli
    kinds = {EventsSLI: "events", RawSLI: "raw", ThresholdSLI: "threshold", ModelQualitySLI: "model-quality"}
    return kinds[type(sli)]


def _alert(alert: AlertState) -> dict[str, Any]:
    return {
        "severity": alert.severity.value,
        "firing": alert.firing,
        "since": rfc3339(alert.since_ns) if alert.since_ns is not None else None,
        "since_before_history": alert.since_before_history,
        "windows": list(alert.windows),
        "enabled": alert.enabled,
    }


def _slo(status: SloStatus) -> dict[str, Any]:
    slo = status.slo
    doc: dict[str, Any] = {
        "name": slo.name,
        "service": slo.service,
        "id": slo.id,
        "source": slo.source,
        "format": slo.format.value,
        "kind": _kind(status),
        "objective": slo.objective,
        "period": period_window(slo.period_seconds),
        "evaluated": status.evaluated,
        "sli": _finite(status.sli) if status.evaluated and not slo.is_model_quality else None,
        "error_budget_remaining": _finite(status.error_budget_remaining) if status.error_ratios else None,
        "error_ratios": {w: _finite(v) for w, v in status.error_ratios.items()},
        "burn_rates": {w: _finite(v) for w, v in status.burn_rates.items()},
        "alert_factors": {
            f"{w.long}/{w.short}": float(number(w.factor(slo.period_seconds))) for w in burn.ALERT_WINDOWS
        },
        "alerts": [_alert(a) for a in status.alerts],
        "burning": status.burning,
        "queries": status.queries,
    }
    if status.note:
        doc["note"] = status.note
    if isinstance(slo.sli, ModelQualitySLI):
        doc["model_quality"] = {
            "metric": slo.sli.metric.value,
            "service": slo.sli.service,
            "labels_file": slo.sli.labels_file,
            "value": _quality_value(status),
            "breached": status.quality_breached,
        }
    return doc


def _quality_value(status: SloStatus) -> float | None:
    value = getattr(status.quality, "value", None)
    return _finite(float(value)) if isinstance(value, int | float) else None


def slo_document(result: SloStatusResult) -> dict[str, Any]:
    return {
        "at": rfc3339(result.at_ns),
        "history": {"from": rfc3339(result.at_ns - result.history_ns), "step_seconds": result.step_ns // 10**9},
        "slos": [_slo(s) for s in result.slos],
        "warnings": result.warnings,
    }


def slo_rows(result: SloStatusResult) -> list[dict[str, Any]]:
    rows = []
    for s in result.slos:
        doc = _slo(s)
        row = {k: doc[k] for k in ("service", "name", "objective", "sli", "error_budget_remaining")}
        row |= {f"burn_rate_{w}": doc["burn_rates"].get(w) for w in burn.WINDOWS}
        row |= {"page": s.firing(Severity.PAGE), "ticket": s.firing(Severity.TICKET)}
        rows.append(row)
    return rows


# ------------------------------------------------------------------------------------------------ terminal


def budget_bar(remaining: float, width: int = BAR) -> str:
    if not math.isfinite(remaining):
        return "·" * width
    full = round(min(1.0, max(0.0, remaining)) * width)
    return "█" * full + "░" * (width - full)


def _pct(value: float, digits: int = 2) -> str:
    return f"{value * 100:.{digits}f}%" if math.isfinite(value) else "–"


def _burn(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{value:.2g}×" if value < 10 else f"{value:.0f}×"


def _alert_cell(status: SloStatus, opts: RenderOptions) -> tuple[str, str]:
    for alert in status.alerts:
        if alert.firing and alert.enabled:
            when = "" if alert.since_ns is None else clock(alert.since_ns, opts.tz)
            mark = "≤" if alert.since_before_history else ""
            style = "bold red" if alert.severity is Severity.PAGE else "yellow"
            return f"{alert.severity.value.upper()} {mark}{when}".rstrip(), style
    return "ok", "green"


def print_slo_status(console: Console, result: SloStatusResult, opts: RenderOptions) -> None:
    from rich.text import Text

    minutes = result.history_ns // (60 * 10**9)
    span = f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"
    names = _names(result)
    # the columns after the name take 60 cells at most (an alert "PAGE ≤16:31" included): the name gets the rest
    room = max(12, min(NAME_MAX, console.width - 60))
    width = min(room, max([len(n) for n in names.values()] + [3]))
    header = (f"{'SLO':<{width}} {'target':>6} {'SLI':>7} {'budget left':<{BAR + 6}}{'1h burn':>7} "
              f"{f'last {span}':<{SPARK}} alert")  # fmt: skip
    console.print(Text(header, style="bold"), soft_wrap=True)
    for s in result.slos:
        line = Text()
        name = names[s.slo.id]
        name = name if len(name) <= width else name[: width - 1] + "…"
        line.append(f"{name:<{width}} ", style="bold")
        line.append(f"{s.slo.objective_percent:>5g}% ")
        if not s.evaluated or s.slo.is_model_quality:
            value = _quality_value(s)
            ratio = getattr(getattr(s.quality, "metric", None), "higher_is_better", False)  # precision … F1
            shown = "" if value is None else _pct(value) if ratio else f"{value:.3g}"
            line.append(f"{shown:>7} ")
            verdict = " · breaches its objective" if s.quality_breached else ""
            line.append((s.note or "not evaluated") + verdict, style="dim" if not s.quality_breached else "bold red")
            console.print(line, soft_wrap=True)
            continue
        line.append(f"{_pct(s.sli):>7} ")
        remaining = s.error_budget_remaining
        line.append(budget_bar(remaining), style="red" if remaining <= 0 else "green" if remaining > 0.5 else "yellow")
        left = _pct(remaining, 0) if not math.isfinite(remaining) or remaining > -1 else "spent"
        line.append(f" {left:>5}", style="bold red" if left == "spent" else "")
        line.append(f"{_burn(s.burn_rates.get('1h', math.nan)):>7} ")
        history = [v for _, v in s.burn_history.get("1h", ())]
        ceiling = burn.ALERT_WINDOWS[0].factor(s.slo.period_seconds)
        line.append(f"{burn.sparkline(_resample(history, SPARK), ceiling):<{SPARK}} ", style="cyan")
        text, style = _alert_cell(s, opts)
        line.append(text, style=style)
        console.print(line, soft_wrap=True)
    evaluated = [s for s in result.slos if s.evaluated and not s.slo.is_model_quality]
    if evaluated:
        period = evaluated[0].slo.period_seconds
        factor = number(burn.ALERT_WINDOWS[0].factor(period))
        console.print(f"[dim]burn 1 = the budget spent in {period_window(period)} · page at {factor}× over 1h & 5m "
                      "(sparkline top)[/dim]", soft_wrap=True, highlight=False)  # fmt: skip


def _names(result: SloStatusResult) -> dict[str, str]:
    """SLO names as shown: with their service when the SLOs come from more than one."""
    several = len({s.slo.service for s in result.slos}) > 1
    return {s.slo.id: f"{s.slo.service}/{s.slo.name}" if several else s.slo.name for s in result.slos}


def _resample(values: list[float], width: int) -> list[float]:
    """``width`` values: the maximum of each slice (a burst must not vanish between two points)."""
    if len(values) <= width:
        return values
    out = []
    for i in range(width):
        chunk = [v for v in values[i * len(values) // width : (i + 1) * len(values) // width] if math.isfinite(v)]
        out.append(max(chunk) if chunk else math.nan)
    return out


def slo_triage_document(t: SloTriage) -> dict[str, Any]:
    """One burning SLO's triage, as ``slo status --triage -o json`` nests it."""
    from tracectl.render.emit import document

    doc = document(t.result) if t.result is not None else None
    return {"slo": t.slo, "service": t.service, "since_ns": t.since_ns, "triage": doc, "note": t.note}


def _document(result: SloStatusResult, opts: RenderOptions) -> dict[str, Any]:
    doc = slo_document(result)
    if result.triaged is not None:  # one document on stdout: each burning SLO's triage inside it
        doc["triage"] = [slo_triage_document(t) for t in result.triaged]
    return doc


def _table(result: SloStatusResult, console: Console, opts: RenderOptions) -> None:
    from tracectl.render.emit import table

    print_slo_status(console, result, opts)
    for t in result.triaged or []:
        console.print()
        console.rule(f"triage of {t.slo} ({t.service}), burning since the alert began", style="dim")
        if t.result is not None:
            table(t.result, console, opts)
        else:
            console.print(f"not triaged: {t.note}", style="dim")


SLO_STATUS = Renderer(document=_document, rows=lambda result, opts: slo_rows(result), table=_table)
