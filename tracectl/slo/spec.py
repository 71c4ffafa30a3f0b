"""The one typed SLO model that Sloth and OpenSLO specs are read into, and the function that reads them.

Every loader (``tracectl.slo.sloth``, ``tracectl.slo.openslo``) produces the same frozen dataclasses, so
``slo status``, ``slo rules`` and ``triage --alert`` never look at a spec format again. Queries are kept as
templates with Sloth's ``{{.window}}`` placeholder; :func:`render_window` fills it.

Objectives are ratios (0.999), not percents, whatever the spec wrote. Periods are whole seconds.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracectl.errors import InputError

WINDOW_PLACEHOLDER = "{{.window}}"
DEFAULT_PERIOD_SECONDS = 30 * 86400


class SpecError(InputError):
    """A spec that cannot be used. The message names the file, the SLO (when known) and the field."""

    def __init__(self, source: str, problem: str, *, slo: str | None = None, field_path: str | None = None) -> None:
        self.source = source
        self.slo = slo
        self.field_path = field_path
        self.problem = problem
        where = source
        if slo:
            where += f': SLO "{slo}"'
        if field_path:
            where += f": {field_path}"
        super().__init__(f"{where}: {problem}")


class SpecFormat(enum.StrEnum):
    SLOTH = "sloth"  # version: prometheus/v1
    OPENSLO = "openslo"  # apiVersion: openslo/v1, kind: SLO


class Severity(enum.StrEnum):
    PAGE = "page"
    TICKET = "ticket"


class ModelQualityMetric(enum.StrEnum):
    PRECISION = "precision"
    RECALL = "recall"
    ACCURACY = "accuracy"
    F1 = "f1"
    MAE = "mae"
    MAPE = "mape"

    @property
    def higher_is_better(self) -> bool:
        """Classification scores must stay above the objective; regression errors below ``max_error``."""
        return self not in {ModelQualityMetric.MAE, ModelQualityMetric.MAPE}


class ThresholdOp(enum.StrEnum):
    """OpenSLO's comparison of a threshold metric with its objective's ``value``: the *good* side."""

    LT = "lt"
    LTE = "lte"
    GT = "gt"
    GTE = "gte"

    @property
    def bad_promql(self) -> str:
        """The PromQL comparison that is true when the value is on the *bad* side."""
        return {"lt": ">=", "lte": ">", "gt": "<=", "gte": "<"}[self.value]


@dataclass(frozen=True, slots=True)
class EventsSLI:
    """Error ratio = errors / total. Both queries are templates containing ``{{.window}}``."""

    error_query: str
    total_query: str

    def error_ratio_template(self) -> str:
        return f"({self.error_query})\n/\n({self.total_query})"


@dataclass(frozen=True, slots=True)
class RawSLI:
    """An error ratio (0–1) the user already computes; a template containing ``{{.window}}``."""

    error_ratio_query: str

    def error_ratio_template(self) -> str:
        return self.error_ratio_query


@dataclass(frozen=True, slots=True)
class ThresholdSLI:
    """OpenSLO ``thresholdMetric``: a value (e.g. p99 latency) that is good while ``value op threshold`` holds.

    Its error ratio over a window is the share of one-minute steps on the bad side (a subquery), so it
    burns budget like a time-slice SLO.
    """

    query: str
    op: ThresholdOp
    threshold: float
    step: str = "1m"

    def error_ratio_template(self) -> str:
        bad = f"({self.query}) {self.op.bad_promql} bool {self.threshold:g}"
        return f"avg_over_time(({bad})[{WINDOW_PLACEHOLDER}:{self.step}])"


@dataclass(frozen=True, slots=True)
class ModelQualitySLI:
    """tracectl's extension: model quality computed by tracectl from spans joined with a labelled sample.

    Spec key: ``sli.model_quality`` (Sloth) or ``spec.indicator.spec.modelQuality`` (OpenSLO); see docs/slo.md.
    Prometheus cannot evaluate it: ``slo rules`` only writes a comment, ``slo status`` asks
    ``tracectl.analysis.model_quality`` when it is installed.

    - ``metric``: precision, recall, accuracy and f1 compare ``prediction_attribute >= threshold`` with a 0/1
      label and must stay at or above the SLO objective; mae and mape compare the attribute with a numeric label
      and must stay at or below ``max_error``.
    - ``label_attribute``: the span attribute joined with the labels file's ``id`` column (a request ID);
      ``None`` joins on the trace ID.
    - ``evaluation_window_seconds``: the rolling window each value is computed over (e.g. 7d).
    - ``page_below``: the value under which tracectl pages (e.g. 0.93 for an objective of 0.95); ``None``
      means the objective itself.
    """

    metric: ModelQualityMetric
    prediction_attribute: str
    labels_file: str
    service: str
    evaluation_window_seconds: int = 86400
    label_attribute: str | None = None
    threshold: float = 0.5
    max_error: float | None = None
    page_below: float | None = None
    operation: str | None = None

    def error_ratio_template(self) -> None:
        return None


SLI = EventsSLI | RawSLI | ThresholdSLI | ModelQualitySLI


@dataclass(frozen=True, slots=True)
class AlertSpec:
    """One of the two generated alerts (page or ticket)."""

    disabled: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Alerting:
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    page: AlertSpec = field(default_factory=AlertSpec)
    ticket: AlertSpec = field(default_factory=AlertSpec)

    def for_severity(self, severity: Severity) -> AlertSpec:
        return self.page if severity is Severity.PAGE else self.ticket


@dataclass(frozen=True, slots=True)
class SLO:
    """One service level objective, whatever spec it came from."""

    name: str
    service: str
    objective: float  # ratio in (0, 1): 0.999
    sli: SLI
    alerting: Alerting
    period_seconds: int = DEFAULT_PERIOD_SECONDS
    description: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)  # service labels merged with the SLO's own
    source: str = ""  # the file it was read from
    format: SpecFormat = SpecFormat.SLOTH

    @property
    def id(self) -> str:
        """``service-name``: the ``sloth_id`` label value."""
        return f"{self.service}-{self.name}"

    @property
    def error_budget(self) -> float:
        """The allowed error ratio, ``1 - objective``."""
        return 1.0 - self.objective

    @property
    def objective_percent(self) -> float:
        return round(self.objective * 100, 10)

    @property
    def is_model_quality(self) -> bool:
        return isinstance(self.sli, ModelQualitySLI)

    def error_ratio_query(self, window: str) -> str | None:
        """The PromQL error ratio over ``window`` (``5m``, ``1h``…); ``None`` for model-quality SLIs."""
        template = self.sli.error_ratio_template()
        return None if template is None else render_window(template, window)


def render_window(template: str, window: str) -> str:
    """Fill Sloth's ``{{.window}}`` placeholder (also written ``{{ .window }}``)."""
    import re

    return re.sub(r"\{\{\s*\.window\s*\}\}", window, template)


