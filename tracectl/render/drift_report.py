"""The drift report: Markdown, or one self-contained HTML file (inline CSS and SVG histograms, no scripts, no
network), for a scheduled check's artefact or a postmortem."""

from __future__ import annotations

import html
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from tracectl.analysis.drift import FeatureDrift, short_number
from tracectl.analysis.drift_text import describe
from tracectl.render.drift_view import SHORT_TEST, legend, spark_pair
from tracectl.render.safe_text import md_code, md_fence, md_text
from tracectl.render.trace_report import REPORT_CSS, report_kind
from tracectl.units import plural

if TYPE_CHECKING:
    from tracectl.workflows.drift import DriftResult
    from tracectl.workflows.quality import InputCheck

REF_COLOUR, CUR_COLOUR = "#1565c0", "#e65100"
_EXTRA_CSS = (".drift{color:#c62828;font-weight:bold}.ok{color:#2e7d32}.key i{display:inline-block;width:10px;"
              "height:10px;margin:0 4px 0 10px}")  # fmt: skip


def histogram_svg(f: FeatureDrift, width: int = 300, height: int = 84) -> str:
    """Reference and current shares per bin side by side, on one scale, with the bin range under the axis."""
    h = f.histogram
    bins = len(h.labels)
    if not bins:
        return "<span class=dim>no values</span>"
    top = max([*h.reference, *h.current, 1e-12])
    plot_h, slot = height - 22, width / bins
    e = html.escape
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
           f'aria-label="{e(f.name)}: reference and current histograms">']  # fmt: skip
    for i, (label, r, c) in enumerate(zip(h.labels, h.reference, h.current, strict=True)):
        tip = f"<title>{e(label)}: reference {r:.1%}, current {c:.1%}</title>"
        for offset, share, colour in ((0.08, r, REF_COLOUR), (0.5, c, CUR_COLOUR)):
            bar = share / top * plot_h
            out.append(f'<rect x="{(i + offset) * slot:.1f}" y="{plot_h - bar + 2:.1f}" width="{slot * 0.42:.1f}" '
                       f'height="{bar:.1f}" fill="{colour}">{tip}</rect>')  # fmt: skip
    out.append(f'<line x1="0" y1="{plot_h + 2}" x2="{width}" y2="{plot_h + 2}" stroke="#999"/>')
    if h.edges:
        scale = " (log)" if h.log else ""
        whole = all(float(x + 0.5).is_integer() for x in h.edges)  # bins of whole numbers: name the first and last
        low, high = (h.edges[0] + 0.5, h.edges[-1] - 0.5) if whole else (h.edges[0], h.edges[-1])
        out.append(f'<text x="0" y="{height - 4}" fill="#666">{e(short_number(low))}</text>'
                   f'<text x="{width}" y="{height - 4}" text-anchor="end" fill="#666">'
                   f"{e(short_number(high))}{scale}</text>")  # fmt: skip
    else:
        for i, label in enumerate(h.labels[:8]):
            out.append(f'<text x="{(i + 0.5) * slot:.1f}" y="{height - 4}" text-anchor="middle" fill="#666">'
                       f"{e(label[:10])}</text>")  # fmt: skip
    out.append("</svg>")
    return "".join(out)


def header_rows(result: DriftResult, tz: tzinfo | None) -> list[tuple[str, str]]:
    """The windows as absolute times (display zone and UTC), and when and by what the report was made."""
    from tracectl.render.postmortem import generated_text, window_text

    rows = [("Current window", window_text(result.window, tz))] if result.window is not None else []
    if result.baseline_window is not None:
        rows.append(("Reference window", window_text(result.baseline_window, tz)))
    else:
        rows.append(("Reference", result.reference))
    return [*rows, ("Generated", generated_text(result.generated_ns, tz))]


