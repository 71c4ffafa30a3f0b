"""A model-quality SLI in the terminal: one line per evaluation window with its interval and sample size."""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING

from tracectl.render.registry import Renderer

if TYPE_CHECKING:
    from rich.console import Console

    from tracectl.workflows.model_quality import ModelQualityResult


def shown(value: float | None, percent: bool) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.1f}%" if percent else f"{value:.4g}"


def render_model_quality(result: ModelQualityResult, console: Console, tz: tzinfo | None) -> None:
    from rich.table import Table

    from tracectl.analysis.model_quality import bad_side
    from tracectl.units import format_timestamp

    percent = result.metric.higher_is_better
    side = "≥" if percent else "≤"
    b = result.breach
    state = ("breached" + (" (certain)" if b.certain else " (within its interval)")) if b.breached else "met"
    console.print(f"[bold]{result.name}[/bold]: {result.metric} {shown(result.sli, percent)}, SLO {side} "
                  f"{shown(result.bound, percent)}: {state}{'; pages' if b.pages else ''}", soft_wrap=True)  # fmt: skip
    table = Table(box=None, pad_edge=False)
    for column in ("window from", "to", str(result.metric), "95% interval", "n", ""):
        table.add_column(column)
    for w in result.windows:
        q = w.quality
        bad = bad_side(result.metric, q.value, result.bound)
        table.add_row(format_timestamp(w.start_ns, tz), format_timestamp(w.end_ns, tz), shown(q.value, percent),
                      f"{shown(q.interval.low, percent)}–{shown(q.interval.high, percent)}", str(q.n),
                      "[red]✗[/red]" if bad else "[green]✓[/green]")  # fmt: skip
    console.print(table)
    console.print(f"[dim]{result.joined} of {result.labels} labels joined with {result.predictions} predictions "
                  f"({result.source})[/dim]", soft_wrap=True)  # fmt: skip


# Its JSON document and rows are plain data the result makes itself (``slo status`` reads them too).
MODEL_QUALITY = Renderer(
    document=lambda result, opts: result.document(opts),
    rows=lambda result, opts: result.rows(opts),
    table=lambda result, console, opts: render_model_quality(result, console, opts.tz),
)
