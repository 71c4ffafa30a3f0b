"""A trace's log lines from Loki, matched to its spans."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from tracectl.errors import InputError, TracectlError
from tracectl.render.logs_view import LOG_CSV_COLUMNS, LOGS_SCHEMA, log_row, render_logs
from tracectl.units import plural
from tracectl.workflows.sources import load_trace_arg, select_traces

if TYPE_CHECKING:
    from rich.console import Console

    from tracectl.analysis.logs import MatchedLog
    from tracectl.analysis.tree import SpanTree
    from tracectl.render.emit import RenderOptions
    from tracectl.render.tree_rows import TreeView
    from tracectl.workflows.session import Session

LEVEL_ORDER = ("trace", "debug", "info", "warn", "error", "fatal")


@dataclass(slots=True)
class TraceLogs:
    """The log lines of one trace, each with the span it belongs to (or none)."""

    schema: ClassVar[str] = LOGS_SCHEMA
    columns: ClassVar[tuple[str, ...]] = LOG_CSV_COLUMNS

    tree: SpanTree
    query: str
    lines: list[MatchedLog]
    warnings: list[str] = field(default_factory=list)

    def document(self, opts: RenderOptions) -> dict[str, Any]:
        return {"trace_id": self.tree.trace_id, "query": self.query, "lines": list(self.rows(opts)),
                "warnings": self.warnings}  # fmt: skip

    def rows(self, opts: RenderOptions) -> Iterable[Mapping[str, Any]]:
        return [log_row(self.tree, m) for m in self.lines]

    def table(self, console: Console, opts: RenderOptions) -> None:
        render_logs(self.tree, self.lines, console, opts.tz, self.query)

    def as_raw(self, opts: RenderOptions) -> str:
        return "".join(m.record.line + "\n" for m in self.lines)


def trace_logs(
    session: Session, trace: str, *, trace_id: str | None = None, span: str | None = None, level: str | None = None,
    grep: str | None = None, strategy: str | None = None, margin: str | None = None, limit: int = 5000,
    logs_files: list[str] | None = None,
) -> TraceLogs:  # fmt: skip
    """Loki's lines for one trace (a file holding several needs ``trace_id``, else the first is used and said), or
    the lines saved in ``logs_files``, filtered by span, minimum level and a regular expression."""
    from tracectl.analysis.logs import match_logs
    from tracectl.analysis.tree import build_tree
    from tracectl.backends.loki import fetch_trace_logs

    pattern = _compile(grep)
    if level is not None and level not in LEVEL_ORDER:
        raise InputError(f"--level must be one of {', '.join(LEVEL_ORDER)}, not {level!r}")
    wanted_span = _span_id(span) if span is not None else None
    options = session.log_options(strategy, margin, limit)
    loaded = load_trace_arg(trace, session)
    chosen, *rest = select_traces(loaded, trace_id)
    warnings: list[str] = []
    if rest:
        warnings.append(f"{loaded.source} holds {plural(len(rest) + 1, 'trace')}; these are the lines of the first, "
                        f"{chosen.trace_id} (--trace-id picks another)")  # fmt: skip
    tree = build_tree(chosen)
    if logs_files:
        from tracectl.analysis.logs import records_of
        from tracectl.backends.logfiles import read_log_files
        from tracectl.backends.loki import LogResult

        result = LogResult(f"--logs-file {', '.join(logs_files)}", records_of(tree, read_log_files(logs_files)))
    else:
        result = fetch_trace_logs(session.loki(), chosen, options)
    warnings.extend(f"Loki: {w}" for w in result.warnings)
    if result.truncated:
        warnings.append(f"stopped at --limit {limit} lines; there are more (raise --limit)")
    matched = match_logs(tree, result.records)
    if wanted_span is not None:
        matched = [m for m in matched if m.node >= 0 and tree.spans[m.node].span_id == wanted_span]
    if level is not None:
        floor = LEVEL_ORDER.index(level)
        matched = [m for m in matched if m.level in LEVEL_ORDER and LEVEL_ORDER.index(m.level) >= floor]
    if pattern is not None:
        matched = [m for m in matched if pattern.search(m.record.line)]
    for warning in warnings:
        session.warn(warning)
    return TraceLogs(tree, result.query, matched, warnings)


def attach_logs(session: Session, view: TreeView) -> list[str]:
    """Fetch and attach a trace's log lines to its view; a Loki failure is a warning, never the end of ``show``."""
    from tracectl.analysis.logs import match_logs
    from tracectl.backends.loki import fetch_trace_logs
    from tracectl.model import Trace

    try:
        trace = Trace(view.tree.trace_id, tuple(view.tree.spans))
        result = fetch_trace_logs(session.loki(), trace, session.log_options())
    except TracectlError as exc:
        warnings = [f"logs unavailable, showing the tree without them: {exc}"]
    else:
        warnings = [f"Loki: {w}" for w in result.warnings]
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


def _compile(grep: str | None) -> re.Pattern[str] | None:
    if grep is None:
        return None
    try:
        return re.compile(grep)
    except re.error as exc:
        raise InputError(f"--grep: not a regular expression ({exc})") from None


def _span_id(value: str) -> str:
    from tracectl.ids import InvalidId, normalize_span_id

    try:
        return normalize_span_id(value)
    except InvalidId as exc:
        raise InputError(f"--span: {exc}") from None
