"""The verdict panel: the culprit, one sentence of why, the numbers, example traces."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracectl.analysis.triage import Verdict
from tracectl.units import format_duration

if TYPE_CHECKING:
    from rich.console import Console


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
    for s in verdict.suspects[:3] if verdict.kind == "latency" else ():
        body.append(f"  {s.component:40} +{format_duration(round(s.excess_ns)):>9} per slow request  "
                    f"({s.share_of_excess:.0%} of the excess)\n", style="dim")  # fmt: skip
    for sig in verdict.signals[:3]:
        body.append(f"  {sig.service}: {sig.key}={sig.value}  in {sig.in_failing:.0%} of failing, "
                    f"{sig.in_healthy:.0%} of healthy requests\n", style="dim")  # fmt: skip
    if verdict.examples:
        body.append("examples: " + ", ".join(verdict.examples), style="dim")
    if truth_known:
        right = verdict.culprit == truth
        body.append("\n")
        body.append(("✓ " if right else "✗ ") + f"sandbox ground truth: {truth or 'no fault injected'}",
                    style="green" if right else "red")  # fmt: skip
    console.print(Panel(body, title="verdict", title_align="left", border_style="red" if verdict.culprit else "green"))
