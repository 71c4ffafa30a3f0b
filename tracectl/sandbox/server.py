"""HTTP servers on loopback that speak Tempo's, Jaeger's, Loki's and Prometheus' APIs over the sandbox store.

Four servers on four ephemeral ports of 127.0.0.1, as the real ones run (Tempo's and Jaeger's
``/api/traces/{id}`` would collide on one). The fourth serves the services' metrics on ``/metrics`` (for a real
Prometheus to scrape) and answers the PromQL subset tracectl sends (``prom_api``). Wire facts follow BACKENDS.md
and the recorded Tempo 3.0.3 answers:
Tempo (``tempo_api.py``) as strict as the real server; Jaeger v3 (RFC 3339, Go durations, ``{"result"}``/
``{"error"}``) and v1 (microseconds, ``{"data", "errors"}``); Loki ``query_range`` with both response encodings
and the 5,000-line limit. Tempo's server is also the OTLP/HTTP receiver (``POST /v1/traces``, ``/v1/logs``,
``/v1/metrics``, protobuf or JSON, gzip or not), and the Loki server takes pushes (``/loki/api/v1/push``,
``/otlp/v1/logs``): see ``ingest``.

Faults can be injected per path prefix: added latency, an error rate, 429 with ``Retry-After``, truncated
bodies and dropped connections. Every server sets TCP_NODELAY, as Go servers do.
"""

from __future__ import annotations

import gzip
import random
import threading
import time
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tracectl.sandbox import apis, ingest, jaeger_api, jaeger_metrics, loki_api, prom_api, tempo_api
from tracectl.sandbox.apis import Reply
from tracectl.sandbox.store import Store


@dataclass(frozen=True, slots=True)
class Fault:
    """Misbehaviour for requests whose path starts with a prefix."""

    latency_s: float = 0.0
    error_rate: float = 0.0  # share of requests answered with `status`
    status: int = 500
    retry_after: int | None = None  # with status 429
    truncate: bool = False  # send half the body of a full-length response, then close
    drop: bool = False  # close the connection without answering


def _handler(
    store: Store,
    routes: list[tuple[str, str, apis.Handler]],
    faults: dict[str, Fault],
    rng: random.Random,
    lock: threading.Lock,
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        server_version = "tracectl-sandbox"

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if method == "POST" else b""
            if body and (self.headers.get("Content-Encoding") or "").lower() == "gzip":
                try:
                    body = gzip.decompress(body)
                except (OSError, EOFError, zlib.error):
                    self._send(Reply(400, b"request body is not valid gzip", "text/plain"))
                    return
            fault = next((f for prefix, f in faults.items() if path.startswith(prefix)), None)
            if fault is not None:
                if fault.latency_s:
                    time.sleep(fault.latency_s)
                if fault.drop:
                    self.close_connection = True
                    return
                with lock:
                    failing = rng.random() < fault.error_rate
                if failing:
                    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
                    self._send(Reply(fault.status, b"injected fault", "text/plain", headers))
                    return
            headers = {k.lower(): v for k, v in self.headers.items()}
            for verb, pattern, route in routes:
                if verb == method and apis.match(pattern, path) is not None:
                    try:
                        reply = route(store, path, params, headers, body)
                    except apis.BadRequest as exc:
                        reply = exc.reply
                    self._send(reply, truncate=fault is not None and fault.truncate)
                    return
            self._send(Reply(404, b"404 page not found\n", "text/plain"))

        def _send(self, reply: Reply, truncate: bool = False) -> None:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for k, v in (reply.headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if truncate:
                self.wfile.write(reply.body[: len(reply.body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(reply.body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


class SandboxServers:
    """The Tempo-, Jaeger- and Loki-compatible servers over one store. A context manager: stop() joins every
    thread and closes every socket."""

    def __init__(
        self,
        store: Store,
        faults: dict[str, Fault] | None = None,
        host: str = "127.0.0.1",
        ports: tuple[int, ...] = (0, 0, 0, 0),
        seed: int = 1,
        metrics: prom_api.PromSource | None = None,
    ) -> None:
        self.store = store
        self.faults = dict(faults or {})
        self.metrics = metrics or prom_api.PromSource(store)
        rng, lock = random.Random(seed), threading.Lock()
        self._servers: list[ThreadingHTTPServer] = []
        self._threads: list[threading.Thread] = []
        tables = (tempo_api.TEMPO_ROUTES + ingest.COLLECTOR_ROUTES, jaeger_api.JAEGER_ROUTES + jaeger_metrics.ROUTES,
                  loki_api.LOKI_ROUTES + ingest.LOKI_INGEST_ROUTES, prom_api.routes(self.metrics))  # fmt: skip
        ports = (*ports, 0, 0, 0, 0)[:4]  # three ports given: the Prometheus one is any free port
        for port, routes in zip(ports, tables, strict=True):
            server = ThreadingHTTPServer((host, port), _handler(store, routes, self.faults, rng, lock))
            server.daemon_threads = True
            self._servers.append(server)

    def _url(self, i: int) -> str:
        host, port = self._servers[i].server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}"

    @property
    def tempo_url(self) -> str:
        return self._url(0)

    @property
    def jaeger_url(self) -> str:
        return self._url(1)

    @property
    def loki_url(self) -> str:
        return self._url(2)

    @property
    def prometheus_url(self) -> str:
        """The built-in Prometheus (the PromQL subset) and the services' ``/metrics``."""
        return self._url(3)

    def start(self) -> SandboxServers:
        for server in self._servers:
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def __enter__(self) -> SandboxServers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
