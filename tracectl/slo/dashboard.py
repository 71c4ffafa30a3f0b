"""A Grafana dashboard (JSON model to import) over the recording rules of ``slo rules`` (pure).

One row per SLO: the error budget left over the period (stat), the burn rates over the alert windows (time
series, with the page factor as a threshold line) and the SLI over time against its objective. Every query reads
the ``slo:*`` series the rules record, selected by ``sloth_id``; the Prometheus data source is a dashboard
variable, so the import asks for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracectl.slo import burn
from tracectl.slo.rules import number, period_window, sli_metric
from tracectl.slo.spec import SLO

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def _target(expr: str, legend: str, ref: str) -> dict[str, Any]:
    return {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref}


def _panel(
    panel_id: int, kind: str, title: str, grid: tuple[int, int, int], targets: list[dict[str, Any]],
    defaults: dict[str, Any], **more: Any,
) -> dict[str, Any]:  # fmt: skip
    """One of an SLO's panels: 8 high, ``grid`` = (x, width, y), reading the Prometheus data source."""
    x, w, y = grid
    return {
        "id": panel_id, "type": kind, "title": title, "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": w, "x": x, "y": y}, "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": []}, **more,
    }  # fmt: skip


def _panels(slo: SLO, y: int, next_id: int) -> list[dict[str, Any]]:
    sel = f'{{sloth_id="{slo.id}"}}'
    page = burn.ALERT_WINDOWS[0].factor(slo.period_seconds)
    budget = _panel(
        next_id + 1, "stat", f"Error budget left ({period_window(slo.period_seconds)})", (0, 6, y + 1),
        [_target(f"slo:period_error_budget_remaining:ratio{sel}", "budget left", "A")],
        {"unit": "percentunit", "decimals": 1,
         "thresholds": {"mode": "absolute", "steps": [{"color": "red", "value": None}, {"color": "orange", "value": 0},
                                                      {"color": "green", "value": 0.5}]}},
        options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
    )  # fmt: skip
    burn_targets = [
        _target(f"{sli_metric(w)}{sel} / ignoring(sloth_window) slo:error_budget:ratio{sel}", f"burn {w}", chr(65 + i))
        for i, w in enumerate(("5m", "1h", "6h", "1d", "3d"))
    ]
    burns = _panel(
        next_id + 2, "timeseries", f"Burn rates (page at {number(page)}× over 1h and 5m)", (6, 9, y + 1), burn_targets,
        {"unit": "none", "custom": {"thresholdsStyle": {"mode": "line"}},
         "thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None},
                                                      {"color": "red", "value": page}]}},
    )  # fmt: skip
    sli = _panel(
        next_id + 3, "timeseries", f"SLI (objective {number(slo.objective_percent)}%)", (15, 9, y + 1),
        [_target(f"1 - {sli_metric('5m')}{sel}", "SLI 5m", "A"), _target(f"1 - {sli_metric('1h')}{sel}", "SLI 1h", "B"),
         _target(f"slo:objective:ratio{sel}", "objective", "C")],
        {"unit": "percentunit", "decimals": 3},
    )  # fmt: skip
    row = {
        "id": next_id,
        "type": "row",
        "title": f"{slo.service} / {slo.name}" + (f" — {slo.description}" if slo.description else ""),
        "collapsed": False,
        "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
        "panels": [],
    }
    return [row, budget, burns, sli]


def dashboard(slos: Sequence[SLO], title: str = "SLOs (tracectl)") -> dict[str, Any]:
    """The dashboard for the Prometheus-evaluated SLOs of ``slos`` (model-quality SLOs have no series)."""
    panels: list[dict[str, Any]] = []
    for slo in slos:
        if slo.is_model_quality:
            continue
        panels += _panels(slo, y=len(panels) // 4 * 9, next_id=len(panels) + 1)
    services = sorted({s.service for s in slos})
    return {
        "title": title,
        "uid": "tracectl-slo-" + "-".join(services)[:26],
        "tags": ["slo", "tracectl"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "time": {"from": "now-7d", "to": "now"},
        "refresh": "1m",
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Prometheus",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                }
            ]
        },
        "annotations": {"list": []},
        "panels": panels,
    }
