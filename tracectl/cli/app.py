"""The typer application, global options, and the one function that maps errors to exit codes."""

from __future__ import annotations

import enum
import sys
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from tracectl import __version__
from tracectl.cli.env import Env
from tracectl.errors import ExitCode, TracectlError

EXIT_CODES_HELP = (
    "[bold]Exit codes[/bold]: 0 ok · 1 internal error · 2 usage or bad input · 3 backend unreachable or timed out · "
    "4 trace not found · 5 backend returned an error · 6 a --fail-on threshold was crossed."
)


class OutputFormat(enum.StrEnum):
    """The ``-o`` choices; every data command accepts the same names with the same meaning."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


# The one spelling of -o for data commands: the same names, the same meaning, everywhere.
Output = Annotated[OutputFormat, typer.Option("--output", "-o", help="table (terminal), json, jsonl or csv.")]


def report_error(env: Env, exc: BaseException) -> int:
    """Print one line for ``exc`` on stderr and return the exit code it maps to. The only such mapping.

    The line is scrubbed of the configured credentials and its control characters are shown, not executed."""
    from rich.text import Text

    from tracectl.render.safe_text import visible

    if isinstance(exc, TracectlError):
        message, label, code = str(exc), "tracectl: error: ", int(exc.exit_code)
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

    text = "".join(traceback.format_exception(exc))
    env.err.print(Text(env.redact(text)), soft_wrap=True)


_GLOBAL_FLAGS = frozenset({"--debug", "--no-color", "-q", "--quiet", "--insecure"})
_GLOBAL_WITH_VALUE = frozenset({
    "--tz", "--backend", "--tempo-url", "--jaeger-url", "--loki-url", "--org-id", "--header", "-H", "--token-file",
    "--ca-cert", "--profile", "--timeout", "--deadline", "--max-response-mb", "--concurrency",
})  # fmt: skip


def hoist_global_options(args: list[str]) -> list[str]:
    """Let global options appear anywhere (``tracectl show t.json -q``), as logcli users type them:
    move them in front of the command name. Stops at ``--``."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg in _GLOBAL_FLAGS or (arg.split("=", 1)[0] in _GLOBAL_WITH_VALUE and "=" in arg):
            front.append(arg)
        elif arg in _GLOBAL_WITH_VALUE and i + 1 < len(args):
            front.extend(args[i : i + 2])
            i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


