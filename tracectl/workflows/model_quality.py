"""A model-quality SLI evaluated: the predictions a service records in its spans (searched in Tempo or Jaeger like
``tracectl drift`` does, or read from trace files) joined with a labelled sample, per evaluation window, against
the SLO. ``slo status`` shows the result like its other SLIs; ``slo rules`` says Prometheus cannot compute it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracectl.errors import InputError
from tracectl.results import Result

if TYPE_CHECKING:
    from tracectl.analysis.model_quality import Breach, Metric, WindowQuality
    from tracectl.model import Trace
    from tracectl.results import RenderOptions
    from tracectl.slo.spec import SLO, ModelQualitySLI
    from tracectl.workflows.session import Session

SCHEMA = "tracectl.model-quality/v1"
COLUMNS = ("start_ns", "end_ns", "metric", "value", "n", "low", "high", "bad")
DEFAULT_LIMIT = 5000  # traces a search fetches per slice
# Tempo refuses a search over more than 168 h (its default max duration), and the bounds are sent in whole
# seconds rounded outwards: a minute less leaves room.
SEARCH_SLICE_NS = (7 * 86400 - 60) * 10**9


@dataclass(slots=True)
class ModelQualityResult(Result, schema=SCHEMA, columns=COLUMNS):
    """The SLI per evaluation window (oldest first), and how the latest windows stand against the SLO."""

    name: str
    metric: Metric
    service: str
    bound: float  # the objective (at least) or, for MAE/MAPE, the error allowed (at most)
    windows: list[WindowQuality]
    breach: Breach
    predictions: int  # spans carrying the prediction attribute
    labels: int  # rows of the labelled sample
    joined: int  # labels that found their prediction
    source: str = ""
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def sli(self) -> float | None:
        """The latest window's value: what ``slo status`` shows as the SLI now."""
        return self.windows[-1].quality.value if self.windows else None

    @property
    def value(self) -> float | None:  # what ``slo status`` reads
        return self.sli

    @property
    def breached(self) -> bool:
        return self.breach.breached

    def document(self, opts: RenderOptions | None = None) -> dict[str, Any]:
        return {
            "schema": SCHEMA, "name": self.name, "metric": str(self.metric), "service": self.service,
            "bound": self.bound, "higher_is_better": self.metric.higher_is_better, "sli": self.sli,
            "breached": self.breach.breached, "certain": self.breach.certain,
            "consecutive_bad_windows": self.breach.consecutive, "pages": self.breach.pages,
            "predictions": self.predictions, "labels": self.labels, "joined": self.joined, "source": self.source,
            "windows": list(self.rows(opts)), "warnings": self.warnings, "seconds": round(self.seconds, 3),
        }  # fmt: skip

    def rows(self, opts: RenderOptions | None = None) -> Iterable[Mapping[str, Any]]:
        from tracectl.analysis.model_quality import bad_side

        return [
            {"start_ns": w.start_ns, "end_ns": w.end_ns, "metric": str(w.quality.metric), "value": w.quality.value,
             "n": w.quality.n, "low": w.quality.interval.low, "high": w.quality.interval.high,
             "bad": bad_side(self.metric, w.quality.value, self.bound)}
            for w in self.windows
        ]  # fmt: skip


def predictions(
    traces: Iterable[Trace], service: str, attribute: str, key_attribute: str | None = None,
    operation: str | None = None,
) -> tuple[dict[str, tuple[int, float | str | bool]], int]:  # fmt: skip
    """Request ID (the trace ID, or ``key_attribute``'s value) → (time, prediction), from the service's spans that
    carry ``attribute``; and how many spans carried one for an ID already seen (the first is kept)."""
    found: dict[str, tuple[int, float | str | bool]] = {}
    repeated = 0
    for t in traces:
        for s in t.spans:
            value = s.attributes.get(attribute)
            if s.service != service or (operation is not None and s.name != operation):
                continue
            if not isinstance(value, int | float | str | bool):
                continue
            key = t.trace_id if key_attribute is None else s.attributes.get(key_attribute)
            if key is None:
                continue
            if str(key) in found:
                repeated += 1
                continue
            found[str(key)] = (s.start_ns, value)
    return found, repeated


