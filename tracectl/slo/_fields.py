"""Reading one YAML mapping field by field, so every error names the file, the SLO and the field path."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from tracectl.slo.spec import ModelQualitySLI, SpecError

T = TypeVar("T")

_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Node:
    """A mapping at ``path`` inside ``source``, read for the SLO ``slo`` (``None`` before its name is known)."""

    data: dict[str, Any]
    source: str
    path: str
    slo: str | None = None

    @classmethod
    def of(cls, value: Any, source: str, path: str, slo: str | None = None) -> Node:
        if not isinstance(value, dict):
            raise SpecError(source, "must be a mapping", slo=slo, field_path=path or None)
        return cls(value, source, path, slo)

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str | None, problem: str) -> SpecError:
        return SpecError(self.source, problem, slo=self.slo, field_path=self.at(key) if key else (self.path or None))

    def named(self, slo: str) -> Node:
        return Node(self.data, self.source, self.path, slo)

    def only(self, allowed: Iterable[str]) -> None:
        """Unknown fields are errors: a typo (``objetive``) must not silently drop a setting."""
        allowed = set(allowed)
        for key in self.data:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.fail(str(key), f"unknown field (known here: {known})")

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def child(self, key: str, *, required: bool = True) -> Node | None:
        if self.data.get(key) is None:
            if required:
                raise self.fail(key, "missing")
            return None
        return self.req_child(key)

    def req_child(self, key: str) -> Node:
        value = self.data.get(key)
        if value is None:
            raise self.fail(key, "missing")
        return Node.of(value, self.source, self.at(key), self.slo)

    def items(self, key: str, *, required: bool = True) -> list[Node]:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.fail(key, "missing")
            return []
        if not isinstance(value, list) or (required and not value):
            raise self.fail(key, "must be a non-empty list")
        return [Node.of(item, self.source, f"{self.at(key)}[{i}]", self.slo) for i, item in enumerate(value)]

    def scalar(self, key: str, default: T | None, read: Callable[[Any], T]) -> T:
        """The value at ``key`` as ``read`` takes it (raising this node's error when it is of the wrong kind);
        absent: ``default``, or the "missing" error when there is none."""
        value = self.data.get(key)
        if value is None:
            if default is None:
                raise self.fail(key, "missing")
            return default
        return read(value)

    def text(self, key: str, default: str | None = None) -> str:
        def read(value: Any) -> str:
            if not isinstance(value, str) or not value.strip():
                raise self.fail(key, "must be a non-empty string")
            return value

        return self.scalar(key, default, read)

    def opt_text(self, key: str) -> str | None:
        return self.text(key) if self.has(key) else None

    def number(self, key: str, default: float | None = None) -> float:
        def read(value: Any) -> float:
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise self.fail(key, f"must be a number, not {value!r}")
            return float(value)

        return self.scalar(key, default, read)

    def opt_number(self, key: str) -> float | None:
        return self.number(key) if self.has(key) else None

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {value!r}")
        return value

    def labels(self, key: str, *, label_names: bool = True) -> dict[str, str]:
        """A string → string mapping: Prometheus labels (names checked) or annotations (``label_names=False``);
        numbers are written as text."""
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, "must be a mapping of names to values")
        out: dict[str, str] = {}
        for name, item in value.items():
            if label_names and not _LABEL_NAME.match(str(name)):
                raise self.fail(f"{key}.{name}", "not a Prometheus label name (letters, digits and '_')")
            if isinstance(item, dict | list) or item is None:
                raise self.fail(f"{key}.{name}", "must be a string")
            out[str(name)] = str(item).lower() if isinstance(item, bool) else str(item)
        return out


def duration_seconds(node: Node, key: str, default: int | None = None) -> int:
    """A duration field (``5m``, ``7d``, ``4w``) in whole seconds."""
    from tracectl.errors import InputError
    from tracectl.units import parse_duration

    def read(raw: Any) -> int:
        if not isinstance(raw, str):
            raise node.fail(key, f"must be a duration such as 30m, 6h, 7d, not {raw!r}")
        try:
            ns = parse_duration(raw, node.at(key))
        except InputError:
            raise node.fail(key, f"{raw!r} is not a duration (examples: 30m, 6h, 7d, 4w)") from None
        if ns < 60 * 10**9 or ns % 10**9:
            raise node.fail(key, f"{raw!r}: must be whole seconds and at least 1m")
        return ns // 10**9

    return node.scalar(key, default, read)


MODEL_QUALITY_KEYS = (
    "metric",
    "prediction_attribute",
    "label_attribute",
    "labels_file",
    "threshold",
    "evaluation_window",
    "service",
    "max_error",
    "page_below",
    "operation",
)


def model_quality(node: Node, default_service: str) -> ModelQualitySLI:
    """tracectl's ``model_quality`` extension, the same keys under Sloth and OpenSLO (docs/slo.md)."""
    from pathlib import Path

    from tracectl.slo.spec import ModelQualityMetric, ModelQualitySLI

    node.only(MODEL_QUALITY_KEYS)
    metric_text = node.text("metric")
    try:
        metric = ModelQualityMetric(metric_text.lower())
    except ValueError:
        known = ", ".join(m.value for m in ModelQualityMetric)
        raise node.fail("metric", f"{metric_text!r} is not one of {known}") from None
    labels_file = node.text("labels_file")
    if not Path(labels_file).is_absolute() and node.source not in {"-", "<stdin>"}:
        labels_file = str(Path(node.source).parent / labels_file)
    threshold = node.number("threshold", 0.5)
    max_error = node.opt_number("max_error")
    if not metric.higher_is_better and max_error is None:
        raise node.fail("max_error", f"missing: a {metric.value} SLI needs the largest acceptable error")
    if max_error is not None and max_error < 0:
        raise node.fail("max_error", "must not be negative")
    page_below = node.opt_number("page_below")
    if page_below is not None and not 0 < page_below < 1:
        raise node.fail("page_below", "must be a ratio between 0 and 1 (0.93, not 93)")
    return ModelQualitySLI(
        metric=metric,
        prediction_attribute=node.text("prediction_attribute"),
        labels_file=labels_file,
        service=node.text("service", default_service),
        evaluation_window_seconds=duration_seconds(node, "evaluation_window", 86400),
        label_attribute=node.opt_text("label_attribute"),
        threshold=threshold,
        max_error=max_error,
        page_below=page_below,
        operation=node.opt_text("operation"),
    )
