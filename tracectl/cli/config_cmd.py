"""``tracectl config show``: the resolved settings and where each came from."""

from __future__ import annotations

import typer

from tracectl.cli.app import Output, app, emit_result, get_session

config_app = typer.Typer(help="Inspect tracectl's configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config", rich_help_panel="Get started")


@config_app.command("show")
def config_show(ctx: typer.Context, output: Output = "table") -> None:
    """Show every setting, its value (secrets masked) and its origin: flag, env, profile or default.

    Precedence: flags > environment > config profile > defaults. The config file is
    $XDG_CONFIG_HOME/tracectl/config.toml (or the file TRACECTL_CONFIG names); pick a profile with --profile.

    Masked: tokens, passwords (also in a URL: https://me:********@host), and the value of every header from
    headers or -H, unless the header's name is in safe_headers (TRACECTL_SAFE_HEADERS=X-Team). Examples:

      tracectl config show
      tracectl --profile prod config show -o json | jq .settings.tempo_url
    """
    from tracectl.workflows.settings_report import SettingsReport

    emit_result(ctx, SettingsReport(get_session(ctx).settings), output)
