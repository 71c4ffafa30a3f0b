"""Terminal rendering of large traces (issue 12): `tracectl path` and `tracectl show --limit 0` as tables.

    python benchmarks/bench_render.py            # a Markdown table on stdout
    python benchmarks/bench_render.py --quick    # smaller inputs (a smoke run)

Each case is a whole `tracectl` process (interpreter start, imports, reading, analysis, rendering) writing the
table to a pipe at 120 columns, timed with the best of three runs (CPU seconds of the process: user + system,
which a busy shared machine disturbs less than wall time). Target: ≤ 2 s for 20,000 rows, and for the path table
of a 20,000-deep chain (issue 24: guides capped, the depth printed as a number past a few dozen levels).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

from tracectl.formats import otlp_json
from tracectl.sandbox.synth import chain_trace, mixed_trace


def timed(args: list[str], repeat: int = 3) -> float:
    env = {**os.environ, "COLUMNS": "120"}
    best = float("inf")
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-m", "tracectl", *args], check=True, capture_output=True, env=env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    sizes = (1_000, 5_000) if parser.parse_args().quick else (5_000, 10_000, 20_000, 50_000)
    print("| spans | `path` (table) | `show --limit 0` (table) |")
    print("| ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"t{n}.json"
            path.write_bytes(orjson.dumps(otlp_json.dump_document([mixed_trace(n)])))
            p = timed(["path", str(path)])
            s = timed(["show", str(path), "--limit", "0"])
            print(f"| {n:,} | {p:.2f} s | {s:.2f} s |", flush=True)
        depth = 5_000 if parser.parse_args().quick else 20_000
        path = Path(tmp) / f"chain{depth}.json"
        path.write_bytes(orjson.dumps(otlp_json.dump_document([chain_trace(depth)])))
        p, s = timed(["path", str(path)]), timed(["show", str(path), "--limit", "0"])
        print(f"| {depth:,}-deep chain | {p:.2f} s | {s:.2f} s |", flush=True)


if __name__ == "__main__":
    main()