def has_window(query: str) -> bool:
    return render_window(query, "\0") != query


def load_specs(paths: Iterable[str | Path], *, default_period_seconds: int = DEFAULT_PERIOD_SECONDS) -> tuple[SLO, ...]:
    """Read every SLO of every file (multi-document YAML, Sloth and OpenSLO may be mixed).

    Raises :class:`SpecError` (exit 2) naming the file, the SLO and the field. Two SLOs with the same
    service and name are an error: their rules would collide.
    """
    slos: list[SLO] = []
    seen: dict[str, str] = {}
    for path in paths:
        for slo in load_spec(path, default_period_seconds=default_period_seconds):
            if slo.id in seen:
                raise SpecError(slo.source, f"same service and name as an SLO of {seen[slo.id]}", slo=slo.name)
            seen[slo.id] = slo.source
            slos.append(slo)
    return tuple(slos)


def load_spec(path: str | Path, *, default_period_seconds: int = DEFAULT_PERIOD_SECONDS) -> tuple[SLO, ...]:
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(source, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(source, f"cannot read: {exc.__class__.__name__}") from None
    return parse_spec_text(text, source, default_period_seconds=default_period_seconds)


def parse_spec_text(text: str, source: str, *, default_period_seconds: int = DEFAULT_PERIOD_SECONDS) -> tuple[SLO, ...]:
    """Parse the text of a spec file; ``source`` names it in errors and resolves relative ``labels_file``."""
    import yaml

    from tracectl.slo import openslo, sloth

    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SpecError(source, f"not YAML{where}: {problem}") from None
    if not documents:
        raise SpecError(source, "empty: no SLO spec in it")
    slos: list[SLO] = []
    for index, document in enumerate(documents):
        document_name = f"document {index + 1}" if len(documents) > 1 else None
        if not isinstance(document, dict):
            raise SpecError(source, "a spec document must be a mapping", field_path=document_name)
        slos.extend(_parse_document(document, source, document_name, default_period_seconds, sloth, openslo))
    return tuple(slos)


def _parse_document(
    document: dict[str, Any], source: str, where: str | None, default_period_seconds: int, sloth: Any, openslo: Any
) -> tuple[SLO, ...]:
    if "version" in document:
        return tuple(sloth.parse(document, source, default_period_seconds))
    api_version = document.get("apiVersion")
    if isinstance(api_version, str) and api_version.startswith("openslo/"):
        return tuple(openslo.parse(document, source, default_period_seconds))
    raise SpecError(
        source,
        'not a Sloth spec (version: "prometheus/v1") nor an OpenSLO one (apiVersion: openslo/v1, kind: SLO)',
        field_path=where,
    )
