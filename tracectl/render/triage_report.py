"""Triage results for scripts (JSON, schema ``tracectl.triage/v1``) and postmortems (Markdown, HTML).

The HTML report is one self-contained file: inline CSS and an inline SVG waterfall, no scripts, no network.
"""

from __future__ import annotations

import html
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tracectl.analysis.analyse import TraceAnalysis
from tracectl.render.logs_view import display_line
from tracectl.render.registry import Renderer
from tracectl.render.safe_text import md_code, md_fence, md_text
from tracectl.render.trace_report import REPORT_CSS, report_kind, save_report, text_waterfall, waterfall_svg
from tracectl.render.verdict_view import faster_document, faster_text, suspect_document
from tracectl.units import format_duration, format_timestamp, plural
from tracectl.workflows.triage import duration_percentiles

if TYPE_CHECKING:
    from rich.console import Console

    from tracectl.analysis.explain import Diagnosis
    from tracectl.analysis.logs import MatchedLog
    from tracectl.analysis.triage import Verdict
    from tracectl.render.postmortem import Event
    from tracectl.results import RenderOptions
    from tracectl.timerange import TimeRange
    from tracectl.workflows.quality import InputCheck
    from tracectl.workflows.sources import InputCounts
    from tracectl.workflows.triage_alert import AlertStart
    from tracectl.workflows.triage_metrics import MetricsWindow
    from tracectl.workflows.triage_pushdown import Pushdown


class TriageResult(Protocol):
    """What a triage report is made from (``tracectl.workflows.triage.TriageResult``)."""

    verdict: Verdict
    mode: str
    source: str
    seconds: float
    analyses: list[TraceAnalysis]
    suspects: list[TraceAnalysis]
    baseline: list[TraceAnalysis]
    log_excerpts: list[tuple[str, MatchedLog]]
    excerpts_from_culprit: bool
    logs_checked: bool
    warnings: list[str]
    commands: list[str]
    quality: InputCheck | None
    metrics_window: MetricsWindow | None
    pushdown: Pushdown | None
    inputs: InputCounts | None
    window: TimeRange | None
    baseline_window: TimeRange | None
    generated_ns: int
    reproduce: str
    alert: AlertStart | None

    @property
    def alert_start_ns(self) -> int | None: ...

    @property
    def error_rate(self) -> float: ...

    def worst(self) -> TraceAnalysis | None: ...

    def worst_diagnosis(self) -> Diagnosis | None: ...


def suspect_rows(result: TriageResult) -> list[dict[str, Any]]:
    """The ranked suspects as flat rows (JSON Lines, CSV)."""
    return [
        {"rank": n, "component": s.component, "edge": s.edge, "score": s.score, "share_of_excess": s.share_of_excess,
         "excess_cp_ns": s.excess_ns, "suspect_cp_mean_ns": s.suspect_cp_ns, "baseline_cp_mean_ns": s.baseline_cp_ns,
         "sentence": s.sentence, "culprit": s.component == result.verdict.culprit}
        for n, s in enumerate(result.verdict.suspects, 1)
    ]  # fmt: skip


def triage_document(result: TriageResult) -> dict[str, Any]:
    """The JSON contract (documented in docs/triage.md; a contract test pins its keys)."""
    v = result.verdict
    return {
        "verdict": {"kind": v.kind, "culprit": v.culprit, "sentence": v.sentence, "examples": v.examples},
        "mode": result.mode,
        "source": result.source,
        "counts": {"traces": len(result.analyses), "suspects": len(result.suspects), "baseline": len(result.baseline)},
        "durations_ns": {
            "suspect_mean": v.numbers.get("suspect_mean_ns", 0.0),
            "baseline_mean": v.numbers.get("baseline_mean_ns", 0.0),
            "ratio": v.numbers.get("ratio", 0.0),
            **duration_percentiles(result.analyses),
        },
        "suspects": [suspect_document(s, n) for n, s in enumerate(v.suspects, 1)],
        "faster": faster_document(v.faster),
        "logs": {
            "checked": result.logs_checked,
            "excerpts_from_culprit": result.excerpts_from_culprit,
            "excerpts": [
                {"trace_id": tid, "time_ns": m.record.time_ns, "level": m.level, "line": m.record.line}
                for tid, m in result.log_excerpts
            ],
        },
        "warnings": result.warnings,
        "next_commands": result.commands,
        "seconds": round(result.seconds, 3),
        "error_rate": result.error_rate,
        "quality": result.quality.document() if result.quality is not None else None,
        "worst_trace": _explained(result, "document"),
        "metrics": result.metrics_window.document() if result.metrics_window is not None else None,
        "pushdown": result.pushdown.document() if result.pushdown is not None else None,
        "inputs": result.inputs.document() if result.inputs is not None else None,
        "alert": result.alert.document() if result.alert is not None else None,
    }


