"""Fetching many traces (issue 4): 200 traces from a local Tempo-like server that answers each in 50 ms.

    python benchmarks/bench_fetch.py

Target: with the default pool of 8, within 1.5x of the ideal 200 x 50 ms / 8 = 1.25 s. The server is a stdlib
ThreadingHTTPServer on 127.0.0.1 (an ephemeral port) serving /api/v2/traces/{id} as protobuf after a 50 ms sleep;
the client is tracectl's TempoClient through the real HTTP stack (httpx, retries, parsing).
"""

from __future__ import annotations

import argparse
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tracectl.backends import fetch_traces
from tracectl.backends.http import HttpClient, HttpConfig
from tracectl.backends.tempo import TempoClient
from tracectl.formats import otlp_proto
from tracectl.sandbox.synth import mixed_trace

LATENCY_S = 0.05


def make_server(traces: dict[str, bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real server
        # Go servers (Tempo, Jaeger) set TCP_NODELAY; without it the stdlib server's separate header and body
        # writes hit Nagle + delayed ACK and every response waits ~40 ms more (measured: 92 ms instead of 50).
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            time.sleep(LATENCY_S)
            body = traces.get(self.path.rsplit("/", 1)[-1])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/protobuf")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=200)
    parser.add_argument("--spans", type=int, default=100)
    args = parser.parse_args()
    payloads = {}
    for seed in range(args.traces):
        trace = mixed_trace(args.spans, seed=seed)
        payloads[trace.trace_id] = otlp_proto.dump_bytes([trace], tempo_response=True)
    server = make_server(payloads)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    ids = list(payloads)
    print(f"| pool | fetched | elapsed | ideal ({args.traces} x {LATENCY_S * 1000:.0f} ms / pool) | ratio |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    try:
        for pool in (1, 4, 8, 16):
            sample = ids[:50] if pool == 1 and args.traces > 50 else ids  # serial is slow: 50 of them
            client = TempoClient(HttpClient(HttpConfig(url, "Tempo", max_connections=pool)))
            t0 = time.perf_counter()
            results = fetch_traces(client, sample, concurrency=pool)
            elapsed = time.perf_counter() - t0
            client.http.close()
            if not all(r is not None and len(r.traces[0].spans) == args.spans for r in results):
                raise SystemExit("a fetched trace is missing spans: the measurement is void")
            ideal = len(sample) * LATENCY_S / pool
            print(f"| {pool} | {len(sample)} | {elapsed:.2f} s | {ideal:.2f} s | {elapsed / ideal:.2f}x |")
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
