"""Trace and span ID normalisation: every wire encoding to canonical lowercase hex.

Accepted forms (BACKENDS.md, "Identifiers"):
- hex of any length up to the full width, any case; leading zeros may be stripped (Tempo search) or the
  ID may be 64-bit (Jaeger): it is left-padded with zeros;
- standard or URL-safe base64 of exactly the full width in bytes (Tempo trace-by-ID JSON), or of 8 bytes
  for a trace ID (a 64-bit trace ID).

Rule for telling them apart: a string made only of hex digits is hex. Base64 of 16 or 8 bytes as Go and
protobuf JSON write it always ends with ``=`` padding, so it never looks like hex; an unpadded base64 form
is recognised when it contains a non-hex character.
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import lru_cache

TRACE_ID_HEX_LEN = 32
SPAN_ID_HEX_LEN = 16

_HEX = re.compile(r"[0-9a-fA-F]+")
_B64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")


class InvalidId(ValueError):
    """An ID that is neither valid hex nor valid base64 of the right length."""


def _normalise(value: str, width: int, what: str, allow_short_bytes: tuple[int, ...]) -> str:
    if len(value) == width:  # fast path: full-width hex, by far the common case (100k-span traces)
        try:
            bytes.fromhex(value)  # full width leaves no room for the whitespace fromhex would skip
        except ValueError:
            pass
        else:
            return value.lower()
    text = value
    if not text:
        raise InvalidId(f"empty {what}")
    if any(c.isspace() for c in text):  # " abc" or "abc\n" is a copy-paste slip, or data that is not an ID
        raise InvalidId(f"{what} {value!r} holds whitespace")
    if _HEX.fullmatch(text):
        if len(text) > width:
            raise InvalidId(f"{what} {value!r} is longer than {width} hex characters")
        return text.lower().rjust(width, "0")
    if _B64.fullmatch(text):
        raw = _b64decode(text)
        if raw is not None and (len(raw) * 2 == width or len(raw) in allow_short_bytes):
            return raw.hex().rjust(width, "0")
    raise InvalidId(f"{what} {value!r} is neither hex nor base64 of {width // 2} bytes")


def _b64decode(text: str) -> bytes | None:
    padded = text + "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


@lru_cache(maxsize=1024)  # every span of a trace repeats its trace ID
def normalize_trace_id(value: str) -> str:
    """Return the 32-character lowercase hex form of a trace ID given in any accepted encoding."""
    out = _normalise(value, TRACE_ID_HEX_LEN, "trace ID", allow_short_bytes=(8,))
    if out == "0" * TRACE_ID_HEX_LEN:
        raise InvalidId(f"trace ID {value!r} is all zeros")
    return out


def normalize_span_id(value: str) -> str:
    """Return the 16-character lowercase hex form of a span ID given in any accepted encoding."""
    out = _normalise(value, SPAN_ID_HEX_LEN, "span ID", allow_short_bytes=())
    if out == "0" * SPAN_ID_HEX_LEN:
        raise InvalidId(f"span ID {value!r} is all zeros")
    return out


def normalize_parent_id(value: str | None) -> str:
    """Like ``normalize_span_id`` but empty, missing or all-zero means "no parent" (returns "")."""
    if not value:
        return ""
    out = _normalise(value, SPAN_ID_HEX_LEN, "parent span ID", allow_short_bytes=())
    return "" if out == "0" * SPAN_ID_HEX_LEN else out


def id_from_bytes(raw: bytes, width: int) -> str:
    """Hex form of a binary ID (protobuf), left-padded; empty bytes give ""."""
    return raw.hex().rjust(width, "0") if raw else ""


def id_to_bytes(hex_id: str) -> bytes:
    return bytes.fromhex(hex_id)


def id_to_base64(hex_id: str) -> str:
    """The base64 form Tempo's trace-by-ID JSON uses."""
    return base64.b64encode(bytes.fromhex(hex_id)).decode("ascii")


def short_trace_id(hex_id: str) -> str:
    """The zero-stripped hex form Tempo search returns (at least one character)."""
    return hex_id.lstrip("0") or "0"