def evaluate_model_quality(
    session: Session | None, sli: ModelQualitySLI, *, name: str = "", objective: float | None = None,
    end_ns: int | None = None, windows: int = 1, step_ns: int | None = None, limit: int = DEFAULT_LIMIT,
    traces: Sequence[Trace] | None = None,
) -> ModelQualityResult:  # fmt: skip
    """``windows`` evaluation windows of the SLI's length ending every ``step_ns`` (default: one window length)
    up to ``end_ns`` (default now): the predictions of its service searched over them (or ``traces``), joined
    with its labelled sample. ``objective`` is the SLO's (a ratio) for precision, recall, accuracy and F1; MAE and
    MAPE are held to the SLI's ``max_error``."""
    from tracectl.analysis import model_quality as mq
    from tracectl.formats.labels import read_labels

    started = time.perf_counter()
    metric = mq.Metric(str(getattr(sli.metric, "value", sli.metric)))
    bound = objective if metric.higher_is_better else sli.max_error
    if bound is None:
        need = "the SLO's objective" if metric.higher_is_better else "max_error"
        raise InputError(f"model quality {name or metric}: {metric} needs {need} to be judged against")
    end = end_ns if end_ns is not None else time.time_ns()
    window_ns = sli.evaluation_window_seconds * 10**9
    step = step_ns or window_ns
    warnings: list[str] = []
    labels = read_labels(sli.labels_file, f"model quality {name or metric}: labels_file")
    start = end - (windows - 1) * step - window_ns
    if traces is None and sli.label_attribute is None:  # joined on trace IDs: fetch the labelled traces themselves
        wanted = [r.id for r in labels if r.time_ns is None or start <= r.time_ns < end]
        traces, source = _fetch_labelled(session, wanted, warnings)
    elif traces is None:
        traces, source = _search(session, sli, start, end, limit, warnings)
    else:
        source = f"{len(traces)} traces given"
    found, repeated = predictions(traces, sli.service, sli.prediction_attribute, sli.label_attribute, sli.operation)
    if not found:
        raise InputError(f"model quality {name or metric}: no span of {sli.service} carries "
                         f"{sli.prediction_attribute} ({source})")  # fmt: skip
    if repeated:
        warnings.append(f"{repeated} spans repeated a prediction for a request already seen: the first was kept")
    joined, unmatched = mq.join(found, ((r.id, r.label, r.time_ns) for r in labels))
    if unmatched:
        warnings.append(f"{unmatched} of {len(labels)} labels found no prediction in the spans searched")
    results = mq.windows(metric, joined, end, window_ns, step, windows, sli.threshold)
    verdict = mq.breach(results, bound, sli.page_below)
    return ModelQualityResult(name or f"{sli.service} {metric}", metric, sli.service, bound, results, verdict,
                              len(found), len(labels), len(joined), source, warnings,
                              time.perf_counter() - started)  # fmt: skip


def evaluate_slo(session: Session | None, slo: SLO, at_ns: int | None = None) -> ModelQualityResult:
    """A model-quality SLO of a spec (``tracectl.slo.spec.SLO`` whose ``sli`` is a ``ModelQualitySLI``) at
    ``at_ns``: its window and the one before it (a day earlier at most, so a 7-day rolling window is evaluated
    daily), enough to say whether it pages (below ``page_below`` twice in a row)."""
    from tracectl.slo.spec import ModelQualitySLI

    sli = slo.sli
    if not isinstance(sli, ModelQualitySLI):
        raise InputError(f"SLO {slo.name}: its SLI is not a model-quality one")
    step = min(sli.evaluation_window_seconds, 86400) * 10**9
    return evaluate_model_quality(session, sli, name=str(slo.name), objective=float(slo.objective), end_ns=at_ns,
                                  windows=2, step_ns=step)  # fmt: skip


def _fetch_labelled(session: Session | None, trace_ids: list[str], warnings: list[str]) -> tuple[list[Trace], str]:
    """The labelled requests' traces by ID: a labelled sample is small, and a week-long search is not."""
    from tracectl.backends import fetch_traces
    from tracectl.errors import TracectlError

    if session is None:
        raise InputError("evaluating model quality from spans needs a backend (or traces)")
    missing: list[str] = []

    def skipped(trace_id: str, _exc: TracectlError) -> None:
        missing.append(trace_id)

    with session.progress(f"fetching {len(trace_ids)} labelled traces") as update:
        loaded = fetch_traces(session.backend(), trace_ids, session.settings.concurrency, update, skipped)
    if missing:
        warnings.append(f"{len(missing)} labelled traces could not be fetched (first: {missing[0]}): unmatched")
    return [t for r in loaded if r is not None for t in r.traces], f"{session.backend().name}, by trace ID"


def _search(session: Session | None, sli: ModelQualitySLI, start_ns: int, end_ns: int, limit: int,
            warnings: list[str]) -> tuple[list[Trace], str]:  # fmt: skip
    """The service's traces over the windows, searched a week at a time (newest first) with ``limit`` each."""
    from tracectl.backends.query import SearchQuery
    from tracectl.timerange import TimeRange
    from tracectl.workflows.search import fetch_window

    if session is None:
        raise InputError("evaluating model quality from spans needs a backend (or traces)")
    found: list[Trace] = []
    slice_end = end_ns
    while slice_end > start_ns:
        window = TimeRange(max(start_ns, slice_end - SEARCH_SLICE_NS), slice_end)
        query = SearchQuery(time=window, service=sli.service, operation=sli.operation, limit=limit)
        got = fetch_window(session, query, warnings)
        if len(got) >= limit:
            warnings.append(f"a search stopped at {limit} traces: some predictions of the windows may be missing")
        found += got
        slice_end = window.start_ns
    return found, f"{session.backend().name} search"