def _explained(result: TriageResult, how: str) -> Any:
    """What ``explain`` finds in the worst suspect, as ``how`` (document, markdown, html): render/explain_report.py."""
    from tracectl.render import explain_report

    return getattr(explain_report, f"worst_trace_{how}")(result.worst_diagnosis())


# --------------------------------------------------------------------------------------------- Markdown


def metrics_lines(result: TriageResult) -> list[str]:
    """The Markdown section saying how the metrics chose the windows (none when a window was given)."""
    window = result.metrics_window
    if window is None:
        return []
    lines = [window.note]
    if window.used and window.result is not None:
        from tracectl.render.metrics_view import sentences

        lines += sentences(window.result, window.tz)[1:]
    return ["", "## Metrics", "", *[f"- {md_text(line)}" for line in lines]]


def pushdown_lines(result: TriageResult) -> list[str]:
    """The Markdown section with what Tempo computed over a window larger than --max-traces."""
    if result.pushdown is None:
        return []
    return ["", "## Pushed down to Tempo", "", *[f"- {md_text(line)}" for line in result.pushdown.lines()]]


def to_markdown(result: TriageResult, tz: tzinfo | None, ui_url: str | None = None) -> str:
    from tracectl.render import postmortem as pm

    v, commands = result.verdict, reproduce_lines(result)
    out = ["# Triage report", "", *[f"- **{k}:** {md_text(t)}" for k, t in header_rows(result, tz)], ""]
    culprit = md_code(v.culprit, in_table=False) if v.culprit else "nothing stands out"
    out.append(f"**Verdict:** {culprit} ({v.kind})  ")
    out.append(md_text(v.sentence))
    out.append("")
    n = v.numbers
    out.append(
        f"{plural(len(result.analyses), 'trace')} from {md_text(result.source)}; "
        f"{plural(len(result.suspects), 'suspect')} "
        f"(mean {format_duration(round(n.get('suspect_mean_ns', 0)))}) vs {len(result.baseline)} baseline "
        f"(mean {format_duration(round(n.get('baseline_mean_ns', 0)))}); mode: {result.mode}."
    )
    if result.alert is not None:  # what paged, and the windows and SLO read from it
        out += ["", "## Alert", "", result.alert.sentence(tz)]
    events = triage_events(result)
    out += ["", *pm.timeline_markdown(events, tz), "", *pm.chart_markdown(result.metrics_window, events, tz)]
    out += metrics_lines(result) + pushdown_lines(result)
    if result.warnings:  # what cut or bent the data: a postmortem must say so next to the numbers
        out += ["", "## Warnings", "", *[f"- {md_text(w)}" for w in result.warnings]]
    out += ["", "## Ranked suspects", "", "| # | component | score | why |", "| ---: | --- | ---: | --- |"]
    for i, s in enumerate(v.suspects, 1):
        out.append(f"| {i} | {md_code(s.component)} | {s.score:.2f} | {md_text(s.sentence.split(': ', 1)[-1])} |")
    out += [
        "",
        "## Critical-path time per component (mean per trace)",
        "",
        "| component | suspects | baseline | excess |",
        "| --- | ---: | ---: | ---: |",
    ]
    for s in v.suspects:
        out.append(
            f"| {md_code(s.component)} | {format_duration(round(s.suspect_cp_ns))} | "
            f"{format_duration(round(s.baseline_cp_ns))} | {format_duration(round(s.excess_ns))} |"
        )
    if v.faster:
        out += ["", md_text(faster_text(v.faster, limit=10)) + "."]
    if result.quality is not None:
        from tracectl.render.drift_report import quality_markdown

        out += ["", *quality_markdown(result.quality)]
    worst = result.worst()
    if worst is not None:
        out += ["", f"## Worst trace `{worst.tree.trace_id}`", "", *md_fence(text_waterfall(worst))]
        out += _explained(result, "markdown")
    if result.log_excerpts:
        out += ["", f"## {md_text(excerpts_title(result))}", ""]
        out += md_fence([
            f"{format_timestamp(m.record.time_ns, tz)} {m.level.upper():5} {display_line(m.record.line)}  (trace {tid})"
            for tid, m in result.log_excerpts
        ])  # fmt: skip
    if v.examples:
        out += ["", "## Example traces", "", *[f"- `{t}`" for t in v.examples]]
    fenced = md_fence(commands)
    out += ["", "## Reproduce", "", fenced[0] + "sh", *fenced[1:], ""]
    worst = result.worst()
    return pm.link_markdown("\n".join(out), ui_url, worst.tree.trace_id if worst is not None else None)


