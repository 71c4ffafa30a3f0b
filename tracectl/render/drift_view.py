"""Drift for people (a ranked table with reference and current histograms as sparklines) and for scripts
(JSON ``tracectl.drift/v1``, one row per feature for JSON Lines and CSV)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tracectl.analysis.drift import (
    CHISQUARE,
    JENSEN_SHANNON,
    KS,
    TEST_NAMES,
    UNTESTED,
    WASSERSTEIN,
    FeatureDrift,
    short_number,
)
from tracectl.analysis.drift_text import describe
from tracectl.render.emit import keep
from tracectl.render.registry import Renderer
from tracectl.units import plural
from tracectl.workflows.drift import feature_row

if TYPE_CHECKING:
    from rich.console import Console

    from tracectl.results import RenderOptions
    from tracectl.workflows.drift import DriftResult
    from tracectl.workflows.quality import InputCheck

SHORT_TEST = {KS: "KS", WASSERSTEIN: "W/σ", CHISQUARE: "χ²", JENSEN_SHANNON: "JS", UNTESTED: "—"}
BLOCKS = " ▁▂▃▄▅▆▇█"
SPARK_WIDTH = 10


def drift_rows(result: DriftResult) -> list[dict[str, Any]]:
    """One row per feature, drifted first (JSON Lines, CSV)."""
    return [feature_row(n, f) for n, f in enumerate(result.report.features, 1)]


def feature_document(rank: int, f: FeatureDrift) -> dict[str, Any]:
    def summary(side: Any) -> dict[str, Any]:
        if f.kind == "categorical":
            return {"top": [{"value": k, "share": v} for k, v in side.top]}
        return {"min": side.low, "p05": side.p05, "median": side.median, "p95": side.p95, "max": side.high,
                "mean": side.mean}  # fmt: skip

    h = f.histogram
    return {
        **feature_row(rank, f), "test_name": TEST_NAMES[f.test], "psi_noise": f.psi_noise,
        "new_categories": list(f.new_categories), "note": f.note,
        "reference": summary(f.reference), "current": summary(f.current),
        "histogram": {"labels": list(h.labels), "edges": list(h.edges), "log": h.log, "reference": list(h.reference),
                      "current": list(h.current)},
    }  # fmt: skip


def drift_document(result: DriftResult) -> dict[str, Any]:
    """The JSON contract (docs/drift.md)."""
    r = result.report
    return {
        "service": result.service, "operation": result.operation,
        "current": {"source": result.current, "spans": result.current_spans},
        "reference": {"source": result.reference, "rows": result.reference_rows},
        "alpha": r.alpha, "p_value_tests": r.p_value_tests, "drift_share": r.drift_share,
        "drifted": [f.name for f in r.drifted],
        "features": [feature_document(n, f) for n, f in enumerate(r.features, 1)],
        "warnings": result.warnings, "next_commands": result.commands, "seconds": round(result.seconds, 3),
        "inputs": result.inputs.document() if result.inputs is not None else None,
    }  # fmt: skip


# --------------------------------------------------------------------------------------------- terminal


def spark_pair(f: FeatureDrift, width: int = SPARK_WIDTH) -> tuple[str, str]:
    """Reference and current histograms as block characters on one scale (the taller bar of both is █)."""
    ref, cur = _fold(f.histogram.reference, width), _fold(f.histogram.current, width)
    top = max([*ref, *cur], default=0.0)
    return _spark(ref, top), _spark(cur, top)


def _fold(shares: Sequence[float], width: int) -> list[float]:
    """At most ``width`` bars: numeric bins summed in neighbouring groups, extra categories summed into the last."""
    if len(shares) <= width:
        return list(shares)
    group = -(-len(shares) // width)
    return [sum(shares[i : i + group]) for i in range(0, len(shares), group)]


def _spark(shares: Sequence[float], top: float) -> str:
    if top <= 0:
        return ""
    return "".join(BLOCKS[0] if s <= 0 else BLOCKS[max(1, round(s / top * (len(BLOCKS) - 1)))] for s in shares)


def _score(f: FeatureDrift) -> str:
    if f.statistic is None:
        return f.note or "—"
    return f"p={f.statistic:.2g}" if f.test in (KS, CHISQUARE) else f"{f.statistic:.3g}"


def render_drift(result: DriftResult, console: Console, top: int = 0) -> None:
    """The ranked table, one sentence per drifted feature, the thresholds, and what to run next."""
    from rich.text import Text

    from tracectl.render.fit import Column, fitted_table

    r = result.report
    console.print(Text.assemble((f"{result.current}", "bold"), " against ", (result.reference, "bold")),
                  soft_wrap=True)  # fmt: skip
    columns = [Column(""), Column("feature", flex=18), Column("role", drop=1), Column("test", keep=True),
               Column("score", justify="right", keep=True), Column("psi", justify="right", drop=5),
               Column("reference │ current", drop=4),
               Column("n", justify="right", drop=1), Column("missing", justify="right", drop=2),
               Column("outside", justify="right", drop=2)]  # fmt: skip
    rows = []
    for f in keep(r.features, top):
        mark = Text("DRIFT", style="bold red") if f.drifted else Text("ok" if f.test != UNTESTED else "—", "green")
        ref_spark, cur_spark = spark_pair(f)
        histograms = Text.assemble((f"{ref_spark:<{SPARK_WIDTH}}", "cyan"), " │ ", (cur_spark, "magenta"))
        missing = f"{f.missing_current:.0%}"
        if round(f.missing_reference, 2) != round(f.missing_current, 2):
            missing = f"{f.missing_reference:.0%}→{missing}"
        rows.append([mark, f.name, "out" if f.role == "output" else "in", SHORT_TEST[f.test], _score(f),
                     "" if f.psi is None else f"{f.psi:.2f}", histograms, f"{f.n_current:,}", missing,
                     f"{f.out_of_range:.0%}"])  # fmt: skip
    console.print(fitted_table(console, columns, rows), crop=False)
    if top and len(r.features) > top:
        console.print(Text(f"… {len(r.features) - top} more features (--top 0 shows all)", style="dim"))
    for f in r.drifted:
        console.print(Text.assemble(("✗ ", "red"), describe(f)))
    tested = len(r.tested)
    verdict = f"{len(r.drifted)} of {plural(tested, 'feature')} drifted (drift share {r.drift_share:.2f})."
    console.print(Text(verdict, style="bold red" if r.drifted else "bold green"))
    console.print(Text(legend(result), style="dim"))
    if result.commands:
        console.print(Text("Next:", style="bold"))
        for cmd in result.commands:
            console.print(Text.assemble("  ", (cmd, "cyan")), soft_wrap=True)


def legend(result: DriftResult) -> str:
    """The rule each test applies, with the p-value threshold after sharing ``alpha`` (docs/drift.md)."""
    r = result.report
    per = r.alpha / max(r.p_value_tests, 1)
    shared = f" (α {r.alpha:g} over {r.p_value_tests} tests)" if r.p_value_tests > 1 else ""
    return (
        f"Drift when: KS, χ² p < {short_number(per)}{shared}; W/σ (Wasserstein in reference std), "
        "JS (Jensen–Shannon) ≥ 0.1. PSI is shown, not used to decide."
    )


def render_input_check(check: InputCheck, console: Console) -> None:
    """Triage's view of the input check: the drifted features with their histograms, or one line saying none."""
    from rich.text import Text

    if check.culprit is None:
        if check.reports:  # a system without model features on its spans hears nothing about them
            console.print(Text(check.sentence, style="dim"))
        return
    console.print(Text(f"\nInputs and outputs ({check.compared})", style="bold"))
    for f in check.reports[check.culprit].drifted:
        ref, cur = spark_pair(f)
        console.print(Text.assemble(("  ✗ ", "red"), describe(f)))
        console.print(Text.assemble("    reference ", (ref, "cyan"), "   current ", (cur, "magenta")))


def _table(result: DriftResult, console: Console, opts: RenderOptions) -> None:
    render_drift(result, console, opts.top)


DRIFT = Renderer(
    document=lambda result, opts: drift_document(result),
    rows=lambda result, opts: drift_rows(result),
    table=_table,
)
