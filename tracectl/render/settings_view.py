"""``config show``: every setting, its value (secrets masked) and where it came from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracectl.render.registry import Renderer

if TYPE_CHECKING:
    from rich.console import Console

    from tracectl.results import RenderOptions
    from tracectl.workflows.settings_report import SettingsReport


def _document(report: SettingsReport, opts: RenderOptions) -> dict[str, Any]:
    s = report.settings
    return {
        "config_file": str(s.config_path) if s.config_path else None, "profile": s.profile,
        "backend": s.effective_backend,
        "settings": {name: {"value": value, "origin": origin} for name, value, origin in s.rows()},
    }  # fmt: skip


def _rows(report: SettingsReport, opts: RenderOptions) -> list[dict[str, Any]]:
    return [{"setting": n, "value": v, "origin": o} for n, v, o in report.settings.rows()]


def _table(report: SettingsReport, console: Console, opts: RenderOptions) -> None:
    from rich import box
    from rich.table import Table

    s = report.settings
    console.print(f"config file: {s.config_path or '(none)'}   profile: {s.profile or '(none)'}   "
                  f"backend in use: {s.effective_backend}")  # fmt: skip
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in report.columns:
        table.add_column(name, overflow="fold")
    for row in s.rows():
        table.add_row(*row)
    console.print(table)


SETTINGS = Renderer(document=_document, rows=_rows, table=_table)