class TracectlGroup(TyperGroup):
    """Runs commands and turns every exception into a one-line message and a documented exit code."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return list(super().parse_args(ctx, hoist_global_options(args)))

    def invoke(self, ctx: Any) -> Any:  # typer's Context (its click base is private)
        try:
            try:
                result = super().invoke(ctx)
            except typer.Exit:
                _env(ctx).flush_output()  # the command chose its exit itself, after writing what it meant to
                raise
            _env(ctx).flush_output()  # the command succeeded: its whole result goes out now
            return result
        except (typer.Exit, typer.Abort):
            raise
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(0) from None
        except Exception as exc:
            if _is_click_signal(exc):
                raise
            env = _env(ctx)
            if isinstance(exc, TracectlError) and exc.keeps_output:
                env.flush_output()  # e.g. a crossed --fail-on threshold: the result is whole, and printed
            if env.debug:
                report_traceback(env, exc)
            raise typer.Exit(report_error(env, exc)) from None
        except KeyboardInterrupt as exc:
            raise typer.Exit(report_error(_env(ctx), exc)) from None


def _env(ctx: Any) -> Env:
    return ctx.obj if isinstance(ctx.obj, Env) else Env()


def _is_click_signal(exc: Exception) -> bool:
    # Usage errors and friends belong to typer's own handling (exit 2 with usage text).
    return type(exc).__module__.startswith("typer.")


def _silence_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


app = typer.Typer(
    cls=TracectlGroup,
    name="tracectl",
    help=(
        "From [italic]'predictions are slow'[/italic] to [bold]this component, this span, these log lines[/bold]. "
        "Reads traces from files (OTLP JSON/protobuf, Jaeger JSON, Tempo responses), rebuilds span trees and "
        "shows where the time went."
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


_CONN = "Connection (flags > env > config profile; see `tracectl config show`)"


@app.callback()
def main_options(
    ctx: typer.Context,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", help="Add the traceback to an error (the exit code stays the same).", envvar="TRACECTL_DEBUG"
        ),
    ] = False,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="No colour, even on a terminal (NO_COLOR works too).")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No warnings or progress on stderr.")] = False,
    tz: Annotated[
        str,
        typer.Option("--tz", help="Time zone for timestamps: local, UTC, or an IANA name.", envvar="TRACECTL_TZ"),
    ] = "local",
    backend: Annotated[
        str | None,
        typer.Option("--backend", help="tempo, jaeger or file (env TRACECTL_BACKEND).", rich_help_panel=_CONN),
    ] = None,
    tempo_url: Annotated[
        str | None, typer.Option("--tempo-url", help="Tempo base URL (env TEMPO_ADDR).", rich_help_panel=_CONN)
    ] = None,
    jaeger_url: Annotated[
        str | None,
        typer.Option(
            "--jaeger-url", help="Jaeger query URL, base path included (env JAEGER_ADDR).", rich_help_panel=_CONN
        ),
    ] = None,
    loki_url: Annotated[
        str | None, typer.Option("--loki-url", help="Loki base URL (env LOKI_ADDR).", rich_help_panel=_CONN)
    ] = None,
    org_id: Annotated[
        str | None,
        typer.Option("--org-id", help="Tenant, sent as X-Scope-OrgID (env TRACECTL_ORG_ID).", rich_help_panel=_CONN),
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option(
            "--header",
            "-H",
            help="Extra header NAME=VALUE (repeatable). Its value is a secret (masked, never sent to another origin) "
            "unless NAME is in safe_headers.",
            rich_help_panel=_CONN,
        ),
    ] = None,
    token_file: Annotated[
        str | None,
        typer.Option(
            "--token-file", help="File holding a bearer token (env TRACECTL_BEARER_TOKEN_FILE).", rich_help_panel=_CONN
        ),
    ] = None,
    ca_cert: Annotated[
        str | None,
        typer.Option("--ca-cert", help="CA bundle for TLS (env TRACECTL_CA_CERT_PATH).", rich_help_panel=_CONN),
    ] = None,
    insecure: Annotated[
        bool | None, typer.Option("--insecure", help="Skip TLS verification (warned).", rich_help_panel=_CONN)
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", help="Config profile (env TRACECTL_PROFILE).", rich_help_panel=_CONN)
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout", help="Seconds per request attempt (default 30) (env TRACECTL_TIMEOUT).", rich_help_panel=_CONN
        ),
    ] = None,
    deadline: Annotated[
        float | None,
        typer.Option(
            "--deadline",
            help="Seconds for all the network work of the command: every request, retry, wait and slow body "
            "(default 120) (env TRACECTL_DEADLINE).",
            rich_help_panel=_CONN,
        ),
    ] = None,
    max_response_mb: Annotated[
        float | None,
        typer.Option(
            "--max-response-mb",
            help="The most read of one response, in MB (default per kind: trace and search 128, Loki page 64, "
            "other 1) (env TRACECTL_MAX_RESPONSE_MB).",
            rich_help_panel=_CONN,
        ),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            help="Traces fetched in parallel (default 8) (env TRACECTL_CONCURRENCY).",
            rich_help_panel=_CONN,
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Global options may go before or after the command."""
    from tracectl.config import parse_header_flags
    from tracectl.units import resolve_tz

    env = ctx.obj if isinstance(ctx.obj, Env) else Env()  # tests may pass a prepared Env (fake TTY, transport)
    env.no_color, env.quiet, env.debug = env.no_color or no_color, env.quiet or quiet, env.debug or debug
    ctx.obj = env
    ctx.call_on_close(env.close)
    env.tz = resolve_tz(tz)
    env.flags.update({
        "backend": backend, "tempo_url": tempo_url, "jaeger_url": jaeger_url, "loki_url": loki_url, "org_id": org_id,
        "headers": parse_header_flags(header or []), "token_file": token_file, "ca_cert": ca_cert,
        "insecure": insecure, "profile": profile, "timeout": timeout, "deadline": deadline,
        "max_response_mb": max_response_mb, "concurrency": concurrency,
    })  # fmt: skip


def get_env(ctx: typer.Context) -> Env:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Env) else Env()


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> NoReturn:
    """Raise the error that maps to ``code`` with a one-line ``message``."""
    exc = TracectlError(message)
    exc.exit_code = code
    raise exc
