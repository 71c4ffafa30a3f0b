"""Triage at scale (issue 7): ~500 suspect and ~500 baseline traces of ~100 spans from the sandbox, fetching included.

    python benchmarks/bench_triage.py

Target: under 20 s on the 2-core machine. The sandbox serves 1,000 requests (half of them meet a CV-model cold
start; each model forward pass has 38 per-layer spans, so ~100 spans a trace) on 127.0.0.1; `tracectl triage`
runs as a fresh process: search, fetch 1,000 traces (pool of 8), analyse, rank, read logs, print JSON.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import orjson

from tracectl.sandbox import SandboxServers, Scenario, Store, generate


def main() -> int:
    scenario = Scenario("bench", "half the requests meet a cold start", "cv_cold_start", 0.5, "cv-model", "latency")
    workload = generate(scenario, 1000, seed=3, end_ns=time.time_ns(), layers=38)
    spans = sum(len(t.spans) for t in workload.traces) / len(workload.traces)
    store = Store()
    store.add_traces(workload.traces)
    store.add_logs(workload.logs)
    with SandboxServers(store) as servers:
        env = {
            **os.environ,
            "TEMPO_ADDR": servers.tempo_url,
            "LOKI_ADDR": servers.loki_url,
            "TRACECTL_CONFIG": "/nonexistent",
        }
        cmd = [
            sys.executable,
            "-m",
            "tracectl",
            "-q",
            "triage",
            "-s",
            "api-gateway",
            "--since",
            "40m",
            "--limit",
            "1000",
            "--slo",
            "300ms",
            "-o",
            "json",
        ]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    doc = orjson.loads(proc.stdout)
    print(
        f"traces: {doc['counts']['traces']} ({spans:.0f} spans on average); suspects {doc['counts']['suspects']}, "
        f"baseline {doc['counts']['baseline']}; verdict: {doc['verdict']['culprit']}"
    )
    print(
        f"`tracectl triage` wall time, whole process, fetching included: {elapsed:.1f} s "
        f"(the command's own analysis timer: {doc['seconds']:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
