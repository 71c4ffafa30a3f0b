"""A misbehaving HTTP server on 127.0.0.1 for the fault tests and ``benchmarks/bench_faults.py``.

Each route is a behaviour: a body of any size streamed without a length, a body that drips a byte at a time,
a status with headers forever, a redirect, a gzip header on a plain body, a body cut short, a connection reset.
Every request is recorded (path and headers), so a test can check what reached which origin.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Behaviour = Callable[["Handler"], None]
CHUNK = 1 << 16


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


@dataclass
class HostileServer:
    routes: dict[str, Behaviour] = field(default_factory=dict)  # path prefix -> behaviour (longest prefix wins)
    seen: list[Seen] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> HostileServer:
        owner = self

        class _Bound(Handler):
            server_owner = owner

        self._server = _QuietServer(("127.0.0.1", 0), _Bound)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a reset or a client that hung up is the point of the exercise, not news


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_owner: HostileServer

    def do_GET(self) -> None:
        owner = self.server_owner
        owner.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
        path = self.path.split("?", 1)[0]
        matches = [p for p in owner.routes if path.startswith(p)]
        if not matches:
            send(self, 404, b"not here", "text/plain")
            return
        try:
            owner.routes[max(matches, key=len)](self)
        except OSError:
            self.close_connection = True  # the client stopped reading: what the limits are for

    def log_message(self, *args: Any) -> None:
        pass


def send(h: Handler, status: int, body: bytes, content_type: str = "application/json", **headers: str) -> None:
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        h.send_header(name.replace("_", "-"), value)
    h.end_headers()
    h.wfile.write(body)


# ------------------------------------------------------------------------------------------------ behaviours


def answer(status: int, body: bytes, content_type: str = "application/json", **headers: str) -> Behaviour:
    return lambda h: send(h, status, body, content_type, **headers)


def huge(
    total: int, head: bytes = b'{"traces": [', filler: bytes = b'{"traceID": "1"},', chunked: bool = True
) -> Behaviour:
    """``total`` bytes of JSON-looking text, streamed chunk by chunk (no length unless ``chunked`` is False)."""

    def behave(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        if chunked:
            h.send_header("Transfer-Encoding", "chunked")
        else:
            h.send_header("Content-Length", str(total))
        h.end_headers()
        block = (filler * (CHUNK // len(filler) + 1))[:CHUNK]
        for piece in _pieces(head, block, total):
            h.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        if chunked:
            h.wfile.write(b"0\r\n\r\n")

    return behave


def _pieces(head: bytes, block: bytes, total: int) -> Iterator[bytes]:
    yield head
    sent = len(head)
    while sent < total:
        piece = block[: total - sent]
        yield piece
        sent += len(piece)


def gzip_bomb(decoded: int) -> Behaviour:
    """A small gzip body (one member: ~1 KB per MB) that decodes to ``decoded`` bytes of zeros."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
    zeros = b"\0" * (1 << 20)
    compressed = b"".join(packer.compress(zeros) for _ in range(max(1, decoded >> 20))) + packer.flush()
    return lambda h: send(h, 200, compressed, "application/protobuf", Content_Encoding="gzip")


def drip(body: bytes, every_s: float, content_type: str = "application/json") -> Behaviour:
    """Headers at once, then the body one byte every ``every_s`` seconds: no read ever times out."""

    def behave(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        for i in range(len(body)):
            h.wfile.write(body[i : i + 1])
            h.wfile.flush()
            time.sleep(every_s)

    return behave


def silent(seconds: float) -> Behaviour:
    """Accept, say nothing for ``seconds``, then close."""
    return lambda h: time.sleep(seconds)


def slow(seconds: float, then: Behaviour) -> Behaviour:
    def behave(h: Handler) -> None:
        time.sleep(seconds)
        then(h)

    return behave


def redirect(location: str | Callable[[], str], status: int = 302) -> Behaviour:
    def behave(h: Handler) -> None:
        target = location() if callable(location) else location
        send(h, status, b"", "text/plain", Location=target)

    return behave


def gzip_lie(body: bytes) -> Behaviour:
    """``Content-Encoding: gzip`` on a body that is not gzip."""
    return lambda h: send(h, 200, body, "application/json", Content_Encoding="gzip")


def truncated(declared: int, sent: bytes) -> Behaviour:
    """Declare ``declared`` bytes, send ``sent``, close."""

    def behave(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(declared))
        h.end_headers()
        h.wfile.write(sent)
        h.wfile.flush()
        h.close_connection = True

    return behave


def reset() -> Behaviour:
    """Close the connection with a TCP reset, before any answer."""

    def behave(h: Handler) -> None:
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.connection.close()
        h.close_connection = True

    return behave
