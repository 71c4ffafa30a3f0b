"""Does Jaeger UI's critical path (the node peer of bench_scale.py) pick the same sections as ``tracectl path``?

    python benchmarks/peers/check_path.py TRACE.otlp.json [...]     # node command from TRACECTL_BENCH_NODE_CP

Both are run on each file; their sections are put in one form before comparing: time order (Jaeger UI lists
them latest first), microseconds (Jaeger UI's unit, truncated as its query service does), zero-length sections
dropped (Jaeger UI never emits them) and consecutive sections of one span merged (tracectl merges them). Prints
one line per trace and, where they differ, the sections only one of them has; exits 1 when any file differs.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

Section = tuple[str, int, int]  # span ID, start µs, end µs


def normalise(sections: list[Section]) -> list[Section]:
    out: list[Section] = []
    for span, start, end in sorted(sections, key=lambda s: (s[1], s[2])):
        if start == end:
            continue
        if out and out[-1][0] == span and out[-1][2] == start:
            out[-1] = (span, out[-1][1], end)
        else:
            out.append((span, start, end))
    return out


def tracectl_sections(path: str) -> dict[str, list[Section]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "tracectl", "path", path, "-o", "json"],
                         capture_output=True, check=True, env=env, cwd=ROOT).stdout  # fmt: skip
    return {
        t["trace_id"]: normalise([(s["span_id"], s["start_ns"] // 1000, s["end_ns"] // 1000) for s in t["sections"]])
        for t in json.loads(out)["traces"]
    }


def jaeger_ui_sections(command: str, path: str) -> dict[str, list[Section]]:
    out = subprocess.run([*shlex.split(command), path, "--sections"], capture_output=True, check=True).stdout
    traces = [json.loads(line) for line in out.decode().splitlines()[1:]]
    return {
        t["traceID"]: normalise([(s["spanID"], s["sectionStart"], s["sectionEnd"]) for s in t["sections"]])
        for t in traces
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+")
    parser.add_argument("--node-cp", default=os.environ.get("TRACECTL_BENCH_NODE_CP", ""),
                        help="the node command (default: $TRACECTL_BENCH_NODE_CP)")  # fmt: skip
    args = parser.parse_args()
    if not args.node_cp:
        parser.error("no node command: set TRACECTL_BENCH_NODE_CP or pass --node-cp")
    differ = 0
    for path in args.files:
        ours, theirs = tracectl_sections(path), jaeger_ui_sections(args.node_cp, path)
        for trace_id in sorted(set(ours) | set(theirs)):
            a, b = ours.get(trace_id, []), theirs.get(trace_id, [])
            length = sum(e - s for _, s, e in a)
            if a == b:
                print(f"{path} {trace_id}: same {len(a)} sections, {length} µs")
                continue
            differ += 1
            only_a, only_b = [x for x in a if x not in set(b)], [y for y in b if y not in set(a)]
            print(f"{path} {trace_id}: DIFFER: tracectl {len(a)} sections ({length} µs), "
                  f"Jaeger UI {len(b)} ({sum(e - s for _, s, e in b)} µs); "
                  f"only in tracectl: {only_a[:5]}; only in Jaeger UI: {only_b[:5]}")  # fmt: skip
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
