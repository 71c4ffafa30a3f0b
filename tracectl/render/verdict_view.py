"""The verdict panel: the culprit, one sentence of why, the numbers, example traces."""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING

from tracectl.analysis.triage import Verdict
from tracectl.units import format_duration

if TYPE_CHECKING:
    from rich.console import Console

    from tracectl.render.report import TriageResult


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
    for n, s in enumerate([s for s in runners_up if s.score >= 0.05], 2 if verdict.culprit else 1):
        body.append(f"  {n}. {s.sentence}  (score {s.score:.2f})\n", style="dim")
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

    from tracectl.render.logs_view import log_line_text
    from tracectl.render.tree_rows import make_view
    from tracectl.render.tree_view import render_tree

    known = truth is not None
    expected = truth[0] if isinstance(truth, tuple) else truth
    render_verdict(result.verdict, console, str(expected) if expected else None, truth_known=known)
    if result.quality is not None:
        from tracectl.render.drift_view import render_input_check

        render_input_check(result.quality, console)
    worst = result.worst()
    if worst is not None and result.verdict.culprit and result.verdict.kind != "drift":
        console.print(Text("\nThe worst suspect's critical path", style="bold"))
        render_tree(make_view(worst, critical_only=True), console, tz, f"trace {worst.tree.trace_id}", [], limit=40)
    if result.log_excerpts:
        console.print(Text("\nLog lines", style="bold"))
        for tid, m in result.log_excerpts:
            console.print(Text.assemble(log_line_text(m, tz, "  "), (f"  {tid[:8]}…", "dim")), soft_wrap=True)
    elif not result.logs_checked:
        console.print(Text("\n(no log evidence: Loki not configured or unreachable)", style="dim"))
    tail = " Next:" if result.commands else ""
    console.print(Text(f"\n{len(result.analyses)} traces analysed in {result.seconds:.1f} s.{tail}", style="bold"))
    for cmd in result.commands:
        console.print(Text.assemble("  ", (cmd, "cyan")), soft_wrap=True)
