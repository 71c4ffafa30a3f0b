"""``config show``: every setting, its value (secrets masked) and where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from tracectl.config import Settings


@dataclass(slots=True)
class SettingsReport:
    schema: ClassVar[str] = "tracectl.config/v1"
    columns: ClassVar[tuple[str, ...]] = ("setting", "value", "origin")

    settings: Settings
