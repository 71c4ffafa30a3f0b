"""The verdict panel (culprit, one sentence of why, the numbers, examples), the ranked suspects as a table and
as JSON (shared by ``triage`` and ``diff``), and the components that got faster."""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from tracectl.analysis.excess import LatencyRow
from tracectl.analysis.logevidence import Silenced
from tracectl.analysis.triage import Suspect, Verdict
from tracectl.units import format_duration, plural

if TYPE_CHECKING:
    from rich.console import Console

    from tracectl.render.triage_report import TriageResult
    from tracectl.workflows.triage_metrics import MetricsWindow

WORST_PATH_SHARE = 0.01  # the worst trace's panel shows the branches holding at least this share of its path
SHOWN_SCORE = 0.05  # runners-up below this explain nothing worth a line


def suspect_document(s: Suspect, rank: int) -> dict[str, Any]:
    """One ranked suspect for ``-o json`` (keys pinned by docs/triage.md; new keys may be added)."""
    return {
        "rank": rank,
        "component": s.component,
        "edge": s.edge,
        "score": s.score,
        "evidence": s.evidence,
        "sentence": s.sentence,
        "excess_cp_ns": s.excess_ns,
        "share_of_excess": s.share_of_excess,
        "suspect_cp_mean_ns": s.suspect_cp_ns,
        "baseline_cp_mean_ns": s.baseline_cp_ns,
        "services": list(s.services),
        "rows": [{"component": c.label, "excess_cp_ns": v} for c, v in (s.latency.members if s.latency else [])],
        "errors_on_path": {"suspects": s.errors_on_path_suspect, "baseline": s.errors_on_path_baseline},
        "new_operations": [operation_label(o) for o in s.new_operations],
        "grown_operations": [
            {"operation": operation_label(o), "suspects": a, "baseline": b} for o, a, b in s.grown_operations
        ],
        "attributes": [
            {"service": a.service, "key": a.key, "value": a.value, "suspects": a.in_suspects, "baseline": a.in_baseline}
            for a in s.attributes
        ],
        "log_lines_per_trace": {lvl: {"suspects": a, "baseline": b} for lvl, (a, b) in s.log_lines.items()},
        "log_share": s.log_share,
        "new_log_templates": [
            {"template": t.template, "traces": t.traces, "example": t.example.record.line} for t in s.log_templates
        ],
        "silenced_log_statements": [_silenced(x) for x in s.log_silenced],
        "effect_size": s.latency.effect if s.latency else 0.0,
        "truncation": _truncation(s),
    }


def _truncation(s: Suspect) -> dict[str, Any] | None:
    t = s.truncation
    if t is None:
        return None
    return {"operation": t.operation, "suspect_calls": t.suspect_calls, "baseline_calls": t.baseline_calls,
            "cut_calls": [{"callee": c.callee, "suspects_share": c.suspect_share,
                           "baseline_share": c.baseline_share} for c in t.cut]}  # fmt: skip


def operation_label(operation: tuple[str, str]) -> str:
    """``(service, span name)`` as documents show it: ``service | name``."""
    from tracectl.analysis.attribution import label_of

    return label_of(operation)


def _silenced(x: Silenced) -> dict[str, Any]:
    return {"operation": x.operation, "template": x.template, "baseline_rate": x.baseline_rate,
            "suspect_rate": x.suspect_rate, "suspect_calls": x.suspect_calls}  # fmt: skip


def faster_document(rows: list[LatencyRow]) -> list[dict[str, Any]]:
    return [
        {"component": r.component, "edge": r.edge, "excess_cp_ns": r.excess_ns, "suspect_cp_mean_ns": r.suspect_ns,
         "baseline_cp_mean_ns": r.baseline_ns}
        for r in rows
    ]  # fmt: skip


FASTER_WORTH = 0.02  # a component that got faster by less than this share of the suspects' mean time is not named


def faster_text(rows: list[LatencyRow], limit: int = 4, scale_ns: float = 0.0) -> str:
    """The components that got faster, largest first; with ``scale_ns`` (the suspects' mean duration) only those
    that moved by a noticeable share of it are named, the rest counted."""
    worth = [r for r in rows if -r.excess_ns >= FASTER_WORTH * scale_ns]
    if not worth:
        return ""
    shown = ", ".join(f"{r.component} −{format_duration(round(-r.excess_ns))}" for r in worth[:limit])
    rest = len(rows) - min(len(worth), limit)
    more = f" and {rest} {'more' if len(worth) > limit else 'smaller'}" if rest > 0 else ""
    return f"got faster (never a suspect): {shown}{more}"


