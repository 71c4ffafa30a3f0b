"""The terminal view of ``explain``: the trace's header, one plain sentence, then each finding with its sentence
and the spans it is about (IDs and durations never cut); and the compact list triage shows for its worst trace."""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from tracectl.analysis.explain import MINOR_SHARE, Diagnosis
from tracectl.analysis.explain_text import describe, headline
from tracectl.analysis.findings import Finding
from tracectl.render.explain_doc import explain_document, finding_rows, main_node, roles
from tracectl.render.fit import Column, fitted_table
from tracectl.render.registry import Renderer
from tracectl.units import format_duration, format_timestamp, plural

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from tracectl.workflows.explain import Explanation

TITLES = {"failure": "where the failure began", "n+1": "N+1 calls", "retry": "retries",
          "serial": "lookups one after another", "gap": "queueing gap", "dominant": "dominant section"}  # fmt: skip
SPANS_SHOWN = 5  # rows of a finding's span table (an N+1 of 64 calls shows its parent and the first calls)


def _cost(x: Finding, length: int) -> str:
    share = f" ({x.cost_ns / length:.0%})" if length else ""
    if x.kind == "dominant":
        return f"holds {format_duration(x.cost_ns)}{share} of the critical path"
    if x.kind == "failure":
        return f"{format_duration(x.cost_ns)} of the critical path under the failed span"
    saving = x.saving_ns if x.saving_ns is not None else x.cost_ns
    return f"costs {format_duration(saving)}{share} of the critical path"


def render_explanation(diagnosis: Diagnosis, console: Console, tz: tzinfo | None, source: str,
                       selected: int = -1, limit: int = 0) -> None:  # fmt: skip
    """Header, headline, then each finding (the first ``limit``; 0 = all)."""
    from rich.text import Text

    tree = diagnosis.analysis.tree
    length = diagnosis.analysis.path.length_ns
    services = {s.service for s in tree.spans}
    errors = sum(s.is_error for s in tree.spans)
    console.print(Text.assemble(
        ("Trace ", "bold"), (tree.trace_id, "bold"), "  ", (format_duration(tree.duration_ns), "bold"),
        f"  {plural(len(tree), 'span')} · {plural(len(services), 'service')}",
        (f" · {plural(errors, 'error')}" if errors else "", "red"),
    ))  # fmt: skip
    console.print(Text(f"{format_timestamp(tree.wall_start, tz)} · {source}", style="dim"))
    if selected >= 0:
        chosen = tree.spans[selected]
        console.print(Text(f"◀ the span the traceparent names: {tree.keys[selected]} ({chosen.service} {chosen.name})",
                           style="dim"))  # fmt: skip
    console.print()
    console.print(Text(headline(diagnosis), style="bold"))
    shown = diagnosis.findings if limit <= 0 else diagnosis.findings[:limit]
    for n, x in enumerate(shown, 1):
        console.print()
        console.print(Text.assemble((f"{n}. {TITLES.get(x.kind, x.kind)}", "bold cyan"), ("  ·  " + _cost(x, length),
                                    "dim")))  # fmt: skip
        console.print(Text(describe(x, tree, length)))
        _span_table(diagnosis, x, console, selected)
    notes = []
    if len(shown) < len(diagnosis.findings):
        notes.append(f"{len(diagnosis.findings) - len(shown)} more findings not shown (--limit 0 shows all)")
    if diagnosis.minor:
        notes.append(f"{diagnosis.minor} minor findings under {MINOR_SHARE:.0%} of the critical path left out "
                     "(--all lists them)")  # fmt: skip
    if notes:
        console.print()
        console.print(Text("… " + "; ".join(notes), style="dim"))


def _span_table(diagnosis: Diagnosis, x: Finding, console: Console, selected: int) -> None:
    from rich.text import Text

    tree, cp = diagnosis.analysis.tree, diagnosis.analysis.cp_ns
    listed = roles(x)
    rows: list[list[RenderableType]] = []
    shown = listed[:SPANS_SHOWN] + [(r, n) for r, n in listed[SPANS_SHOWN:] if n == selected]
    for role, node in shown:
        span = tree.spans[node]
        key = Text.assemble(tree.keys[node], (" ◀", "bold reverse") if node == selected else "")  # never cut
        rows.append([role, key, span.service, Text(span.name, style="red" if span.is_error else ""),
                     format_duration(tree.end[node] - tree.start[node]),
                     format_duration(cp[node]) if cp[node] else "·"])  # fmt: skip
    columns = [Column("role", style="dim", drop=2), Column("span", keep=True), Column("service", flex=8),
               Column("operation", flex=10), Column("duration", "right", keep=True),
               Column("path", "right", drop=1, style="bold")]  # fmt: skip
    console.print(fitted_table(console, columns, rows), crop=False)
    if len(listed) > len(shown):
        console.print(Text(f"… {len(listed) - len(shown)} more spans (-o json lists them all)", style="dim"))


def render_findings_brief(diagnosis: Diagnosis, console: Console, top: int = 4) -> None:
    """Triage's worst-trace panel: the headline and one line per finding, with the span it names."""
    from rich.table import Table
    from rich.text import Text

    tree = diagnosis.analysis.tree
    length = diagnosis.analysis.path.length_ns
    console.print(Text(headline(diagnosis)))
    bullets = Table.grid(padding=(0, 1))  # a hanging indent: wrapped lines stay right of the bullet
    bullets.add_column(style="dim", no_wrap=True)
    bullets.add_column()
    for x in diagnosis.findings[:top]:
        node = main_node(x)
        bullets.add_row(" •", Text.assemble((f"{TITLES.get(x.kind, x.kind)}: ", "cyan"), describe(x, tree, length),
                                            (f"  [{tree.keys[node]}]", "dim")))  # fmt: skip
    console.print(bullets)
    if len(diagnosis.findings) > top:
        console.print(Text(f"  … {len(diagnosis.findings) - top} more (tracectl explain {tree.trace_id})",
                           style="dim"))  # fmt: skip


def _document(result: Explanation) -> dict[str, Any]:
    return explain_document(result.diagnosis, result.source, result.selected, result.warnings)


EXPLAIN = Renderer(
    document=lambda result, opts: _document(result),
    rows=lambda result, opts: finding_rows(result.diagnosis),
    table=lambda result, console, opts: render_explanation(
        result.diagnosis, console, opts.tz, result.source, result.selected, opts.limit
    ),
)
