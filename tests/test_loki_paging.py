"""Loki paging cannot lose or repeat a line, however many lines share a timestamp: checked against a fake Loki
with Loki's documented semantics, for fixed layouts of 1,200 lines (a tenth of the recorded reads, requests and cap
scaled alike) and for any layout hypothesis finds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fake_loki import FakeLoki
from tracectl.backends.http import HttpClient, HttpConfig
from tracectl.backends.loki import LokiClient

BASE = "http://loki.test:3100"
QUERY = '{service_name=~".+"} |= "4bf92f3577b34da6"'
T0 = 1_700_000_000 * 10**9


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_mocked=True) as mock:
        yield mock


def client() -> LokiClient:
    return LokiClient(HttpClient(HttpConfig(BASE, "Loki", retries=0), sleep=lambda _s: None))


def layout(lines: int, timestamps: int, streams: int) -> list[tuple[int, str, str]]:
    """``lines`` log lines of one trace spread over ``timestamps`` timestamps and ``streams`` streams; the same
    text appears in every stream (identical lines in different streams are distinct lines)."""
    return [(T0 + (i % timestamps) * 1000, f"svc{i % streams}", f"trace 4bf92f3577b34da6 step {i // streams}")
            for i in range(lines)]  # fmt: skip


def as_multiset(records: Any) -> Counter[tuple[int, str, str]]:
    return Counter((r.time_ns, r.labels["service_name"], r.line) for r in records)


# The fixed layouts are a tenth of the 12,000-line reads that found the paging bugs, with the request size and the
# server's cap cut alike (5,000 → 500, 1,000 → 100): paging sees only how lines, timestamps and streams fall against
# a request, and sends the same requests, split for split, at either size. Reads at full size: test_loki.py (12,000
# lines past a 5,000 cap) and test_loki_limits.py (the recorded 13,200-line tie).
@pytest.mark.parametrize("timestamps", [1, 11, 12, 120])
@pytest.mark.parametrize(("streams", "batch", "direction"), [(1, 500, "forward"), (3, 100, "backward")])
def test_1200_lines_of_one_trace_none_lost_none_twice(
    router: respx.MockRouter, timestamps: int, streams: int, batch: int, direction: str
) -> None:
    entries = layout(1200, timestamps, streams)
    fake = FakeLoki(entries, cap=500)
    router.get("/loki/api/v1/query_range").mock(side_effect=fake)
    result = client().query_range(QUERY, T0, T0 + 10**12, limit=2000, direction=direction, batch=batch)
    assert as_multiset(result.records) == Counter((ts, s, line) for ts, s, line in entries)  # 0 lost, 0 repeated
    times = [r.time_ns for r in result.records]
    assert times == sorted(times, reverse=direction == "backward")
    assert not result.truncated and result.warnings == []
    assert fake.requests == result.requests < 200


def test_a_limit_inside_a_tie_keeps_the_first_lines_and_says_more_exist(router: respx.MockRouter) -> None:
    entries = layout(3000, 3, 2)  # 1,000 lines on each of three timestamps
    router.get("/loki/api/v1/query_range").mock(side_effect=FakeLoki(entries))
    result = client().query_range(QUERY, T0, T0 + 10**12, limit=1500, direction="forward", batch=400)
    assert len(result.records) == 1500 and result.truncated
    assert Counter(r.time_ns for r in result.records) == {T0: 1000, T0 + 1000: 500}
    assert not as_multiset(result.records) - Counter(entries)  # nothing that is not in Loki, nothing twice


def test_more_identical_lines_on_one_timestamp_than_a_request_holds_is_said_not_hidden(
    router: respx.MockRouter,
) -> None:
    entries = [(T0, f"pod-{i:03d}", "trace 4bf92f3577b34da6 retry") for i in range(30)]  # 30 streams, one line
    entries += [(T0, "pod-000", f"trace 4bf92f3577b34da6 other {i}") for i in range(30)]
    router.get("/loki/api/v1/query_range").mock(side_effect=FakeLoki(entries, cap=20))
    result = client().query_range(QUERY, T0, T0 + 10, limit=1000, direction="forward", batch=20)
    assert len(result.warnings) == 1 and "identical lines share timestamp" in result.warnings[0]
    got = as_multiset(result.records)
    assert not got - Counter(entries)  # no line invented or repeated
    assert sum(n for (_, _, line), n in got.items() if "other" in line) == 30  # every distinct line still read


def test_a_server_cap_below_the_batch_is_a_clear_error(router: respx.MockRouter) -> None:
    router.get("/loki/api/v1/query_range").mock(side_effect=FakeLoki(layout(10, 1, 1), cap=5))
    from tracectl.errors import BackendError

    with pytest.raises(BackendError, match="Loki answered 400 to the log query: max entries limit"):
        client().query_range(QUERY, T0, T0 + 10, batch=6)


# Lines from a small alphabet: many identical lines (in different streams), shared prefixes, the empty line,
# and the characters a regex or a LogQL literal could trip on.
_ALPHABET = ["a", "b", ".", "`", "\\", "]", "-", "^", "\n", "é", "\x00", " ", '"']
_ENTRY = st.tuples(st.integers(0, 5), st.integers(0, 3), st.lists(st.sampled_from(_ALPHABET), max_size=4).map("".join))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=st.lists(_ENTRY, max_size=120, unique_by=lambda e: e),
    batch=st.integers(2, 12),
    limit=st.integers(1, 150),
    forward=st.booleans(),
)
def test_any_layout_reads_each_line_once_in_order(
    router: respx.MockRouter, raw: list[tuple[int, int, str]], batch: int, limit: int, forward: bool
) -> None:
    entries = [(T0 + ts, f"s{stream}", "4bf92f3577b34da6" + text) for ts, stream, text in raw]
    router.get("/loki/api/v1/query_range").mock(side_effect=FakeLoki(entries, cap=batch))
    direction = "forward" if forward else "backward"
    result = client().query_range(QUERY, T0, T0 + 10, limit=limit, direction=direction, batch=batch)
    got = as_multiset(result.records)
    assert not got - Counter(entries)  # never a line twice, never one Loki does not have
    times = [r.time_ns for r in result.records]
    assert times == sorted(times, reverse=not forward)
    expected_times = sorted((ts for ts, _, _ in entries), reverse=not forward)[:limit]
    reached = set(expected_times)
    crowded = any(n >= batch and ts in reached for (ts, _), n in Counter((ts, ln) for ts, _, ln in entries).items())
    warned = any("identical lines share timestamp" in w for w in result.warnings)
    # Only identical lines crowding a request cannot be read whole, and that is said; otherwise (or when the limit
    # was met before they had to be told apart) the result is exactly the first `limit` lines.
    if not (crowded and warned):
        assert times == expected_times and result.warnings == []  # the first `limit` lines, none skipped
        assert result.truncated == (len(entries) > limit)
        if len(entries) <= limit:
            assert got == Counter(entries)
