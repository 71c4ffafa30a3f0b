"""Speed and memory at scale against the peers and the parser's floor (issue 24), as ratios measured in one run.

    python benchmarks/bench_scale.py                  # full sizes: 100k-span trace, 10,000 Jaeger files
    python benchmarks/bench_scale.py --quick          # 10x smaller (a smoke run)
    python benchmarks/bench_scale.py --tree OLD=/tmp/old-checkout   # also time another checkout, side by side

Workloads (seeded, written once into ``--workdir`` and reused): a mixed-shape 100,000-span trace as OTLP JSON
(``tracectl.sandbox.synth.mixed_trace``), a 20,000-deep chain, and N Jaeger JSON files of one ML-serving trace each
(``tracectl.sandbox.synth.ml_inference_trace``), plus a directory of the first 100 of them.

Every command runs as a fresh process; its CPU seconds (user + sys) and peak RSS come from ``os.wait4`` (the
kernel's accounting of the finished process and the children it reaped, so a process pool is counted whole).
Each tree's byte-code is compiled before the first round (start-up as an installed package has it).
The floor is ``orjson.loads`` of the same bytes (reading included, interpreter start-up excluded), measured in a
child in the same round. Rounds run every command in turn (A B C A B C …), so each ratio is taken within a
round and the median over rounds is quoted: the machine is shared and its speed drifts.

Peers, only when given (never vendored; ``benchmarks/peers/setup.sh`` fetches and builds them, see
``benchmarks/peers/README.md``): ``TRACECTL_BENCH_NODE_CP`` a command computing Jaeger UI's critical path in node
(the OTLP file's path is appended), ``TRACECTL_BENCH_CRISP`` a command running CRISP in light mode (the Jaeger
directory is appended), e.g. after setup.sh::

    export TRACECTL_BENCH_NODE_CP='node /work/peers/jaeger-ui-cp/cp.js'
    export TRACECTL_BENCH_CRISP='/work/peers/crisp/.venv/bin/python /work/peers/crisp_light.py --lightMode
        --parallelism 2 -s api-gateway -a "POST /v1/predict" -o /work/peers/crisp-out -i'   # (one line)
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
PEERS = {"TRACECTL_BENCH_NODE_CP": "Jaeger UI (node)", "TRACECTL_BENCH_CRISP": "CRISP --lightMode"}

FLOOR = r"""
import sys, time, orjson
from pathlib import Path
names = sys.argv[1:]
files = [p for n in names for p in (sorted(Path(n).iterdir()) if Path(n).is_dir() else [Path(n)])
         if not p.name.startswith(".")]
t0 = time.process_time()
for p in files:
    orjson.loads(p.read_bytes())
print(time.process_time() - t0)
"""


@dataclass
class Run:
    cpu: float
    wall: float
    rss_mb: float
    stdout: bytes = b""


@dataclass
class Case:
    name: str
    spans: int
    floor_args: list[str]  # what the floor parses: the same bytes the command reads
    argv: list[str]  # tracectl arguments
    peer_env: str = ""  # the environment variable naming the peer command, if any (a key of PEERS)
    peer_arg: str = ""
    results: dict[str, list[Run]] = field(default_factory=dict)
    floors: list[float] = field(default_factory=list)


def run(argv: list[str], env: dict[str, str], keep_stdout: bool = False) -> Run:
    """One fresh process: CPU seconds and peak RSS from the kernel (``wait4``), wall time around it."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            argv, env=env, cwd=env.get("BENCH_CWD", str(ROOT)), stderr=err,
            stdout=subprocess.PIPE if keep_stdout else subprocess.DEVNULL,
        )  # fmt: skip
        out = proc.stdout.read() if proc.stdout else b""
        _, status, usage = os.wait4(proc.pid, 0)  # the kernel's CPU and peak RSS of the finished process
        wall = time.perf_counter() - t0
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(argv)} exited {code}: {err.read().decode(errors='replace')[-500:]}")
    return Run(usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024, out)


def tree_env(tree: Path) -> dict[str, str]:
    # as users run it: byte-code cached (PYTHONDONTWRITEBYTECODE would recompile every changed module on each start)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    env.update(PYTHONPATH=str(tree), COLUMNS="120", NO_COLOR="1", BENCH_CWD=str(tree))
    return env


# ---------------------------------------------------------------------------------------------- workloads


def write_workloads(workdir: Path, spans: int, files: int) -> dict[str, Path]:
    """The seeded inputs, written once (a marker file names what is there)."""
    from tracectl.formats import jaeger_json, otlp_json
    from tracectl.sandbox import synth

    workdir.mkdir(parents=True, exist_ok=True)
    paths = {
        "mixed": workdir / f"mixed-{spans}.otlp.json",
        "chain": workdir / "chain-20000.otlp.json",
        "jaeger": workdir / f"jaeger-{files}",
        "jaeger100": workdir / "jaeger-100",
    }
    if not paths["mixed"].exists():
        paths["mixed"].write_bytes(orjson.dumps(otlp_json.dump_document([synth.mixed_trace(spans, seed=24)])))
    if not paths["chain"].exists():
        paths["chain"].write_bytes(orjson.dumps(otlp_json.dump_document([synth.chain_trace(20_000, seed=24)])))
    for key, count in (("jaeger", files), ("jaeger100", 100)):
        directory = paths[key]
        if (directory / ".complete").exists():
            continue
        directory.mkdir(exist_ok=True)
        for i in range(count):
            trace = synth.ml_inference_trace(seed=1000 + i, trace_id=f"{0x24 << 96 | i + 1:032x}")
            (directory / f"trace-{i:05d}.json").write_bytes(orjson.dumps(jaeger_json.dump_document([trace])))
        (directory / ".complete").write_text("")
    return paths