# ------------------------------------------------------------------------------------------------- HTML


def to_html(result: TriageResult, tz: tzinfo | None, ui_url: str | None = None) -> str:
    from tracectl.render import postmortem as pm

    v, commands = result.verdict, reproduce_lines(result)
    e = html.escape
    rows = "".join(
        f"<tr><td class=n>{i}</td><td><code>{e(s.component)}</code></td><td class=n>{s.score:.2f}</td>"
        f"<td>{e(s.sentence.split(': ', 1)[-1])}</td></tr>"
        for i, s in enumerate(v.suspects, 1)
    )
    cp_rows = "".join(
        f"<tr><td><code>{e(s.component)}</code></td><td class=n>{format_duration(round(s.suspect_cp_ns))}</td>"
        f"<td class=n>{format_duration(round(s.baseline_cp_ns))}</td>"
        f"<td class=n>{format_duration(round(s.excess_ns))}</td></tr>"
        for s in v.suspects
    )
    logs = "\n".join(
        e(f"{format_timestamp(m.record.time_ns, tz)} {m.level.upper():5} {display_line(m.record.line)}  (trace {tid})")
        for tid, m in result.log_excerpts
    )
    worst = result.worst()
    n = v.numbers
    culprit = f"<code>{e(v.culprit)}</code>" if v.culprit else "nothing stands out"
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'><title>tracectl triage report</title>",
        f"<style>{REPORT_CSS}</style></head><body>",
        "<h1>Triage report</h1>",
        "<table class=about>"
        + "".join(f"<tr><th>{e(k)}</th><td>{e(t)}</td></tr>" for k, t in header_rows(result, tz))
        + "</table>",
        f"<div class='verdict{'' if v.culprit else ' ok'}'><b>Verdict:</b> {culprit} <span class=dim>({e(v.kind)})"
        f"</span><br>{e(v.sentence)}</div>",
        f"<p class=dim>{plural(len(result.analyses), 'trace')} from {e(result.source)}; "
        f"{plural(len(result.suspects), 'suspect')} (mean "
        f"{format_duration(round(n.get('suspect_mean_ns', 0)))}) vs {len(result.baseline)} baseline (mean "
        f"{format_duration(round(n.get('baseline_mean_ns', 0)))}); mode {e(result.mode)}.</p>",
    ]
    if result.alert is not None:
        parts.append(f"<h2>Alert</h2><p>{e(result.alert.sentence(tz))}</p>")
    events = triage_events(result)
    parts += [pm.timeline_html(events, tz), "<h2>Metrics chart</h2>", pm.chart_svg(result.metrics_window, events, tz)]
    if metrics_lines(result):
        parts.append(
            "<h2>Metrics</h2><ul>" + "".join(f"<li>{e(m[2:])}</li>" for m in metrics_lines(result)[3:]) + "</ul>"
        )
    if result.pushdown is not None:
        parts.append("<h2>Pushed down to Tempo</h2><ul>" + "".join(f"<li>{e(m)}</li>" for m in result.pushdown.lines())
                     + "</ul>")  # fmt: skip
    if result.warnings:
        parts.append("<h2>Warnings</h2><ul>" + "".join(f"<li>{e(w)}</li>" for w in result.warnings) + "</ul>")
    parts.append(
        f"<h2>Ranked suspects</h2><table><tr><th>#</th><th>component</th><th>score</th><th>why</th></tr>{rows}</table>"
    )
    if result.quality is not None:
        from tracectl.render.drift_report import quality_html

        parts.append(quality_html(result.quality))
    if worst is not None:
        parts.append(f"<h2>Worst trace <code>{e(worst.tree.trace_id)}</code></h2>{waterfall_svg(worst)}")
        parts.append("<p class=dim>Dark: the critical path. Light: the rest of each span.</p>")
        parts.append(_explained(result, "html"))
    parts.append(
        "<h2>Critical-path time per component (mean per trace)</h2><table><tr><th>component</th>"
        f"<th>suspects</th><th>baseline</th><th>excess</th></tr>{cp_rows}</table>"
    )
    if v.faster:
        parts.append(f"<p class=dim>{e(faster_text(v.faster, limit=10))}.</p>")
    if logs:
        parts.append(f"<h2>{e(excerpts_title(result))}</h2><pre>{logs}</pre>")
    if v.examples:
        parts.append(
            "<h2>Example traces</h2><ul>" + "".join(f"<li><code>{e(t)}</code></li>" for t in v.examples) + "</ul>"
        )
    parts.append(f"<h2>Reproduce</h2><pre class=reproduce>{e(chr(10).join(commands))}</pre></body></html>")
    return pm.link_html("\n".join(parts) + "\n", ui_url, worst.tree.trace_id if worst is not None else None)


