"""Fleet scale (issue 13): triage over a window of 20,000 traces with ``--max-traces 500``, against a full fetch.

    python benchmarks/bench_pushdown.py

Target: the pushed-down triage finishes in ≤ 15 s on the 2-core machine and names the same culprit as the full
fetch. The sandbox serves 20,000 requests of the ``feature-store-gc`` scenario (the fault in the last part of the
window) on 127.0.0.1; `tracectl triage -s api-gateway --since 1h --max-traces 500` runs as a fresh process:
the search, Tempo's count, the sample of 500 spread over the window, the pushed-down quantiles and compare(),
the analysis. The full fetch (`--max-traces 20000`) runs once, for its culprit and its time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import orjson

from tracectl.sandbox import SandboxServers, Store, generate

REQUESTS = 20_000


def triage(env: dict[str, str], budget: int) -> tuple[float, dict]:  # type: ignore[type-arg]
    cmd = [sys.executable, "-m", "tracectl", "-q", "triage", "-s", "api-gateway", "--since", "1h",
           "--max-traces", str(budget), "--no-logs", "-o", "json"]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return elapsed, orjson.loads(proc.stdout)


def main() -> int:
    t0 = time.perf_counter()
    workload = generate("feature-store-gc", REQUESTS, seed=13, end_ns=time.time_ns())
    store = Store()
    store.add_traces(workload.traces)
    spans = sum(len(t.spans) for t in workload.traces)
    print(f"sandbox: {len(workload.traces):,} traces, {spans:,} spans, generated in {time.perf_counter() - t0:.1f} s")
    with SandboxServers(store) as servers:
        env = {**os.environ, "TEMPO_ADDR": servers.tempo_url}
        pushed_s, pushed = triage(env, 500)
        full_s, full = triage(env, REQUESTS)
    (window,) = pushed["pushdown"]["windows"]
    top = pushed["pushdown"]["services"][0]
    print(f"--max-traces 500: {pushed_s:.1f} s wall (target ≤ 15 s); {window['traces_counted']:,} traces counted, "
          f"{window['traces_fetched']} fetched; culprit {pushed['verdict']['culprit']}; top of the span latency: "
          f"{top['service']} ×{top['rank_ratio']:.1f} (p50 ×{top['p50_ratio']:.1f}, Tempo's p99 "
          f"×{top['p99_ratio']:.1f}, the sample's p99 ×{top['sample_p99_ratio'] or 0:.1f})")  # fmt: skip
    print(f"full fetch:       {full_s:.1f} s wall; {full['counts']['traces']:,} traces; "
          f"culprit {full['verdict']['culprit']}")  # fmt: skip
    same = pushed["verdict"]["culprit"] == full["verdict"]["culprit"]
    print(f"same culprit: {'yes' if same else 'NO'}")
    return 0 if same and pushed_s <= 15 else 1


if __name__ == "__main__":
    raise SystemExit(main())
