"""The shared HTTP layer: retries only where they can help, the deadline, auth and tenant headers, no leaks."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import respx

from tracectl.backends.http import HttpClient, HttpConfig
from tracectl.errors import BackendUnreachable

BASE = "http://tempo.test:3200/prefix"


class FakeTime:
    """A clock that advances only when the client sleeps: deadlines are tested without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_mocked=True) as mock:
        yield mock


def client(fake: FakeTime, **overrides: object) -> HttpClient:
    cfg = HttpConfig(**{"base_url": BASE, "name": "Tempo", "retries": 4, "deadline_s": 60.0, **overrides})  # type: ignore[arg-type]
    return HttpClient(cfg, sleep=fake.sleep, clock=fake.clock)


def test_path_prefix_auth_tenant_and_custom_headers_are_sent(router: respx.MockRouter) -> None:
    route = router.get(f"{BASE}/api/echo", params={"a": "1"}).mock(return_value=httpx.Response(200, text="echo"))
    fake = FakeTime()
    http = client(fake, bearer_token="s3cret", headers={"X-Scope-OrgID": "team-a", "X-Team": "ml"})
    assert http.get("/api/echo", params={"a": "1"}, accept="application/protobuf").text == "echo"
    sent = route.calls.last.request
    assert sent.headers["Authorization"] == "Bearer s3cret"
    assert sent.headers["X-Scope-OrgID"] == "team-a" and sent.headers["X-Team"] == "ml"
    assert sent.headers["Accept"] == "application/protobuf"
    basic = client(fake, basic_auth=("user", "pw"))
    basic.get("/api/echo", params={"a": "1"})
    assert route.calls.last.request.headers["Authorization"].startswith("Basic ")


def test_503_then_success_is_retried_with_backoff(router: respx.MockRouter) -> None:
    route = router.get(f"{BASE}/x").mock(side_effect=[httpx.Response(503), httpx.Response(502), httpx.Response(200)])
    fake = FakeTime()
    assert client(fake).get("/x").status_code == 200
    assert route.call_count == 3
    assert len(fake.sleeps) == 2 and 0 <= fake.sleeps[0] <= 0.25 and 0 <= fake.sleeps[1] <= 0.5  # full jitter


def test_429_honours_retry_after(router: respx.MockRouter) -> None:
    route = router.get(f"{BASE}/x").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "2"}, text="slow down"), httpx.Response(200)]
    )
    fake = FakeTime()
    assert client(fake).get("/x").status_code == 200
    assert fake.sleeps == [2.0] and route.call_count == 2


def test_retry_after_beyond_the_deadline_gives_up_at_once(router: respx.MockRouter) -> None:
    route = router.get(f"{BASE}/x").mock(return_value=httpx.Response(429, headers={"Retry-After": "600"}))
    fake = FakeTime()
    response = client(fake).get("/x")
    assert response.status_code == 429 and route.call_count == 1 and fake.sleeps == []


@pytest.mark.parametrize("status", [400, 401, 404, 500, 501])
def test_other_statuses_are_not_retried(status: int, router: respx.MockRouter) -> None:
    route = router.get(f"{BASE}/x").mock(return_value=httpx.Response(status))
    fake = FakeTime()
    assert client(fake).get("/x").status_code == status
    assert route.call_count == 1 and fake.sleeps == []


def test_connection_refused_retries_then_one_clear_error_without_secrets(router: respx.MockRouter) -> None:
    route = router.get(f"{BASE}/x").mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))
    fake = FakeTime()
    http = client(fake, bearer_token="s3cret", base_url="http://user:pw@tempo.test:3200/prefix")
    with pytest.raises(BackendUnreachable) as info:
        http.get("/x")
    message = str(info.value)
    assert route.call_count == 5 and len(fake.sleeps) == 4
    assert message == (
        "Tempo at http://tempo.test:3200/prefix/x: cannot connect ([Errno 111] Connection refused); "
        "gave up after 5 attempt(s)"
    )
    assert "s3cret" not in message and "pw" not in message