def to_html(result: DriftResult, tz: tzinfo | None = None) -> str:
    r = result.report
    e = html.escape
    rows = []
    for f in r.features:
        status = "<span class=drift>drift</span>" if f.drifted else "<span class=ok>ok</span>"
        missing = f"{f.missing_reference:.0%} → {f.missing_current:.0%}"
        rows.append(
            f"<tr><td>{status}</td><td><code>{e(f.name)}</code><br><span class=dim>{e(f.key)} · {f.role} · "
            f"{f.kind}</span></td><td>{histogram_svg(f)}</td><td>{e(describe(f).split(': ', 1)[-1])}<br>"
            f"<span class=dim>PSI {'' if f.psi is None else f'{f.psi:.3f}'} · n {f.n_reference:,} → {f.n_current:,} "
            f"· missing {missing} · outside the reference {f.out_of_range:.1%}</span></td></tr>"
        )
    verdict = f"{len(r.drifted)} of {plural(len(r.tested), 'feature')} drifted (drift share {r.drift_share:.2f})"
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'><title>tracectl drift report</title>",
        f"<style>{REPORT_CSS}{_EXTRA_CSS}</style></head><body>",
        f"<h1>Drift report: <code>{e(result.service)}</code></h1>",
        "<table class=about>"
        + "".join(f"<tr><th>{e(k)}</th><td>{e(t)}</td></tr>" for k, t in header_rows(result, tz))
        + "</table>",
        f"<div class='verdict{'' if r.drifted else ' ok'}'><b>{e(verdict)}</b><br>"
        + "<br>".join(e(describe(f)) for f in r.drifted)
        + "</div>",
        f"<p class=dim>Current: {e(result.current)}. Reference: {e(result.reference)}.</p>",
        f"<p class=key><i style='background:{REF_COLOUR}'></i>reference<i style='background:{CUR_COLOUR}'></i>"
        "current</p>",
        "<table><tr><th></th><th>feature</th><th>histograms</th><th>why</th></tr>" + "".join(rows) + "</table>",
        f"<p class=dim>{e(legend(result))}</p>",
    ]
    if result.warnings:
        parts.append("<h2>Warnings</h2><ul>" + "".join(f"<li>{e(w)}</li>" for w in result.warnings) + "</ul>")
    if result.commands:
        parts.append(f"<h2>Next</h2><pre class=reproduce>{e(chr(10).join(result.commands))}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def to_markdown(result: DriftResult, tz: tzinfo | None = None) -> str:
    r = result.report
    out = [f"# Drift report: {md_code(result.service, in_table=False)}", "",
           *[f"- **{k}:** {md_text(v)}" for k, v in header_rows(result, tz)], "",
           f"**{len(r.drifted)} of {plural(len(r.tested), 'feature')} drifted** (drift share {r.drift_share:.2f}).", "",
           f"Current: {md_text(result.current)}. Reference: {md_text(result.reference)}.", "",
           "| | feature | role | test | score | PSI | reference | current | missing | outside |",
           "| --- | --- | --- | --- | ---: | ---: | --- | --- | ---: | ---: |"]  # fmt: skip
    for f in r.features:
        ref, cur = spark_pair(f)
        score = "" if f.statistic is None else f"{f.statistic:.3g}"
        psi = "" if f.psi is None else f"{f.psi:.3f}"
        mark = "**drift**" if f.drifted else "ok"
        out.append(f"| {mark} | {md_code(f.name)} | {f.role} | {SHORT_TEST[f.test]} | {score} | {psi} "
                   f"| `{ref}` | `{cur}` | {f.missing_current:.0%} | {f.out_of_range:.0%} |")  # fmt: skip
    if r.drifted:
        out += ["", "## Drifted", "", *[f"- {md_text(describe(f))}" for f in r.drifted]]
    out += ["", legend(result)]
    if result.warnings:
        out += ["", "## Warnings", "", *[f"- {md_text(w)}" for w in result.warnings]]
    if result.commands:
        fenced = md_fence(result.commands)
        out += ["", "## Next", "", fenced[0] + "sh", *fenced[1:]]
    return "\n".join(out) + "\n"


def write_drift_report(result: DriftResult, path: Path, tz: tzinfo | None = None) -> None:
    """The report as Markdown (``.md``) or self-contained HTML (``.html``), written to ``path``."""
    from tracectl.atomic import write_atomically

    write_atomically(path, to_markdown(result, tz) if report_kind(path) == "md" else to_html(result, tz))


# ------------------------------------------------------------------------------------ triage's input check


def quality_markdown(check: InputCheck) -> list[str]:
    """The ``## Inputs and outputs`` section of a triage report."""
    out = ["## Inputs and outputs", "", md_text(check.sentence), ""]
    for service, report in check.reports.items():
        out += [f"{md_code(service, in_table=False)}:", ""]
        out += [f"- {'**drift** ' if f.drifted else ''}{md_text(describe(f))}" for f in report.features]
        out.append("")
    return out


def quality_html(check: InputCheck) -> str:
    """The same section in HTML, with each feature's histograms."""
    e = html.escape
    parts = [f"<h2>Inputs and outputs</h2><p>{e(check.sentence)}</p>"]
    for service, report in check.reports.items():
        rows = "".join(
            f"<tr><td>{'<span class=drift>drift</span>' if f.drifted else '<span class=ok>ok</span>'}</td>"
            f"<td><code>{e(f.name)}</code></td><td>{histogram_svg(f, 220, 64)}</td>"
            f"<td>{e(describe(f).split(': ', 1)[-1])}</td></tr>"
            for f in report.features
        )
        parts.append(f"<p><code>{e(service)}</code></p><table>{rows}</table>")
    parts.append(f"<style>{_EXTRA_CSS}</style>")
    return "".join(parts)
