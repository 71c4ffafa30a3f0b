"""What makes a report a postmortem document, shared by the triage and drift reports: the windows as absolute
times (the reader's zone and UTC), when and by which version it was made, the timeline, the metrics chart (an
inline SVG, or image-free sparklines in Markdown), and links from trace and span IDs to the user's trace UI.

The timeline and the chart come from what triage already read (its metrics window); nothing here does I/O.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING

from tracectl.units import format_duration

if TYPE_CHECKING:
    from tracectl.analysis.red import SeriesChange
    from tracectl.timerange import TimeRange
    from tracectl.workflows.metrics import MetricsResult
    from tracectl.workflows.triage_metrics import MetricsWindow

LATENCY_COLOURS = {"p50": "#90caf9", "p95": "#1565c0", "p99": "#0d2c6b"}
ERROR_COLOUR, CHANGE_COLOUR, DEPLOY_COLOUR, ALERT_COLOUR = "#c62828", "#e65100", "#6a1b9a", "#ad1457"


# ---------------------------------------------------------------------------------------------- times


def _dt(ns: int, tz: tzinfo | None) -> datetime:
    dt = datetime.fromtimestamp(ns / 1e9, tz=UTC)
    return dt.astimezone(tz) if tz is not None else dt.astimezone()


def local_time(ns: int, tz: tzinfo | None) -> str:
    """``2026-12-06 15:44:00 CET``: to the second, in the display zone (``--tz``), the zone named."""
    dt = _dt(ns, tz)
    return f"{dt:%Y-%m-%d %H:%M:%S} {dt.tzname() or dt.strftime('%z')}"


def utc_time(ns: int) -> str:
    return f"{datetime.fromtimestamp(ns // 10**9, tz=UTC):%Y-%m-%dT%H:%M:%SZ}"


def window_text(window: TimeRange, tz: tzinfo | None) -> str:
    """Both ends in the display zone and in UTC, and the length."""
    same_day = _dt(window.start_ns, tz).date() == _dt(window.end_ns, tz).date()
    end = local_time(window.end_ns, tz)
    end = end.split(" ", 1)[1] if same_day else end
    start = local_time(window.start_ns, tz).rsplit(" ", 1)[0]
    return (f"{start} → {end} ({length(window.duration_ns)}); UTC {utc_time(window.start_ns)} → "
            f"{utc_time(window.end_ns)}")  # fmt: skip


def length(ns: int) -> str:
    """``17 min 19 s``, ``2 h 5 min``: a window's length as a person says it."""
    seconds = round(ns / 1e9)
    if seconds < 120:
        return format_duration(ns)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return " ".join(f"{v} {u}" for v, u in ((h, "h"), (m, "min"), (s, "s")) if v)


def generated_text(generated_ns: int, tz: tzinfo | None) -> str:
    from tracectl import __version__

    return f"{local_time(generated_ns, tz)} (UTC {utc_time(generated_ns)}) by tracectl {__version__}"


# ---------------------------------------------------------------------------------------------- the timeline


@dataclass(frozen=True, slots=True)
class Event:
    time_ns: int
    what: str
    kind: str  # window, deploy, change, log, alert, trace: the chart's marks and the HTML's colours


def metrics_events(window: MetricsWindow | None) -> list[Event]:
    """The change's start and the deployments that lined up with it, as the metrics read them."""
    if window is None or window.change is None or not window.change.rose:
        return []
    from tracectl.render.metrics_view import best_rollouts, series_title

    c: SeriesChange = window.change
    events = [Event(c.start_ns, f"the {series_title(c.series)} began to rise ({window.source}, Pettitt's test, "
                                f"p = {c.change.p_value:.1g})", "change")]  # fmt: skip
    r = window.result
    if r is not None:
        for d in best_rollouts(r.findings.lined_up):
            was = f" (was {d.previous})" if d.previous else ""
            events.append(Event(d.time_ns - r.step_ns, f"{d.service} deployed {d.version}{was}: first seen in the "
                                f"{format_duration(r.step_ns)} step from here ({d.source})", "deploy"))  # fmt: skip
    return events


def timeline_rows(events: Sequence[Event], tz: tzinfo | None) -> list[tuple[str, str, str]]:
    """(time in the display zone, UTC, what), in time order."""
    ordered = sorted(events, key=lambda e: e.time_ns)
    return [(local_time(e.time_ns, tz), utc_time(e.time_ns), e.what) for e in ordered]