def test_retries_stop_within_the_deadline(router: respx.MockRouter) -> None:
    router.get(f"{BASE}/x").mock(side_effect=httpx.ReadTimeout("read timed out"))
    fake = FakeTime()
    with pytest.raises(BackendUnreachable, match="timed out"):
        client(fake, retries=50, deadline_s=5.0, backoff_s=1.0).get("/x")
    assert sum(fake.sleeps) <= 5.0


def test_a_body_cut_mid_response_is_retried_then_reported(router: respx.MockRouter) -> None:
    router.get(f"{BASE}/x").mock(
        side_effect=httpx.RemoteProtocolError("peer closed connection without sending complete message body")
    )
    with pytest.raises(BackendUnreachable, match="the connection broke mid-response"):
        client(FakeTime(), retries=1).get("/x")


# ------------------------------------------------------------------- the command's deadline and the byte budget


def test_one_deadline_is_shared_by_every_client_of_a_command(router: respx.MockRouter) -> None:
    from tracectl.backends.http import Deadline
    from tracectl.errors import DeadlineExceeded

    tempo = router.get(f"{BASE}/x").mock(return_value=httpx.Response(503))
    fake = FakeTime()
    deadline = Deadline(10.0, clock=fake.clock)
    first = HttpClient(HttpConfig(BASE, "Tempo", retries=50, backoff_s=4.0, backoff_max_s=4.0), sleep=fake.sleep,
                       clock=fake.clock, deadline=deadline)  # fmt: skip
    assert first.get("/x").status_code == 503  # retried until the next wait no longer fits in the deadline
    assert sum(fake.sleeps) <= 10.0 and tempo.call_count == len(fake.sleeps) + 1
    fake.now = 10.0
    second = HttpClient(HttpConfig("http://loki.test:3100", "Loki"), clock=fake.clock, deadline=deadline)
    with pytest.raises(DeadlineExceeded, match=r"Loki: the deadline of 10 s ran out before asking .*/y; raise it"):
        second.get("/y")  # no request made: an unmocked one would fail differently


