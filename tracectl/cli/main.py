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
from tracectl.cli.app import app, end_like_ctrl_c_on_term_and_hup, reflow_help

reflow_help(app)


def main() -> None:
    end_like_ctrl_c_on_term_and_hup()
    app()


if __name__ == "__main__":
    main()
