"""Console-script entry point: registers the commands on the app and runs it."""

from __future__ import annotations

from tracectl.cli import blame, config_cmd, demo, diff, drift, export, logs, sandbox_cmd, search, show, triage  # noqa: F401
from tracectl.cli.app import app


def main() -> None:
    app()


if __name__ == "__main__":
    main()
