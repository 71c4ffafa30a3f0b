"""tracectl against servers that misbehave, over real sockets on 127.0.0.1: every fault ends with a documented
exit code and one line, because of the deadline where one is hit, with nothing on stdout, and no credential where
it does not belong. No test here asserts a wall time (a loaded machine would fail it): each asserts the cause and
the order of events; ``benchmarks/bench_faults.py`` runs the same faults at full size, as separate processes, and
measures how long each took against the deadline.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tests import hostile_server as hs
from tracectl.cli.main import app
from tracectl.formats import otlp_proto
from tracectl.sandbox.synth import ml_inference_trace

ML = ml_inference_trace(7)
TID = ML.trace_id
V2 = f"/api/v2/traces/{TID}"
TRACE_PB = otlp_proto.dump_bytes([ML], tempo_response=True)
runner = CliRunner()


@pytest.fixture
def server() -> Iterator[hs.HostileServer]:
    with hs.HostileServer() as s:
        yield s


def tracectl(tmp_path: Path, *args: str, **env: str):  # type: ignore[no-untyped-def]
    """Run a command; returns its result."""
    base = {"TRACECTL_RETRIES": "1", "JAEGER_ADDR": "",
            "LOKI_ADDR": "", "TEMPO_ADDR": ""}  # fmt: skip
    return runner.invoke(app, list(args), env={**base, **env})


def one_line_error(result, code: int, phrase: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == code, (result.exit_code, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracectl: error: ") and phrase in lines[0], result.stderr


def test_a_body_over_the_budget_stops_there(server: hs.HostileServer, tmp_path: Path) -> None:
    server.routes["/api/search"] = hs.huge(200 << 20)
    result = tracectl(tmp_path, "--max-response-mb", "2", "search", "--traceql", "{}", TEMPO_ADDR=server.url)
    one_line_error(result, 5, "Tempo sent more than 2 MB for a search (http://127.0.0.1:")
    assert "raise it with --max-response-mb (TRACECTL_MAX_RESPONSE_MB)" in result.stderr


def test_a_gzip_bomb_is_counted_decoded(server: hs.HostileServer, tmp_path: Path) -> None:
    server.routes[V2] = hs.gzip_bomb(64 << 20)  # ~64 KB on the wire
    result = tracectl(tmp_path, "--max-response-mb", "4", "show", TID, TEMPO_ADDR=server.url)
    one_line_error(result, 5, "Tempo sent more than 4 MB for a trace")


def test_a_dripping_body_meets_the_deadline(server: hs.HostileServer, tmp_path: Path) -> None:
    server.routes[V2] = hs.drip(TRACE_PB, 0.05)  # ~4,600 bytes: minutes at this pace, and no read ever waits long
    result = tracectl(tmp_path, "--timeout", "1", "show", TID, TEMPO_ADDR=server.url)
    one_line_error(result, 3, "Tempo: the deadline of 1 s ran out reading http://127.0.0.1:")
    assert "--timeout (TRACECTL_TIMEOUT)" in result.stderr
    assert len(server.seen) == 1  # ended by the deadline mid-body, not by a retry or a second request


def test_a_silent_server_meets_the_deadline_not_the_timeout(server: hs.HostileServer, tmp_path: Path) -> None:
    server.routes[V2] = hs.silent(5)
    result = tracectl(tmp_path, "--timeout", "1", "show", TID, TEMPO_ADDR=server.url, TRACECTL_REQUEST_TIMEOUT="30")
    one_line_error(result, 3, "deadline of 1 s ran out waiting for")  # the deadline, not the 30 s request timeout
    assert len(server.seen) == 1


def test_429_forever_stops_within_the_deadline(server: hs.HostileServer, tmp_path: Path) -> None:
    server.routes["/api/search"] = hs.answer(429, b"slow down", "text/plain", Retry_After="1")
    result = tracectl(
        tmp_path, "--timeout", "2.5", "search", "--traceql", "{}", TEMPO_ADDR=server.url, TRACECTL_RETRIES="50"
    )
    one_line_error(result, 5, "Tempo answered 429 to the search '{}': slow down")
    # Asked, waited 1 s, asked, waited 1 s, asked: no time for a fourth wait (a loaded machine may fit fewer), and
    # the server's own answer is what is reported, not a retry count.
    assert 1 <= len(server.seen) <= 3


def test_the_fall_through_to_an_older_api_shares_the_deadline(server: hs.HostileServer, tmp_path: Path) -> None:
    server.routes[V2] = hs.slow(0.7, hs.answer(404, b"404 page not found", "text/plain"))
    server.routes[f"/api/traces/{TID}"] = hs.slow(0.7, hs.answer(200, TRACE_PB, "application/protobuf"))
    result = tracectl(tmp_path, "--timeout", "1", "show", TID, TEMPO_ADDR=server.url)
    one_line_error(result, 3, "deadline of 1 s ran out")
    # 0.7 s + 0.7 s would fit two separate deadlines of 1 s: exit 3 says the fall-through spent the same one. (A
    # loaded machine may run out before it even asks the older API; it never asks anything else.)
    assert [s.path for s in server.seen] in ([V2], [V2, f"/api/traces/{TID}"])


def test_credentials_and_tenant_never_follow_a_redirect_to_another_origin(tmp_path: Path) -> None:
    with hs.HostileServer() as a, hs.HostileServer() as b:
        a.routes["/old"] = hs.redirect(V2)  # same origin: keeps them
        a.routes[V2] = hs.redirect(lambda: f"{b.url}{V2}", status=307)
        b.routes[V2] = hs.answer(200, TRACE_PB, "application/protobuf")
        env = {"TEMPO_ADDR": a.url + "/old/..", "TRACECTL_BEARER_TOKEN": "t0ken-s3cret"}
        result = tracectl(tmp_path, "-H", "X-Secret=hunter22", "--org-id", "team-a", "show", TID, "-o", "json", **env)
        assert result.exit_code == 0, result.stderr
        assert orjson.loads(result.stdout)["traces"][0]["trace_id"] == TID
        sent_to_a = a.seen[-1].headers
        assert sent_to_a["authorization"] == "Bearer t0ken-s3cret" and sent_to_a["x-secret"] == "hunter22"
        assert sent_to_a["x-scope-orgid"] == "team-a"
        (sent_to_b,) = [s.headers for s in b.seen]
        assert not {"authorization", "x-secret", "x-scope-orgid"} & set(sent_to_b)


def test_a_redirect_loop_is_a_backend_error(server: hs.HostileServer, tmp_path: Path) -> None:
    server.routes[V2] = hs.redirect(V2)
    result = tracectl(tmp_path, "show", TID, TEMPO_ADDR=server.url)
    one_line_error(result, 5, f"Tempo redirected {server.url}{V2} more than 5 times (a redirect loop)")


@pytest.mark.parametrize(
    ("behaviour", "code", "phrase"),
    [
        (hs.gzip_lie(TRACE_PB), 5, "sent a body that is not what its Content-Encoding (gzip) says"),
        (hs.truncated(10_000, TRACE_PB[:100]), 3, "the connection broke mid-response"),
        (hs.reset(), 3, "gave up after 2 attempt(s)"),
        (hs.answer(200, b"<html>Grafana</html>", "text/html"), 5, "Tempo sent an unreadable trace: not JSON"),
    ],
)
def test_broken_answers_have_their_exit_code(
    server: hs.HostileServer, tmp_path: Path, behaviour: hs.Behaviour, code: int, phrase: str
) -> None:
    server.routes[V2] = behaviour
    result = tracectl(tmp_path, "show", TID, TEMPO_ADDR=server.url)
    one_line_error(result, code, phrase)


def test_the_right_envelope_with_wrong_inner_types_is_a_backend_error(server: hs.HostileServer, tmp_path: Path) -> None:
    body = orjson.dumps({"traces": [{"traceID": "4bf92f35", "durationMs": 12}, {"traceID": "5", "durationMs": "x"}]})
    server.routes["/api/search"] = hs.answer(200, body)
    result = tracectl(tmp_path, "search", "--traceql", "{}", TEMPO_ADDR=server.url)
    one_line_error(
        result, 5, "Tempo search answered with an unexpected shape: traces[1].durationMs: expected an integer"
    )


def test_limit_holds_whatever_the_server_returns(server: hs.HostileServer, tmp_path: Path) -> None:
    hits = [{"traceID": f"{i + 1:x}", "durationMs": i, "startTimeUnixNano": "1700000000000000000"} for i in range(500)]
    server.routes["/api/search"] = hs.answer(200, orjson.dumps({"traces": hits}))
    result = tracectl(tmp_path, "search", "--traceql", "{}", "--limit", "20", "-o", "json", TEMPO_ADDR=server.url)
    assert result.exit_code == 0
    doc = orjson.loads(result.stdout)
    assert [t["duration_ns"] for t in doc["traces"]] == [ms * 10**6 for ms in range(499, 479, -1)]  # the slowest 20
    assert doc["warnings"] == ["Tempo returned 500 traces for --limit 20: kept the 20 slowest"]
    assert "kept the 20 slowest" in result.stderr


def test_an_error_body_is_scrubbed_of_the_credentials_and_its_escapes_shown(
    server: hs.HostileServer, tmp_path: Path
) -> None:
    import base64

    echoed = base64.b64encode(b"alice:pa55word").decode()
    body = f"unauthorized: Basic {echoed} (alice:pa55word) \x1b]0;pwned\x07\x1b[2J".encode()
    server.routes["/api/search"] = hs.answer(401, body, "text/plain")
    env = {"TEMPO_ADDR": server.url, "TRACECTL_USERNAME": "alice", "TRACECTL_PASSWORD": "pa55word"}
    result = tracectl(tmp_path, "search", "--traceql", "{}", **env)
    one_line_error(result, 5, "Tempo answered 401 to the search '{}': unauthorized: ******** (********)")
    assert "pa55word" not in result.stderr and echoed not in result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr and "␛]0;pwned␇␛[2J" in result.stderr
    assert server.seen[0].headers["authorization"] == f"Basic {echoed}"  # the credentials did go where they belong


def test_a_missing_ca_bundle_is_a_usage_error(tmp_path: Path) -> None:
    result = tracectl(tmp_path, "--ca-cert", str(tmp_path / "nope.pem"), "show", TID, TEMPO_ADDR="https://t:1")
    one_line_error(result, 2, f"CA certificate {tmp_path / 'nope.pem'}: no such file")
    (tmp_path / "bad.pem").write_text("not a certificate")
    result = tracectl(tmp_path, "--ca-cert", str(tmp_path / "bad.pem"), "show", TID, TEMPO_ADDR="https://t:1")
    one_line_error(result, 2, "not a PEM certificate bundle")
