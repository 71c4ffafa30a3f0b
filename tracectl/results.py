"""What every command's result shares, below ``render``: the view options a person chose.

A result is plain data (its ``schema`` name, its CSV ``columns`` and its ``warnings``); ``tracectl.render``
holds the renderer of each result type and picks it by the result's type. Results never import ``render``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """How a person wants to see a result; JSON, JSON Lines and CSV ignore what only concerns the terminal."""

    tz: tzinfo | None = None  # None: the machine's local zone
    top: int = 0  # rows per table (0 = all)
    limit: int = 0  # rows of a long listing (0 = all)
    extra: Mapping[str, Any] = field(default_factory=dict)  # command-specific view switches
    csv_raw: bool = False  # CSV cells as they are: no ' before a cell a spreadsheet would run as a formula
