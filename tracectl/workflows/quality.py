"""Triage's input check: when requests are neither slower nor failing (or when asked, ``triage --quality``), are
a model's inputs and outputs, read from its spans, unlike the training data or the baseline requests?"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracectl.analysis.drift import ALPHA
from tracectl.analysis.drift_text import headline

if TYPE_CHECKING:
    from tracectl.analysis.analyse import TraceAnalysis
    from tracectl.analysis.drift import DriftReport
    from tracectl.model import Span
    from tracectl.workflows.drift import Reference, TableReference


@dataclass(slots=True)
class InputCheck:
    """Per service whose spans carry features: the comparison; ``culprit`` is the service whose inputs (or
    outputs) drifted most, None when none did."""

    compared: str  # what was compared with what, in words
    reports: dict[str, DriftReport] = field(default_factory=dict)
    culprit: str | None = None
    examples: list[str] = field(default_factory=list)  # traces carrying a value the reference never had

    @property
    def sentence(self) -> str:
        if not self.reports:
            return "no model inputs or outputs on these spans (ml.feature.*, app.*, ml.prediction.* attributes)"
        if self.culprit is None:
            checked = ", ".join(f"{len(r.tested)} of {s}" for s, r in self.reports.items())
            return f"no input or output drift ({self.compared}; features checked: {checked})"
        report = self.reports[self.culprit]
        roles = {f.role for f in report.drifted}
        what = "inputs" if roles == {"input"} else ("outputs" if roles == {"output"} else "inputs and outputs")
        details = ", ".join(headline(f) for f in report.drifted[:3])
        more = f" and {len(report.drifted) - 3} more" if len(report.drifted) > 3 else ""
        return (f"{self.culprit}'s {what} drifted ({self.compared}): {details}{more}; "
                f"{len(report.drifted)} of {len(report.tested)} features")  # fmt: skip

    def document(self) -> dict[str, Any]:
        from tracectl.workflows.drift import feature_row

        return {
            "compared": self.compared, "culprit": self.culprit, "sentence": self.sentence, "examples": self.examples,
            "services": [
                {"service": s, "drift_share": r.drift_share, "drifted": [f.name for f in r.drifted],
                 "p_value_tests": r.p_value_tests, "features": [feature_row(n, f) for n, f in enumerate(r.features, 1)]}
                for s, r in self.reports.items()
            ],
        }  # fmt: skip


def check_inputs(
    analyses: list[TraceAnalysis], suspects: list[TraceAnalysis], baseline: list[TraceAnalysis],
    reference: TableReference | None, compared: str, warnings: list[str],
) -> InputCheck:  # fmt: skip
    """With training data: every request of the window against it; otherwise the suspects against the baseline.
    ``alpha`` is shared by every service that carries features, so the whole check keeps its false-alarm rate."""
    from tracectl.analysis.features import attribute_keys, resolve_specs
    from tracectl.workflows.drift import compare_service

    current = _by_service(analyses if reference is not None else suspects)
    earlier = _by_service(baseline) if reference is None else {}
    columns = reference.columns if reference is not None else None
    candidates = []
    for service, spans in sorted(current.items()):
        keys = attribute_keys(spans)
        if reference is None:
            keys.update(attribute_keys(earlier.get(service, [])))
        if resolve_specs(keys, columns) and (reference is not None or earlier.get(service)):
            candidates.append(service)
    check = InputCheck(compared)
    for service in candidates:
        ref: Reference = reference if reference is not None else earlier[service]
        report, _ = compare_service(current[service], ref, warnings, alpha=ALPHA / len(candidates),
                                    quiet_defaults=True)  # fmt: skip
        if report.features:
            check.reports[service] = report
    drifted = [(len(r.drifted), max(f.psi or 0.0 for f in r.drifted), s) for s, r in check.reports.items() if r.drifted]
    if drifted:
        check.culprit = max(drifted)[2]
        check.examples = _examples(analyses, check.culprit, check.reports[check.culprit])
    return check


def _by_service(group: list[TraceAnalysis]) -> dict[str, list[Span]]:
    out: dict[str, list[Span]] = {}
    for a in group:
        for span in a.tree.spans:
            out.setdefault(span.service, []).append(span)
    return out


def _examples(analyses: list[TraceAnalysis], service: str, report: DriftReport, limit: int = 3) -> list[str]:
    """Traces whose spans of ``service`` carry a category the reference never had, or a number beyond its range."""

    def unusual(value: object, f: Any) -> bool:
        if f.new_categories:
            from tracectl.analysis.drift import label

            return label(value) in f.new_categories
        low, high = f.reference.low, f.reference.high
        return isinstance(value, int | float) and low is not None and high is not None and not low <= value <= high

    out: list[str] = []
    for a in analyses:
        spans = [s for s in a.tree.spans if s.service == service]
        if any(f.key in s.attributes and unusual(s.attributes[f.key], f) for s in spans for f in report.drifted):
            out.append(a.tree.trace_id)
        if len(out) == limit:
            break
    return out
