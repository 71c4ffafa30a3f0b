"""``tracectl check``: the instrumentation report as a JSON document, rows, and a terminal view."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracectl.analysis.checks import RULES, CheckReport, Rule, RuleResult
from tracectl.render.fit import Column, fitted_table
from tracectl.render.registry import Renderer
from tracectl.units import plural

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from tracectl.workflows.check import CheckResult

_IMPACT_STYLE = {"critical": "bold red", "important": "red", "normal": "yellow", "low": "dim"}
_CATEGORY_STYLE = {"excellent": "green", "good": "cyan", "needs improvement": "yellow", "poor": "bold red"}
_CAUSES_SHOWN = 3


def _score(value: float) -> float:
    return round(value, 1)


def finding_document(r: RuleResult) -> dict[str, Any]:
    return {
        "rule": r.rule.id, "impact": r.rule.impact, "service": r.service, "failed": r.failed, "checked": r.checked,
        "passing": round(r.passing, 4), "cause": r.cause,
        "causes": [_cause_document(r, c, n) for c, n in _by_count(r)],
        "example_trace_id": r.example_trace_id, "example_span_id": r.example_span_id, "fix": r.fix,
    }  # fmt: skip


def _by_count(r: RuleResult) -> list[tuple[str, int]]:
    return sorted(r.causes.items(), key=lambda kv: (-kv[1], kv[0]))


def _cause_document(r: RuleResult, cause: str, spans: int) -> dict[str, Any]:
    trace_id, span_id = r.examples[cause]
    return {"cause": cause, "spans": spans, "example_trace_id": trace_id, "example_span_id": span_id,
            "fix": r.fixes.get(cause, r.rule.fix)}  # fmt: skip


def check_document(report: CheckReport, source: str) -> dict[str, Any]:
    services = [
        {"service": s.service, "score": _score(s.score), "category": s.category, "spans": s.spans,
         "traces": s.traces, "findings": len(s.findings),
         "rules": [{"rule": r.rule.id, "impact": r.rule.impact, "checked": r.checked, "failed": r.failed,
                    "passing": round(r.passing, 4)} for r in s.results]}
        for s in report.services
    ]  # fmt: skip
    return {
        "source": source, "traces": report.traces, "spans": report.spans, "services": services,
        "findings": [finding_document(r) for r in report.findings],
        "rules": [rule_document(r) for r in RULES],
    }  # fmt: skip


def rule_document(rule: Rule) -> dict[str, Any]:
    return {"rule": rule.id, "impact": rule.impact, "weight": rule.weight, "title": rule.title, "fix": rule.fix}


def check_rows(report: CheckReport) -> list[dict[str, Any]]:
    """One row per rule that applied in each service, passing or not: the matrix a CI job can chart."""
    rows = []
    for s in report.services:
        for r in s.results:
            rows.append({
                "service": s.service, "score": _score(s.score), "category": s.category, "rule": r.rule.id,
                "impact": r.rule.impact, "weight": r.rule.weight, "checked": r.checked, "failed": r.failed,
                "passing": round(r.passing, 4), "cause": r.cause, "example_trace_id": r.example_trace_id or None,
                "example_span_id": r.example_span_id or None, "fix": r.fix if r.failed else "",
            })  # fmt: skip
    return rows


def render_check(report: CheckReport, source: str, console: Console, top: int) -> None:
    from rich.text import Text

    services = report.services
    counts = f"  {plural(report.traces, 'trace')} · {plural(report.spans, 'span')} · {plural(len(services), 'service')}"
    console.print(Text.assemble(("Instrumentation check", "bold"), counts))
    console.print(Text(source, style="dim"))
    columns = [Column("service", flex=12), Column("score", "right", keep=True), Column("", keep=True),
               Column("spans", "right", drop=2), Column("traces", "right", drop=1),
               Column("findings", "right", keep=True)]  # fmt: skip
    rows: list[list[RenderableType]] = []
    for s in services:
        label = s.category
        found = str(len(s.findings)) if s.findings else "·"
        rows.append([s.service, f"{s.score:.1f}", Text(label, style=_CATEGORY_STYLE[label]), str(s.spans),
                     str(s.traces), found])  # fmt: skip
    console.print(fitted_table(console, columns, rows), crop=False)
    findings = report.findings
    console.print()
    if not findings:
        console.print(Text(f"✓ every rule passed on all {plural(report.spans, 'span')}", style="green"))
    else:
        shown = findings[:top] if top else findings
        console.print(Text(f"Findings ({len(findings)}), most important first", style="bold"))
        for r in shown:
            _finding(r, console)
        if len(shown) < len(findings):
            console.print(Text(f"… {len(findings) - len(shown)} more findings (--top 0 shows all)", style="dim"))
    console.print(Text("score: the weighted pass rate of the rules that apply (docs/check.md)", style="dim"))


def _finding(r: RuleResult, console: Console) -> None:
    from rich.text import Text

    console.print(Text.assemble(
        ("✗ ", "red"), (r.rule.impact, _IMPACT_STYLE[r.rule.impact]), " · ", (r.rule.id, "bold"), " · ", r.service,
        f" · {r.failed} of {plural(r.checked, 'span')} ({1 - r.passing:.0%})",
    ))  # fmt: skip
    causes = _by_count(r)
    for cause, n in causes[:_CAUSES_SHOWN]:
        console.print(Text(f"  {cause}" + (f" ({n})" if len(causes) > 1 else "")))
    if len(causes) > _CAUSES_SHOWN:
        console.print(Text(f"  … and {len(causes) - _CAUSES_SHOWN} more kinds (-o json lists them)", style="dim"))
    # A traceparent names the trace and the span: `show` opens the trace with that span marked.
    console.print(
        Text.assemble("  e.g. ", ("tracectl show ", "dim"), f"00-{r.example_trace_id}-{r.example_span_id}-01")
    )
    console.print(Text.assemble(("  fix: ", "green"), r.fix))


def _document(result: CheckResult) -> dict[str, Any]:
    return {**check_document(result.report, result.source), "inputs": result.inputs.document(),
            "warnings": result.warnings}  # fmt: skip


CHECK = Renderer(
    document=lambda result, opts: _document(result),
    rows=lambda result, opts: check_rows(result.report),
    table=lambda result, console, opts: render_check(result.report, result.source, console, opts.top),
)