def render_verdict(verdict: Verdict, console: Console, truth: str | None = None, truth_known: bool = False) -> None:
    from rich.panel import Panel
    from rich.text import Text

    body = Text()
    if verdict.culprit:
        body.append("culprit: ", style="bold")
        body.append(verdict.culprit, style="bold red")
        body.append(f"   ({verdict.kind})\n", style="dim")
    else:
        body.append("no culprit\n", style="bold green")
    body.append(verdict.sentence + "\n")
    ratio = verdict.numbers.get("ratio")
    if ratio:
        body.append(
            f"{verdict.numbers['suspects']:.0f} suspect requests (mean "
            f"{format_duration(round(verdict.numbers['suspect_mean_ns']))}) vs {verdict.numbers['baseline']:.0f} "
            f"baseline (mean {format_duration(round(verdict.numbers['baseline_mean_ns']))})\n",
            style="dim",
        )
    runners_up = verdict.suspects[1:3] if verdict.culprit else verdict.suspects[:3]
    for n, s in enumerate([s for s in runners_up if s.score >= SHOWN_SCORE], 2 if verdict.culprit else 1):
        body.append(f"  {n}. {s.sentence}  (score {s.score:.2f})\n", style="dim")
    faster = faster_text(verdict.faster, scale_ns=verdict.numbers.get("suspect_mean_ns", 0.0))
    if faster:
        body.append(faster + "\n", style="dim green")
    if verdict.examples:
        body.append("examples: " + ", ".join(verdict.examples), style="dim")
    if truth_known:
        right = verdict.culprit == truth
        body.append("\n")
        body.append(
            ("✓ " if right else "✗ ") + f"sandbox ground truth: {truth or 'no fault injected'}",
            style="green" if right else "red",
        )
    console.print(Panel(body, title="verdict", title_align="left", border_style="red" if verdict.culprit else "green"))


def render_triage(result: TriageResult, console: Console, tz: tzinfo | None, truth: object = None) -> None:
    """The verdict panel, the worst suspect's critical path, log excerpts and the next commands.
    ``truth`` (the sandbox's ground truth, ``("",)`` for none) adds a ✓/✗ line."""
    from rich.text import Text

    from tracectl.analysis.explain import marks
    from tracectl.analysis.tree_rows import make_view
    from tracectl.render.logs_view import log_line_text
    from tracectl.render.tree_view import render_tree

    known = truth is not None
    expected = truth[0] if isinstance(truth, tuple) else truth
    if result.alert is not None:
        from rich.panel import Panel

        console.print(Panel(result.alert.sentence(tz), title="Alert", title_align="left", border_style="cyan"))
    if result.metrics_window is not None:
        render_metrics_window(result.metrics_window, console)
    render_verdict(result.verdict, console, str(expected) if expected else None, truth_known=known)
    if result.pushdown is not None:  # what Tempo computed over every trace of a window larger than the budget
        console.print(Text("\n".join(result.pushdown.lines()), style="cyan"))
    if result.quality is not None:
        from tracectl.render.drift_view import render_input_check

        render_input_check(result.quality, console)
    worst = result.worst()
    if worst is not None and result.verdict.culprit and result.verdict.kind != "drift":
        console.print(Text("\nThe worst suspect's critical path", style="bold"))
        # The branches that hold at least 1% of the path: what the request waited on, not every short section.
        diagnosis = result.worst_diagnosis()
        found = marks(diagnosis) if diagnosis is not None else None
        view = make_view(worst, critical_only=True, min_path_share=WORST_PATH_SHARE, marks=found)
        render_tree(view, console, tz, f"trace {worst.tree.trace_id}", [], limit=40)
        if diagnosis is not None and diagnosis.findings:
            from tracectl.render.explain_view import render_findings_brief

            console.print(Text("\nWhat it shows (tracectl explain)", style="bold"))
            render_findings_brief(diagnosis, console)
    if result.log_excerpts:
        from tracectl.render.triage_report import excerpts_title

        console.print(Text("\n" + excerpts_title(result).replace("excerpts", "lines"), style="bold"))
        for tid, m in result.log_excerpts:
            console.print(Text.assemble(log_line_text(m, tz, "  "), (f"  {tid[:8]}…", "dim")), soft_wrap=True)
    elif not result.logs_checked:
        console.print(Text("\n(no log evidence: Loki not configured or unreachable; --logs-file reads saved lines)",
                           style="dim"))  # fmt: skip
    tail = " Next:" if result.commands else ""
    console.print(
        Text(f"\n{plural(len(result.analyses), 'trace')} analysed in {result.seconds:.1f} s.{tail}", style="bold")
    )
    for cmd in result.commands:
        console.print(Text.assemble("  ", (cmd, "cyan")), soft_wrap=True)


def render_metrics_window(window: MetricsWindow, console: Console) -> None:
    """The first panel: how the metrics chose the windows (with what lined up), or why they did not."""
    from rich.panel import Panel

    lines = [window.note]
    if window.used and window.result is not None:
        from tracectl.render.metrics_view import sentences

        lines += sentences(window.result, window.tz)[1:]
    console.print(Panel("\n".join(lines), title="Metrics", title_align="left", border_style="cyan"))


def render_suspects(suspects: list[Suspect], console: Console, top: int, title: str) -> None:
    """The ranking as a table: rank, component, score, what leads, and the sentence (wrapped)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, title=title, title_justify="left")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("component", no_wrap=True, overflow="ellipsis")  # whole first: "why" wraps
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("why", ratio=1)
    shown = [s for n, s in enumerate(suspects) if s.score >= SHOWN_SCORE or (n == 0 and s.score > 0)]
    for n, s in enumerate(shown[: top or None], 1):
        why = s.sentence.split(": ", 1)[-1]
        table.add_row(str(n), Text(s.component, style="italic magenta" if s.edge else "bold"), f"{s.score:.2f}", why)
    if not table.row_count:
        console.print(Text(f"{title}: nothing explains the difference", style="dim"))
        return
    console.print(table)