def timeline_markdown(events: Sequence[Event], tz: tzinfo | None) -> list[str]:
    from tracectl.render.safe_text import md_text

    rows = timeline_rows(events, tz)  # what happened may quote a log line or a name: escaped as every md cell is
    return ["## Timeline", "", "| time | UTC | what |", "| --- | --- | --- |",
            *[f"| {t} | {u} | {md_text(w)} |" for t, u, w in rows]]  # fmt: skip


def _as_code(m: re.Match[str]) -> str:
    return f"<code>{m.group(1)}</code>"


def timeline_html(events: Sequence[Event], tz: tzinfo | None) -> str:
    e = html.escape
    ordered = sorted(events, key=lambda ev: ev.time_ns)
    rows = "".join(
        f"<tr class='ev {ev.kind}'><td class=t>{e(local_time(ev.time_ns, tz))}</td><td class='t dim'>"
        f"{utc_time(ev.time_ns)}</td><td>{_HEX32.sub(_as_code, e(ev.what))}</td></tr>"
        for ev in ordered
    )
    return (f"<h2>Timeline</h2><style>td.t{{white-space:nowrap}}</style><table class=timeline><tr><th>time</th>"
            f"<th>UTC</th><th>what</th></tr>{rows}</table>")  # fmt: skip


# ---------------------------------------------------------------------------------------------- the chart


def no_chart_sentence(window: MetricsWindow | None) -> str:
    if window is None:
        return ("No metrics chart: the window was given on the command line, so triage read no metrics "
                "(`tracectl metrics` over the same window shows them).")  # fmt: skip
    if window.result is None:
        return f"No metrics chart: triage read no metrics series. {window.note}"
    return "No metrics chart: the metrics held no latency or error series for this service in the window."


def _series(r: MetricsResult) -> list[tuple[str, Sequence[tuple[int, float]]]]:
    return [(name, r.latency[name]) for name in ("p50", "p95", "p99") if r.latency.get(name)]


def chart_svg(window: MetricsWindow | None, events: Sequence[Event], tz: tzinfo | None) -> str:
    """The service's latency (p50/p95/p99) and error ratio over the metrics' window, the suspect window shaded, the
    change and the deployments marked; a sentence when there were no metrics."""
    from tracectl.render.metrics_view import clock

    r = window.result if window is not None else None
    latency = _series(r) if r is not None else []
    if r is None or not (latency or r.error_ratio):
        return f"<p class='dim no-chart'>{html.escape(no_chart_sentence(window))}</p>"
    left, width, top, lat_h, err_h, gap = 64, 680, 24, 150, 56, 26
    height = top + lat_h + gap + err_h + 30
    t0, t1 = r.time.start_ns, max(r.time.end_ns, r.time.start_ns + 1)

    def x(ns: int) -> float:
        return left + (min(max(ns, t0), t1) - t0) * width / (t1 - t0)

    peak = max((v for _, pts in latency for _, v in pts if math.isfinite(v)), default=0.0) or 1.0
    out = [f'<svg class=metrics-chart xmlns="http://www.w3.org/2000/svg" width="{left + width + 110}" '
           f'height="{height}" role="img" aria-label="metrics of {html.escape(r.service)}: latency p50, p95, p99 '
           f'and error ratio">']  # fmt: skip
    if window is not None and window.suspect is not None:
        x0 = x(window.suspect.start_ns)
        out.append(f'<rect class=suspect x="{x0:.1f}" y="{top}" width="{x(window.suspect.end_ns) - x0:.1f}" '
                   f'height="{lat_h + gap + err_h}" fill="#fff3e0"><title>suspect window</title></rect>')  # fmt: skip
    for y0, h in ((top, lat_h), (top + lat_h + gap, err_h)):
        out.append(f'<rect x="{left}" y="{y0}" width="{width}" height="{h}" fill="none" stroke="#ccc"/>')
    labels = []
    for name, pts in latency:
        out.append(_polyline(pts, x, lambda v: top + lat_h - v / peak * lat_h, LATENCY_COLOURS[name], name))
        last = next((v for _, v in reversed(pts) if math.isfinite(v)), math.nan)
        y_last = top + lat_h - (last / peak * lat_h if math.isfinite(last) else 0)
        labels.append((y_last + 4, name, format_duration(round(last)) if math.isfinite(last) else "–"))
    floor = float(top + lat_h + 4)
    for y, name, shown in sorted(labels, reverse=True):  # from the bottom up, 12 px apart: never on each other
        floor = min(y, floor)
        out.append(f'<text x="{left + width + 6}" y="{floor:.1f}" fill="{LATENCY_COLOURS[name]}">{name} {shown}</text>')
        floor -= 12
    out.append(f'<text x="{left - 6}" y="{top + 10}" text-anchor="end" fill="#666">{format_duration(round(peak))}'
               f'</text><text x="{left - 6}" y="{top + lat_h}" text-anchor="end" fill="#666">0</text>')  # fmt: skip
    err_top = top + lat_h + gap
    if r.error_ratio:
        ceiling = max(max((v for _, v in r.error_ratio if math.isfinite(v)), default=0.0), 0.01)
        out.append(_polyline(r.error_ratio, x, lambda v: err_top + err_h - v / ceiling * err_h, ERROR_COLOUR,
                             "error ratio"))  # fmt: skip
        out.append(
            f'<text x="{left - 6}" y="{err_top + 10}" text-anchor="end" fill="#666">{ceiling:.0%}</text>'
            f'<text x="{left + width + 6}" y="{err_top + 14}" fill="{ERROR_COLOUR}">error ratio</text>'
        )
    else:
        out.append(f'<text x="{left + 8}" y="{err_top + 30}" fill="#666">no error label: no error ratio</text>')
    for ev in events:
        if ev.kind in ("change", "deploy", "alert") and t0 <= ev.time_ns <= t1:
            out.append(_mark(ev, x(ev.time_ns), top, lat_h + gap + err_h, clock(ev.time_ns, tz)))
    for ns in _ticks(t0, t1):
        out.append(f'<text x="{x(ns):.1f}" y="{height - 8}" text-anchor="middle" fill="#666">{clock(ns, tz)}</text>')
    out.append(
        f'<text x="{left}" y="14" fill="#666">latency ({html.escape(r.family.family.histogram)}, step '
        f"{format_duration(r.step_ns)})</text></svg>"
    )
    return "".join(out)


