"""``tracectl logs``: the Loki log lines of a trace, grouped by span."""

from __future__ import annotations

import enum
import re
from typing import Annotated

import typer

from tracectl.cli.app import app, get_env
from tracectl.cli.common import LogsFile, read_logs_files, select_traces
from tracectl.cli.sources import load_trace_arg
from tracectl.errors import InputError


class LogOutput(enum.StrEnum):
    table = "table"
    raw = "raw"
    json = "json"
    jsonl = "jsonl"


LEVEL_ORDER = ("trace", "debug", "info", "warn", "error", "fatal")


@app.command(rich_help_panel="Inspect a trace")
def logs(
    ctx: typer.Context,
    trace: Annotated[str, typer.Argument(help="Trace file, - for stdin, or a trace ID.")],
    span: Annotated[str | None, typer.Option("--span", help="Only the lines of this span (span ID).")] = None,
    level: Annotated[
        str | None, typer.Option("--level", help="Only this level and above: debug, info, warn, error, fatal.")
    ] = None,
    grep: Annotated[str | None, typer.Option("--grep", help="Only lines matching this regular expression.")] = None,
    strategy: Annotated[
        str | None,
        typer.Option("--strategy", help="How lines are found: line (default), metadata, json, template."),
    ] = None,
    margin: Annotated[
        str | None, typer.Option("--margin", help="Widen the trace's time window by this on both sides (default 5s).")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="At most this many lines (paged past Loki's limit).")
    ] = 5000,
    trace_id: Annotated[str | None, typer.Option("--trace-id", help="When a file holds several traces.")] = None,
    logs_file: LogsFile = None,
    output: Annotated[
        LogOutput, typer.Option("--output", "-o", help="table, raw (lines only), json or jsonl.")
    ] = LogOutput.table,
) -> None:
    """Loki log lines correlated to a trace, matched to spans by span ID or by service and time.

    The query comes from the trace's services (resource attribute → Loki label, default service.name →
    service_name) and the strategy: a line filter on the trace ID (works everywhere), OTLP structured metadata,
    a parsed JSON field, or your own template. Examples:

      tracectl logs 2f3e0cee77ae5dc9c17ade3689eb2e54
      tracectl logs trace.json --level warn --grep timeout
      tracectl logs $ID --strategy metadata -o jsonl | jq .line
      tracectl logs trace.json --logs-file saved-loki-answer.json.gz --level error
    """
    from tracectl.analysis.logs import match_logs, records_of
    from tracectl.analysis.tree import build_tree
    from tracectl.backends.loki import LogResult, fetch_trace_logs
    from tracectl.render import machine
    from tracectl.render.logs_view import LOGS_SCHEMA, log_row, render_logs

    env = get_env(ctx)
    pattern = _compile(grep)
    if level is not None and level not in LEVEL_ORDER:
        raise InputError(f"--level must be one of {', '.join(LEVEL_ORDER)}, not {level!r}")
    options = env.log_options(strategy, margin, limit)
    (chosen, *_rest) = select_traces(load_trace_arg(trace, env.fetch), trace_id)
    tree = build_tree(chosen)
    saved = read_logs_files(logs_file)
    if saved is not None:
        result = LogResult(f"--logs-file {', '.join(logs_file or [])}", records_of(tree, saved))
    else:
        result = fetch_trace_logs(env.loki(), chosen, options)
    for warning in result.warnings:
        env.warn(f"Loki: {warning}")
    if result.truncated:
        env.warn(f"stopped at --limit {limit} lines; there are more")
    matched = match_logs(tree, result.records)
    if span is not None:
        wanted = _span_id(span)
        matched = [m for m in matched if m.node >= 0 and tree.spans[m.node].span_id == wanted]
    if level is not None:
        floor = LEVEL_ORDER.index(level)
        matched = [m for m in matched if m.level in LEVEL_ORDER and LEVEL_ORDER.index(m.level) >= floor]
    if pattern is not None:
        matched = [m for m in matched if pattern.search(m.record.line)]
    if output is LogOutput.raw:
        env.write("".join(m.record.line + "\n" for m in matched))
    elif output is LogOutput.jsonl:
        env.write(machine.to_jsonl(log_row(tree, m) for m in matched))
    elif output is LogOutput.json:
        doc = {"trace_id": tree.trace_id, "query": result.query, "lines": [log_row(tree, m) for m in matched],
               "warnings": result.warnings}  # fmt: skip
        env.write(machine.to_json(doc, LOGS_SCHEMA))
    else:
        render_logs(tree, matched, env.out, env.tz, result.query)


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
