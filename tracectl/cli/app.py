"""The typer application, the global options (derived from the settings table), and the one function that
maps errors to exit codes."""

from __future__ import annotations

import enum
import inspect
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from tracectl import __version__
from tracectl.cli.env import Env
from tracectl.config import CONNECTION, REPEATABLE_PARSERS, specs
from tracectl.errors import ExitCode, TracectlError

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


@dataclass
class CliState:
    """What one run of the CLI holds: the terminal, the connection flags as given, and the session built from
    them on first use. Tests may pass one (or just an ``Env``) as typer's ``obj``."""

    env: Env = field(default_factory=Env)
    flags: dict[str, Any] = field(default_factory=dict)
    environ: Mapping[str, str] | None = None  # None: os.environ
    transport: Any = None  # an httpx transport (tests)
    started: float = field(default_factory=time.monotonic)  # the command's start: --timeout counts from here
    _session: Any = None

    def session(self) -> Any:
        """The session for this run, built on first use; from then on messages are scrubbed of its credentials."""
        if self._session is None:
            from tracectl.config import resolve_settings
            from tracectl.redact import header_secrets, redact
            from tracectl.workflows.session import Session

            env = self.env
            given = header_secrets(
                self.flags.get("headers") or {}
            )  # at least the -H values, even if what follows fails
            env.redact = lambda text: redact(text, given)
            settings = resolve_settings(self.flags, self.environ)
            secrets = settings.secret_values()  # once: it reads the token files
            env.redact = lambda text: redact(text, secrets)
            self._session = Session(settings, warn=env.warn, progress=env.progress, status=env.status,
                                    transport=self.transport, started=self.started, info=env.info)  # fmt: skip
            for warning in settings.warnings:
                env.warn(warning)
            if settings.insecure:
                env.warn("TLS certificate verification is off (--insecure): use only on a trusted network")
            elif settings.loki_insecure and settings.loki_url:
                env.warn("TLS certificate verification is off for Loki (LOKI_TLS_SKIP_VERIFY): use only on a "
                         "trusted network")  # fmt: skip
        return self._session

    def close(self) -> None:
        self.env.stop_status()
        if self._session is not None:
            self._session.close()


class Terminated(KeyboardInterrupt):
    """SIGTERM (``timeout``, Kubernetes) or SIGHUP (a closed terminal): the command ends as on Ctrl-C, every
    ``finally`` runs (no file half-written), and the exit code is 128 + the signal's number (143, 129)."""

    def __init__(self, signum: int) -> None:
        import signal

        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name


def end_like_ctrl_c_on_term_and_hup() -> None:
    """Make SIGTERM and SIGHUP raise ``Terminated`` in the main thread (the console script installs this)."""
    import signal

    def stop(signum: int, _frame: object) -> None:
        raise Terminated(signum)

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), stop)


def report_error(env: Env, exc: BaseException) -> int:
    """Print one line for ``exc`` on stderr and return the exit code it maps to. The only such mapping.

    The line is scrubbed of the configured credentials and its control characters are shown, not executed."""
    from rich.text import Text

    from tracectl.render.safe_text import visible

    env.stop_status()
    if isinstance(exc, TracectlError):
        message, label, code = str(exc), "tracectl: error: ", int(exc.exit_code)
    elif isinstance(exc, Terminated):
        env.err.print(f"tracectl: stopped by {exc.name}", soft_wrap=True)
        return 128 + exc.signum
    elif isinstance(exc, KeyboardInterrupt):
        env.err.print("tracectl: interrupted", soft_wrap=True)
        return 130
    else:
        message = f"{type(exc).__name__}: {exc} (run again with --debug for the traceback, and please report it)"
        label, code = "tracectl: internal error: ", int(ExitCode.INTERNAL)
    line = visible(env.redact(message), one_line=True)
    env.err.print(Text.assemble((label, "red"), line), soft_wrap=True)
    return code


def report_traceback(env: Env, exc: BaseException) -> None:
    """``--debug``: the traceback on stderr (credentials scrubbed, control characters shown), before the error."""
    import traceback

    from rich.text import Text

    env.stop_status()
    env.err.print(Text(env.redact("".join(traceback.format_exception(exc)))), soft_wrap=True)


_DISPLAY_FLAGS = frozenset({"--debug", "--no-color", "-q", "--quiet", "--csv-raw"})
_DISPLAY_WITH_VALUE = frozenset({"--tz"})


