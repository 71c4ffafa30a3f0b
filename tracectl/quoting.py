"""Go-style string literals, as TraceQL and LogQL write them: one implementation for quoting and unquoting."""

from __future__ import annotations

import re

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_UNESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def go_escape(value: str) -> str:
    """The inside of a double-quoted Go string: backslash, quote and control characters escaped."""
    return "".join(_ESCAPES.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x20 else ch) for ch in value)


def go_quote(value: str) -> str:
    """A double-quoted Go string literal: nothing in ``value`` can end it early."""
    return f'"{go_escape(value)}"'


def go_unquote(literal: str) -> str:
    """The value of a double-quoted (Go escapes) or back-quoted (raw) literal."""
    if literal.startswith("`"):
        return literal[1:-1]
    return re.sub(r"\\(x[0-9a-fA-F]{2}|.)", _unescape, literal[1:-1])


def _unescape(m: re.Match[str]) -> str:
    code = m.group(1)
    if code.startswith("x") and len(code) == 3:
        return chr(int(code[1:], 16))
    return _UNESCAPES.get(code, code)


def go_float_text(value: float) -> str:
    """A float as Go's ``strconv.FormatFloat(v, 'f', -1, 64)`` writes it: the shortest digits that round-trip,
    never an exponent (``1`` for 1.0, ``0.0000001`` for 1e-7). Finite values only."""
    from decimal import Decimal

    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def go_value_text(value: str | bool | int | float) -> str:
    """A scalar attribute value as text, the way OpenTelemetry's Go ``pcommon.Value.AsString`` renders it (and
    so the way Jaeger compares a search tag): ``true``/``false``, decimal integers, floats in ``'f'`` form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float_text(value)
    return str(value)