def excerpts_title(result: TriageResult) -> str:
    """What the log excerpts are: the culprit's own lines, or (it logged nothing) errors elsewhere."""
    if result.excerpts_from_culprit or not result.verdict.culprit:
        return "Log excerpts"
    return f"Log excerpts (none from {result.verdict.culprit}: warnings and errors elsewhere in the same requests)"


def write_report(result: TriageResult, path: Path, tz: tzinfo | None, ui_url: str | None = None) -> None:
    """The report as Markdown (``.md``) or self-contained HTML (``.html``), written to ``path``."""
    md = report_kind(path) == "md"
    save_report(path, to_markdown(result, tz, ui_url) if md else to_html(result, tz, ui_url))


# ------------------------------------------------------------------------------------ what a postmortem needs


def header_rows(result: TriageResult, tz: tzinfo | None) -> list[tuple[str, str]]:
    """The windows as absolute times, and when and by what the report was made."""
    from tracectl.render.postmortem import generated_text, window_text

    rows = []
    if result.window is not None:
        rows.append(("Incident window", window_text(result.window, tz)))
    if result.baseline_window is not None:
        rows.append(("Baseline window", window_text(result.baseline_window, tz)))
    elif result.window is not None:
        rows.append(("Baseline", f"{plural(len(result.baseline), 'request')} of the same window (mode {result.mode})"))
    rows.append(("Generated", generated_text(result.generated_ns, tz)))
    return rows


def reproduce_lines(result: TriageResult) -> list[str]:
    """The triage that gives this report again, then what to run next: absolute windows, never ``--since``."""
    return [*([result.reproduce] if result.reproduce else []), *result.commands]


def triage_events(result: TriageResult) -> list[Event]:
    """The windows, the metrics' change and deployments, the alert, the first suspect, the worst request and the
    first serious log line, for the timeline and the chart's marks."""
    from tracectl.render.postmortem import Event, metrics_events

    events = metrics_events(result.metrics_window)
    if result.baseline_window is not None:
        events.append(Event(result.baseline_window.start_ns, "the baseline window begins", "window"))
    if result.window is not None:
        events.append(Event(result.window.start_ns, "the incident window begins", "window"))
        events.append(Event(result.window.end_ns, "the incident window ends", "window"))
    if result.alert_start_ns is not None:
        events.append(Event(result.alert_start_ns, "the alert began firing", "alert"))
    if result.suspects and result.mode != "windows":
        first = min(result.suspects, key=lambda a: a.tree.wall_start)
        events.append(Event(first.tree.wall_start, f"the first suspect request: {first.tree.trace_id} "
                            f"({format_duration(first.tree.duration_ns)})", "trace"))  # fmt: skip
    worst = result.worst()
    if worst is not None:
        events.append(Event(worst.tree.wall_start, f"the worst suspect request: {worst.tree.trace_id} "
                            f"({format_duration(worst.tree.duration_ns)})", "trace"))  # fmt: skip
    rank = {"fatal": 0, "error": 1, "warn": 2}
    serious = sorted(result.log_excerpts, key=lambda tm: (rank.get(tm[1].level, 3), tm[1].record.time_ns))
    if serious:
        tid, m = serious[0]
        events.append(Event(m.record.time_ns, f"the first {m.level} log line of the excerpts: "
                            f"{display_line(m.record.line)[:120]} (trace {tid})", "log"))  # fmt: skip
    return events


def _table(result: TriageResult, console: Console, opts: RenderOptions) -> None:
    from tracectl.render.verdict_view import render_triage

    render_triage(result, console, opts.tz, truth=opts.extra.get("truth"))


TRIAGE = Renderer(
    document=lambda result, opts: triage_document(result),
    rows=lambda result, opts: suspect_rows(result),
    table=_table,
)
