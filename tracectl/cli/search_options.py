"""The search flags, defined once and shared by `tracectl search`, `blame --search` and `triage`."""

from __future__ import annotations

from typing import Annotated

import typer

from tracectl.backends.query import SearchQuery, parse_attr_flags
from tracectl.timerange import TimeRange, resolve_range
from tracectl.units import parse_duration

PANEL = "Search"
TIME_HELP = "RFC 3339 (no offset: the --tz zone), unix seconds, or now-2h"

Service = Annotated[str | None, typer.Option("--service", "-s", help="Service name.", rich_help_panel=PANEL)]
Operation = Annotated[str | None, typer.Option("--operation", help="Span (operation) name.", rich_help_panel=PANEL)]
MinDuration = Annotated[
    str | None,
    typer.Option("--min-duration", help="Traces at least this long (e.g. 500ms, 2s).", rich_help_panel=PANEL),
]
MaxDuration = Annotated[
    str | None, typer.Option("--max-duration", help="Traces at most this long.", rich_help_panel=PANEL)
]
Errors = Annotated[
    bool,
    typer.Option(
        "--errors",
        help="Only traces with an error span anywhere (with -s: that service's traces, the error may be downstream).",
        rich_help_panel=PANEL,
    ),
]
Attr = Annotated[
    list[str] | None,
    typer.Option(
        "--attr",
        help="Attribute KEY=VALUE on the same span as -s/--operation (repeatable). Typed as TraceQL compares: "
        "200 is an integer, 0.5 a float, true/false booleans, other text a string; quote to force a string: "
        "'k=\"200\"'. Scopes: resource.KEY, span.KEY.",
        rich_help_panel=PANEL,
    ),
]
TraceQL = Annotated[
    str | None,
    typer.Option("--traceql", help="Raw TraceQL (Tempo), instead of the flags above.", rich_help_panel=PANEL),
]
Since = Annotated[
    str | None,
    typer.Option("--since", help="Look back this far: 30m, 6h, 2d, 1w (default 1h).", rich_help_panel=PANEL),
]
From = Annotated[
    str | None, typer.Option("--from", help=f"Start: {TIME_HELP} (instead of --since).", rich_help_panel=PANEL)
]
To = Annotated[str | None, typer.Option("--to", help=f"End: {TIME_HELP} (default now).", rich_help_panel=PANEL)]
Limit = Annotated[int, typer.Option("--limit", min=1, help="At most this many traces.", rich_help_panel=PANEL)]


def time_range(ctx: typer.Context, since: str | None, start: str | None, end: str | None) -> TimeRange:
    """The window the user gave, naive times read in the display zone (``--tz``)."""
    from tracectl.cli.app import get_env

    return resolve_range(since, start, end, tz=get_env(ctx).tz)


def build_query(
    ctx: typer.Context, service: str | None, operation: str | None, min_duration: str | None,
    max_duration: str | None, errors: bool, attr: list[str] | None, traceql: str | None, since: str | None,
    start: str | None, end: str | None, limit: int,
) -> SearchQuery:  # fmt: skip
    return SearchQuery(
        time=time_range(ctx, since, start, end),
        service=service,
        operation=operation,
        min_duration_ns=parse_duration(min_duration, "--min-duration") if min_duration else None,
        max_duration_ns=parse_duration(max_duration, "--max-duration") if max_duration else None,
        errors=errors,
        attributes=parse_attr_flags(attr or []),
        traceql=traceql,
        limit=limit,
    )
