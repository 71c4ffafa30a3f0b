"""``tracectl metrics``'s words and data: the sentences that say what changed, its JSON document and rows.

The sentences are built here (not in the analysis) because they carry times in the reader's zone (``--tz``);
JSON carries them too, beside the numbers they are made of. Triage reads them too; the terminal view is
``render/metrics_view.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from tracectl.analysis import red
from tracectl.analysis.changepoint import MIN_LATENCY_RATIO, MIN_RATE_RATIO, MIN_RATIO_POINTS
from tracectl.units import format_duration

if TYPE_CHECKING:
    from tracectl.results import RenderOptions
    from tracectl.workflows.metrics import MetricsResult

VERSION_SOURCES = ("target_info", "build_info")  # preferred over a bare generation number when both say it


def clock(ns: int, tz: tzinfo | None) -> str:
    dt = datetime.fromtimestamp(ns / 1e9, tz=UTC)
    dt = dt.astimezone(tz) if tz is not None else dt.astimezone()
    return dt.strftime("%H:%M")


def _ms(ns: float) -> str:
    return format_duration(round(ns)) if math.isfinite(ns) else "–"


def _rate(v: float) -> str:
    return f"{v:.3g}/s" if math.isfinite(v) else "–"


def _pct(v: float) -> str:
    return f"{v * 100:.1f}%" if math.isfinite(v) else "–"


def _value(series: str, v: float) -> str:
    return _rate(v) if series == "rate" else _pct(v) if "error" in series else _ms(v)


# ------------------------------------------------------------------------------------------------ sentences


def change_sentence(r: MetricsResult, tz: tzinfo | None) -> str:
    first = r.findings.first
    if first is None:
        tested = "the p95 latency" + (" nor the error ratio" if r.error_ratio is not None else "")
        tested += " nor the errors downstream" if r.downstream_errors is not None else ""
        return (f"No change: neither {tested} shifted (Pettitt's test at α = {r.alpha:g}, minimum effect "
                f"×{MIN_LATENCY_RATIO:g} latency, +{MIN_RATIO_POINTS * 100:g} points of errors).")  # fmt: skip
    c = first.change
    word = "rose" if c.rose else "fell"
    factor = f"×{c.factor:.3g}" if math.isfinite(c.factor) else "from zero"
    name = series_title(first.series)
    if first.series == "downstream errors":
        name = f"errors downstream ({_worst_downstream(r, c.time_ns)}) per request"
    return (f"The {name} {word} {factor} ({_value(first.series, c.before)} → {_value(first.series, c.after)}) "
            f"beginning between {clock(first.start_ns, tz)} and {clock(c.time_ns, tz)} "
            f"(Pettitt's test, p = {c.p_value:.1g}).")  # fmt: skip


def series_title(series: str) -> str:
    return {"p95": "p95 latency", "downstream errors": "errors downstream"}.get(series, series)


def _worst_downstream(r: MetricsResult, at_ns: int) -> str:
    """The downstream service whose errors rose most at ``at_ns``."""
    from tracectl.analysis.changepoint import level

    def rise(points: Sequence[tuple[int, float]]) -> float:
        return (level(points, at_ns, 2**62) or 0.0) - (level(points, -(2**62), at_ns) or 0.0)

    ranked = sorted(r.downstream_error_rates.items(), key=lambda kv: (-rise(kv[1]), kv[0]))
    return ranked[0][0] if ranked else "none"


def edge_sentence(r: MetricsResult) -> str | None:
    if r.findings.first is None or r.findings.first.kind != "latency":
        return None
    if "graph" not in r.queries:
        return "No service-graph metrics (traces_service_graph_request_*): which downstream edge grew is unknown."
    e = r.findings.edge
    if e is None:
        return f"No downstream edge's p95 grew with it: the time is in {r.service} itself."
    text = f"Downstream, {e.client} → {e.server} grew: its caller-side p95 went {_ms(e.before_ns)} → {_ms(e.after_ns)}"
    if e.server_before_ns is None or e.server_after_ns is None:
        return text + "."
    own = f"{e.server}'s own p95 {_ms(e.server_before_ns)} → {_ms(e.server_after_ns)}"
    if e.in_between:
        return f"{text} while {own}: the time is between the two (network, queueing or retries)."
    return f"{text} ({own})."


def best_rollouts(lined_up: Sequence[red.Rollout]) -> list[red.Rollout]:
    """One rollout per service, a version preferred over a generation number."""
    out: dict[str, red.Rollout] = {}
    for r in sorted(lined_up, key=lambda r: not r.source.startswith(VERSION_SOURCES)):
        out.setdefault(r.service, r)
    return list(out.values())


def deployment_sentence(r: MetricsResult, tz: tzinfo | None) -> str | None:
    first = r.findings.first
    if first is None:
        return None
    sources = [q for q in r.queries if q in ("target_info", "build_info", "kube_deployment_metadata_generation")]
    if not sources:
        return "No deployment metrics (target_info, *_build_info, kube_deployment_metadata_generation): "\
               "whether a deployment lined up is unknown."  # fmt: skip
    picked = best_rollouts(r.findings.lined_up)
    if not picked:
        where = f"{r.service} and its {len(r.downstream)} downstream services" if r.downstream else r.service
        lo = first.start_ns - red.LINE_UP_STEPS * r.step_ns
        return (f"No deployment lined up: no version changed in {where} from {clock(lo, tz)} to "
                f"{clock(first.change.time_ns, tz)} ({', '.join(sources)}).")  # fmt: skip
    parts = []
    for d in picked:
        was = f" (was {d.previous})" if d.previous else ""
        steps = round((first.change.time_ns - d.time_ns) / r.step_ns)
        gap = f"{format_duration(abs(steps) * r.step_ns)} {'before' if steps > 0 else 'after'} the change began"
        when = "in the step the change began" if steps == 0 else gap
        at = f"between {clock(d.time_ns - r.step_ns, tz)} and {clock(d.time_ns, tz)}"  # first seen in that step
        parts.append(f"{d.service} deployed {d.version}{was} {at}, {when} ({d.source})")
    return "A deployment lined up: " + "; ".join(parts) + "."


def traffic_sentence(r: MetricsResult) -> str | None:
    t = r.findings.traffic
    if t is None:
        return None
    numbers = f"{_rate(t.before)} before, {_rate(t.after)} after (×{t.factor:.2f})"
    if t.changed:
        return f"Traffic {'rose' if t.after > t.before else 'fell'} with it: {numbers}."
    return f"No traffic change: {numbers}, under the ×{MIN_RATE_RATIO:g} that would count."


def sentences(r: MetricsResult, tz: tzinfo | None) -> list[str]:
    out = [change_sentence(r, tz)]
    for s in (edge_sentence(r), deployment_sentence(r, tz), traffic_sentence(r)):
        if s is not None:
            out.append(s)
    first, traffic = r.findings.first, r.findings.traffic
    if first is not None and not r.findings.lined_up and not (traffic is not None and traffic.changed):
        out.append("Neither a deployment nor a traffic change lined up with it.")
    return out


# ------------------------------------------------------------------------------------------------ machine


def _num(v: float) -> float | None:
    return v if math.isfinite(v) else None


def _ns(v: float) -> int | None:
    return round(v) if math.isfinite(v) else None


def _points(points: Sequence[tuple[int, float]], ns: bool = False) -> list[list[Any]]:
    return [[t, _ns(v) if ns else _num(v)] for t, v in points]


def _change(c: red.SeriesChange) -> dict[str, Any]:
    latency = c.kind == "latency"
    return {"series": c.series, "start_ns": c.start_ns, "first_point_ns": c.change.time_ns,
            "before": _ns(c.change.before) if latency else c.change.before,
            "after": _ns(c.change.after) if latency else c.change.after,
            "factor": _num(c.change.factor), "p_value": c.change.p_value, "method": "pettitt"}  # fmt: skip


def _rollout(d: red.Rollout) -> dict[str, Any]:
    return {"service": d.service, "version": d.version, "previous": d.previous, "time_ns": d.time_ns,
            "source": d.source}  # fmt: skip


def _edge(e: red.EdgeGrowth) -> dict[str, Any]:
    return {"client": e.client, "server": e.server, "client_p95_before_ns": _ns(e.before_ns),
            "client_p95_after_ns": _ns(e.after_ns),
            "server_p95_before_ns": None if e.server_before_ns is None else _ns(e.server_before_ns),
            "server_p95_after_ns": None if e.server_after_ns is None else _ns(e.server_after_ns),
            "in_between": e.in_between}  # fmt: skip


def metrics_document(r: MetricsResult, opts: RenderOptions) -> dict[str, Any]:
    f = r.findings
    fam = r.family.family
    return {
        "service": r.service, "operation": r.operation, "start_ns": r.time.start_ns, "end_ns": r.time.end_ns,
        "step_ns": r.step_ns,
        "family": {"key": fam.key, "title": fam.title, "metric": fam.histogram, "unit_ns": fam.unit_ns,
                   "native": fam.native, "service_matchers": [list(m) for m in r.family.service_matchers]},
        "queries": r.queries,
        "series": {"rate_per_s": _points(r.rate),
                   "error_ratio": None if r.error_ratio is None else _points(r.error_ratio),
                   "downstream_errors_per_request": None if r.downstream_errors is None
                   else _points(r.downstream_errors),
                   **{f"{name}_ns": _points(points, ns=True) for name, points in r.latency.items()}},
        "change": _change(f.first) if f.first else None,
        "changes": [_change(c) for c in f.changes],
        "edge": _edge(f.edge) if f.edge else None,
        "grown_edges": [_edge(e) for e in f.grown_edges],
        "downstream": r.downstream,
        "rollouts": [_rollout(d) for d in f.rollouts],
        "lined_up": [_rollout(d) for d in f.lined_up],
        "traffic": None if f.traffic is None else {"before_per_s": f.traffic.before, "after_per_s": f.traffic.after,
                                                     "changed": f.traffic.changed},
        "sentences": sentences(r, opts.tz),
        "warnings": r.warnings,
    }  # fmt: skip


def metrics_rows(r: MetricsResult) -> list[dict[str, Any]]:
    ratio = dict(r.error_ratio or ())
    lat = {name: dict(points) for name, points in r.latency.items()}
    return [
        {"time_ns": t, "rate_per_s": _num(v), "error_ratio": _num(ratio.get(t, math.nan)),
         **{f"{n}_ns": _ns(lat.get(n, {}).get(t, math.nan)) for n in ("p50", "p95", "p99")}}
        for t, v in r.rate
    ]  # fmt: skip


# ------------------------------------------------------------------------------------------------ terminal
