"""Input and output drift read from traces: a service's feature attributes in a window (or in trace files)
against the model's training data or an earlier window. Shared by ``tracectl drift`` and ``triage``."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracectl.analysis.drift import ALPHA
from tracectl.errors import InputError
from tracectl.results import Result

if TYPE_CHECKING:
    import pandas as pd

    from tracectl.analysis.drift import DriftReport, FeatureDrift, Sample
    from tracectl.analysis.features import FeatureSpec
    from tracectl.backends.query import SearchQuery
    from tracectl.model import Span, Trace
    from tracectl.timerange import TimeRange
    from tracectl.workflows.session import Session
    from tracectl.workflows.sources import InputCounts

FEW_VALUES = 30  # fewer current values than this: said, because only a large drift can show


DRIFT_SCHEMA = "tracectl.drift/v1"
DRIFT_CSV_COLUMNS = (
    "rank", "feature", "attribute", "role", "kind", "test", "statistic", "threshold", "drifted", "psi",
    "n_reference", "n_current", "missing_reference", "missing_current", "out_of_range", "sentence",
)  # fmt: skip


@dataclass(slots=True)
class DriftOptions:
    service: str | None = None  # None with files: the one service whose attributes match the reference
    operation: str | None = None
    query: SearchQuery | None = None  # the current window; None: ``files``
    files: list[str] = field(default_factory=list)
    reference: str | None = None  # training data: .parquet, .csv, .jsonl
    baseline_query: SearchQuery | None = None  # or an earlier window
    features: list[str] = field(default_factory=list)  # KEY or KEY=COLUMN
    outputs: list[str] = field(default_factory=list)
    alpha: float = ALPHA


@dataclass(slots=True)
class DriftResult(Result, schema=DRIFT_SCHEMA, columns=DRIFT_CSV_COLUMNS):
    """Every feature compared, drifted first, with where the current and reference values came from."""

    service: str
    operation: str | None
    report: DriftReport
    current: str  # where the current values came from, in words
    reference: str
    current_spans: int = 0
    reference_rows: int = 0
    warnings: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)  # what to run next
    seconds: float = 0.0
    inputs: InputCounts | None = None  # traces asked for, analysed and skipped (both windows; none for training data)
    window: TimeRange | None = None  # the current window (searched, or the spans' extent with files)
    baseline_window: TimeRange | None = None  # the earlier window compared with (None: training data)
    generated_ns: int = 0  # when the result was made (the report says it)


def feature_row(rank: int, f: FeatureDrift) -> dict[str, Any]:
    """A feature's row: JSON Lines, CSV, and the ``features`` of a JSON document."""
    from tracectl.analysis.drift_text import describe

    return {"rank": rank, "feature": f.name, "attribute": f.key, "role": f.role, "kind": f.kind, "test": f.test,
            "statistic": f.statistic, "threshold": f.threshold, "drifted": f.drifted, "psi": f.psi,
            "n_reference": f.n_reference, "n_current": f.n_current, "missing_reference": f.missing_reference,
            "missing_current": f.missing_current, "out_of_range": f.out_of_range, "sentence": describe(f)}  # fmt: skip


# ---------------------------------------------------------------------------------------------- references


@dataclass(slots=True)
class TableReference:
    """Training data: its columns, and the rows of those a comparison needs (read once, on first use)."""

    path: Path
    columns: list[str]
    frame: pd.DataFrame | None = None

    def load(self, names: Iterable[str]) -> pd.DataFrame:
        from tracectl.formats.training_data import read_table

        wanted = list(dict.fromkeys(names))
        if self.frame is None:
            self.frame = read_table(self.path, wanted)
        elif missing := [n for n in wanted if n not in self.frame.columns]:
            self.frame = self.frame.join(read_table(self.path, missing))
        return self.frame

    @property
    def label(self) -> str:
        rows = f" ({len(self.frame):,} rows)" if self.frame is not None else ""
        return f"{self.path.name}{rows}"


def open_reference(path: str) -> TableReference:
    from tracectl.formats.training_data import table_columns

    return TableReference(Path(path), table_columns(Path(path)))


