"""``tracectl metrics``: RED as sparklines that fit the terminal (the sentences and the JSON document are
``workflows/metrics_text.py``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tracectl.render.registry import Renderer
from tracectl.units import format_duration, format_timestamp
from tracectl.workflows.metrics_text import (
    _value,
    best_rollouts,
    clock,
    metrics_document,
    metrics_rows,
    sentences,
    series_title,
)

if TYPE_CHECKING:
    from rich.console import Console

    from tracectl.results import RenderOptions
    from tracectl.workflows.metrics import MetricsResult

__all__ = ["METRICS", "_value", "best_rollouts", "clock", "print_metrics", "sentences", "series_title", "sparkline"]

BARS = "▁▂▃▄▅▆▇█"
LABEL_WIDTH = 13
VALUE_WIDTH = 10


def sparkline(values: Sequence[float], width: int) -> str:
    """``values`` in ``width`` cells: each cell the largest value of its share, scaled from 0 to the maximum
    (blank where there is no value)."""
    if not values or width <= 0:
        return ""
    cells = []
    n = len(values)
    for i in range(min(width, n)):
        lo, hi = i * n // min(width, n), (i + 1) * n // min(width, n)
        finite = [v for v in values[lo:hi] if math.isfinite(v)]
        cells.append(max(finite) if finite else math.nan)
    top = max((v for v in cells if math.isfinite(v)), default=0.0)

    def bar(v: float) -> str:
        if not math.isfinite(v):
            return " "
        return BARS[min(len(BARS) - 1, int(v / top * (len(BARS) - 1) + 0.5)) if top > 0 else 0]

    return "".join(bar(v) for v in cells)


def print_metrics(console: Console, r: MetricsResult, opts: RenderOptions) -> None:
    from rich.text import Text

    fam = r.family.family
    unit = "s" if fam.unit_ns == 10**9 else "ms"
    what = f"{r.service}" + (f" · {r.operation}" if r.operation else "")
    console.print(Text(f"{what} · {format_timestamp(r.time.start_ns, opts.tz)[:16]} → {clock(r.time.end_ns, opts.tz)}"
                       f" · step {format_duration(r.step_ns)}", style="bold"))  # fmt: skip
    console.print(Text(f"from {fam.histogram} ({fam.title}, {unit})", style="dim"))  # wrapped at the width
    width = max(10, console.width - LABEL_WIDTH - VALUE_WIDTH - 2)
    rows: list[tuple[str, str, Sequence[tuple[int, float]]]] = [("requests/s", "rate", r.rate)]
    if r.error_ratio is not None:
        rows.append(("error ratio", "error ratio", r.error_ratio))
    if r.downstream_errors is not None:
        rows.append(("errors below", "downstream errors", r.downstream_errors))
    rows += [(name, name, r.latency[name]) for name in ("p50", "p95", "p99") if name in r.latency]
    for label, series, points in rows:
        values = [v for _, v in points]
        last = next((v for v in reversed(values) if math.isfinite(v)), math.nan)
        line = Text(f"{label:<{LABEL_WIDTH}}")
        line.append(sparkline(values, width), style="cyan")
        line.append(f" {_value(series, last):>{VALUE_WIDTH}}")
        console.print(line, crop=False, no_wrap=True)
    _axis(console, r, opts, width)
    console.print()
    for sentence in sentences(r, opts.tz):
        console.print(sentence, highlight=False)


def _axis(console: Console, r: MetricsResult, opts: RenderOptions, width: int) -> None:
    """The change marked under the sparklines, and the window's ends."""
    from rich.text import Text

    n = len(r.rate)
    first = r.findings.first
    if first is not None and n:
        index = next((i for i, (t, _) in enumerate(r.rate) if t >= first.change.time_ns), n - 1)
        column = index * min(width, n) // n
        mark = f"▲ {clock(first.start_ns, opts.tz)}"
        pad = column if column + len(mark) <= width else max(0, column - len(mark) + 1)
        text = mark if pad == column else mark[2:] + " ▲"
        console.print(Text(" " * (LABEL_WIDTH + pad) + text, style="yellow"), crop=False, no_wrap=True)
    if n:
        left, right = clock(r.rate[0][0], opts.tz), clock(r.rate[-1][0], opts.tz)
        span = min(width, n)
        gap = max(len(right) + 2, span - len(left))  # two spaces at least: never "14:2214:23"
        console.print(Text(" " * LABEL_WIDTH + left + right.rjust(gap), style="dim"), crop=False)


METRICS = Renderer(
    document=metrics_document,
    rows=lambda result, opts: metrics_rows(result),
    table=lambda result, console, opts: print_metrics(console, result, opts),
)
