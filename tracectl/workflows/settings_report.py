"""``config show``: every setting, its value (secrets masked) and where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracectl.results import Result

if TYPE_CHECKING:
    from tracectl.config import Settings


@dataclass(slots=True)
class SettingsReport(Result, schema="tracectl.config/v1", columns=("setting", "value", "origin")):
    settings: Settings
