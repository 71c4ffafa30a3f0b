"""The sandbox's in-memory data: traces (mergeable, as OTLP ingest sends them in pieces), log lines and metric
points."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracectl.model import LogRecord, Span, Trace

if TYPE_CHECKING:
    from tracectl.sandbox.metrics import MetricPoint

ROOT_NOT_RECEIVED = "<root span not yet received>"


@dataclass(frozen=True, slots=True)
class Summary:
    trace_id: str
    root_service: str  # ROOT_NOT_RECEIVED when no root span
    root_name: str
    start_ns: int
    end_ns: int
    root: Span | None

    @property
    def duration(self) -> int:
        return self.end_ns - self.start_ns


def summarise(trace: Trace) -> Summary:
    root = next((s for s in trace.spans if not s.parent_span_id), None)
    start = min(s.start_ns for s in trace.spans)
    end = max(s.end_ns for s in trace.spans)
    if root is None:
        return Summary(trace.trace_id, ROOT_NOT_RECEIVED, "", start, end, None)
    return Summary(trace.trace_id, root.service, root.name, start, end, root)


class Store:
    def __init__(self, clock: Callable[[], int] = time.time_ns) -> None:
        self.clock = clock  # now, in ns: Tempo's query_end_cutoff is measured from it
        self._lock = threading.Lock()
        self._traces: dict[str, Trace] = {}
        self._summaries: dict[str, Summary] = {}
        self._logs: list[LogRecord] = []
        self._metrics: list[MetricPoint] = []

    def add_traces(self, traces: Iterable[Trace]) -> None:
        with self._lock:
            for trace in traces:
                old = self._traces.get(trace.trace_id)
                merged = Trace(trace.trace_id, old.spans + trace.spans) if old else trace
                self._traces[trace.trace_id] = merged
                self._summaries[trace.trace_id] = summarise(merged)

    def add_logs(self, records: Iterable[LogRecord]) -> None:
        with self._lock:
            self._logs.extend(records)
            self._logs.sort(key=lambda r: r.time_ns)

    def add_metrics(self, points: Iterable[MetricPoint]) -> None:
        with self._lock:
            self._metrics.extend(points)

    def metrics(self, name: str | None = None) -> list[MetricPoint]:
        """Metric points in the order they arrived; only those of metric ``name`` when given."""
        with self._lock:
            return [p for p in self._metrics if name is None or p.name == name]

    def trace(self, trace_id: str) -> Trace | None:
        return self._traces.get(trace_id)

    def summary(self, trace_id: str) -> Summary | None:
        return self._summaries.get(trace_id)

    def traces(self) -> list[tuple[Trace, Summary]]:
        """Every trace with its summary, in the order they arrived (Tempo returns the first N it finds)."""
        with self._lock:
            return [(t, self._summaries[tid]) for tid, t in self._traces.items()]

    def logs(self) -> list[LogRecord]:
        with self._lock:
            return list(self._logs)

    def services(self) -> list[str]:
        return sorted({s.service for t, _ in self.traces() for s in t.spans})
