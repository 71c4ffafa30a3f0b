"""``tracectl sandbox serve`` stopped by SIGTERM (``timeout``, Kubernetes) or SIGHUP takes its real Prometheus and
that Prometheus's temporary folder with it, like Ctrl-C does, and exits 128 + the signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require
from tracectl.sandbox.real_prometheus import available


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has ended; only its exit status is left to collect


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_serve_with_a_real_prometheus_cleans_up_on_a_signal(tmp_path: Path, signum: int) -> None:
    require(available(), "prometheus/promtool", "apt-get install prometheus; .ci/run installs Debian's")
    env = {**os.environ, "TMPDIR": str(tmp_path), "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracectl", "sandbox", "serve", "--prometheus", "real", "--requests", "20",
         "--tempo-port", "0", "--jaeger-port", "0", "--loki-port", "0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    prometheus = 0
    try:
        assert proc.stdout is not None and proc.stderr is not None
        printed = []
        for line in proc.stdout:  # the addresses are printed once Prometheus answers /-/ready
            printed.append(line)
            if line.startswith("export PROMETHEUS_ADDR="):
                break
        assert any(line.startswith("export PROMETHEUS_ADDR=") for line in printed), (printed, proc.stderr.read())
        (prometheus,) = [c for c in children(proc.pid) if "prometheus" in Path(f"/proc/{c}/cmdline").read_text()]
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith("tracectl-prometheus-")]
        proc.send_signal(signum)
        assert proc.wait(timeout=60) == 128 + signum
        assert "Traceback" not in proc.stderr.read()
        assert not alive(prometheus)
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith("tracectl-prometheus-")] == []
    finally:  # a failed run must not leave its processes behind either
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        if prometheus and alive(prometheus):
            os.kill(prometheus, signal.SIGKILL)
