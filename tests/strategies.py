"""Hypothesis strategies the property tests share, and their example counts by tier (``examples``).

Each strategy a draw uses is built once, here, not inside the draw: hypothesis validates and caches every strategy
object it is handed, and a tree of 60 spans drawn with fresh ``st.integers(...)`` objects spent more than half of
its time on that (about 15 ms a tree against 6 ms; the property tests draw a thousand trees). The values drawn,
their distribution and their shrinking are the same either way."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.builders import T0
from tracectl.model import Resource, Span, SpanKind, Trace

# ------------------------------------------------------------------------------------------ example counts

FAST_TIER_EXAMPLES = 50  # half hypothesis's default of 100
_fast_tier = False  # set by tests/conftest.py's pytest_configure, before any test module is imported


def examples(full: int) -> int:
    """A property test's ``max_examples``: ``full`` in the full suite (``python -m pytest``, CI), at most 50 in a run
    that leaves out every ``e2e`` and ``real`` test (the fast tier, for the edit loop; about a second of the minute
    for each of the big tree properties). The property and its strategy are the same in both, a failure hypothesis
    saved is replayed in both, and the full suite draws the written number of examples."""
    return min(full, FAST_TIER_EXAMPLES) if _fast_tier else full


# ------------------------------------------------------------------------------------------ random trees

MAX_SPANS = 60
_COUNT = st.integers(1, MAX_SPANS)
_START = st.integers(0, 1000)
_LENGTH = st.one_of(st.just(0), st.integers(0, 600))
_HAS_PARENT = st.integers(0, 9)  # 0: a root or an orphan, else a child of an earlier span
_ORPHAN = st.booleans()
_PARENT_BELOW = [st.integers(0, i - 1) for i in range(1, MAX_SPANS)]  # [i - 1]: any of the first i spans
_KIND = st.sampled_from([SpanKind.INTERNAL, SpanKind.CLIENT, SpanKind.SERVER, SpanKind.PRODUCER,
                         SpanKind.CONSUMER, SpanKind.UNSPECIFIED])  # fmt: skip
_SERVICE = st.sampled_from(["a", "b", "c"])


@st.composite
def random_tree(draw: st.DrawFn) -> Trace:
    """Random trees whose children overlap, overrun, sit outside their parent, or have zero length;
    some async children, some orphans."""
    n = draw(_COUNT)
    res = Resource({"service.name": "s"})
    spans: list[Span] = []
    for i in range(n):
        start = draw(_START)
        length = draw(_LENGTH)
        parent = ""
        if i and draw(_HAS_PARENT):
            parent = spans[draw(_PARENT_BELOW[i - 1])].span_id
        elif i and draw(_ORPHAN):
            parent = "00000000deadbeef"  # an orphan
        kind = draw(_KIND)
        service = draw(_SERVICE)
        spans.append(Span("7" * 32, f"{i + 1:016x}", parent, f"op{i % 5}", T0 + start * 1000,
                          T0 + (start + length) * 1000, kind=kind,
                          resource=Resource({"service.name": service}) if service != "s" else res))  # fmt: skip
    return Trace("7" * 32, tuple(spans))