def _polyline(pts: Sequence[tuple[int, float]], x: object, y: object, colour: str, name: str) -> str:
    """One line per run of finite points (a gap where the metrics had none)."""
    runs: list[list[str]] = [[]]
    for t, v in pts:
        if math.isfinite(v):
            runs[-1].append(f"{x(t):.1f},{y(v):.1f}")  # type: ignore[operator]
        elif runs[-1]:
            runs.append([])
    dots = "".join(  # a point with no neighbour would draw nothing as a line
        f'<circle cx="{run[0].split(",")[0]}" cy="{run[0].split(",")[1]}" r="2" fill="{colour}"/>'
        for run in runs
        if len(run) == 1
    )
    return dots + "".join(
        f'<polyline class="series" points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="1.6">'
        f"<title>{html.escape(name)}</title></polyline>"
        for run in runs
        if run
    )


def _mark(ev: Event, at: float, top: int, height: int, when: str) -> str:
    colour = {"change": CHANGE_COLOUR, "deploy": DEPLOY_COLOUR}.get(ev.kind, ALERT_COLOUR)
    label = {"change": "change began", "deploy": ev.what.split(":", 1)[0], "alert": "alert"}.get(ev.kind, ev.kind)
    dy = {"change": 12, "deploy": 26, "alert": 40}.get(ev.kind, 12)
    side = f'x="{at - 4:.1f}" text-anchor="end"' if ev.kind == "deploy" else f'x="{at + 4:.1f}"'
    halo = 'stroke="#fff" stroke-width="3" paint-order="stroke"'  # legible over the lines it crosses
    return (f'<g class="mark {ev.kind}"><line x1="{at:.1f}" y1="{top}" x2="{at:.1f}" y2="{top + height}" '
            f'stroke="{colour}" stroke-width="1.5" stroke-dasharray="4 3"/><text {side} y="{top + dy}" '
            f'fill="{colour}" {halo}>{html.escape(label)} {when}</text>'
            f"<title>{html.escape(ev.what)}</title></g>")  # fmt: skip


