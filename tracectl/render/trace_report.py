"""One trace as a report (``tracectl export -o md|html``), and what every report shares: a text and an SVG
waterfall, the stylesheet, the file kind from its name, and writing the file.

The HTML is self-contained: inline CSS and an inline SVG waterfall, no scripts, no network.
"""

from __future__ import annotations

import html
import time
from datetime import tzinfo
from pathlib import Path

from tracectl.analysis.analyse import TraceAnalysis
from tracectl.render.safe_text import md_code, md_fence, md_text, one_line
from tracectl.units import format_duration, format_timestamp, plural


def text_waterfall(analysis: TraceAnalysis, width: int = 40, limit: int = 40) -> list[str]:
    """The trace as fixed-width text bars (█ on the critical path, ░ off it), for Markdown reports."""
    tree = analysis.tree
    lines = []
    on_path = [c > 0 for c in analysis.cp_ns]
    for node in tree.preorder()[:limit]:
        total = max(tree.duration_ns, 1)
        left = int((tree.start[node] - tree.wall_start) * width / total)
        right = max(left + 1, -(-(tree.end[node] - tree.wall_start) * width // total))
        bar = " " * left + ("█" if on_path[node] else "░") * (right - left)
        span = tree.spans[node]
        label = ("  " * min(tree.depth[node], 12) + one_line(f"{span.service} {span.name}"))[:48]
        lines.append(f"{label:48} {format_duration(tree.end[node] - tree.start[node]):>9} |{bar:<{width}}|")
    return lines


REPORT_CSS = " ".join(
    (
        "body{font:14px/1.45 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1100px;",
        "color:#1b1f24}h1{font-size:1.6rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;",
        "padding-bottom:.2rem}.verdict{border-left:6px solid #c62828;background:#fff4f4;padding:.8rem 1rem}",
        ".ok{border-color:#2e7d32;background:#f3fbf3}table{border-collapse:collapse;width:100%}",
        "td,th{border-bottom:1px solid #eee;padding:.25rem .5rem;text-align:left;vertical-align:top}",
        "td.n{text-align:right;font-variant-numeric:tabular-nums}code,pre{font:12px ui-monospace,Menlo,monospace}",
        "pre{background:#f6f8fa;padding:.6rem;overflow-x:auto}.dim{color:#666}",
        "svg text{font:11px ui-monospace,Menlo,monospace}",
    )
)


def waterfall_svg(analysis: TraceAnalysis, limit: int = 60) -> str:
    """The trace as an inline SVG: one row per span, the span's extent light, its critical sections dark."""
    tree = analysis.tree
    nodes = tree.preorder()[:limit]
    label_w, bar_w, row_h = 330, 640, 18
    height = row_h * (len(nodes) + 1) + 10
    total = max(tree.duration_ns, 1)

    def x(ns: int) -> float:
        return label_w + (ns - tree.wall_start) * bar_w / total

    sections: dict[int, list[tuple[int, int]]] = {}
    for root in analysis.path.roots:
        for sec in root.sections:
            sections.setdefault(sec.node, []).append((sec.start, sec.end))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 90}" height="{height}" role="img" '
        f'aria-label="waterfall of trace {tree.trace_id}">'
    ]
    out.append(
        f'<text x="{label_w}" y="12" fill="#666">0</text>'
        f'<text x="{label_w + bar_w}" y="12" text-anchor="end" fill="#666">{format_duration(tree.duration_ns)}</text>'
    )
    for row, node in enumerate(nodes, 1):
        span = tree.spans[node]
        y = row * row_h + 4
        color = "#c62828" if span.is_error else "#1565c0"
        label = html.escape(("  " * min(tree.depth[node], 10) + f"{span.service} {span.name}")[:46])
        out.append(f'<text x="4" y="{y + 12}" xml:space="preserve">{label}</text>')
        x0, x1 = x(tree.start[node]), max(x(tree.end[node]), x(tree.start[node]) + 1.5)
        out.append(
            f'<rect x="{x0:.1f}" y="{y + 2}" width="{x1 - x0:.1f}" height="{row_h - 6}" fill="{color}" '
            f'fill-opacity="0.25"><title>{label.strip()}: '
            f"{format_duration(tree.end[node] - tree.start[node])}</title></rect>"
        )
        for s, e_ in sections.get(node, []):
            out.append(
                f'<rect x="{x(s):.1f}" y="{y + 2}" width="{max(x(e_) - x(s), 1.0):.1f}" height="{row_h - 6}" '
                f'fill="{color}"/>'
            )
        out.append(
            f'<text x="{label_w + bar_w + 6}" y="{y + 12}" fill="#666">'
            f"{format_duration(tree.end[node] - tree.start[node])}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def trace_markdown(analysis: TraceAnalysis, tz: tzinfo | None, ui_url: str | None = None) -> str:
    from tracectl.render.postmortem import generated_text, link_markdown

    tree = analysis.tree
    out = [
        f"# Trace `{tree.trace_id}`",
        "",
        f"{format_timestamp(tree.wall_start, tz)} · {format_duration(tree.duration_ns)} · "
        f"{plural(len(tree), 'span')} · "
        f"critical path {format_duration(analysis.path.length_ns)}",
        "",
        f"Generated {generated_text(time.time_ns(), tz)}.",
        "",
        *md_fence(text_waterfall(analysis, limit=200)),
        "",
        "## Critical path",
        "",
        "| # | span | start | length |",
        "| ---: | --- | ---: | ---: |",
    ]
    for n, sec in enumerate(analysis.path.merged(), 1):
        span = tree.spans[sec.node]
        out.append(
            f"| {n} | {md_code(span.service)} {md_text(span.name)} | {format_duration(sec.start - tree.wall_start)} | "
            f"{format_duration(sec.duration_ns)} |"
        )
    out += [
        "",
        "## Where the time went",
        "",
        "| component | spans | self | critical path | share |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for r in analysis.attribution.rows:
        out.append(
            f"| {md_code(r.key)} | {r.spans} | {format_duration(r.self_ns)} | {format_duration(r.cp_ns)} | "
            f"{r.share:.1%} |"
        )
    if tree.warnings:
        out += ["", "## Data warnings", "", *[f"- {md_text(w.message)}" for w in tree.warnings]]
    return link_markdown("\n".join(out) + "\n", ui_url)


def trace_html(analysis: TraceAnalysis, tz: tzinfo | None, ui_url: str | None = None) -> str:
    from tracectl.render.postmortem import generated_text, link_html

    tree = analysis.tree
    e = html.escape
    rows = "".join(
        f"<tr><td><code>{e(r.key)}</code></td><td class=n>{r.spans}</td><td class=n>{format_duration(r.self_ns)}</td>"
        f"<td class=n>{format_duration(r.cp_ns)}</td><td class=n>{r.share:.1%}</td></tr>"
        for r in analysis.attribution.rows
    )
    warnings = "".join(f"<li>{e(w.message)}</li>" for w in tree.warnings)
    page = (
        "\n".join(
            [
                "<!doctype html><html lang=en><head><meta charset=utf-8>",
                f"<title>trace {e(tree.trace_id)}</title><style>{REPORT_CSS}</style></head><body>",
                f"<h1>Trace <code>{e(tree.trace_id)}</code></h1>",
                f"<p class=dim>{e(format_timestamp(tree.wall_start, tz))} · {format_duration(tree.duration_ns)} · "
                f"{plural(len(tree), 'span')} · critical path {format_duration(analysis.path.length_ns)}</p>",
                f"<p class=dim>Generated {e(generated_text(time.time_ns(), tz))}.</p>",
                waterfall_svg(analysis, limit=200),
                "<h2>Where the time went</h2><table><tr><th>component</th><th>spans</th><th>self</th>"
                f"<th>critical path</th><th>share</th></tr>{rows}</table>",
                f"<h2>Data warnings</h2><ul>{warnings}</ul>" if warnings else "",
                "</body></html>",
            ]
        )
        + "\n"
    )
    return link_html(page, ui_url)


def report_kind(path: Path) -> str:
    """``md`` or ``html``, from the file name; anything else is a usage error (checked before any work)."""
    from tracectl.errors import InputError

    suffix = path.suffix.lower()
    if suffix not in (".md", ".html", ".htm"):
        raise InputError(f"--report: {path} must end in .md or .html")
    return "md" if suffix == ".md" else "html"


def save_report(path: Path, text: str) -> None:
    """Write a report, whole or not at all (``tracectl.atomic``); a path that cannot be written is exit 2."""
    from tracectl.atomic import write_atomically

    write_atomically(path, text)
