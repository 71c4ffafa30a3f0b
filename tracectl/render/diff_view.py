"""``tracectl diff``: what explains B's extra time (the triage ranking), component deltas with the components that
got faster apart, operations that changed, and (for two traces) the aligned trees."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from tracectl.analysis.compare import Comparison, ComponentDelta, SetDiff
from tracectl.render.fit import Column, fitted_table, say_cut
from tracectl.render.registry import Renderer
from tracectl.render.verdict_view import faster_document, render_suspects, suspect_document
from tracectl.units import format_duration

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from tracectl.workflows.diff import Difference


def _d(ns: float) -> str:
    return format_duration(round(ns))


def _signed(ns: float) -> Text:
    from rich.text import Text

    if abs(ns) < 1:
        return Text("·", style="dim")
    return Text(("+" if ns > 0 else "−") + _d(abs(ns)), style="bold red" if ns > 0 else "green")


def component_rows(cmp: Comparison) -> list[dict[str, Any]]:
    return [{**asdict(c), "cp_delta": c.cp_delta} for c in cmp.components]


def diff_document(result: SetDiff, aligned: list[dict[str, Any]] | None) -> dict[str, Any]:
    cmp = result.comparison
    return {
        "a": {"traces": cmp.traces_a, "mean_duration_ns": cmp.duration_a},
        "b": {"traces": cmp.traces_b, "mean_duration_ns": cmp.duration_b},
        "suspects": [suspect_document(s, n) for n, s in enumerate(result.ranking.suspects, 1) if s.score > 0],
        "faster": faster_document(result.ranking.faster),
        "logs_checked": result.logs is not None,
        "components": component_rows(cmp),
        "operations": [{**asdict(o), "change": o.change} for o in cmp.operations],
        "aligned": aligned,
    }


def render_diff(result: SetDiff, console: Console, top: int, aligned: list[dict[str, Any]] | None) -> None:
    from rich.text import Text

    cmp = result.comparison
    what = "trace" if cmp.traces_a == cmp.traces_b == 1 else "traces"
    console.print(
        Text.assemble(
            ("A: ", "bold"),
            f"{cmp.traces_a} {what}, mean {_d(cmp.duration_a)}   ",
            ("B: ", "bold"),
            f"{cmp.traces_b} {what}, mean {_d(cmp.duration_b)}   ",
            ("Δ ", "bold"),
            _signed(cmp.duration_b - cmp.duration_a),
        ),
    )
    render_suspects(result.ranking.suspects, console, min(top, 5) or 5, "what explains B against A")
    grew = [c for c in cmp.components if c.cp_delta >= 0]
    faster = sorted((c for c in cmp.components if c.cp_delta < 0), key=lambda c: (c.cp_delta, c.key))
    _component_table(grew, console, top, "critical-path time per trace")
    if faster:
        _component_table(faster, console, top, "got faster (never a suspect)")
    if cmp.operations:
        _operations_table(cmp, console, top)
    if aligned:
        _aligned_table(aligned, console)


def _component_table(rows: list[ComponentDelta], console: Console, top: int, title: str) -> None:
    """Per component in A and B; on a narrow terminal the error and self-time columns go first."""
    from rich.text import Text

    errors = any(c.errors_a or c.errors_b for c in rows)
    columns = [
        Column("component", flex=14), Column("A", "right", keep=True), Column("B", "right", keep=True),
        Column("Δ", "right", keep=True), Column("self A", "right", drop=2, style="dim"),
        Column("self B", "right", drop=3, style="dim"), *([Column("errors A→B", "right", drop=1)] if errors else []),
    ]  # fmt: skip
    cells = []
    for c in rows[: top or None]:
        row: list[Text | str] = [Text(c.key, style="italic magenta" if c.edge else ""), _d(c.cp_a), _d(c.cp_b),
                                 _signed(c.cp_delta), _d(c.self_a), _d(c.self_b)]  # fmt: skip
        if errors:
            changed = f"{c.errors_a:.2g}→{c.errors_b:.2g}" if c.errors_a or c.errors_b else ""
            row.append(Text(changed, style="red" if c.errors_b > c.errors_a else ""))
        cells.append(row)
    console.print(fitted_table(console, columns, cells, title=title), crop=False)
    say_cut(console, len(rows), top, "components", "--top 0")


def _operations_table(cmp: Comparison, console: Console, top: int) -> None:
    columns = (Column("operation", flex=16), Column("A", "right", keep=True), Column("B", "right", keep=True),
               Column("change", style="yellow", keep=True))  # fmt: skip
    rows = [(o.operation, f"{o.calls_a:.2g}", f"{o.calls_b:.2g}", o.change) for o in cmp.operations[: top or None]]
    console.print(fitted_table(console, columns, rows, title="calls per trace that changed"), crop=False)
    say_cut(console, len(cmp.operations), top, "operations", "--top 0")


def _aligned_table(aligned: list[dict[str, Any]], console: Console) -> None:
    from rich.text import Text

    columns = (Column("span", flex=16), Column("A", "right", keep=True), Column("B", "right", keep=True),
               Column("Δ", "right", keep=True))  # fmt: skip
    rows = []
    for r in aligned:
        a, b = r["duration_a_ns"], r["duration_b_ns"]
        mark = " (only in B)" if a is None else " (only in A)" if b is None else ""
        rows.append((
            Text("  " * r["depth"] + r["span"] + mark, style="yellow" if mark else ""),
            _d(a) if a is not None else "", _d(b) if b is not None else "",
            _signed(b - a) if a is not None and b is not None else Text(""),
        ))  # fmt: skip
    console.print(fitted_table(console, columns, rows, title="the two traces, aligned"), crop=False)


def _document(result: Difference) -> dict[str, Any]:
    return {**diff_document(result.result, result.aligned), "inputs": result.inputs.document(),
            "warnings": result.warnings}  # fmt: skip


DIFF = Renderer(
    document=lambda result, opts: _document(result),
    rows=lambda result, opts: component_rows(result.result.comparison),
    table=lambda result, console, opts: render_diff(result.result, console, opts.top, result.aligned),
)
