"""`tracectl demo` on every scenario, as a fresh process (issue 6 target: a correct answer in under 15 s each).

python benchmarks/bench_demo.py
"""

from __future__ import annotations

import subprocess
import sys
import time

from tracectl.sandbox import SCENARIOS


def main() -> int:
    print("| scenario | verdict | ground truth | wall time |")
    print("| --- | --- | --- | ---: |")
    for name, sc in SCENARIOS.items():
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "tracectl", "--no-color", "demo", "--scenario", name],
            capture_output=True,
            text=True,
            check=False,
            env={"COLUMNS": "160", "PATH": ""},
        )
        elapsed = time.perf_counter() - t0
        right = "✓ sandbox ground truth" in proc.stdout
        lines = proc.stdout.splitlines()
        verdict = next((ln.strip(" │") for ln in lines if "culprit:" in ln or "no culprit" in ln), "?").strip()
        truth = f"{'right' if right else 'WRONG'} ({sc.culprit or 'none'})"
        print(f"| {name} | {verdict} | {truth} | {elapsed:.1f} s |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
