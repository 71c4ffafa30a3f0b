"""Parsing and formatting of durations and timestamps. Internally: integer nanoseconds, always."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

from tracectl.errors import InputError

_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
    "d": 86400 * 10**9,
    "w": 7 * 86400 * 10**9,
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d|w)")


def parse_duration(text: str, what: str = "duration") -> int:
    """Parse ``250ms``, ``1.5s``, ``1m30s``, ``800us``, ``2d``, ``1w`` (Go/TraceQL style, plus days and weeks)
    into nanoseconds."""
    compact = text.strip().replace(" ", "")
    pos = 0
    total = 0.0
    for match in _PART.finditer(compact):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(compact) or not compact:
        raise InputError(f"{what}: {text!r} is not a duration (examples: 250ms, 1.5s, 2m, 6h, 2d, 1w)")
    return round(total)


def _three_digits(value: float) -> str:
    if value < 9.995:
        return f"{value:.2f}"
    if value < 99.95:
        return f"{value:.1f}"
    return f"{value:.0f}"


_SIZES = (("s", 10**9), ("ms", 10**6), ("µs", 10**3))


def format_duration(ns: int, precision_ns: int = 1) -> str:
    """Human duration with three significant digits: ``1.23 s``, ``850 ms``, ``12.4 µs``, ``0 ns``.

    ``precision_ns`` is the resolution of the value (Tempo's search gives whole milliseconds): no digit finer
    than it is shown (``7 ms``, not ``7.00 ms``), and a value below it is ``<1 ms``."""
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    coarse = next(((unit, size) for unit, size in _SIZES if size == precision_ns), None)
    if coarse is not None and ns < 1000 * coarse[1]:
        unit, size = coarse
        return f"{sign}{ns // size} {unit}" if ns >= size else f"<1 {unit}"
    for unit, size in _SIZES:
        if ns >= size * 0.9995 or (unit == "s" and ns >= size):
            value = ns / size
            if unit != "s" and value >= 999.5:
                continue
            return f"{sign}{_three_digits(value)} {unit}"
    return f"{sign}{ns} ns"


def format_timestamp(ns: int, tz: tzinfo | None = UTC) -> str:
    """ISO-8601 with milliseconds, in the given zone (``None`` = the machine's local zone)."""
    dt = datetime.fromtimestamp(ns / 1e9, tz=UTC)
    dt = dt.astimezone(tz) if tz is not None else dt.astimezone()
    return dt.isoformat(timespec="milliseconds")


_OFFSET = re.compile(r"(?:UTC)?([+-])(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)


def resolve_tz(name: str | None) -> tzinfo | None:
    """``None``/"local" → local zone (None); "UTC"; a fixed offset (``+02:00``, ``-0530``, ``UTC+2``); or an IANA
    name such as ``Europe/Paris``."""
    if not name or name.lower() == "local":
        return None
    if name.upper() in ("UTC", "Z"):
        return UTC
    offset = _OFFSET.fullmatch(name.strip())
    if offset:
        from datetime import timedelta, timezone

        sign, hours, minutes = offset.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if delta >= timedelta(hours=24):
            raise InputError(f"--tz: {name!r} is not a UTC offset (at most ±23:59)")
        return timezone(-delta if sign == "-" else delta)
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"--tz: unknown time zone {name!r} (use UTC, local, an offset like +02:00, or an IANA name like "
            "Europe/Paris)"
        ) from None


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``1 trace``, ``2 traces``, ``0 spans``: a count with its noun agreeing (``many``: an irregular plural)."""
    return f"{n} {noun if n == 1 else many or noun + 's'}"
