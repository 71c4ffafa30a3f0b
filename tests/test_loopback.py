"""tracectl as a user runs it (a subprocess) against a Tempo-like server on 127.0.0.1: real sockets, real httpx.

The sandbox (issue 6) will replace this small server with a faithful one; this keeps the real HTTP path
exercised from now on.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import orjson
import pytest

from tracectl.formats import otlp_proto
from tracectl.sandbox.synth import ml_inference_trace

ML = ml_inference_trace(7)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    flaky: ClassVar[dict[str, int]] = {"count": 0}

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == f"/tempo/api/v2/traces/{ML.trace_id}":
            self._send(200, otlp_proto.dump_bytes([ML], tempo_response=True), "application/protobuf")
        elif path == "/tempo/api/status/buildinfo":
            self._send(200, b'{"version": "2.6.0"}', "application/json")
        elif path == "/tempo/api/search":
            _Handler.flaky["count"] += 1
            if _Handler.flaky["count"] == 1:  # the first search meets an overloaded server: retried
                self._send(503, b"overloaded", "text/plain")
                return
            body = {"traces": [{"traceID": ML.trace_id.lstrip("0"), "rootServiceName": "api-gateway",
                                "rootTraceName": "POST /v1/predict", "startTimeUnixNano": str(ML.spans[0].start_ns),
                                "durationMs": 44}]}  # fmt: skip
            self._send(200, orjson.dumps(body), "application/json")
        else:
            self._send(404, b"", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def tempo_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tempo"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def tracectl(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {"TEMPO_ADDR": url, "PATH": "", "TRACECTL_TIMEOUT": "5"}
    return subprocess.run(
        [sys.executable, "-m", "tracectl", *args], check=False, capture_output=True, text=True, env=env, timeout=60
    )


def test_search_then_show_over_real_http(tempo_url: str) -> None:
    search = tracectl("search", "-s", "api-gateway", "-o", "json", url=tempo_url)
    assert search.returncode == 0, search.stderr
    (hit,) = orjson.loads(search.stdout)["traces"]
    assert hit["trace_id"] == ML.trace_id and hit["duration_ns"] == 44_000_000
    show = tracectl("show", hit["trace_id"], "-o", "json", url=tempo_url)
    assert show.returncode == 0, show.stderr
    assert orjson.loads(show.stdout)["traces"][0]["span_count"] == 24


def test_not_found_and_unreachable_over_real_http(tempo_url: str) -> None:
    missing = tracectl("show", "1" * 32, url=tempo_url)
    assert missing.returncode == 4 and "not found in Tempo" in missing.stderr and missing.stdout == ""
    refused = tracectl("--timeout", "1", "show", "1" * 32, url="http://127.0.0.1:9")
    assert refused.returncode == 3 and "cannot connect" in refused.stderr
    assert "Traceback" not in refused.stderr
