"""Start feature-service and predict-api with uvicorn on loopback, send them requests, stop them (which flushes
their telemetry), and print what the client saw.

    python examples/house-prices/run.py                          # healthy: 300 requests
    python examples/house-prices/run.py --slow-share 0.1         # 1 lookup in 10 misses the feature cache
    python examples/house-prices/run.py --break-propagation thread   # feature calls lose the request's context
    python examples/house-prices/run.py --break-propagation header   # predict-api sends no traceparent

Telemetry goes where ``OTEL_EXPORTER_OTLP_ENDPOINT`` points (``tracectl sandbox serve`` prints the line to
export), or to ``--endpoint``.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from housing import ZIP_CODES  # noqa: E402 - the example's own module, beside this script

BREAKS = ("none", "thread", "header")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Service:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Services:
    feature: Service
    predict: Service

    @property
    def predict_url(self) -> str:
        return self.predict.url


def _start(name: str, module: str, port: int, env: Mapping[str, str], logs: Path, own_otel: bool) -> Service:
    """``own_otel``: the caller chose the endpoint, so the shell's OTEL_* variables (a signal-specific endpoint,
    OTEL_SDK_DISABLED…) must not send the telemetry elsewhere."""
    log = logs / f"{name}.log"
    command = [sys.executable, "-m", "uvicorn", f"{module}:app", "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning"]  # fmt: skip
    inherited = {k: v for k, v in os.environ.items() if not (own_otel and k.startswith("OTEL_"))}
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=HERE, env={**inherited, **env}, stdout=out, stderr=subprocess.STDOUT)
    return Service(name, f"http://127.0.0.1:{port}", process, log)


def _wait_ready(service: Service, deadline: float) -> None:
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            break
        try:
            if httpx.get(f"{service.url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    tail = service.log.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"{service.name} did not start:\n{tail}")


def _stop(service: Service) -> None:
    """SIGINT, as Ctrl-C would: uvicorn shuts the app down, which flushes its telemetry."""
    if service.process.poll() is None:
        service.process.send_signal(signal.SIGINT)
        try:
            service.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            service.process.kill()
            service.process.wait(timeout=5)


@contextmanager
def services(
    endpoint: str | None = None, *, slow_share: float = 0.0, slow_ms: float = 300.0, break_propagation: str = "none",
    ports: tuple[int, int] = (0, 0), ready_timeout: float = 60.0,
) -> Iterator[Services]:  # fmt: skip
    """Both services running (started in parallel, ready when their /health answers); stopped and flushed on exit."""
    if break_propagation not in BREAKS:
        raise ValueError(f"break_propagation must be one of {BREAKS}")
    feature_port, predict_port = (p or free_port() for p in ports)
    common = {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint} if endpoint else {}
    common |= {"OTEL_BSP_SCHEDULE_DELAY": "500", "OTEL_BLRP_SCHEDULE_DELAY": "500"}  # export within half a second
    feature_env = {**common, "FEATURES_SLOW_SHARE": str(slow_share), "FEATURES_SLOW_MS": str(slow_ms)}
    predict_env = {**common, "FEATURE_SERVICE_URL": f"http://127.0.0.1:{feature_port}"}
    if break_propagation == "thread":
        predict_env["FEATURES_IN_THREAD"] = "1"
    elif break_propagation == "header":
        predict_env["OTEL_PROPAGATORS"] = "baggage"  # a real misconfiguration: baggage only, no trace context
    with tempfile.TemporaryDirectory(prefix="house-prices-") as tmp:
        logs = Path(tmp)
        own = endpoint is not None
        started = [_start("feature-service", "feature_service", feature_port, feature_env, logs, own),
                   _start("predict-api", "predict_api", predict_port, predict_env, logs, own)]  # fmt: skip
        try:
            deadline = time.monotonic() + ready_timeout
            for service in started:
                _wait_ready(service, deadline)
            yield Services(*started)
        finally:
            for service in reversed(started):
                _stop(service)


@dataclass
class LoadReport:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def drive(predict_url: str, requests: int = 300, concurrency: int = 8, seed: int = 1) -> LoadReport:
    """POST ``requests`` seeded houses to /predict, ``concurrency`` at a time."""
    rng = random.Random(seed)
    houses = [{"zipcode": rng.choice(ZIP_CODES), "rooms": rng.randint(1, 6), "area_m2": round(rng.uniform(35, 240), 1),
               "year_built": rng.randint(1925, 2024)} for _ in range(requests)]  # fmt: skip
    report = LoadReport()
    with httpx.Client(base_url=predict_url, timeout=10.0) as client:

        def send(house: dict[str, object]) -> tuple[int, float]:
            started = time.perf_counter()
            status = client.post("/predict", json=house).status_code
            return status, (time.perf_counter() - started) * 1000

        # The first request alone: it pays for what each process does once (connection pools, lazy imports), and
        # eight of them at once would queue behind each other and look like a fault.
        results = [send(houses[0])] if houses else []
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            results.extend(pool.map(send, houses[1:]))
        for status, ms in results:
            report.statuses[status] = report.statuses.get(status, 0) + 1
            report.latencies_ms.append(ms)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--slow-share", type=float, default=0.0, help="share of feature lookups that miss the cache")
    parser.add_argument("--slow-ms", type=float, default=300.0, help="what a cache miss costs (ms)")
    parser.add_argument("--break-propagation", choices=BREAKS, default="none")
    parser.add_argument("--endpoint", help="OTLP/HTTP endpoint (default: $OTEL_EXPORTER_OTLP_ENDPOINT)")
    args = parser.parse_args()
    endpoint = args.endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if not endpoint:
        parser.error(
            "no OTLP endpoint: run `tracectl sandbox serve` and export the OTEL_EXPORTER_OTLP_ENDPOINT it prints"
        )
    started = datetime.now(UTC)
    with services(args.endpoint, slow_share=args.slow_share, slow_ms=args.slow_ms,
                  break_propagation=args.break_propagation) as running:  # fmt: skip
        print(f"predict-api {running.predict.url} · feature-service {running.feature.url} · sending to {endpoint}")
        report = drive(running.predict_url, args.requests, args.concurrency)
    codes = ", ".join(f"{n}× {code}" for code, n in sorted(report.statuses.items()))
    print(
        f"{args.requests} requests: {codes}; p50 {report.percentile(0.5):.0f} ms, p99 {report.percentile(0.99):.0f} ms"
    )
    window = f"--from {started:%Y-%m-%dT%H:%M:%SZ} --to {datetime.now(UTC) + timedelta(seconds=1):%Y-%m-%dT%H:%M:%SZ}"
    print(f"services stopped, telemetry flushed; this run's window: {window}")


if __name__ == "__main__":
    main()
