"""``tracectl config show``: the resolved settings and where each came from."""

from __future__ import annotations

from typing import Annotated

import typer

from tracectl.cli.app import OutputFormat, app, get_env

config_app = typer.Typer(help="Inspect tracectl's configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config", rich_help_panel="Get started")


@config_app.command("show")
def config_show(
    ctx: typer.Context,
    output: Annotated[OutputFormat, typer.Option("--output", "-o", help="table or json.")] = OutputFormat.table,
) -> None:
    """Show every setting, its value (secrets masked) and its origin: flag, env, profile or default.

    Precedence: flags > environment > config profile > defaults. The config file is
    $XDG_CONFIG_HOME/tracectl/config.toml (or TRACECTL_CONFIG); pick a profile with --profile.

    Masked: tokens, passwords (also in a URL: https://me:********@host), and the value of every header from
    headers or -H, unless the header's name is in safe_headers (TRACECTL_SAFE_HEADERS=X-Team). Examples:

      tracectl config show
      tracectl --profile prod config show -o json | jq .settings.tempo_url
    """
    from rich import box
    from rich.table import Table

    from tracectl.render import machine

    env = get_env(ctx)
    settings = env.settings()
    rows = settings.rows()
    if output is OutputFormat.json or output is OutputFormat.jsonl:
        doc = {
            "config_file": str(settings.config_path) if settings.config_path else None,
            "profile": settings.profile, "backend": settings.effective_backend,
            "settings": {name: {"value": value, "origin": origin} for name, value, origin in rows},
        }  # fmt: skip
        env.write(machine.to_json(doc, "tracectl.config/v1"))
        return
    if output is OutputFormat.csv:
        env.write(
            machine.to_csv(
                ({"setting": n, "value": v, "origin": o} for n, v, o in rows), ("setting", "value", "origin")
            )
        )
        return
    env.out.print(f"config file: {settings.config_path or '(none)'}   profile: {settings.profile or '(none)'}   "
                  f"backend in use: {settings.effective_backend}", soft_wrap=True)  # fmt: skip
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in ("setting", "value", "origin"):
        table.add_column(name)
    for row in rows:
        table.add_row(*row)
    env.out.print(table)
