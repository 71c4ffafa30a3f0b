"""``config show``: every setting, its value (secrets masked) and where it came from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from rich.console import Console

    from tracectl.config import Settings
    from tracectl.results import RenderOptions


@dataclass(slots=True)
class SettingsReport:
    schema: ClassVar[str] = "tracectl.config/v1"
    columns: ClassVar[tuple[str, ...]] = ("setting", "value", "origin")

    settings: Settings

    def document(self, opts: RenderOptions) -> dict[str, Any]:
        s = self.settings
        return {
            "config_file": str(s.config_path) if s.config_path else None, "profile": s.profile,
            "backend": s.effective_backend,
            "settings": {name: {"value": value, "origin": origin} for name, value, origin in s.rows()},
        }  # fmt: skip

    def rows(self, opts: RenderOptions) -> Iterable[Mapping[str, Any]]:
        return [{"setting": n, "value": v, "origin": o} for n, v, o in self.settings.rows()]

    def table(self, console: Console, opts: RenderOptions) -> None:
        from rich import box
        from rich.table import Table

        s = self.settings
        console.print(f"config file: {s.config_path or '(none)'}   profile: {s.profile or '(none)'}   "
                      f"backend in use: {s.effective_backend}")  # fmt: skip
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        for name in self.columns:
            table.add_column(name, overflow="fold")
        for row in s.rows():
            table.add_row(*row)
        console.print(table)
