"""Analysis benchmarks (issue 3): critical path + attribution on large traces, and blame over 1,000 files.

    python benchmarks/bench_analysis.py            # a Markdown table on stdout
    python benchmarks/bench_analysis.py --quick    # smaller inputs (a smoke run)

Targets: for a 100,000-span trace of mixed shape, critical path plus attribution under 0.5 s after loading;
50,000 sequential children under 0.5 s; a 50,000-deep chain works; `tracectl blame` over 1,000 trace files of
~100 spans under 2 s end to end (a fresh process: interpreter start, imports, reading, analysis, pandas, output).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from tracectl.analysis.attribution import attribute, parse_key
from tracectl.analysis.critical_path import critical_path
from tracectl.analysis.selftime import self_times
from tracectl.analysis.tree import build_tree
from tracectl.formats import otlp_json
from tracectl.sandbox.synth import chain_trace, fanout_trace, mixed_trace


def best_of(repeat: int, func) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return min(times)


def analysis_case(label: str, trace, repeat: int) -> str:  # type: ignore[no-untyped-def]
    tree = build_tree(trace)  # "after loading": the tree is built once, as `show`/`path`/`blame` do
    key = parse_key("service")

    def run() -> None:
        path = critical_path(tree)
        attribute(path, key, self_times(tree))

    t_cp = best_of(repeat, lambda: critical_path(tree))
    t_all = best_of(repeat, run)
    return f"| {label} | {len(tree):,} | {t_cp * 1000:.0f} ms | {t_all * 1000:.0f} ms |"


def blame_case(files: int, spans: int, repeat: int) -> tuple[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for seed in range(files):
            doc = otlp_json.dump_document([mixed_trace(spans, seed=seed)])
            (folder / f"trace-{seed:04d}.json").write_bytes(orjson.dumps(doc))
        cmd = [sys.executable, "-m", "tracectl", "blame", str(folder), "-o", "json"]
        elapsed = best_of(repeat, lambda: subprocess.run(cmd, check=True, capture_output=True))
    return f"`tracectl blame DIR -o json` over {files:,} files of {spans} spans", elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10x smaller inputs")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    rows = [
        analysis_case("mixed-shape trace", mixed_trace(100_000 // scale), args.repeat),
        analysis_case("50,000 sequential children", fanout_trace(50_000 // scale), args.repeat),
        analysis_case("50,000-deep chain", chain_trace(50_000 // scale), args.repeat),
    ]
    label, elapsed = blame_case(1000 // scale, 100, args.repeat)
    print("| case | spans | critical path | critical path + self time + attribution |")
    print("| --- | ---: | ---: | ---: |")
    print("\n".join(rows))
    print(f"\n{label}: {elapsed:.2f} s (best of {args.repeat}, whole process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
