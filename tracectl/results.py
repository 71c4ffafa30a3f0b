"""What every command's result shares, below ``render``: the ``Result`` base that declares a result type's
JSON schema and CSV columns, and the view options a person chose.

A result is plain data (its ``schema`` name, its CSV ``columns`` and its ``warnings``); ``tracectl.render``
holds the renderer of each result type and picks it by the result's type. Results never import ``render``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any, ClassVar


class Result:
    """The base of every result type: its JSON document's ``schema`` and its CSV ``columns`` (in order), given
    once in the class statement, which the renderers read from the type::

        @dataclass(slots=True)
        class Found(Result, schema="tracectl.search/v1", columns=("trace_id", "start_ns", ...)):
            query: SearchQuery
            ...

    It holds no data (no fields, empty ``__slots__``): a result's fields, ``warnings`` among them, are its own.
    """

    __slots__ = ()

    schema: ClassVar[str]
    columns: ClassVar[tuple[str, ...]]

    def __init_subclass__(
        cls, *, schema: str | None = None, columns: tuple[str, ...] | None = None, **kwargs: Any
    ) -> None:
        # ``dataclass(slots=True)`` makes the class again without the class statement's keywords: what the first
        # class got stays in its namespace, so a missing keyword keeps the inherited (or copied) value.
        super().__init_subclass__(**kwargs)
        if schema is not None:
            cls.schema = schema
        if columns is not None:
            cls.columns = tuple(columns)


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """How a person wants to see a result; JSON, JSON Lines and CSV ignore what only concerns the terminal."""

    tz: tzinfo | None = None  # None: the machine's local zone
    top: int = 0  # rows per table (0 = all)
    limit: int = 0  # rows of a long listing (0 = all)
    extra: Mapping[str, Any] = field(default_factory=dict)  # command-specific view switches
    csv_raw: bool = False  # CSV cells as they are: no ' before a cell a spreadsheet would run as a formula
