"""A real Prometheus for the sandbox and the tests: history backfilled with ``promtool``, then (optionally)
scraping the sandbox's ``/metrics``.

``promtool tsdb create-blocks-from openmetrics`` turns the sandbox's series (every sample, timestamps in seconds,
``# EOF``) into TSDB blocks in a temporary storage directory; Prometheus starts on a free port of 127.0.0.1 over
it with a retention long enough to keep the history, and waits until ``/-/ready``. ``stop()`` ends the process it
started and removes the directory. Needs the ``prometheus`` and ``promtool`` binaries (Debian's package is 2.42).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from tracectl.errors import InputError
from tracectl.sandbox.prom_api import dump_openmetrics
from tracectl.sandbox.promseries import SeriesDB
from tracectl.sandbox.red_metrics import INTERVAL_S


def available() -> bool:
    """Whether both binaries are on PATH."""
    return shutil.which("prometheus") is not None and shutil.which("promtool") is not None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RealPrometheus:
    """A Prometheus process over a backfilled history; a context manager."""

    def __init__(
        self, history: SeriesDB | None = None, scrape: str | None = None, port: int = 0, rules: str | None = None
    ) -> None:
        self.history = history
        self.scrape = scrape  # host:port of a /metrics to scrape every INTERVAL_S
        self.rules = rules  # a rule file's text (`tracectl slo rules`), evaluated every INTERVAL_S
        self.port = port or free_port()
        self.workdir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60.0) -> RealPrometheus:
        if not available():
            raise InputError("no prometheus/promtool on PATH (Debian: apt-get install prometheus)")
        self.workdir = Path(tempfile.mkdtemp(prefix="tracectl-prometheus-"))
        data = self.workdir / "data"
        if self.history is not None and len(self.history):
            source = self.workdir / "history.om"
            source.write_text(dump_openmetrics(self.history))
            _run(["promtool", "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)], self.workdir)
            source.unlink()
        config = self.workdir / "prometheus.yml"
        if self.rules is not None:
            (self.workdir / "rules.yml").write_text(self.rules)
        config.write_text(_config(self.scrape, "rules.yml" if self.rules is not None else None))
        log = (self.workdir / "prometheus.log").open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - a fixed binary with arguments we build
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={data}",  # noqa: S607
             "--storage.tsdb.retention.time=3650d", f"--web.listen-address=127.0.0.1:{self.port}",
             "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        log.close()
        self._wait_ready(timeout_s)
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        tail = self.log_tail()
        self.stop()
        raise InputError(f"Prometheus did not become ready on {self.url}: {tail}")

    def log_tail(self, lines: int = 5) -> str:
        path = self.workdir / "prometheus.log" if self.workdir else None
        if path is None or not path.exists():
            return ""
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> RealPrometheus:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, timeout=300)  # noqa: S603
    if proc.returncode != 0:
        raise InputError(f"{' '.join(cmd[:4])} failed: {(proc.stderr or proc.stdout).strip()[-300:]}")


def _config(scrape: str | None, rule_file: str | None = None) -> str:
    lines = ["global:", f"  scrape_interval: {INTERVAL_S}s", f"  evaluation_interval: {INTERVAL_S}s"]
    if rule_file:
        lines += ["rule_files:", f"  - {rule_file}"]  # relative to the configuration file
    if scrape:
        # The sandbox names each series' job and instance itself, as the backfilled history does: keep them.
        lines += ["scrape_configs:", "  - job_name: sandbox", "    honor_labels: true",
                  "    static_configs:", f"      - targets: ['{scrape}']"]  # fmt: skip
    return "\n".join(lines) + "\n"
