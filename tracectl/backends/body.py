"""Reading one response body within a byte budget and a deadline, whatever the server sends.

- The body is decoded here, not by httpx, so that no step holds more than ``CHUNK`` decoded bytes: 64 KB of a gzip
  bomb inflate to 64 MB in one call otherwise. Decoded bytes are what the budget counts.
- Between chunks the deadline is checked; a ``Watchdog`` shuts the socket down when the deadline passes during a
  read, because a server that sends a byte now and then never lets a read time out.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import zlib
from collections.abc import Callable, Iterator

import httpx

CHUNK = 64 * 1024
ACCEPT_ENCODING = "gzip, deflate"  # what Decoder reads: a server is not invited to send anything else


class OverBudget(Exception):
    """The decoded body went past its limit."""


class OutOfTime(Exception):
    """The deadline passed while the body was being read."""


class Undecodable(Exception):
    """The body is not what its ``Content-Encoding`` says (or an encoding tracectl did not ask for)."""


class Decoder:
    """Incremental ``Content-Encoding`` decoding whose every output is at most ``CHUNK`` bytes."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding.strip().lower()
        if self.encoding in ("", "identity"):
            self._z = None
        elif self.encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.encoding == "deflate":
            self._z = zlib.decompressobj()
        else:
            raise Undecodable(f"Content-Encoding {encoding!r}, which was not asked for")

    def decode(self, data: bytes) -> Iterator[bytes]:
        if self._z is None:
            yield data
            return
        try:
            while data:
                out = self._z.decompress(data, CHUNK)
                if out:
                    yield out
                data = self._z.unconsumed_tail
        except zlib.error as exc:
            raise Undecodable(str(exc)) from None

    def finish(self) -> bytes:
        """What is left once the input has ended (all input is consumed by then: only zlib's last bytes)."""
        if self._z is None:
            return b""
        try:
            return self._z.flush()
        except zlib.error as exc:
            raise Undecodable(str(exc)) from None


class Watchdog:
    """Shuts the response's socket down after ``seconds``: a read blocked on it then ends at once."""

    def __init__(self, response: httpx.Response, seconds: float) -> None:
        self.fired = False
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        self._timer: threading.Timer | None = None
        if isinstance(sock, socket.socket):
            self._timer = threading.Timer(max(seconds, 0.0), self._fire, (sock,))
            self._timer.daemon = True
            self._timer.start()

    def _fire(self, sock: socket.socket) -> None:
        self.fired = True
        with contextlib.suppress(OSError):  # already closed: the read has ended anyway
            sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def read_body(response: httpx.Response, limit: int, remaining: Callable[[], float], truncate: bool = False) -> bytes:
    """The decoded body of a streamed ``response``, at most ``limit`` bytes.

    Past ``limit``: ``OverBudget``, or with ``truncate`` the first ``limit`` bytes (an error page: only its first
    line is shown). ``remaining()`` is the time left; ``OutOfTime`` when it runs out."""
    decoder = Decoder(response.headers.get("content-encoding", ""))
    buf = bytearray()
    watchdog = Watchdog(response, remaining())
    try:
        for raw in response.iter_raw():
            for chunk in decoder.decode(raw):
                buf += chunk
                if len(buf) > limit:
                    if truncate:
                        return bytes(buf[:limit])
                    raise OverBudget
            if remaining() <= 0:
                raise OutOfTime
        buf += decoder.finish()
        if len(buf) > limit and not truncate:
            raise OverBudget
    except httpx.TransportError:
        if watchdog.fired or remaining() <= 0:
            raise OutOfTime from None
        raise
    finally:
        watchdog.cancel()
    return bytes(buf)
