"""Loki reads that stop at a limit: a tie is read only as far as the limit needs, a window longer than Loki's
``max_query_length`` is read in parts, and tie splitting ends with a clear error instead of a query that grows
until the URL is too long. Against the fake Loki (Loki's semantics, line filters applied as Loki applies them)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
import respx

from tests.fake_loki import FakeLoki
from tests.test_loki_paging import QUERY, T0, as_multiset, client, layout
from tracectl.backends.loki import DEFAULT_BATCH, MAX_TIE_FILTERS, LogResult
from tracectl.errors import BackendError

BASE = "http://loki.test:3100"
DAY = 86_400 * 10**9


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_mocked=True) as mock:
        yield mock


def read(router: respx.MockRouter, fake: FakeLoki, limit: int, batch: int = DEFAULT_BATCH) -> LogResult:
    router.get("/loki/api/v1/query_range").mock(side_effect=fake)
    return client().query_range(QUERY, T0, T0 + 10**12, limit=limit, direction="forward", batch=batch)


# A tenth of the recorded 12,000-line tie cut at the default 5,000, with the request size and the server's cap cut
# alike (1,000 → 100, 5,000 → 500): the client sends the same requests, split for split, at either size. The
# recorded tie itself, at full size: the next test.
@pytest.mark.parametrize("streams", [1, 3, 20])
def test_a_1200_line_tie_cut_at_500_costs_no_more_requests_than_a_500_line_tie(
    router: respx.MockRouter, streams: int
) -> None:
    whole = FakeLoki(layout(500, 1, streams), cap=500)
    all_of_500 = read(router, whole, 2000, batch=100)
    assert len(all_of_500.records) == 500
    entries = layout(1200, 1, streams)
    cut = FakeLoki(entries, cap=500)
    result = read(router, cut, 500, batch=100)
    assert len(result.records) == 500 and result.truncated
    assert result.tie_cut_ns == T0  # said: more lines share that timestamp
    assert not as_multiset(result.records) - Counter(entries)  # real lines, once each
    assert cut.requests <= whole.requests  # the rest of the tie is not read
    everything = read(router, FakeLoki(entries, cap=500), 0, batch=100)
    assert len(everything.records) == 1200 and cut.requests * 2 < everything.requests


def test_13200_lines_at_one_nanosecond_all_with_a_high_limit_5000_and_a_cut_at_the_default(
    router: respx.MockRouter,
) -> None:
    entries = layout(13_200, 1, 20)  # the recorded run: 20 streams, one timestamp
    result = read(router, FakeLoki(entries), 20_000)
    assert as_multiset(result.records) == Counter(entries) and not result.truncated
    cut = read(router, FakeLoki(entries), 5000)
    assert len(cut.records) == 5000 and cut.truncated and cut.tie_cut_ns == T0


def test_a_window_longer_than_max_query_length_is_read_in_parts_in_order(router: respx.MockRouter) -> None:
    entries = [(T0 + i * DAY // 4, f"svc{i % 2}", f"trace 4bf92f3577b34da6 at {i}") for i in range(40)]  # 10 days
    fake = FakeLoki(entries, cap=5, max_query_length_ns=3 * DAY + 3600 * 10**9)  # Loki prints it "3d1h"
    router.get("/loki/api/v1/query_range").mock(side_effect=fake)
    for direction in ("forward", "backward"):
        result = client().query_range(QUERY, T0, T0 + 10 * DAY, limit=0, direction=direction, batch=5)
        assert [r.line for r in result.records] == [
            line for _, _, line in (entries if direction == "forward" else entries[::-1])
        ]
        assert result.windows == 4 and not result.truncated
    limited = client().query_range(QUERY, T0, T0 + 10 * DAY, limit=7, direction="forward", batch=5)
    assert [r.line for r in limited.records] == [line for _, _, line in entries[:7]] and limited.truncated


def test_a_window_the_user_forced_is_one_line_naming_the_flag(router: respx.MockRouter) -> None:
    router.get("/loki/api/v1/query_range").mock(side_effect=FakeLoki([], max_query_length_ns=DAY))
    with pytest.raises(BackendError) as info:
        client().query_range(QUERY, T0, T0 + 3 * DAY, range_flag="--margin")
    message = str(info.value)
    assert message.startswith("Loki answered 400 to the log query: the query time range exceeds the limit")
    assert message.endswith("; narrow it with --margin") and "\n" not in message


def test_a_loki_that_ignores_line_filters_ends_in_a_clear_error(router: respx.MockRouter) -> None:
    entries = layout(30, 1, 1)

    def ignoring(request: httpx.Request) -> httpx.Response:  # answers every query as if it had no line filter
        params = dict(request.url.params)
        params["query"] = QUERY
        return FakeLoki(entries)(httpx.Request("GET", request.url.copy_with(params=params)))

    router.get("/loki/api/v1/query_range").mock(side_effect=ignoring)
    with pytest.raises(BackendError, match="Loki ignored the line filters that split the lines sharing timestamp"):
        client().query_range(QUERY, T0, T0 + 10, limit=100, direction="forward", batch=10)


def test_tie_splitting_is_bounded_in_filters(router: respx.MockRouter) -> None:
    # Lines that differ one character further each time: each split tells only a few apart.
    entries = [(T0, "svc", "trace 4bf92f3577b34da6 " + "x" * k + "y") for k in range(MAX_TIE_FILTERS * 3)]
    fake = FakeLoki(entries, cap=3)
    router.get("/loki/api/v1/query_range").mock(side_effect=fake)
    with pytest.raises(BackendError, match=rf"{MAX_TIE_FILTERS} line filters did not tell them apart"):
        client().query_range(QUERY, T0, T0 + 10, limit=0, direction="forward", batch=3)
    assert max(q.count(" |~ ") + q.count(" !~ ") for q in fake.queries) <= MAX_TIE_FILTERS


def test_the_fakes_apply_the_four_line_filters_to_the_line_as_loki_does() -> None:
    from tracectl.model import LogRecord
    from tracectl.sandbox.logql_engine import LogQLError, parse

    lines = ["GET /a 200", "get /a 500", "GET /b 500", "POST /a 500 timeout", "GET /a 503\tslow"]
    query = parse('{service_name="x"} |= "/a" != "POST" |~ `5\\d\\d` !~ "^get"')
    assert [ln for ln in lines if query.run(LogRecord(1, ln)) is not None] == ["GET /a 503\tslow"]
    assert parse('{a="b"} |~ "\\\\d+$"').run(LogRecord(1, "x 12")) is not None  # found anywhere, not anchored
    assert parse('{a="b"} |= "get"').run(LogRecord(1, "GET")) is None  # a substring, case-sensitive
    for not_re2 in ["(?=a)", "(a)\\\\1", "a++"]:
        with pytest.raises(LogQLError, match="error parsing regexp: invalid or unsupported Perl syntax"):
            parse(f'{{a="b"}} |~ "{not_re2}"')
    fake = FakeLoki([(T0, "s", "keep me"), (T0 + 1, "s", "drop me"), (T0 + 2, "s", "keep", {"level": "error"})])
    response = fake(httpx.Request("GET", BASE + "/loki/api/v1/query_range", params={
        "query": '{service_name="s"} != "drop" | level=~"err.*"', "start": T0, "end": T0 + 10, "limit": 10,
        "direction": "forward"}))  # fmt: skip
    values = response.json()["data"]["result"][0]["values"]
    assert values == [[str(T0 + 2), "keep", {"structuredMetadata": {"level": "error"}}]]