def _ticks(t0: int, t1: int, count: int = 6) -> list[int]:
    return [t0 + (t1 - t0) * i // (count - 1) for i in range(count)]


def chart_markdown(window: MetricsWindow | None, events: Sequence[Event], tz: tzinfo | None,
                   width: int = 60) -> list[str]:  # fmt: skip
    """The same chart without an image: one sparkline per series, the change and deployments marked under them."""
    from tracectl.render.metrics_view import _value, clock, sparkline

    r = window.result if window is not None else None
    rows = [(name, name, pts) for name, pts in (_series(r) if r is not None else [])]
    if r is not None and r.error_ratio:
        rows.append(("error ratio", "error ratio", r.error_ratio))
    out = ["## Metrics chart", ""]
    if r is None or not rows:
        return [*out, no_chart_sentence(window)]
    t0, t1 = r.time.start_ns, max(r.time.end_ns, r.time.start_ns + 1)
    cells = max(10, min(width, -(-(t1 - t0) // r.step_ns)))
    lines = [f"{label:<12}{sparkline(_by_time(pts, t0, t1, cells), cells):<{cells}} "
             f"{_value(series, next((v for _, v in reversed(pts) if math.isfinite(v)), math.nan)):>9}"
             for label, series, pts in rows]  # fmt: skip
    for ev in sorted(events, key=lambda e: e.time_ns):
        if ev.kind in ("change", "deploy", "alert") and t0 <= ev.time_ns <= t1:
            col = min(cells - 1, (ev.time_ns - t0) * cells // (t1 - t0))
            name = {"change": "change began", "deploy": ev.what.split(":", 1)[0]}.get(ev.kind, ev.kind)
            lines.append(" " * (12 + col) + f"▲ {name} {clock(ev.time_ns, tz)}")
    left, right = clock(t0, tz), clock(t1, tz)
    lines.append(" " * 12 + left + right.rjust(max(len(right) + 2, cells - len(left))))
    from tracectl.render.safe_text import md_fence, md_text

    head = md_text(f"{r.service}, step {format_duration(r.step_ns)} ({r.family.family.histogram}):")
    return [*out, head, "", *md_fence(lines)]


def _by_time(pts: Sequence[tuple[int, float]], t0: int, t1: int, cells: int) -> list[float]:
    """The largest value in each of ``cells`` equal slices of [t0, t1] (NaN where the metrics had none), so a
    series with points over part of the window sits where its points are."""
    out = [math.nan] * cells
    for t, v in pts:
        if math.isfinite(v) and t0 <= t <= t1:
            i = min(cells - 1, (t - t0) * cells // (t1 - t0))
            out[i] = v if math.isnan(out[i]) else max(out[i], v)
    return out


# ---------------------------------------------------------------------------------------------- links

_HEX32 = re.compile(r"\b([0-9a-f]{32})\b")
_TRACE_IN_HTML = re.compile(r"<code>([0-9a-f]{32})</code>|(?<=\(trace )([0-9a-f]{32})(?=\))")
_SPAN_IN_HTML = re.compile(r"<code>([0-9a-f]{16})</code>")
_TRACE_IN_MD = re.compile(r"`([0-9a-f]{32})`")
_SPAN_IN_MD = re.compile(r"`([0-9a-f]{16})`")


def ui_link(template: str, trace_id: str, span_id: str = "") -> str:
    """``--ui-url``'s template with ``{trace_id}`` (and ``{span_id}``, empty for a whole trace) filled in."""
    return template.replace("{trace_id}", trace_id).replace("{span_id}", span_id)


def link_html(text: str, template: str | None, span_trace: str | None = None) -> str:
    """Trace IDs (and, with ``span_trace``, the span IDs of that trace) in ``text`` become links to the UI."""
    if not template:
        return text

    def trace(m: re.Match[str]) -> str:
        tid = m.group(1) or m.group(2)
        return f'<a href="{html.escape(ui_link(template, tid))}">{m.group(0)}</a>'

    text = _TRACE_IN_HTML.sub(trace, text)
    if span_trace:
        text = _SPAN_IN_HTML.sub(
            lambda m: f'<a href="{html.escape(ui_link(template, span_trace, m.group(1)))}">{m.group(0)}</a>', text
        )
    return text


def link_markdown(text: str, template: str | None, span_trace: str | None = None) -> str:
    """The same in Markdown, outside fenced blocks (a link there would show as text)."""
    if not template:
        return text
    parts = text.split("```")
    for i in range(0, len(parts), 2):  # even parts are outside the fences
        part = _TRACE_IN_MD.sub(lambda m: f"[{m.group(0)}]({ui_link(template, m.group(1))})", parts[i])
        if span_trace:
            part = _SPAN_IN_MD.sub(lambda m: f"[{m.group(0)}]({ui_link(template, span_trace, m.group(1))})", part)
        parts[i] = part
    return "```".join(parts)
