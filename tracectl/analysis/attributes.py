"""Attribute values over-represented among suspects (BubbleUp-style contrast), robust to real instrumentation.

A span attribute value explains a difference when suspect traces carry it far more often than baseline traces.
Three things never explain one, whatever their contrast:
- **nearly unique values**: per (service, key), measured on the data: when the key takes at least
  ``UNIQUE_RATIO`` distinct values per trace carrying it (ephemeral client ports, request and user IDs,
  timestamps), any two windows differ on it. Keys named as connection or per-request identifiers
  (``…peer.port``, ``…sock…``, ``client.address``, ``…request.id``…) are treated the same even when few
  values happen to repeat (one keep-alive connection per window);
- **a property of the window**: a value that sets apart every service alike (at least two services, and at
  least half of those carrying the key) says which window a trace came from, not which component changed;
- **too little support**: fewer than ``MIN_SUPPORT`` suspect traces.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from tracectl.analysis.analyse import TraceAnalysis

UNIQUE_RATIO = 0.5
MIN_SUPPORT = 3
MIN_CONTRAST = 0.5
_IDENTIFIER_KEY = re.compile(
    r"(^|[._])(peer|sock|socket|client)[._](port|addr|address|ip|host)$|(^|[._])(request|req|session|user|"
    r"correlation|message|connection|conn)[._]?id$|(^|[._])(port|remote[._]addr)$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class AttributeSignal:
    service: str
    key: str
    value: str
    in_suspects: float  # share of suspect traces that carry it
    in_baseline: float
    traces: int = 0  # suspect traces that carry it

    @property
    def contrast(self) -> float:
        return self.in_suspects - self.in_baseline


Presence = Counter[tuple[str, str, str]]


def _presence(group: Sequence[TraceAnalysis], values: dict[tuple[str, str], set[str]],
              carriers: Counter[tuple[str, str]]) -> Presence:  # fmt: skip
    seen: Presence = Counter()
    for a in group:
        here = {(s.service, k, str(v)) for s in a.tree.spans for k, v in s.attributes.items()
                if isinstance(v, str | int | bool)}  # fmt: skip
        seen.update(here)
        for svc, k, v in here:
            values[(svc, k)].add(v)
        carriers.update({(svc, k) for svc, k, _ in here})
    return seen


def rank_attributes(suspects: Sequence[TraceAnalysis], baseline: Sequence[TraceAnalysis]) -> list[AttributeSignal]:
    """(service, attribute, value) by how much more often suspect traces carry them, noise removed (see above)."""
    values: dict[tuple[str, str], set[str]] = defaultdict(set)
    carriers: Counter[tuple[str, str]] = Counter()  # traces carrying the key, per service
    bad = _presence(suspects, values, carriers)
    good = _presence(baseline, values, carriers)
    ns, nb = max(len(suspects), 1), max(len(baseline), 1)

    def identifying(service: str, key: str) -> bool:
        distinct = len(values[(service, key)])
        return bool(_IDENTIFIER_KEY.search(key)) or distinct >= max(3, UNIQUE_RATIO * carriers[(service, key)])

    signals = [
        AttributeSignal(svc, key, value, count / ns, good.get((svc, key, value), 0) / nb, count)
        for (svc, key, value), count in bad.items()
        if count >= MIN_SUPPORT and not identifying(svc, key)
    ]
    window = _window_properties(signals, carriers)
    signals = [s for s in signals if (s.key, s.value) not in window]
    signals.sort(key=lambda s: (-s.contrast, s.service, s.key, s.value))
    return signals


def _window_properties(signals: list[AttributeSignal], carriers: Counter[tuple[str, str]]) -> set[tuple[str, str]]:
    """(key, value) pairs that set apart at least two services and half of those carrying the key."""
    strong: dict[tuple[str, str], set[str]] = defaultdict(set)
    for s in signals:
        if s.contrast >= MIN_CONTRAST:
            strong[(s.key, s.value)].add(s.service)
    out = set()
    for (key, value), services in strong.items():
        carrying = {svc for svc, k in carriers if k == key}
        if len(services) >= 2 and len(services) >= 0.5 * len(carrying):
            out.add((key, value))
    return out
