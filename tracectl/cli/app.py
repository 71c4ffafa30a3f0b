"""The typer application, its group (every exception to one line and an exit code), the shared options (``-o``
and the global options derived from the settings table) and ``emit_result``.

The rest of the CLI wiring lives by concern: ``state`` (``CliState``, the session), ``errors`` (the error → exit
code mapping), ``argv`` (global options anywhere), ``help`` (what ``--help`` shows). Their public names are
re-exported here, so ``from tracectl.cli.app import …`` keeps working."""

from __future__ import annotations

import enum
import inspect
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from tracectl import __version__
from tracectl.cli.argv import _command_options, _global_options, hoist_global_options
from tracectl.cli.env import Env
from tracectl.cli.errors import (
    Terminated,
    _is_click_signal,
    _silence_stdout,
    end_like_ctrl_c_on_term_and_hup,
    report_error,
    report_traceback,
)
from tracectl.cli.help import plain_metavars, reflow, reflow_help
from tracectl.cli.state import CliState, cli_state, get_env, get_session
from tracectl.config import CONNECTION, REPEATABLE_PARSERS, specs

__all__ = [
    "EXIT_CODES_HELP",
    "CliState",
    "Output",
    "OutputFormat",
    "Terminated",
    "TracectlGroup",
    "app",
    "cli_state",
    "emit_result",
    "end_like_ctrl_c_on_term_and_hup",
    "get_env",
    "get_session",
    "hoist_global_options",
    "output_option",
    "plain_metavars",
    "reflow",
    "reflow_help",
    "report_error",
    "report_traceback",
]

EXIT_CODES_HELP = (
    "[bold]Exit codes[/bold]: 0 ok · 1 internal error · 2 usage or bad input · 3 backend unreachable or timed out · "
    "4 trace not found (or more skipped than --max-skipped) · 5 backend returned an error · 6 a --fail-on "
    "threshold was crossed. A reader that closes the pipe early (`| head`) is not an error: exit 0. Ctrl-C: 130; "
    "SIGTERM: 143; SIGHUP: 129 (no file is left half-written)."
)


class OutputFormat(enum.StrEnum):
    """Every ``-o`` name; each command accepts the subset it declares (``output_option``)."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    raw = "raw"


_FORMAT_HELP = {"table": "table (terminal)", "json": "json (one document)", "jsonl": "jsonl (a row per line)",
                "csv": "csv", "raw": "raw (the lines only)"}  # fmt: skip


def output_option(*names: str) -> Any:
    """The ``-o`` option of a command that supports ``names``: typer rejects the others (exit 2)."""
    choice = enum.StrEnum("Format", {n: n for n in names})  # type: ignore[misc]
    help_text = ", ".join(_FORMAT_HELP[n] for n in names) + "."
    return Annotated[choice, typer.Option("--output", "-o", help=help_text, case_sensitive=False)]


# The usual set: table for people, json/jsonl/csv for scripts.
Output = output_option("table", "json", "jsonl", "csv")


class TracectlGroup(TyperGroup):
    """Runs commands and turns every exception into a one-line message and a documented exit code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plain_metavars(self)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        own = _command_options(self, args, _global_options()[1])
        return list(super().parse_args(ctx, hoist_global_options(args, own)))

    def invoke(self, ctx: Any) -> Any:  # typer's Context (its click base is private)
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort):
            raise
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(0) from None
        except Exception as exc:
            if _is_click_signal(exc):
                raise
            state = ctx.obj if isinstance(ctx.obj, CliState) else CliState()
            if state.env.debug:
                report_traceback(state.env, exc)
            raise typer.Exit(report_error(state.env, exc)) from None
        except KeyboardInterrupt as exc:
            state = ctx.obj if isinstance(ctx.obj, CliState) else CliState()
            raise typer.Exit(report_error(state.env, exc)) from None


app = typer.Typer(
    cls=TracectlGroup,
    name="tracectl",
    help=(
        "From [italic]'predictions are slow'[/italic] to [bold]this component, this span, these log lines[/bold]. "
        "Reads traces from Tempo, Jaeger or files (OTLP JSON/protobuf, Jaeger JSON, Tempo responses), rebuilds "
        "span trees, shows where the time went, compares slow requests with normal ones and names the culprit."
    ),
    epilog=EXIT_CODES_HELP,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tracectl {__version__}")
        raise typer.Exit(0)


def main_options(
    ctx: typer.Context,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Add the traceback to errors (the exit code stays).", envvar="TRACECTL_DEBUG"),
    ] = False,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="No colour, even on a terminal (NO_COLOR works too).")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No warnings or progress on stderr.")] = False,
    csv_raw: Annotated[
        bool,
        typer.Option(
            "--csv-raw",
            help="-o csv: write text cells as they are. By default a cell starting with =, +, -, @, a tab or a "
            "carriage return gets a leading ' so that a spreadsheet shows it instead of running it as a formula.",
        ),
    ] = False,
    tz: Annotated[
        str,
        typer.Option(
            "--tz",
            envvar="TRACECTL_TZ",
            help="Time zone for shown timestamps and for --from/--to without an offset: local, UTC, an IANA name "
            "(Europe/Paris) or an offset (+02:00).",
        ),
    ] = "local",
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    **settings: Any,
) -> None:
    """Global options may go before or after the command."""
    from tracectl.units import resolve_tz

    obj = ctx.obj
    state = obj if isinstance(obj, CliState) else CliState(env=obj if isinstance(obj, Env) else Env())
    env = state.env
    env.no_color, env.quiet, env.debug = env.no_color or no_color, env.quiet or quiet, env.debug or debug
    env.csv_raw = env.csv_raw or csv_raw
    ctx.obj = state
    ctx.call_on_close(state.close)
    env.tz = resolve_tz(tz)
    for name, value in settings.items():
        parse = REPEATABLE_PARSERS.get(name)
        state.flags[name] = parse(value or []) if parse else value


def _setting_parameters() -> list[inspect.Parameter]:
    """One keyword parameter per setting that has a flag, for typer to turn into a global option."""
    params = []
    for name, spec in specs():
        if not spec.flag:
            continue
        names = [spec.flag, *([spec.short] if spec.short else [])]
        help_text = spec.help + spec.env_help
        if spec.kind is bool:
            option: Any = Annotated[bool | None, typer.Option(*names, help=help_text, rich_help_panel=CONNECTION)]
        elif spec.repeatable:
            option = Annotated[list[str] | None, typer.Option(*names, help=help_text, rich_help_panel=CONNECTION)]
        else:
            kind = spec.kind if spec.kind in (int, float) else str
            option = Annotated[kind | None, typer.Option(*names, help=help_text, rich_help_panel=CONNECTION)]
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=option))
    return params


def _with_setting_options(func: Any) -> Any:
    sig = inspect.signature(func, eval_str=True)
    fixed = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    fixed = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) if p.name != "ctx" else p for p in fixed]
    func.__signature__ = sig.replace(parameters=[*fixed, *_setting_parameters()])
    return func


app.callback()(_with_setting_options(main_options))


def emit_result(ctx: typer.Context, result: Any, output: str, **view: Any) -> None:
    """Write ``result`` to stdout as ``output``; ``view`` holds the terminal view's switches (top, limit, …)."""
    from tracectl.render.emit import RenderOptions, emit

    env = get_env(ctx)
    top, limit = view.pop("top", 0), view.pop("limit", 0)
    emit(result, str(output), env, RenderOptions(tz=env.tz, top=top, limit=limit, extra=view, csv_raw=env.csv_raw))
