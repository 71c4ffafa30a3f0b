"""A model's features as spans carry them: which attributes are features, and their values as drift samples. Pure.

A feature is a span attribute of the service's spans. With a training-data reference, the attributes whose name
matches a reference column are features, also once a conventional prefix is stripped (``ml.feature.`` /
``app.feature.`` / ``app.`` / ``ml.``: ``ml.feature.session_duration`` matches the column ``session_duration``).
Without one (an earlier window as the reference), the attributes under ``ml.feature.`` or ``app.`` are inputs.
Attributes under ``ml.prediction.`` or ``ml.output.`` are the model's outputs (prediction drift).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tracectl.analysis.drift import Sample, label

if TYPE_CHECKING:
    import pandas as pd

    from tracectl.model import AttrValue, Span

STRIPPED_PREFIXES = ("ml.feature.", "app.feature.", "app.", "ml.")  # tried in order when matching columns
INPUT_PREFIXES = ("ml.feature.", "app.")
OUTPUT_PREFIXES = ("ml.prediction.", "ml.output.")
MAX_CATEGORIES = 50  # a string attribute with more distinct values than this (and mostly unique) is an identifier


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """A feature: its name (the reference column, or the key without its prefix), the span attribute it is read
    from, the reference column (training data only) and its role (input or output)."""

    name: str
    key: str
    column: str | None = None
    role: str = "input"


def display_name(key: str) -> str:
    """``ml.feature.session_duration`` → ``session_duration``: the key without its first conventional prefix."""
    for prefix in STRIPPED_PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix):
            return key[len(prefix) :]
    return key


def candidate_columns(key: str) -> list[str]:
    """The reference column names an attribute may go by: itself, then without each conventional prefix."""
    names = [key]
    names += [key[len(p) :] for p in STRIPPED_PREFIXES if key.startswith(p) and len(key) > len(p)]
    return list(dict.fromkeys(names))


def role_of(key: str) -> str:
    return "output" if key.startswith(OUTPUT_PREFIXES) else "input"


def select_spans(spans: Iterable[Span], service: str, operation: str | None = None) -> list[Span]:
    return [s for s in spans if s.service == service and (operation is None or s.name == operation)]


def attribute_keys(spans: Sequence[Span]) -> Counter[str]:
    """Attribute key → spans that carry it, for scalar values (nested lists and maps are not features)."""
    seen: Counter[str] = Counter()
    for s in spans:
        seen.update(k for k, v in s.attributes.items() if isinstance(v, str | int | float | bool))
    return seen


def parse_named(flag: str, given: Sequence[str]) -> list[tuple[str, str | None]]:
    """``--feature KEY`` or ``--feature KEY=COLUMN`` → (key, column or None)."""
    from tracectl.errors import InputError

    out = []
    for item in given:
        key, sep, column = item.partition("=")
        if not key.strip() or (sep and not column.strip()):
            raise InputError(f"{flag}: {item!r} is not KEY or KEY=COLUMN")
        out.append((key.strip(), column.strip() if sep else None))
    return out


def resolve_specs(
    keys: Mapping[str, int], columns: Sequence[str] | None, features: Sequence[tuple[str, str | None]] = (),
    outputs: Sequence[tuple[str, str | None]] = (),
) -> list[FeatureSpec]:  # fmt: skip
    """The features to compare: those named (``features``/``outputs``), else every attribute that matches a
    reference column (``columns``), else (no columns: an earlier window) every attribute under a conventional
    prefix. Naming inputs leaves the outputs to the defaults, and the other way round."""
    from tracectl.errors import InputError

    def named(key: str, column: str | None, role: str) -> FeatureSpec:
        if columns is None:
            return FeatureSpec(display_name(key), key, None, role)
        chosen = column or next((c for c in candidate_columns(key) if c in columns), None)
        if chosen is None or chosen not in columns:
            flag = "--prediction" if role == "output" else "--feature"
            raise InputError(f"no reference column for {key} (columns: {', '.join(columns)}); "
                             f"name it with {flag} {key}=COLUMN")  # fmt: skip
        return FeatureSpec(chosen, key, chosen, role)

    specs: list[FeatureSpec] = []

    def add(spec: FeatureSpec) -> None:  # two keys that read the same once stripped keep their full names
        clash = any(s.name == spec.name for s in specs)
        specs.append(FeatureSpec(spec.key, spec.key, spec.column, spec.role) if clash else spec)

    for spec in [named(k, c, "input") for k, c in features] + [named(k, c, "output") for k, c in outputs]:
        add(spec)
    wanted_roles = {"input"} if not features else set()
    wanted_roles |= {"output"} if not outputs else set()
    taken = {s.column or s.key for s in specs} | {s.key for s in specs}
    for key in sorted(keys):
        role = role_of(key)
        if role not in wanted_roles or key in taken:
            continue
        if columns is None:
            if key.startswith(INPUT_PREFIXES + OUTPUT_PREFIXES):
                add(FeatureSpec(display_name(key), key, None, role))
            continue
        column = next((c for c in candidate_columns(key) if c in columns and c not in taken), None)
        if column is not None:
            add(FeatureSpec(column, key, column, role))
            taken.add(column)
    return specs


# ------------------------------------------------------------------------------------------------ samples


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def span_sample(values: Sequence[AttrValue | None], numeric: bool | None = None) -> tuple[Sample, int]:
    """The values one attribute took (None: absent) as a sample, and how many were not numbers where numbers were
    expected (``numeric``: True for a numeric reference column, None to decide from the values themselves)."""
    present = [v for v in values if v is not None and v != ""]
    missing = len(values) - len(present)
    if numeric is None:
        numeric = bool(present) and all(is_number(v) for v in present)
    if not numeric:
        return Sample(counts=Counter(label(v) for v in present), missing=missing), 0
    numbers = np.array([_to_float(v) for v in present], dtype=np.float64)
    bad = int(np.count_nonzero(np.isnan(numbers)))
    return Sample(values=numbers[~np.isnan(numbers)], missing=missing + bad), bad


def _to_float(value: Any) -> float:
    if is_number(value):
        return float(value)
    try:
        return float(value)  # a number sent as a string attribute ("182")
    except (TypeError, ValueError):
        return float("nan")


def frame_sample(column: pd.Series) -> Sample:
    """A reference column as a sample: numbers (booleans excluded) as values, anything else as category counts."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        numbers = column.to_numpy(dtype=np.float64, na_value=np.nan)
        keep = ~np.isnan(numbers)
        return Sample(values=numbers[keep], missing=int(numbers.size - np.count_nonzero(keep)))
    counts = column.value_counts(dropna=True)
    missing = int(column.isna().sum())
    return Sample(counts={label(k.item() if isinstance(k, np.generic) else k): int(v) for k, v in counts.items()},
                  missing=missing)  # fmt: skip


def looks_like_identifier(sample: Sample) -> bool:
    """Many distinct strings, mostly unique: request IDs and user names, not a feature."""
    counts = sample.counts or {}
    return len(counts) > MAX_CATEGORIES and len(counts) > 0.5 * sample.present
