"""The sandbox's Prometheus data: series of (millisecond, value) samples, and their OpenMetrics text.

The same text serves two purposes: ``/metrics`` (the latest value of every series, no timestamps, what a real
Prometheus scrapes) and the backfill file ``promtool tsdb create-blocks-from openmetrics`` reads (every sample,
timestamps in seconds, families contiguous, each histogram point written whole, ``# EOF`` at the end:
BACKENDS-2026.md §5.5).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TextIO

Labels = tuple[tuple[str, str], ...]  # sorted (name, value) pairs, __name__ included


@dataclass(frozen=True, slots=True)
class Family:
    """A metric family as OpenMetrics declares it: counters without ``_total``, histograms without suffixes, an
    info family without ``_info``."""

    name: str
    kind: str  # counter | gauge | histogram | info
    help: str = ""
    unit: str = ""


@dataclass(slots=True)
class Samples:
    times_ms: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


def labels_of(name: str, labels: Mapping[str, str]) -> Labels:
    return tuple(sorted({**labels, "__name__": name}.items()))


def family_of(sample_name: str, families: Mapping[str, Family]) -> Family | None:
    """The family a sample belongs to (``x_bucket`` → histogram ``x``, ``x_total`` → counter ``x``, …)."""
    if sample_name in families:
        return families[sample_name]
    for suffix in ("_bucket", "_count", "_sum", "_total", "_info", "_created"):
        base = sample_name.removesuffix(suffix)
        if base != sample_name and base in families:
            return families[base]
    return None


class SeriesDB:
    """Series by label set, each sample appended in time order. Thread-safe for one writer and many readers."""

    def __init__(self) -> None:
        self.families: dict[str, Family] = {}
        self.series: dict[Labels, Samples] = {}
        self.lock = threading.Lock()

    def declare(self, family: Family) -> None:
        self.families.setdefault(family.name, family)

    def add(self, name: str, labels: Mapping[str, str], time_ms: int, value: float) -> None:
        key = labels_of(name, labels)
        samples = self.series.get(key)
        if samples is None:
            samples = self.series[key] = Samples()
        if samples.times_ms and samples.times_ms[-1] >= time_ms:
            raise ValueError(f"out-of-order sample for {name} at {time_ms}")
        samples.times_ms.append(time_ms)
        samples.values.append(value)

    def extend(self, later: SeriesDB) -> None:
        """Append ``later``'s samples (all after this one's) to this database: several sandboxes' histories in one
        Prometheus, each in its own time window."""
        for family in later.families.values():
            self.declare(family)
        for key, samples in later.series.items():
            mine = self.series.setdefault(key, Samples())
            if mine.times_ms and samples.times_ms and samples.times_ms[0] <= mine.times_ms[-1]:
                raise ValueError(f"{dict(key)['__name__']}: the later history overlaps this one")
            mine.times_ms.extend(samples.times_ms)
            mine.values.extend(samples.values)

    def __len__(self) -> int:
        return len(self.series)

    def names(self) -> set[str]:
        return {dict(k)["__name__"] for k in self.series}

    def write_openmetrics(self, out: TextIO, timestamps: bool = True) -> None:
        """Every sample (``timestamps``), or the latest of each series (``/metrics``), then ``# EOF``."""
        for family, metrics in self._by_family():
            out.write(f"# TYPE {family.name} {family.kind}\n")
            if family.unit:
                out.write(f"# UNIT {family.name} {family.unit}\n")
            if family.help:
                out.write(f"# HELP {family.name} {family.help}\n")
            for lines in metrics:
                count = len(lines[0][1])
                for i in range(count) if timestamps else (count - 1,):
                    for text, points in lines:
                        t, v = points[i]
                        stamp = f" {t / 1000:.3f}" if timestamps else ""
                        out.write(f"{text} {number_text(v)}{stamp}\n")
        out.write("# EOF\n")

    def _by_family(self) -> Iterator[tuple[Family, list[list[tuple[str, list[tuple[int, float]]]]]]]:
        """Per family, its metrics (a histogram's buckets, count and sum together), each as (sample text, points);
        every sample line of one metric has the same timestamps."""
        grouped: dict[str, dict[Labels, list[tuple[Labels, Samples]]]] = {}
        for key, samples in sorted(self.series.items()):
            labels = dict(key)
            family = family_of(labels["__name__"], self.families)
            if family is None:
                continue
            metric = tuple((k, v) for k, v in key if k not in ("__name__", "le"))
            grouped.setdefault(family.name, {}).setdefault(metric, []).append((key, samples))
        for name in sorted(grouped):
            metrics = []
            for members in grouped[name].values():
                members.sort(key=lambda m: _sample_order(dict(m[0])))
                points = [(_sample_text(key), list(zip(s.times_ms, s.values, strict=True))) for key, s in members]
                metrics.append(points)
            yield self.families[name], metrics


def _sample_order(labels: dict[str, str]) -> tuple[int, float]:
    name = labels["__name__"]
    if name.endswith("_bucket"):
        return 0, float(labels.get("le", "inf"))
    return (1 if name.endswith("_count") else 2), 0.0


def _sample_text(key: Labels) -> str:
    labels = dict(key)
    name = labels.pop("__name__")
    if not labels:
        return name
    inner = ",".join(f'{k}="{escape(v)}"' for k, v in labels.items())
    return f"{name}{{{inner}}}"


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def number_text(value: float) -> str:
    """A sample value as OpenMetrics writes it: integers without a fraction, ``+Inf``, ``-Inf``, ``NaN``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if value == int(value) and abs(value) < 2**53 else repr(value)


def le_text(bound: float) -> str:
    """A bucket bound as OpenMetrics canonical text: ``0.005``, ``1.0``, ``+Inf``."""
    return "+Inf" if math.isinf(bound) else repr(float(bound))