def _global_options() -> tuple[frozenset[str], frozenset[str]]:
    """The global options without and with a value, as the settings table declares them."""
    bare, valued = set(_DISPLAY_FLAGS), set(_DISPLAY_WITH_VALUE)
    for _name, spec in specs():
        if spec.flag:
            names = {spec.flag, *([spec.short] if spec.short else [])}
            (bare if spec.kind is bool else valued).update(names)
    return frozenset(bare), frozenset(valued)


def _command_options(group: Any, args: list[str], valued: frozenset[str]) -> set[str]:
    """The option names the invoked (sub)command declares itself: those are never hoisted."""
    command, i = group, 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            break
        if arg.startswith("-"):
            i += 2 if arg in valued else 1
            continue
        sub = command.commands.get(arg) if hasattr(command, "commands") else None
        if sub is None:
            break
        command = sub
        i += 1
    if command is group:
        return set()
    return {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}


def hoist_global_options(args: list[str], own: set[str] | None = None) -> list[str]:
    """Let global options appear anywhere (``tracectl show t.json -q``), as logcli users type them: move them in
    front of the command name. An option the command declares itself (``demo --backend``) stays. Stops at ``--``."""
    bare, valued = _global_options()
    own = own or set()
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        name = arg.split("=", 1)[0]
        if arg == "--":
            rest.extend(args[i:])
            break
        if name in own:
            rest.append(arg)
        elif arg in bare or (name in valued and "=" in arg):
            front.append(arg)
        elif arg in valued and i + 1 < len(args):
            front.extend(args[i : i + 2])
            i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


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


def plain_metavars(command: Any) -> None:
    """Help shows what to type: nothing after a flag (typer writes ``<bool>``, as if it took a value) and the
    element type of a repeatable option or argument (``<str>``, not ``<list[str]>``), on this command and every
    subcommand. Typer computes these when help is printed, so its methods are wrapped, not its results fixed."""
    import re

    def shown(original: Any, flag: bool) -> Any:
        return lambda ctx: "" if flag else re.sub(r"^<list\[(.*)\]>$", r"<\1>", original(ctx) or "")

    for param in getattr(command, "params", ()):
        if hasattr(param, "display_type_rich"):
            flag = param.param_type_name == "option" and param.is_flag and not param.count
            param.display_type_rich = shown(param.display_type_rich, flag)
    help_option = command.get_help_option  # made on first use

    def plain_help_option(ctx: Any) -> Any:
        option = help_option(ctx)
        if option is not None and hasattr(option, "display_type_rich"):
            option.display_type_rich = lambda ctx: ""
        return option

    command.get_help_option = plain_help_option
    for sub in getattr(command, "commands", {}).values():
        plain_metavars(sub)


def _is_click_signal(exc: Exception) -> bool:
    # Usage errors and friends belong to typer's own handling (exit 2 with usage text).
    return type(exc).__module__.startswith(("typer.", "click."))


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # a test runner's stdout has no file descriptor
        pass


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


def cli_state(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    if isinstance(obj, CliState):
        return obj
    return CliState(env=obj if isinstance(obj, Env) else Env())


def get_env(ctx: typer.Context) -> Env:
    return cli_state(ctx).env


def get_session(ctx: typer.Context) -> Any:
    """The workflow session for this run (settings resolved on first use)."""
    return cli_state(ctx).session()


def emit_result(ctx: typer.Context, result: Any, output: str, **view: Any) -> None:
    """Write ``result`` to stdout as ``output``; ``view`` holds the terminal view's switches (top, limit, …)."""
    from tracectl.render.emit import RenderOptions, emit

    env = get_env(ctx)
    top, limit = view.pop("top", 0), view.pop("limit", 0)
    emit(result, str(output), env, RenderOptions(tz=env.tz, top=top, limit=limit, extra=view, csv_raw=env.csv_raw))


def reflow(doc: str | None) -> str | None:
    """A docstring as ``--help`` should show it: prose paragraphs joined into one line each (the terminal wraps
    them), indented lines (examples) kept as they are."""
    if not doc:
        return doc
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    out = []
    for paragraph in paragraphs:
        lines = paragraph.splitlines()
        if any(line.startswith((" ", "\t")) for line in lines):
            out.append(paragraph)
        else:
            out.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(out)


def reflow_help(typer_app: typer.Typer) -> None:
    """Reflow the help of every command and group of ``typer_app`` (see ``reflow``)."""
    for info in typer_app.registered_commands:
        if info.callback is not None:
            info.callback.__doc__ = reflow(info.callback.__doc__)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            reflow_help(group.typer_instance)
