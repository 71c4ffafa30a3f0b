"""The search flags, defined once: a command that takes a search declares one ``SearchFlags`` parameter under
``@takes_search(limit=…)``, which puts the flags in its signature (as the settings table is put in the global
options) and hands the command them as one ``SearchFlags``; ``@takes_window`` does the same with the window flags
of ``triage`` and ``drift``."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Annotated, Any, TypeVar

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
Order = Annotated[
    str,
    typer.Option(
        "--order",
        help="slowest: the window's --limit longest traces (asked for with at most 8 requests, since backends return "
        "the first matches they find); recent: the backend's first matches, newest first.",
        rich_help_panel=PANEL,
    ),
]
# Commands that compare two sets of traces (triage, drift): a window (or trace files), and optionally an earlier one.
WindowTraces = Annotated[
    list[str] | None, typer.Argument(help="Trace files or directories (instead of searching a backend).")
]
WindowLimit = Annotated[
    int, typer.Option("--limit", min=1, help="At most this many traces per window (said when reached).")
]
BaselineFrom = Annotated[
    str | None,
    typer.Option("--baseline-from", help="Baseline: an earlier window, from this time (now-1d, RFC 3339) …"),
]
BaselineTo = Annotated[
    str | None, typer.Option("--baseline-to", help="… to this one (default: where the window starts).")
]


def time_range(ctx: typer.Context, since: str | None, start: str | None, end: str | None) -> TimeRange:
    """The window the user gave, naive times read in the display zone (``--tz``)."""
    from tracectl.cli.app import get_env

    return resolve_range(since, start, end, tz=get_env(ctx).tz)


@dataclass(frozen=True)
class SearchFlags:
    """The Search panel's flags as the user gave them (``--from``/``--to`` are ``start``/``end``)."""

    service: str | None = None
    operation: str | None = None
    min_duration: str | None = None
    max_duration: str | None = None
    errors: bool = False
    attr: list[str] | None = None
    traceql: str | None = None
    since: str | None = None
    start: str | None = None
    end: str | None = None
    limit: int = 20


# A command's ``flags: SearchFlags = FLAGS``: takes_search (or takes_window) puts the flags in its place.
FLAGS = SearchFlags()

_FLAG_OPTIONS: dict[str, Any] = {
    "service": Service, "operation": Operation, "min_duration": MinDuration, "max_duration": MaxDuration,
    "errors": Errors, "attr": Attr, "traceql": TraceQL, "since": Since, "start": From, "end": To, "limit": Limit,
}  # fmt: skip

F = TypeVar("F", bound=Callable[..., Any])


def takes_search(limit: int = 20) -> Callable[[F], F]:
    """The command's ``SearchFlags`` parameter becomes the Search panel's flags, in its place in the signature
    (``--limit`` defaulting to ``limit``); the command is called with them gathered into one ``SearchFlags``."""
    return lambda func: _inject(func, SearchFlags, _FLAG_OPTIONS, {"limit": limit})


def takes_window(limit_option: Any = WindowLimit, limit: int = 500) -> Callable[[F], F]:
    """As ``takes_search``, for a command that compares two sets of traces (``triage``, ``drift``): its window
    is a search given by -s, --operation, --since, --from, --to and the command's own ``--limit`` option
    (``limit_option``, defaulting to ``limit``); the other fields keep their defaults."""
    options = {n: _FLAG_OPTIONS[n] for n in ("service", "operation", "since", "start", "end")}
    return lambda func: _inject(func, SearchFlags, options | {"limit": limit_option}, {"limit": limit})


def _inject(func: F, group: type, options: dict[str, Any], defaults: dict[str, Any]) -> F:
    """Replace ``func``'s parameter annotated ``group`` by one parameter per entry of ``options`` (typer turns
    them into options), and call ``func`` with their values gathered into one ``group``."""
    sig = inspect.signature(func, eval_str=True)
    params = list(sig.parameters.values())
    (at,) = [i for i, p in enumerate(params) if p.annotation is group]
    name, kind = params[at].name, params[at].kind
    defaults = {f.name: f.default for f in fields(group)} | defaults
    flags = [inspect.Parameter(n, kind, default=defaults[n], annotation=a) for n, a in options.items()]

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> Any:
        given = {n: kwargs.pop(n) for n in options if n in kwargs}
        return func(*args, **kwargs, **{name: group(**given)})

    command.__signature__ = sig.replace(parameters=[*params[:at], *flags, *params[at + 1 :]])  # type: ignore[attr-defined]
    return command  # type: ignore[return-value]


def build_query(ctx: typer.Context, flags: SearchFlags) -> SearchQuery:
    """The backend search the flags describe."""
    return SearchQuery(
        time=time_range(ctx, flags.since, flags.start, flags.end),
        service=flags.service,
        operation=flags.operation,
        min_duration_ns=parse_duration(flags.min_duration, "--min-duration") if flags.min_duration else None,
        max_duration_ns=parse_duration(flags.max_duration, "--max-duration") if flags.max_duration else None,
        errors=flags.errors,
        attributes=parse_attr_flags(flags.attr or []),
        traceql=flags.traceql,
        limit=flags.limit,
    )


def windows(
    ctx: typer.Context, traces: list[str] | None, service: str | None, operation: str | None, since: str | None,
    start: str | None, end: str | None, limit: int, baseline_from: str | None, baseline_to: str | None,
    service_is: str = "the service",
) -> tuple[SearchQuery | None, SearchQuery | None]:  # fmt: skip
    """The searched window and the earlier baseline window (None without --baseline-from); neither for trace
    files, which take no baseline window."""
    from tracectl.cli.app import get_env
    from tracectl.errors import InputError
    from tracectl.timerange import baseline_range

    if baseline_to and not baseline_from:
        raise InputError("--baseline-to needs --baseline-from")
    if traces:
        if baseline_from:
            raise InputError("--baseline-from works with a backend search (--service), not with trace files")
        return None, None
    if not service:
        raise InputError(f"give --service ({service_is}) or trace files/directories")
    window = time_range(ctx, since, start, end)
    query = SearchQuery(time=window, service=service, operation=operation, limit=limit)
    if not baseline_from:
        return query, None
    earlier = baseline_range(baseline_from, baseline_to, window, tz=get_env(ctx).tz)
    return query, SearchQuery(time=earlier, service=service, operation=operation, limit=limit)
