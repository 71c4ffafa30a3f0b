"""A trace's log lines from Loki, matched to its spans."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracectl.errors import InputError, TracectlError
from tracectl.results import Result
from tracectl.units import plural
from tracectl.workflows.sources import load_trace_arg, select_traces

if TYPE_CHECKING:
    from tracectl.analysis.logs import MatchedLog
    from tracectl.analysis.tree import SpanTree
    from tracectl.analysis.tree_rows import TreeView
    from tracectl.backends.loki import LogQueryOptions, LogResult, LokiClient
    from tracectl.model import LogRecord, Trace
    from tracectl.workflows.session import Session

LOGS_SCHEMA = "tracectl.logs/v1"
LOG_CSV_COLUMNS = ("trace_id", "time_ns", "level", "span_id", "service", "span_name", "matched_by", "line")
LEVEL_ORDER = ("trace", "debug", "info", "warn", "error", "fatal")
LEVEL_SAMPLE = 100  # lines looked at to choose the level filter sent to Loki


@dataclass(slots=True)
class TraceLogs(Result, schema=LOGS_SCHEMA, columns=LOG_CSV_COLUMNS):
    """The log lines of one trace, each with the span it belongs to (or none)."""

    tree: SpanTree
    query: str
    lines: list[MatchedLog]
    warnings: list[str] = field(default_factory=list)


def trace_logs(
    session: Session, trace: str, *, trace_id: str | None = None, span: str | None = None, level: str | None = None,
    grep: str | None = None, strategy: str | None = None, margin: str | None = None, limit: int = 5000,
    logs_files: list[str] | None = None,
) -> TraceLogs:  # fmt: skip
    """Loki's lines for one trace (a file holding several needs ``trace_id``, else the first is used and said), or
    the lines saved in ``logs_files``, filtered by span, minimum level and a regular expression.

    ``grep`` and ``level`` are sent to Loki (a line filter, a level filter), so ``limit`` (0 = all) counts matching
    lines; saved files are filtered here with the same meaning."""
    from tracectl.analysis.logs import log_window, match_logs
    from tracectl.analysis.tree import build_tree
    from tracectl.backends.loki import fetch_trace_logs
    from tracectl.workflows.repairs import repair_warnings

    line_filter = _grep(grep)
    if level is not None and level not in LEVEL_ORDER:
        raise InputError(f"--level must be one of {', '.join(LEVEL_ORDER)}, not {level!r}")
    if limit < 0:
        raise InputError(f"--limit must be 0 (every line) or more, not {limit}")
    levels = LEVEL_ORDER[LEVEL_ORDER.index(level) :] if level is not None else None
    keep = _keep(line_filter[1] if line_filter else None, levels)
    wanted_span = _span_id(span) if span is not None else None
    options = session.log_options(strategy, margin, limit)
    loaded = load_trace_arg(trace, session)
    chosen, *rest = select_traces(loaded, trace_id)
    warnings: list[str] = []
    if rest:
        warnings.append(f"{loaded.source} holds {plural(len(rest) + 1, 'trace')}; these are the lines of the first, "
                        f"{chosen.trace_id} (--trace-id picks another)")  # fmt: skip
    tree = build_tree(chosen)
    warnings += repair_warnings([tree])  # said with the others below
    if logs_files:
        from tracectl.analysis.logs import records_of
        from tracectl.backends.logfiles import read_log_files
        from tracectl.backends.loki import LogResult

        records = records_of(tree, read_log_files(logs_files))
        result = LogResult(f"--logs-file {', '.join(logs_files)}", [r for r in records if keep is None or keep(r)])
    else:
        client = session.loki()
        pipeline = line_filter[0] if line_filter else ""
        window = log_window(tree, options.margin_ns)
        if levels is not None:
            pipeline += _level_stage(client, chosen, options, pipeline, levels, window)
        result = fetch_trace_logs(client, chosen, options, pipeline, keep, window)
    warnings.extend(f"Loki: {w}" for w in result.warnings)
    cut = cut_warning(result, "--limit", matching=keep is not None)
    if cut:
        warnings.append(cut)
    matched = match_logs(tree, result.records)
    if wanted_span is not None:
        matched = [m for m in matched if m.node >= 0 and tree.spans[m.node].span_id == wanted_span]
    for warning in warnings:
        session.warn(warning)
    return TraceLogs(tree, result.query, matched, warnings)


def cut_warning(result: LogResult, flag: str, trace_id: str | None = None, matching: bool = False) -> str | None:
    """The sentence saying a log read stopped at its limit, with the flag that lifts it; None when it did not."""
    if not result.truncated:
        return None
    from tracectl.timerange import rfc3339

    whose = f"trace {trace_id}: " if trace_id else ""
    what = "matching log lines" if matching else "log lines"
    tie = f", some at the time of the last one, {rfc3339(result.tie_cut_ns)}" if result.tie_cut_ns is not None else ""
    return f"{whose}stopped at {flag} {result.limit} {what}; there are more{tie} (raise {flag}, 0 = all)"


def _keep(line_test: Callable[[str], bool] | None, levels: Sequence[str] | None) -> Callable[[LogRecord], bool] | None:
    """The client-side test of ``--grep`` and ``--level``: what Loki applied, and exactly the levels tracectl reads."""
    if line_test is None and levels is None:
        return None
    from tracectl.analysis.logs import level_of

    wanted = set(levels or ())
    return lambda r: (line_test is None or line_test(r.line)) and (levels is None or level_of(r) in wanted)


def _level_stage(
    client: LokiClient,
    trace: Trace,
    options: LogQueryOptions,
    pipeline: str,
    levels: Sequence[str],
    window: tuple[int, int],
) -> str:
    """The level filter sent to Loki, chosen from a sample of the trace's lines: on the field they carry their level
    in (Loki 3's ``detected_level``, ``level`` …) when they all carry it in the same one; on a JSON body's field
    (``| json``) when they all are JSON with it; a line filter on the level words when the level is in their
    text; else none (the filter stays in the client, which applies the exact test in every case)."""
    from tracectl.analysis.logs import level_body_field, level_field, level_spellings
    from tracectl.backends.logql import is_label_name, level_filter
    from tracectl.backends.loki import RangeTooLong, trace_query

    try:
        sample = client.sample(trace_query(trace, options) + pipeline, *window, LEVEL_SAMPLE)
    except RangeTooLong:
        return ""  # the read itself splits the window (or says which flag narrows it)
    fields = {level_field(r) for r in sample}
    if not sample or len(fields) > 1:
        return ""
    found = fields.pop()
    parser = ""
    if found is None and "| json" not in trace_query(trace, options):  # one parser stage, not two
        in_body = {level_body_field(r) for r in sample}
        if len(in_body) == 1:
            found, parser = in_body.pop(), "json"
    if found is not None and not is_label_name(found):
        return ""
    return level_filter(found, level_spellings(levels), parser if found is not None else "")


def attach_logs(session: Session, view: TreeView, limit: int = 5000) -> list[str]:
    """Fetch and attach a trace's log lines (at most ``limit``, 0 = all) to its view; a Loki failure is a warning,
    never the end of ``show``."""
    from tracectl.analysis.logs import log_window, match_logs
    from tracectl.backends.loki import fetch_trace_logs
    from tracectl.model import Trace

    try:
        trace = Trace(view.tree.trace_id, tuple(view.tree.spans))
        options = session.log_options(limit=limit)
        result = fetch_trace_logs(session.loki(), trace, options, window=log_window(view.tree, options.margin_ns))
    except TracectlError as exc:
        warnings = [f"logs unavailable, showing the tree without them: {exc}"]
    else:
        warnings = [f"Loki: {w}" for w in result.warnings]
        cut = cut_warning(result, "--log-limit", view.tree.trace_id)
        if cut:
            warnings.append(cut)
        for m in match_logs(view.tree, result.records):
            view.logs.setdefault(m.node, []).append(m)
    for warning in warnings:
        session.warn(warning)
    return warnings


def attach_saved_logs(views: list[TreeView], logs_files: list[str]) -> None:
    """Attach to each view the lines of its trace found in saved log files."""
    from tracectl.analysis.logs import match_logs, records_of
    from tracectl.backends.logfiles import read_log_files

    records = read_log_files(logs_files)
    for view in views:
        for m in match_logs(view.tree, records_of(view.tree, records)):
            view.logs.setdefault(m.node, []).append(m)


def _grep(grep: str | None) -> tuple[str, Callable[[str], bool]] | None:
    if grep is None:
        return None
    from tracectl.backends.logql import grep_filter

    return grep_filter(grep)


def _span_id(value: str) -> str:
    from tracectl.ids import InvalidId, normalize_span_id

    try:
        return normalize_span_id(value)
    except InvalidId as exc:
        raise InputError(f"--span: {exc}") from None
