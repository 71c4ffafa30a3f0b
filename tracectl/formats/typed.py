"""Typed reads of decoded JSON: a wrong type anywhere is a one-line error naming its JSON path, never a crash.

Readers call these with the field's own name; a list reader prefixes the item's index when an item is wrong,
so an error climbs out with its whole path (``resourceSpans[0].scopeSpans[2].spans[7].name: expected a string,
got a number``). Paths are only built on the way out of an error: reading a 100,000-span trace pays nothing.
Backends use the same reads for their envelopes, and turn ``Malformed`` into a backend error (exit 5).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
MAX_DEPTH = 64  # nesting of attribute values: far beyond real data, well inside every JSON writer's limit


class Malformed(ValueError):
    """A value of the wrong type or out of range, at ``path`` (relative until the reader adds the prefix)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path = path
        self.problem = problem

    def __str__(self) -> str:
        path = self.path if len(self.path) <= 200 else self.path[:80] + "…" + self.path[-100:]
        return f"{path}: {self.problem}" if path else self.problem

    def under(self, prefix: str) -> Malformed:
        """The same error seen from one level up: ``prefix`` is the field name or ``[index]`` it sits under."""
        if not self.path:
            path = prefix
        elif self.path.startswith("[") or not prefix:
            path = prefix + self.path
        else:
            path = f"{prefix}.{self.path}"
        return Malformed(path, self.problem)


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _wrong(path: str, expected: str, value: Any) -> Malformed:
    return Malformed(path, f"expected {expected}, got {kind_of(value)}")


def obj(value: Any, path: str = "") -> dict[str, Any]:
    """An object; a missing one (null) reads as empty."""
    if isinstance(value, dict):
        return value
    if value is None:
        return {}
    raise _wrong(path, "an object", value)


def lst(value: Any, path: str = "") -> list[Any]:
    """A list; a missing one (null) reads as empty."""
    if isinstance(value, list):
        return value
    if value is None:
        return []
    raise _wrong(path, "a list", value)


def read_list(items: Any, path: str, read: Callable[[dict[str, Any]], T]) -> list[T]:
    """``read`` applied to every object of the list at ``path``; an error inside names the item's index."""
    out = []
    for i, item in enumerate(lst(items, path)):
        try:
            out.append(read(obj(item)))
        except Malformed as exc:
            raise exc.under(f"{path}[{i}]") from None
    return out


def within(path: str, read: Callable[[Any], T], value: Any) -> T:
    """``read(value)``, an error inside it named as under ``path``."""
    try:
        return read(value)
    except Malformed as exc:
        raise exc.under(path) from None


def text(value: Any, path: str = "") -> str:
    """A string; a missing one reads as ""."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    raise _wrong(path, "a string", value)


def integer(value: Any, path: str = "", lo: int = INT64_MIN, hi: int = INT64_MAX) -> int:
    """An integer in ``[lo, hi]``, written as a JSON number or a decimal string (protobuf JSON writes int64 as a
    string); a missing one reads as 0. A fraction, a boolean or a value out of range is an error."""
    if type(value) is str and len(value) <= 18 and value.isascii() and value.isdecimal():
        out = int(value)  # the common case (protobuf JSON int64), in one step; 18 digits always fit 64 bits
    elif value is None:
        return 0
    elif isinstance(value, bool):
        raise _wrong(path, "an integer", value)
    elif isinstance(value, int):
        out = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise Malformed(path, f"expected an integer, got {value!r}")
        out = int(value)
    elif isinstance(value, str):
        digits = value[1:] if value[:1] in "+-" else value
        if not digits.isascii() or not digits.isdecimal() or len(digits) > 20:
            raise Malformed(path, f"expected an integer, got {_short(value)}")
        out = int(value)
    else:
        raise _wrong(path, "an integer", value)
    if not lo <= out <= hi:
        raise Malformed(path, f"{_short(str(out))} is out of range ({lo} to {hi})")
    return out


def number(value: Any, path: str = "") -> float:
    """A floating-point number, as a JSON number or a string ("1.5", "NaN", "Infinity"); missing reads as 0.0."""
    if value is None:
        return 0.0
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise Malformed(path, f"expected a number, got {_short(value)}") from None
    raise _wrong(path, "a number", value)


def boolean(value: Any, path: str = "") -> bool:
    """A boolean; the strings "true" and "false" (any case) are read as what they say; missing reads as false."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _wrong(path, "a boolean", value)


def b64bytes(value: Any, path: str = "") -> bytes:
    """Bytes written as base64, standard or URL-safe, padded or not (protobuf JSON accepts all four)."""
    raw = text(value, path)
    padded = raw.replace("-", "+").replace("_", "/") + "=" * (-len(raw) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise Malformed(path, f"not valid base64 ({_short(raw)})") from None


def _short(value: str, limit: int = 40) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")