def test_each_attempt_waits_at_most_what_is_left_of_the_deadline(router: respx.MockRouter) -> None:
    from tracectl.backends.http import Deadline

    route = router.get(f"{BASE}/x").mock(return_value=httpx.Response(200))
    fake = FakeTime()
    fake.now = 7.5
    http = HttpClient(HttpConfig(BASE, timeout_s=30.0), clock=fake.clock, deadline=Deadline(10.0, fake.clock, 0.0))
    http.get("/x")
    assert route.calls.last.request.extensions["timeout"] == {"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5}


def test_bodies_are_read_within_the_budget_of_their_kind(router: respx.MockRouter) -> None:
    from tracectl.errors import ResponseTooLarge

    router.get(f"{BASE}/meta").mock(return_value=httpx.Response(200, content=b"x" * (2 << 20)))
    router.get(f"{BASE}/trace").mock(return_value=httpx.Response(200, content=b"x" * (2 << 20)))
    router.get(f"{BASE}/error").mock(return_value=httpx.Response(404, content=b"x" * (2 << 20)))
    http = client(FakeTime())
    with pytest.raises(ResponseTooLarge, match="Tempo sent more than 1 MB for a metadata request"):
        http.get("/meta")
    assert len(http.get("/trace", kind="trace").content) == 2 << 20  # 128 MB for a trace
    assert len(http.get("/error").content) == 64 * 1024  # of an error page, only the start is read
    with pytest.raises(ResponseTooLarge, match=r"more than 0\.5 MB for a trace"):
        client(FakeTime(), max_response_mb=0.5).get("/trace", kind="trace")


def test_userinfo_becomes_basic_auth_and_stays_out_of_urls_and_messages(router: respx.MockRouter) -> None:
    route = router.get("http://tempo.test:3200/prefix/x").mock(return_value=httpx.Response(500, text="a:p4ss no"))
    http = client(FakeTime(), base_url="http://a:p4ss@tempo.test:3200/prefix")
    response = http.get("/x")
    assert route.calls.last.request.headers["Authorization"] == "Basic YTpwNHNz"
    assert "p4ss" not in str(route.calls.last.request.url)
    assert str(http.error(response, "x")) == "Tempo answered 500 to x: ******** no"


def test_redirects_keep_credentials_on_the_origin_only(router: respx.MockRouter) -> None:
    from tracectl.errors import BackendError

    router.get(f"{BASE}/a").mock(return_value=httpx.Response(301, headers={"Location": "/prefix/b?x=1"}))
    same = router.get(f"{BASE}/b", params={"x": "1"}).mock(
        return_value=httpx.Response(302, headers={"Location": "https://elsewhere.test/c"})
    )
    other = router.get("https://elsewhere.test/c").mock(return_value=httpx.Response(200, text="ok"))
    http = client(FakeTime(), bearer_token="s3cret", headers={"X-Scope-OrgID": "team-a", "X-Key": "k3y"})
    assert http.get("/a").text == "ok"
    assert same.calls.last.request.headers["Authorization"] == "Bearer s3cret"
    assert same.calls.last.request.headers["X-Key"] == "k3y"
    leaked = {"authorization", "x-scope-orgid", "x-key"} & {k.lower() for k in other.calls.last.request.headers}
    assert leaked == set()
    router.get(f"{BASE}/loop").mock(return_value=httpx.Response(307, headers={"Location": "/prefix/loop"}))
    with pytest.raises(BackendError, match="more than 5 times"):
        http.get("/loop")
    router.get(f"{BASE}/ftp").mock(return_value=httpx.Response(302, headers={"Location": "ftp://x/y"}))
    with pytest.raises(BackendError, match="to an unusable location"):
        http.get("/ftp")


def test_bodies_are_decoded_here_in_bounded_steps(router: respx.MockRouter) -> None:
    import gzip
    import zlib

    from tracectl.backends.body import CHUNK, Decoder, Undecodable
    from tracectl.errors import BackendError, ResponseTooLarge

    bomb = gzip.compress(b"\0" * (8 << 20))
    assert [len(c) for c in Decoder("gzip").decode(bomb)] == [CHUNK] * ((8 << 20) // CHUNK)  # never 8 MB at once
    assert b"".join(Decoder("deflate").decode(zlib.compress(b"abc"))) == b"abc"
    with pytest.raises(Undecodable, match="'br', which was not asked for"):
        Decoder("br")
    router.get(f"{BASE}/ok").mock(
        return_value=httpx.Response(200, content=gzip.compress(b"{}"), headers={"Content-Encoding": "gzip"})
    )
    router.get(f"{BASE}/bomb").mock(
        return_value=httpx.Response(200, content=bomb, headers={"Content-Encoding": "gzip"})
    )
    router.get(f"{BASE}/br").mock(return_value=httpx.Response(200, content=b"x", headers={"Content-Encoding": "br"}))
    http = client(FakeTime())
    assert http.get("/ok").content == b"{}"
    assert http.get("/ok").request.headers["Accept-Encoding"] == "gzip, deflate"
    with pytest.raises(ResponseTooLarge, match="more than 1 MB"):
        http.get("/bomb")  # 8 KB on the wire
    with pytest.raises(BackendError, match=r"not what its Content-Encoding \(br\) says"):
        http.get("/br")


def test_a_deadline_ends_a_concurrent_fetch_even_where_failures_are_skipped() -> None:
    from tracectl.backends import fetch_traces
    from tracectl.errors import BackendError, DeadlineExceeded

    class Backend:
        name = "fake"

        def search(self, q: object) -> object:
            raise NotImplementedError

        def get_trace(self, trace_id: str) -> object:
            if trace_id == "b":
                raise BackendError("b is broken")
            raise DeadlineExceeded("out of time")

    skipped: list[str] = []
    with pytest.raises(DeadlineExceeded, match="out of time"):
        fetch_traces(Backend(), ["b", "c"], on_error=lambda tid, _exc: skipped.append(tid))  # type: ignore[arg-type]
    assert skipped == []  # not "skipped c" and carry on: the command is out of time


def test_a_token_or_tenant_that_cannot_be_a_header_is_bad_input() -> None:
    from tracectl.errors import InputError

    with pytest.raises(InputError, match="Tempo: the value of Authorization holds a line break"):
        HttpClient(HttpConfig(BASE, "Tempo", bearer_token="abc\ndef"))
    with pytest.raises(InputError, match="the value of X-Scope-OrgID holds"):
        HttpClient(HttpConfig(BASE, "Tempo", headers={"X-Scope-OrgID": "a\rb"}))
