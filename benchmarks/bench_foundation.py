"""Foundation benchmarks: load + tree rebuild of large traces, and `tracectl --help` latency.

    python benchmarks/bench_foundation.py            # all cases, a Markdown table on stdout
    python benchmarks/bench_foundation.py --quick    # smaller sizes (a smoke run)

Each case runs in a fresh interpreter so that peak RSS belongs to that case alone. Targets (issue 2):
100,000-span OTLP JSON load + tree < 1.5 s and < 500 MB peak; 50,000-deep chain and 50,000 children work;
`tracectl --help` < 0.3 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASE = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from tracectl.formats.detect import read_source
from tracectl.analysis.tree import build_tree
from tracectl.analysis.selftime import self_times
t1 = time.perf_counter()
result = read_source(sys.argv[1])
t2 = time.perf_counter()
tree = build_tree(result.traces[0])
t3 = time.perf_counter()
self_times(tree)
t4 = time.perf_counter()
print(json.dumps({"spans": len(tree), "depth": max(tree.depth), "import_s": t1 - t0, "load_s": t2 - t1,
                  "tree_s": t3 - t2, "self_s": t4 - t3,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_case(path: Path, repeat: int) -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", CASE, str(path)], capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout))
    best = min(runs, key=lambda r: r["load_s"] + r["tree_s"])
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    return best


def help_latency(repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tracectl", "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10x smaller inputs")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    cases = [
        ("mixed", 100_000 // scale, "100,000-span mixed trace (OTLP JSON)"),
        ("chain", 50_000 // scale, "50,000-deep chain"),
        ("fanout", 50_000 // scale, "one span with 50,000 children"),
    ]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for shape, size, label in cases:
            path = Path(tmp) / f"{shape}.json"
            subprocess.run(
                [sys.executable, "-m", "tracectl.sandbox.synth", shape, str(size), "-o", str(path)], check=True
            )
            r = run_case(path, args.repeat)
            mb = path.stat().st_size / 1e6
            rows.append(
                f"| {label} | {r['spans']:,} | {mb:.0f} MB | {r['load_s']:.2f} s | {r['tree_s']:.2f} s | "
                f"{r['load_s'] + r['tree_s']:.2f} s | {r['self_s']:.2f} s | {r['peak_rss_mb']:.0f} MB |"
            )
            print(f"done: {label}", file=sys.stderr)
    helps = help_latency(max(args.repeat, 5))
    print("| case | spans | file | load | tree | load + tree | self time | peak RSS |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print("\n".join(rows))
    print(f"\n`tracectl --help` (median of {max(args.repeat, 5)} runs, whole process): {helps * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
