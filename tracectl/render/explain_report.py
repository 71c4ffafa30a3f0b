"""``explain --report``: one trace's verdict as Markdown or a self-contained HTML page (inline CSS and SVG, no
scripts, no network), built from the triage report's pieces; and the findings section triage's reports add."""

from __future__ import annotations

import html
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracectl.analysis.explain import Diagnosis
from tracectl.analysis.explain_text import describe, headline
from tracectl.render.explain_doc import findings_document, roles
from tracectl.render.explain_view import SPANS_SHOWN, TITLES
from tracectl.render.safe_text import md_code, md_fence, md_text
from tracectl.render.trace_report import REPORT_CSS, text_waterfall, waterfall_svg
from tracectl.units import format_duration, format_timestamp, plural

if TYPE_CHECKING:
    from tracectl.workflows.explain import Explanation


def findings_markdown(diagnosis: Diagnosis) -> list[str]:
    """The findings as Markdown: a numbered heading each, the sentence, and the spans it names."""
    a = diagnosis.analysis
    tree, length = a.tree, a.path.length_ns
    out: list[str] = []
    for n, x in enumerate(diagnosis.findings, 1):
        out += ["", f"### {n}. {TITLES.get(x.kind, x.kind)}", "", md_text(describe(x, tree, length)), "",
                "| role | span | service | operation | duration |", "| --- | --- | --- | --- | ---: |"]  # fmt: skip
        listed = roles(x)
        for role, node in listed[:SPANS_SHOWN]:
            span = tree.spans[node]
            out.append(f"| {role} | {md_code(tree.keys[node])} | {md_code(span.service)} | {md_text(span.name)} | "
                       f"{format_duration(tree.end[node] - tree.start[node])} |")  # fmt: skip
        if len(listed) > SPANS_SHOWN:
            out.append(f"| | … {len(listed) - SPANS_SHOWN} more | | | |")
    return out


def findings_html(diagnosis: Diagnosis) -> str:
    a = diagnosis.analysis
    tree, length = a.tree, a.path.length_ns
    e = html.escape
    parts = []
    for n, x in enumerate(diagnosis.findings, 1):
        listed = roles(x)
        rows = "".join(
            f"<tr><td>{e(role)}</td><td><code>{e(tree.keys[node])}</code></td>"
            f"<td><code>{e(tree.spans[node].service)}</code></td><td>{e(tree.spans[node].name)}</td>"
            f"<td class=n>{format_duration(tree.end[node] - tree.start[node])}</td></tr>"
            for role, node in listed[:SPANS_SHOWN]
        )
        more = f"<p class=dim>… {len(listed) - SPANS_SHOWN} more spans</p>" if len(listed) > SPANS_SHOWN else ""
        parts.append(
            f"<h3>{n}. {e(TITLES.get(x.kind, x.kind))}</h3><p>{e(describe(x, tree, length))}</p><table><tr>"
            f"<th>role</th><th>span</th><th>service</th><th>operation</th><th>duration</th></tr>{rows}</table>{more}"
        )
    return "".join(parts)


def explain_markdown(diagnosis: Diagnosis, source: str, warnings: list[str], tz: tzinfo | None) -> str:
    a = diagnosis.analysis
    tree = a.tree
    out = [f"# Trace `{tree.trace_id}`", "", f"**{md_text(headline(diagnosis))}**", "",
           f"{format_timestamp(tree.wall_start, tz)} · {format_duration(tree.duration_ns)} · "
           f"{plural(len(tree), 'span')} · "
           f"critical path {format_duration(a.path.length_ns)} · {md_text(source)}"]  # fmt: skip
    if warnings:
        out += ["", "## Warnings", "", *[f"- {md_text(w)}" for w in warnings]]
    out += ["", "## Findings", *findings_markdown(diagnosis)]
    if diagnosis.minor:
        out += ["", f"{diagnosis.minor} minor findings not listed (`tracectl explain --all` lists them)."]
    out += ["", "## Waterfall", "", *md_fence(text_waterfall(a, limit=200)), ""]
    return "\n".join(out)


def explain_html(diagnosis: Diagnosis, source: str, warnings: list[str], tz: tzinfo | None) -> str:
    a = diagnosis.analysis
    tree = a.tree
    e = html.escape
    failed = bool(diagnosis.failures)
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        f"<title>tracectl explain {e(tree.trace_id)}</title><style>{REPORT_CSS}</style></head><body>",
        f"<h1>Trace <code>{e(tree.trace_id)}</code></h1>",
        f"<div class='verdict{'' if failed else ' ok'}'>{e(headline(diagnosis))}</div>",
        f"<p class=dim>{e(format_timestamp(tree.wall_start, tz))} · {format_duration(tree.duration_ns)} · "
        f"{plural(len(tree), 'span')} · critical path {format_duration(a.path.length_ns)} · {e(source)}</p>",
    ]
    if warnings:
        parts.append("<h2>Warnings</h2><ul>" + "".join(f"<li>{e(w)}</li>" for w in warnings) + "</ul>")
    parts.append(f"<h2>Findings</h2>{findings_html(diagnosis)}")
    if diagnosis.minor:
        parts.append(f"<p class=dim>{diagnosis.minor} minor findings not listed (tracectl explain --all).</p>")
    parts.append(f"<h2>Waterfall</h2>{waterfall_svg(a, limit=200)}")
    parts.append("<p class=dim>Dark: the critical path. Light: the rest of each span.</p></body></html>")
    return "\n".join(parts) + "\n"


# ------------------------------------------------------------------------- triage's worst trace, explained


def worst_trace_document(diagnosis: Diagnosis | None) -> dict[str, Any] | None:
    """Triage's JSON ``worst_trace``: the worst suspect and its findings (the ``tracectl.explain/v1`` objects)."""
    if diagnosis is None:
        return None
    tree = diagnosis.analysis.tree
    return {"trace_id": tree.trace_id, "duration_ns": tree.duration_ns, "sentence": headline(diagnosis),
            "findings": findings_document(diagnosis)}  # fmt: skip


def worst_trace_markdown(diagnosis: Diagnosis | None) -> list[str]:
    if diagnosis is None or not diagnosis.findings:
        return []
    return ["", "### What the worst trace shows (`tracectl explain`)", "", f"**{md_text(headline(diagnosis))}**",
            *findings_markdown(diagnosis)]  # fmt: skip


def worst_trace_html(diagnosis: Diagnosis | None) -> str:
    if diagnosis is None or not diagnosis.findings:
        return ""
    return (f"<h2>What the worst trace shows</h2><p><b>{html.escape(headline(diagnosis))}</b></p>"
            f"{findings_html(diagnosis)}")  # fmt: skip


def write_report(result: Explanation, path: Path, tz: tzinfo | None) -> None:
    """Write ``explain``'s verdict as Markdown (``.md``) or self-contained HTML (``.html``)."""
    from tracectl.render.trace_report import report_kind, save_report

    write = explain_markdown if report_kind(path) == "md" else explain_html
    save_report(path, write(result.diagnosis, result.source, result.warnings, tz))
