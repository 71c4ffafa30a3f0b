"""``--since`` / ``--from`` / ``--to``: a time range in integer nanoseconds, validated.

``--since 1h`` (the default) means the last hour (``30m``, ``6h``, ``2d``, ``1w``). ``--from``/``--to`` take
RFC 3339 with an offset (``2026-11-24T08:00:00Z``), a time without one (read in the display zone, ``--tz``; a date
alone is its midnight), unix seconds (``1795510295``, fractions allowed; 13, 16 or 19 digits are read as milli-,
micro- or nanoseconds), ``now``, or ``now-2h`` / ``now+5m``. ``--to`` defaults to now. Every error names the
flag the user typed.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from tracectl.errors import InputError
from tracectl.units import parse_duration

_RELATIVE = re.compile(r"now\s*(?:([+-])\s*(.+))?", re.IGNORECASE)
_EPOCH = re.compile(r"\d{9,19}(?:\.\d+)?")
_EPOCH_SCALE = {13: 10**6, 16: 10**3, 19: 1}  # digits → ns per unit (ms, µs, ns)


@dataclass(frozen=True, slots=True)
class TimeRange:
    start_ns: int
    end_ns: int

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns


def parse_instant(text: str, what: str, now_ns: int, tz: tzinfo | None = None) -> int:
    """An instant (RFC 3339, a naive time in ``tz`` (None: local), unix seconds, ``now[±duration]``) → ns."""
    value = text.strip()
    match = _RELATIVE.fullmatch(value)
    if match:
        sign, amount = match.groups()
        if not sign:
            return now_ns
        delta = parse_duration(amount, what)
        return now_ns - delta if sign == "-" else now_ns + delta
    if _EPOCH.fullmatch(value):
        whole, _, frac = value.partition(".")
        scale = _EPOCH_SCALE.get(len(whole))
        if scale is not None and not frac:
            return int(whole) * scale
        if len(whole) > 11:
            raise InputError(f"{what}: {text!r} is not unix seconds, milliseconds, microseconds or nanoseconds")
        return int(whole) * 10**9 + int((frac + "000000000")[:9])
    try:
        dt = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise InputError(
            f"{what}: {text!r} is not a time (use RFC 3339 like 2026-11-24T08:00:00Z, unix seconds, or now-2h)"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz) if tz is not None else dt.astimezone()  # naive: the display zone
    seconds = int(dt.astimezone(UTC).replace(microsecond=0).timestamp())
    return seconds * 10**9 + dt.microsecond * 1000


def resolve_range(
    since: str | None, start: str | None, end: str | None, now_ns: int | None = None, default_since: str = "1h",
    tz: tzinfo | None = UTC, names: tuple[str, str, str] = ("--since", "--from", "--to"),
) -> TimeRange:  # fmt: skip
    """Combine the three flags (named ``names`` in errors); ``since`` and ``start`` are mutually exclusive; the
    range must be forward."""
    now = time.time_ns() if now_ns is None else now_ns
    since_flag, from_flag, to_flag = names
    if since is not None and start is not None:
        raise InputError(f"{since_flag} and {from_flag} are mutually exclusive: give one of them")
    end_ns = parse_instant(end, to_flag, now, tz) if end else now
    if start is not None:
        start_ns = parse_instant(start, from_flag, now, tz)
    else:
        span = parse_duration(since or default_since, since_flag)
        if span <= 0:
            raise InputError(f"{since_flag}: the duration must be positive")
        start_ns = end_ns - span
    if start_ns >= end_ns:
        raise InputError(f"impossible time range: {from_flag} must be before {to_flag}")
    return TimeRange(start_ns, end_ns)


def baseline_range(
    start: str, end: str | None, suspect: TimeRange, now_ns: int | None = None, tz: tzinfo | None = UTC
) -> TimeRange:
    """``--baseline-from``/``--baseline-to``: without ``--baseline-to`` the baseline ends where the suspect
    window starts, so the two never overlap."""
    now = time.time_ns() if now_ns is None else now_ns
    start_ns = parse_instant(start, "--baseline-from", now, tz)
    end_ns = parse_instant(end, "--baseline-to", now, tz) if end else suspect.start_ns
    if start_ns >= end_ns:
        what = "--baseline-to" if end else "the suspect window's start (give --baseline-to)"
        raise InputError(f"impossible baseline window: --baseline-from must be before {what}")
    return TimeRange(start_ns, end_ns)


def rfc3339(ns: int) -> str:
    """RFC 3339 with nanoseconds in UTC, as Jaeger's v3 API takes it."""
    seconds, frac = divmod(ns, 10**9)
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:09d}Z"


def go_duration(ns: int) -> str:
    """A Go / TraceQL duration literal: the largest unit that represents ``ns`` exactly."""
    for unit, size in (("h", 3600 * 10**9), ("m", 60 * 10**9), ("s", 10**9), ("ms", 10**6), ("us", 10**3)):
        if ns % size == 0 and ns:
            return f"{ns // size}{unit}"
    return f"{ns}ns"


def utc_second(ns: int) -> str:
    """``2026-11-24T08:00:00Z``: an instant as ``--from``/``--to`` take it, to the second, in UTC."""
    return datetime.fromtimestamp(ns // 10**9, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def window_flags(window: TimeRange, prefix: str = "") -> str:
    """`` --from A --to B`` (``prefix`` ``baseline-``: ``--baseline-from``…) in absolute UTC seconds, covering the
    window (its end rounded up): a suggested command means the same window tomorrow, unlike ``--since``."""
    end = -(-window.end_ns // 10**9) * 10**9
    return f" --{prefix}from {utc_second(window.start_ns)} --{prefix}to {utc_second(end)}"
