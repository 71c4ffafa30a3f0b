"""A refused TLS certificate is not retried: the same certificate fails the same way every time, so the first
failure is the answer (exit 3, one line saying which flag helps). Over real loopback TLS with a self-signed
certificate, and through respx for the cause chain."""

from __future__ import annotations

import http.server
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx
from typer.testing import CliRunner

from tests.conftest import require
from tracectl.backends.http import HttpClient, HttpConfig
from tracectl.cli.main import app
from tracectl.errors import BackendUnreachable

runner = CliRunner()


class Counting(http.server.BaseHTTPRequestHandler):
    handshakes = 0

    def do_GET(self) -> None:  # only reached when the certificate was accepted
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        return None


@pytest.fixture
def self_signed_server(tmp_path: Path) -> Iterator[tuple[str, list[int]]]:
    require(shutil.which("openssl") is not None, "openssl", "apt-get install openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    attempts: list[int] = []

    class Server(http.server.ThreadingHTTPServer):
        def get_request(self):  # type: ignore[no-untyped-def]
            sock, addr = super().get_request()
            attempts.append(1)  # one TCP connection per attempt
            return context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

        def handle_error(self, *_args: object) -> None:  # the client hanging up on the handshake is expected
            return None

    server = Server(("127.0.0.1", 0), Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", attempts
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_self_signed_certificate_is_refused_once(self_signed_server: tuple[str, list[int]]) -> None:
    url, attempts = self_signed_server
    result = runner.invoke(app, ["--tempo-url", url, "show", "0" * 31 + "1"],
                           env={"TEMPO_ADDR": "", "JAEGER_ADDR": "", "TRACECTL_RETRIES": "5"})  # fmt: skip
    assert result.exit_code == 3, result.output
    assert "TLS certificate was refused" in result.stderr and "--ca-cert" in result.stderr
    assert len(attempts) == 1 and "retry" not in result.stderr


def test_the_cause_chain_is_read_through_httpx() -> None:
    cause = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] self-signed certificate")
    error = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    error.__cause__ = cause
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.get("https://tempo.test/x").mock(side_effect=error)
        http = HttpClient(HttpConfig("https://tempo.test", "Tempo", retries=4), sleep=lambda _s: None)
        with pytest.raises(BackendUnreachable, match="certificate was refused"):
            http.get("/x")
    assert route.call_count == 1
