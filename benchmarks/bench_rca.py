"""Root cause on real labelled cases: `tracectl diff baseline fault` (the triage ranking) on every case.

    python benchmarks/bench_rca.py [--data ../shared/rca-dev] [--case SUBSTRING]

Each case runs as a user would run it, in a fresh process: ``tracectl diff baseline.json.gz fault.json.gz
--logs-file baseline.logs.json.gz --logs-file fault.logs.json.gz -o json`` (logs where the case has them). The
otel-fastapi set is split by its truth.json into normal (A) and slow (B) requests. A suspect counts as the
injected service when it is that service or an edge into it (``caller → service``, ``* → service``). The
evidence is right when the first suspect's sentence leads with what the fault moves: an edge (network
delay), the service's own time (CPU faults, a stalled call inside it), or its logs (exceptions, wrong values).
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

EXPECTED_EVIDENCE = {"network_delay": {"edge"}, "cpu_contention": {"self"}, "cpu_consumed": {"self"},
                     "exception": {"logs", "errors", "truncation"}, "return": {"logs", "errors", "truncation"},
                     "latency": {"self"}}  # fmt: skip


def run_diff(a: Path, b: Path, logs: list[Path]) -> tuple[dict, float]:  # type: ignore[type-arg]
    args = [sys.executable, "-m", "tracectl", "diff", str(a), str(b), "-o", "json"]
    for f in logs:
        args += ["--logs-file", str(f)]
    started = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"tracectl diff failed on {b}: {proc.stderr.strip()}")
    return json.loads(proc.stdout), time.perf_counter() - started


def nezha_cases(root: Path) -> list[tuple[str, dict, Path, Path, list[Path]]]:  # type: ignore[type-arg]
    out = []
    for case in sorted(p for p in (root / "nezha").iterdir() if (p / "truth.json").exists()):
        truth = json.loads((case / "truth.json").read_text())
        logs = [case / f for f in ("baseline.logs.json.gz", "fault.logs.json.gz") if (case / f).exists()]
        out.append((case.name, truth, case / "baseline.json.gz", case / "fault.json.gz", logs))
    return out


def otel_case(root: Path, workdir: Path) -> tuple[str, dict, Path, Path, list[Path]] | None:  # type: ignore[type-arg]
    folder = root / "otel-fastapi"
    if not (folder / "truth.json").exists():
        return None
    truth = json.loads((folder / "truth.json").read_text())
    slow_ids = set(truth["slow_trace_ids"])
    normal, slow = workdir / "otel-normal.jsonl", workdir / "otel-slow.jsonl"
    with gzip.open(folder / "traces.otlp.jsonl.gz", "rt") as src, normal.open("w") as n, slow.open("w") as s:
        for line in src:
            doc = json.loads(line)
            trace_id = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"]
            (s if trace_id in slow_ids else n).write(line)
    return "otel-fastapi (slow vs normal)", truth, normal, slow, [folder / "logs.loki.json.gz"]


def rank_of(doc: dict, service: str) -> int | None:  # type: ignore[type-arg]
    for s in doc["suspects"]:
        if s["component"].rsplit(" → ", 1)[-1] == service:
            return int(s["rank"])
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "rca-dev"))
    parser.add_argument("--case", default="", help="only cases whose name contains this")
    opts = parser.parse_args()
    root = Path(opts.data)
    with tempfile.TemporaryDirectory() as tmp:
        cases = nezha_cases(root)
        extra = otel_case(root, Path(tmp))
        if extra is not None:
            cases.append(extra)
        cases = [c for c in cases if opts.case in c[0]]
        rows, groups = [], defaultdict(list)
        print("| case | truth | first suspect | evidence | truth at | seconds |")
        print("| --- | --- | --- | --- | ---: | ---: |")
        for name, truth, a, b, logs in cases:
            doc, seconds = run_diff(a, b, logs)
            top = doc["suspects"][0] if doc["suspects"] else {"component": "(none)", "evidence": "none"}
            at = rank_of(doc, truth["service"])
            evidence_ok = at == 1 and top["evidence"] in EXPECTED_EVIDENCE.get(truth["fault_type"], set())
            rows.append((at, evidence_ok))
            for key in (truth.get("system", "?"), truth["fault_type"], "all"):
                groups[key].append((at, evidence_ok))
            mark = "" if evidence_ok or at != 1 else " (wrong kind)"
            print(f"| {name} | {truth['service']} {truth['fault_type']} | {top['component']} | "
                  f"{top['evidence']}{mark} | {at or '-'} | {seconds:.1f} |")  # fmt: skip
        print("\n| group | cases | top-1 | top-3 | top-5 | top-1 with the right evidence |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for key in sorted(groups, key=lambda k: (k == "all", k)):
            g = groups[key]

            def within(n: int, g: list[tuple[int | None, bool]] = g) -> str:
                return f"{sum(1 for at, _ in g if at is not None and at <= n)}/{len(g)}"

            print(f"| {key} | {len(g)} | {within(1)} | {within(3)} | {within(5)} | {sum(ok for _, ok in g)}/{len(g)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
