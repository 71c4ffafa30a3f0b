"""Console-script entry point: registers the commands on the app and runs it."""

from __future__ import annotations

from tracectl.cli import (  # noqa: F401
    blame,
    check,
    config_cmd,
    demo,
    diff,
    drift,
    explain,
    export,
    logs,
    metrics,
    sandbox_cmd,
    search,
    show,
    slo,
    triage,
)
from tracectl.cli.app import app, reflow_help

reflow_help(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