Reference = TableReference | Sequence["Span"]  # training data, or the spans of an earlier window


# ---------------------------------------------------------------------------------------------- comparing


def compare_service(
    current: Sequence[Span], reference: Reference, warnings: list[str], features: Sequence[str] = (),
    outputs: Sequence[str] = (), alpha: float = ALPHA, quiet_defaults: bool = False,
) -> tuple[DriftReport, tuple[int, int]]:  # fmt: skip
    """One service's spans (already selected) against the reference: the report, and how many current spans
    and reference rows (or spans) carry the features. Raises InputError when no feature can be compared;
    ``quiet_defaults`` returns an empty report instead."""
    from tracectl.analysis.drift import compare_features
    from tracectl.analysis.features import attribute_keys, parse_named, resolve_specs

    table = reference if isinstance(reference, TableReference) else None
    keys = attribute_keys(current)
    if table is None:
        keys.update(attribute_keys(reference))  # type: ignore[arg-type]
    specs = resolve_specs(keys, table.columns if table else None, parse_named("--feature", features),
                          parse_named("--output", outputs))  # fmt: skip
    if not specs and quiet_defaults:
        return compare_features({}, alpha), (0, 0)
    if not specs:
        raise InputError(_no_features_message(keys, table))
    cur_samples, ref_samples, sizes = _samples(current, reference, specs, warnings, bool(features or outputs))
    pairs = {s.name: (ref_samples[s.name], cur_samples[s.name]) for s in specs if s.name in cur_samples}
    report = compare_features(pairs, alpha, {s.name: (s.key, s.role) for s in specs})
    for f in report.features:
        if 0 < f.n_current < FEW_VALUES:
            warnings.append(f"only {f.n_current} current values of {f.name}: only a large drift can show")
    return report, sizes


def _no_features_message(keys: Mapping[str, int], table: TableReference | None) -> str:
    seen = ", ".join(sorted(keys)[:12]) or "none"
    if table is not None:
        return (f"no span attribute matches a column of {table.path.name} (columns: {', '.join(table.columns[:12])}; "
                f"attributes: {seen}); name them with --feature KEY=COLUMN")  # fmt: skip
    return (
        f"no attribute under ml.feature., app., ml.prediction. or ml.output. (attributes: {seen}); "
        "name them with --feature KEY"
    )


def _samples(
    current: Sequence[Span], reference: Reference, specs: Sequence[FeatureSpec], warnings: list[str], named: bool
) -> tuple[dict[str, Sample], dict[str, Sample], tuple[int, int]]:
    """Current and reference samples per feature name (identifier-like strings dropped unless named), and the
    number of current spans and of reference rows (or spans) they come from."""
    from tracectl.analysis.features import frame_sample, looks_like_identifier

    cur_rows = _rows(current, specs)
    if isinstance(reference, TableReference):
        frame = reference.load(s.column or s.name for s in specs)
        ref = {s.name: frame_sample(frame[s.column or s.name]) for s in specs}
        ref_size, ref_rows = len(frame), []
    else:
        ref_rows = _rows(reference, specs)
        ref, ref_size = {}, len(ref_rows)
    cur: dict[str, Sample] = {}
    for s in specs:
        numeric = ref[s.name].values is not None if s.name in ref else _all_numbers(s.key, cur_rows, ref_rows)
        cur[s.name], bad = _span_sample(s.key, cur_rows, numeric)
        if s.name not in ref:
            ref[s.name], _ = _span_sample(s.key, ref_rows, numeric)
        if bad:
            warnings.append(f"{bad} current values of {s.key} are not numbers: counted as missing")
        if not named and (looks_like_identifier(cur[s.name]) or looks_like_identifier(ref[s.name])):
            warnings.append(f"left out {s.key}: its values look like identifiers, not a feature")
            del cur[s.name]
    return cur, ref, (len(cur_rows), ref_size)


def _rows(spans: Sequence[Span], specs: Sequence[FeatureSpec]) -> list[Mapping[str, Any]]:
    """The attributes of the spans that carry at least one of the features (the model's spans, not its caller's)."""
    keys = {s.key for s in specs}
    return [s.attributes for s in spans if not keys.isdisjoint(s.attributes)]


