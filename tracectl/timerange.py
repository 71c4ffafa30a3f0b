"""``--since`` / ``--from`` / ``--to``: a time range in integer nanoseconds, validated.

``--since 1h`` (the default) means the last hour. ``--from``/``--to`` take RFC 3339 (``2026-11-24T08:00:00Z``,
with any offset; a date alone is midnight UTC), ``now``, or ``now-2h`` / ``now+5m``. ``--to`` defaults to now.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from tracectl.errors import InputError
from tracectl.units import parse_duration

_RELATIVE = re.compile(r"now\s*(?:([+-])\s*(.+))?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class TimeRange:
    start_ns: int
    end_ns: int

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns


def parse_instant(text: str, what: str, now_ns: int) -> int:
    """An RFC 3339 timestamp or ``now[±duration]`` → ns since the epoch."""
    value = text.strip()
    match = _RELATIVE.fullmatch(value)
    if match:
        sign, amount = match.groups()
        if not sign:
            return now_ns
        delta = parse_duration(amount, what)
        return now_ns - delta if sign == "-" else now_ns + delta
    try:
        dt = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise InputError(
            f"{what}: {text!r} is not a time (use RFC 3339 like 2026-11-24T08:00:00Z, or now-2h)"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    seconds = int(dt.timestamp())
    return seconds * 10**9 + dt.microsecond * 1000


def resolve_range(
    since: str | None, start: str | None, end: str | None, now_ns: int | None = None, default_since: str = "1h"
) -> TimeRange:
    """Combine the three flags; ``--since`` and ``--from`` are mutually exclusive; the range must be forward."""
    now = time.time_ns() if now_ns is None else now_ns
    if since is not None and start is not None:
        raise InputError("--since and --from are mutually exclusive: give one of them")
    end_ns = parse_instant(end, "--to", now) if end else now
    if start is not None:
        start_ns = parse_instant(start, "--from", now)
    else:
        span = parse_duration(since or default_since, "--since")
        if span <= 0:
            raise InputError("--since: the duration must be positive")
        start_ns = end_ns - span
    if start_ns >= end_ns:
        raise InputError("impossible time range: --from must be before --to")
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
