"""The fault matrix (issue 11): tracectl against a server for every way a backend can misbehave.

    python benchmarks/bench_faults.py                 # 1 GB bodies, --timeout 10 (about a minute)
    python benchmarks/bench_faults.py --size-mb 256   # smaller bodies

Each cell runs ``tracectl`` as a fresh process against ``tests/hostile_server.py`` (a stdlib ThreadingHTTPServer on
127.0.0.1) and prints its exit code, wall time, peak RSS (the tracectl process alone, from ``wait4``) and the
one line it wrote to stderr. A cell passes when the exit code is the documented one, the command ended within
the deadline + 1 s, RSS stayed under 300 MB, stdout is empty on failure, and no credential reached another origin
or the terminal. The benchmark exits non-zero when a cell fails.
"""

from __future__ import annotations

import argparse
import base64
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import hostile_server as hs  # noqa: E402
from tracectl.formats import otlp_json, otlp_proto  # noqa: E402
from tracectl.sandbox.synth import ml_inference_trace  # noqa: E402

ML = ml_inference_trace(7)
TID = ML.trace_id
TRACE_PB = otlp_proto.dump_bytes([ML], tempo_response=True)
MB = 1 << 20
RSS_LIMIT_MB = 300
SECRETS = ("t0ken-s3cret", "hunter22", "alice:pa55word", base64.b64encode(b"alice:pa55word").decode())


@dataclass
class Cell:
    name: str
    expected: int
    args: list[str]
    routes: Callable[[hs.HostileServer, hs.HostileServer], None]  # (the backend, another origin)
    backend: str = "TEMPO_ADDR"


def cells(size: int, trace_file: Path) -> list[Cell]:
    v2, v1 = f"/api/v2/traces/{TID}", f"/api/traces/{TID}"
    hits = [{"traceID": f"{i + 1:x}", "durationMs": i % 997} for i in range(10_000)]
    evil = f"denied: Basic {SECRETS[3]} for alice:pa55word \x1b]0;pwned\x07\x1b[2J".encode()

    def route(path: str, behaviour: hs.Behaviour) -> Callable[[hs.HostileServer, hs.HostileServer], None]:
        return lambda a, _b: a.routes.__setitem__(path, behaviour)

    def other_origin(a: hs.HostileServer, b: hs.HostileServer) -> None:
        a.routes[v2] = hs.redirect(lambda: f"{b.url}{v2}", 307)
        b.routes[v2] = hs.answer(200, TRACE_PB, "application/protobuf")

    def tempo_slow(a: hs.HostileServer, _b: hs.HostileServer) -> None:
        a.routes[v2] = hs.slow(6, hs.answer(404, b"404 page not found", "text/plain"))
        a.routes[v1] = hs.slow(6, hs.answer(200, TRACE_PB, "application/protobuf"))

    def jaeger_slow(a: hs.HostileServer, _b: hs.HostileServer) -> None:
        a.routes[f"/api/v3/traces/{TID}"] = hs.slow(6, hs.answer(404, b"404 page not found", "text/plain"))
        a.routes[v1] = hs.slow(6, hs.answer(200, orjson.dumps({"data": []})))

    show, search = ["show", TID], ["search", "--traceql", "{}"]
    return [
        Cell(f"trace: {size // MB} MB body, chunked", 5, show, route(v2, hs.huge(size))),
        Cell(f"trace: {size // MB} MB body, length declared", 5, show, route(v2, hs.huge(size, chunked=False))),
        Cell(f"trace: gzip bomb ({size // MB} MB decoded)", 5, show, route(v2, hs.gzip_bomb(size))),
        Cell(f"search: {size // MB} MB body", 5, search, route("/api/search", hs.huge(size))),
        Cell(
            "search: 10,000 hits for --limit 20",
            0,
            [*search, "--limit", "20", "-o", "jsonl"],
            route("/api/search", hs.answer(200, orjson.dumps({"traces": hits}))),
        ),
        Cell(
            f"Loki page: {size // MB} MB body",
            5,
            ["logs", str(trace_file)],
            route(
                "/loki/api/v1/query_range",
                hs.huge(size, b'{"status":"success","data":{"resultType":"streams","result":[{"stream":{},"values":['),
            ),
            backend="LOKI_ADDR",
        ),
        Cell("trace: drips 1 byte/s", 3, show, route(v2, hs.drip(TRACE_PB, 1.0))),
        Cell("trace: headers never come", 3, show, route(v2, hs.silent(60))),
        Cell(
            "search: 429 forever, Retry-After: 2",
            5,
            [*search, "--concurrency", "1"],
            route("/api/search", hs.answer(429, b"slow down", "text/plain", Retry_After="2")),
        ),
        Cell("Tempo v2 -> v1 fall-through, 6 s each", 3, show, tempo_slow),
        Cell("Jaeger v3 -> v1 fall-through, 6 s each", 3, show, jaeger_slow, backend="JAEGER_ADDR"),
        Cell("trace: redirect to another origin", 0, [*show, "-o", "json"], other_origin),
        Cell("trace: redirect loop", 5, show, route(v2, hs.redirect(v2))),
        Cell("trace: gzip header on a plain body", 5, show, route(v2, hs.gzip_lie(TRACE_PB))),
        Cell(
            "search: right envelope, wrong inner types",
            5,
            search,
            route("/api/search", hs.answer(200, b'{"traces": [{"traceID": "ab", "durationMs": "slow"}]}')),
        ),
        Cell(
            "search: not JSON (an HTML page)",
            5,
            search,
            route("/api/search", hs.answer(200, b"<html>login</html>", "text/html")),
        ),
        Cell("trace: body cut short", 3, show, route(v2, hs.truncated(len(TRACE_PB), TRACE_PB[:100]))),
        Cell("trace: connection reset", 3, show, route(v2, hs.reset())),
        Cell(
            "search: 401 echoing credentials and escapes",
            5,
            search,
            route("/api/search", hs.answer(401, evil, "text/plain")),
        ),
    ]