def _span_sample(key: str, rows: Sequence[Mapping[str, Any]], numeric: bool) -> tuple[Sample, int]:
    from tracectl.analysis.features import span_sample

    return span_sample([r.get(key) for r in rows], numeric)


def _all_numbers(key: str, *groups: Sequence[Mapping[str, Any]]) -> bool:
    from tracectl.analysis.features import is_number

    present = [r[key] for rows in groups for r in rows if r.get(key) not in (None, "")]
    return bool(present) and all(is_number(v) for v in present)


# ---------------------------------------------------------------------------------------------- the command


def drift(session: Session | None, options: DriftOptions) -> DriftResult:
    """Compare a service's inputs and outputs, read from its spans, with training data or an earlier window."""
    from tracectl.analysis.features import select_spans
    from tracectl.workflows.sources import InputCounts

    started = time.perf_counter()
    warnings: list[str] = []
    if (options.reference is None) == (options.baseline_query is None):
        raise InputError("compare with what? give --reference FILE (training data) or --baseline-from TIME "
                         "(an earlier window), one of them")  # fmt: skip
    table = open_reference(options.reference) if options.reference else None
    counts = InputCounts()
    traces, source = _current_traces(session, options, warnings, counts)
    if options.service is None:
        service, guessed = _guess_service(traces, table)
        _say(session, warnings, [guessed])
    else:
        service = options.service
    spans = select_spans((s for t in traces for s in t.spans), service, options.operation)
    what = f"{service}" + (f" | {options.operation}" if options.operation else "")
    if not spans:
        raise InputError(f"no spans of {what} in {source}: check --service/--operation, or widen --since")
    reference: Reference
    if table is not None:
        reference = table
    else:
        if session is None or options.baseline_query is None:
            raise InputError("--baseline-from needs a backend search")
        earlier = _fetch(session, options.baseline_query, warnings, counts)
        reference = select_spans((s for t in earlier for s in t.spans), service, options.operation)
        if not reference:
            raise InputError(f"no spans of {what} in the baseline window: move --baseline-from/--baseline-to")
    notes: list[str] = []
    report, (n_cur, n_ref) = compare_service(spans, reference, notes, options.features, options.outputs,
                                             options.alpha)  # fmt: skip
    _say(session, warnings, notes)
    ref_words = table.label if table else f"{n_ref:,} spans in the baseline window"
    result = DriftResult(service, options.operation, report, f"{n_cur:,} spans of {what} from {source}", ref_words,
                         n_cur, n_ref, warnings, inputs=counts)  # fmt: skip
    tempo = session is not None and options.query is not None and session.settings.effective_backend == "tempo"
    result.commands = next_commands(result, options.query, tempo)
    result.seconds = time.perf_counter() - started
    result.window = options.query.time if options.query is not None else _extent(spans)
    result.baseline_window = options.baseline_query.time if options.baseline_query is not None else None
    result.generated_ns = time.time_ns()
    return result


def _extent(spans: Sequence[Span]) -> TimeRange | None:
    from tracectl.timerange import TimeRange

    return TimeRange(min(s.start_ns for s in spans), max(s.end_ns for s in spans)) if spans else None


def _fetch(session: Session, query: SearchQuery, warnings: list[str], counts: InputCounts) -> list[Trace]:
    from tracectl.workflows.search import fetch_window

    found: list[str] = []
    traces = fetch_window(session, query, found, counts)
    warnings.extend(found)
    return traces


def _current_traces(session: Session | None, options: DriftOptions, warnings: list[str],
                    counts: InputCounts) -> tuple[list[Trace], str]:  # fmt: skip
    if options.query is not None:
        if session is None:
            raise InputError("searching a window needs a backend")
        traces = _fetch(session, options.query, warnings, counts)
        return traces, f"{session.backend().name} search"
    if not options.files:
        raise InputError("give --service (and a window) to search a backend, or trace files")
    from tracectl.workflows.sources import load_many

    loaded = load_many(options.files, session, skip_bad=True)
    warnings.extend(loaded.warnings)
    counts.add(loaded.counts)
    return loaded.traces, f"{len(options.files)} input(s)"