def span_count(path: Path) -> int:
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")) if path.is_dir() else [path]
    n = 0
    for p in files:
        doc = orjson.loads(p.read_bytes())
        if "resourceSpans" in doc:
            n += sum(len(ss["spans"]) for rs in doc["resourceSpans"] for ss in rs["scopeSpans"])
        else:
            n += sum(len(t["spans"]) for t in doc["data"])
    return n


# ---------------------------------------------------------------------------------------------- the run


def prepare(workdir: Path, spans: int, files: int) -> tuple[dict[str, Path], dict[str, int]]:
    """The workloads and their span counts, made in a child: a process forked from a big parent starts with the
    parent's peak RSS on the kernel's books, so this process stays small."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import bench_scale as b; from pathlib import Path; "
        "p = b.write_workloads(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])); "
        "print(json.dumps({k: [str(v), b.span_count(v)] for k, v in p.items()}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent), str(workdir), str(spans), str(files)],
        capture_output=True, check=True, env=tree_env(ROOT), cwd=ROOT,
    )  # fmt: skip
    made = orjson.loads(out.stdout)
    return {k: Path(v[0]) for k, v in made.items()}, {k: int(v[1]) for k, v in made.items()}


def cases(paths: dict[str, Path], counts: dict[str, int], files: int) -> list[Case]:
    mixed, chain, jaeger, j100 = (str(paths[k]) for k in ("mixed", "chain", "jaeger", "jaeger100"))
    return [
        Case("path (table), mixed trace", counts["mixed"], [mixed], ["path", mixed], "TRACECTL_BENCH_NODE_CP", mixed),
        Case("show -o json, mixed trace", counts["mixed"], [mixed], ["show", mixed, "-o", "json"]),
        Case(f"blame DIR -o json, {files:,} Jaeger files", counts["jaeger"], [jaeger],
             ["blame", jaeger, "-o", "json"], "TRACECTL_BENCH_CRISP", jaeger),
        Case("blame DIR -o json, 100 Jaeger files", counts["jaeger100"], [j100],
             ["blame", j100, "-o", "json"], "TRACECTL_BENCH_CRISP", j100),
        Case("path (table), 20,000-deep chain", 20_000, [chain], ["path", chain]),
        Case("--help", 0, [], ["--help"]),
    ]  # fmt: skip


def one_round(all_cases: list[Case], trees: dict[str, Path]) -> None:
    python = sys.executable
    for case in all_cases:
        if case.floor_args:
            floor = run([python, "-c", FLOOR, *case.floor_args], tree_env(ROOT), keep_stdout=True)
            case.floors.append(float(floor.stdout))
        for label, tree in trees.items():
            case.results.setdefault(label, []).append(run([python, "-m", "tracectl", *case.argv], tree_env(tree)))
        peer = os.environ.get(case.peer_env, "") if case.peer_env else ""
        if peer:
            case.results.setdefault("peer", []).append(run([*shlex.split(peer), case.peer_arg], dict(os.environ)))


def report(all_cases: list[Case], trees: dict[str, Path]) -> None:
    print(
        "| work | spans | run | CPU s (median) | wall s (median) | peak RSS | RSS per span | CPU ÷ floor | CPU ÷ peer |"
    )
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for case in all_cases:
        peer = case.results.get("peer")
        for label in [*trees, "peer"]:
            runs = case.results.get(label)
            if not runs:
                continue
            cpu = statistics.median(r.cpu for r in runs)
            wall = statistics.median(r.wall for r in runs)
            rss = max(r.rss_mb for r in runs)
            per_span = f"{rss * 1024 / case.spans:.2f} KB" if case.spans else "—"
            floor = "—"
            if case.floors:  # the median ratio, and the rounds' range
                ratios = sorted(r.cpu / f for r, f in zip(runs, case.floors, strict=True))
                spread = f" ({ratios[0]:.2f}–{ratios[-1]:.2f})" if len(ratios) > 1 else ""
                floor = f"{statistics.median(ratios):.2f}×{spread}"
            vs_peer = (
                f"{statistics.median(r.cpu / p.cpu for r, p in zip(runs, peer, strict=True)):.2f}×"
                if peer and label != "peer" else "—"
            )  # fmt: skip
            shown = f"peer: {PEERS[case.peer_env]}" if label == "peer" else label
            print(f"| {case.name} | {case.spans:,} | {shown} | {cpu:.2f} | {wall:.2f} | {rss:.0f} MB | {per_span} "
                  f"| {floor} | {vs_peer} |")  # fmt: skip
        if case.floors:
            print(f"| {case.name} | | orjson.loads floor | {statistics.median(case.floors):.2f} | | | | | |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10x smaller inputs")
    parser.add_argument("--files", type=int, help="Jaeger files for the many-files case (default 10,000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "tracectl-bench-scale")
    parser.add_argument("--tree", action="append", default=[], metavar="LABEL=PATH",
                        help="another checkout timed in the same rounds (the commit before a change)")  # fmt: skip
    parser.add_argument("--only", help="run only the cases whose name contains this")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    files = args.files or 10_000 // scale
    paths, counts = prepare(args.workdir, 100_000 // scale, files)
    trees = {"tracectl": ROOT}
    for spec in args.tree:
        label, _, path = spec.partition("=")
        trees[f"tracectl ({label})"] = Path(path).resolve()
    chosen = [c for c in cases(paths, counts, files) if not args.only or args.only in c.name]
    for tree in trees.values():  # byte-code written before the first timed start, as an installed package has it
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "tracectl")], check=True)
    for _ in range(args.rounds):
        one_round(chosen, trees)
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}, {args.rounds} rounds")  # fmt: skip
    report(chosen, trees)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