@dataclass
class Outcome:
    code: int
    wall_s: float
    rss_mb: float
    stdout: bytes
    stderr: str


def run(args: list[str], env: dict[str, str], workdir: Path) -> Outcome:
    out, err = workdir / "stdout", workdir / "stderr"
    with out.open("wb") as o, err.open("wb") as e:
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "tracectl", *args], stdout=o, stderr=e, env=env)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Outcome(proc.returncode, wall, usage.ru_maxrss / 1024, out.read_bytes(), err.read_text(errors="replace"))


def judge(cell: Cell, o: Outcome, deadline: float, other: hs.HostileServer) -> list[str]:
    problems = []
    if o.code != cell.expected:
        problems.append(f"exit {o.code}, expected {cell.expected}")
    if o.wall_s > deadline + 1:
        problems.append(f"{o.wall_s:.1f} s > deadline + 1 s")
    if o.rss_mb > RSS_LIMIT_MB:
        problems.append(f"peak RSS {o.rss_mb:.0f} MB")
    if o.code != 0 and o.stdout:
        problems.append("stdout not empty")
    if any(s in o.stderr for s in SECRETS) or "\x1b" in o.stderr:
        problems.append("a credential or an escape sequence reached stderr")
    if any(k in s.headers for s in other.seen for k in ("authorization", "x-secret", "x-scope-orgid")):
        problems.append("credentials followed the redirect")
    rows = o.stdout.count(b"\n")
    if "limit 20" in cell.name and rows != 20:
        problems.append(f"{rows} rows for --limit 20")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="size of the huge bodies (default 1024)")
    parser.add_argument("--timeout", type=float, default=10.0, help="--timeout given to tracectl (default 10)")
    opts = parser.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        trace_file = workdir / "trace.json"
        trace_file.write_bytes(orjson.dumps(otlp_json.dump_document([ML])))
        print(f"Deadline {opts.timeout:g} s, bodies {opts.size_mb} MB, RSS limit {RSS_LIMIT_MB} MB\n")
        print("| fault | exit (expected) | wall time | peak RSS | stderr |")
        print("| --- | :---: | ---: | ---: | --- |")
        for cell in cells(opts.size_mb * MB, trace_file):
            with hs.HostileServer() as backend, hs.HostileServer() as other:
                cell.routes(backend, other)
                env = {
                    **os.environ,
                    "TRACECTL_CONFIG": str(workdir / "none.toml"),
                    "TEMPO_ADDR": "",
                    "JAEGER_ADDR": "",
                    "LOKI_ADDR": "",
                    cell.backend: backend.url,
                    "TRACECTL_TIMEOUT": f"{opts.timeout:g}",
                    "TRACECTL_RETRIES": "100" if "429" in cell.name else "4",
                    "TRACECTL_BEARER_TOKEN": SECRETS[0],
                    "TRACECTL_USERNAME": "alice",
                    "TRACECTL_PASSWORD": "pa55word",
                    "COLUMNS": "200",
                }
                args = ["-H", f"X-Secret={SECRETS[1]}", "--org-id", "team-a", *cell.args]
                outcome = run(args, env, workdir)
                problems = judge(cell, outcome, opts.timeout, other)
            failed += bool(problems)
            line = outcome.stderr.strip().splitlines()[-1] if outcome.stderr.strip() else ""
            mark = "✔" if not problems else "✗ " + "; ".join(problems)
            print(
                f"| {cell.name} | {outcome.code} ({cell.expected}) {mark} | {outcome.wall_s:.2f} s | "
                f"{outcome.rss_mb:.0f} MB | {line[:150].replace('|', '/')} |",
                flush=True,
            )
    print(f"\n{failed} cell(s) failed" if failed else "\nevery cell ended as documented")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