def _say(session: Session | None, warnings: list[str], messages: Sequence[str]) -> None:
    """Warnings of this workflow's own (searches and fetches say theirs as they happen)."""
    warnings.extend(messages)
    for message in messages:
        if session is not None:
            session.warn(message)


def _guess_service(traces: Sequence[Trace], table: TableReference | None) -> tuple[str, str]:
    """With files and no --service: the one service whose span attributes are features, and a note saying so."""
    from tracectl.analysis.features import attribute_keys, resolve_specs

    by_service: dict[str, list[Span]] = {}
    for t in traces:
        for s in t.spans:
            by_service.setdefault(s.service, []).append(s)
    columns = table.columns if table else None
    matching = sorted(name for name, spans in by_service.items() if resolve_specs(attribute_keys(spans), columns))
    if len(matching) != 1:
        which = (
            f"several services carry features ({', '.join(matching)})" if matching else "no service carries features"
        )
        raise InputError(f"{which}: give --service")
    return matching[0], f"no --service given: compared {matching[0]}, the only service whose attributes are features"


def next_commands(result: DriftResult, query: SearchQuery | None, tempo: bool = False) -> list[str]:
    """Traces to look at: requests carrying a new category, or (Tempo) a value beyond the reference's range."""
    from tracectl.timerange import window_flags

    since = window_flags(query.time) if query is not None else ""  # absolute: the same window tomorrow
    cmds = []
    for f in result.report.drifted[:2]:
        if f.new_categories:
            cmds.append(f"tracectl search -s {result.service} --attr {f.key}={f.new_categories[0]}{since}")
        elif (
            tempo and f.reference.high is not None and f.current.high is not None and f.current.high > f.reference.high
        ):
            limit = f"{f.reference.high:.6g}"
            query_text = f'{{resource.service.name="{result.service}" && span.{f.key} > {limit}}}'
            cmds.append(f"tracectl search --traceql '{query_text}'{since}")
    return cmds


# ------------------------------------------------------------------------------------------------ --fail-on

_FAIL_ON = re.compile(r"\s*(drift-share|drifted|(psi|missing|out-of-range):([^<>=\s]+))\s*(>=|>)\s*([0-9.]+)\s*(%?)\s*")


def parse_fail_on(expr: str) -> tuple[str, str | None, str, float]:
    """``drift-share>0.3``, ``drifted>=1``, ``psi:session_duration>0.2``, ``missing:items_viewed>5%``:
    (metric, feature or None, operator, threshold)."""
    m = _FAIL_ON.fullmatch(expr)
    if not m:
        raise InputError(f"--fail-on: {expr!r} is not METRIC>VALUE (drift-share, drifted, or psi:FEATURE, "
                         "missing:FEATURE, out-of-range:FEATURE)")  # fmt: skip
    whole, metric, feature, op, raw, percent = m.groups()
    try:
        value = float(raw) / (100 if percent else 1)
    except ValueError:
        raise InputError(f"--fail-on: {raw!r} is not a number") from None
    return (metric or whole), feature, op, value


def crossed_thresholds(result: DriftResult, rules: Sequence[tuple[str, str | None, str, float]]) -> list[str]:
    """The crossed ``--fail-on`` rules, as sentences; a rule naming an unknown feature is an InputError."""
    by_name = {f.name: f for f in result.report.features}
    crossed = []
    for metric, feature, op, limit in rules:
        if feature is not None and feature not in by_name:
            raise InputError(f"--fail-on: no feature {feature!r} (features: {', '.join(sorted(by_name))})")
        value = _metric(result, by_name[feature] if feature else None, metric)
        if value is not None and (value > limit or (op == ">=" and value == limit)):
            crossed.append(f"{metric}{':' + feature if feature else ''} {value:.3g} {op} {limit:.3g}")
    return crossed


def _metric(result: DriftResult, f: FeatureDrift | None, metric: str) -> float | None:
    if f is None:
        return result.report.drift_share if metric == "drift-share" else float(len(result.report.drifted))
    return {"psi": f.psi, "missing": f.missing_current, "out-of-range": f.out_of_range}[metric]
