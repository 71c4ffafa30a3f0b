"""``tracectl check`` at scale (issue 15; no target was set, these are reference figures).

    python benchmarks/bench_check.py            # a Markdown table on stdout
    python benchmarks/bench_check.py --quick    # smaller inputs (a smoke run)

The rules over the sandbox's ML-serving traces (24 spans each, 8 services), and the same traces with every
call into the feature store split off into a trace of its own (the propagation rule's worst case: every root
is matched against the other traces), in-process and as a fresh `tracectl check` process over one file.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import orjson

from tracectl.analysis.checks import check_traces
from tracectl.formats import otlp_json
from tracectl.model import Trace
from tracectl.sandbox import generate


def split_calls(traces: list[Trace], callee: str) -> list[Trace]:
    """Each trace with ``callee``'s spans moved to a trace of their own, as a dropped traceparent leaves them."""
    out = []
    for n, trace in enumerate(traces):
        lost_id = f"{n + 1:032x}"
        kept = [s for s in trace.spans if s.service != callee]
        lost = [replace(s, trace_id=lost_id, parent_span_id="" if s.parent_span_id not in
                        {x.span_id for x in trace.spans if x.service == callee} else s.parent_span_id)
                for s in trace.spans if s.service == callee]  # fmt: skip
        out.append(Trace(trace.trace_id, tuple(kept)))
        if lost:
            out.append(Trace(lost_id, tuple(lost)))
    return out


def timed(func) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    func()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    requests = 200 if parser.parse_args().quick else 2000
    healthy = generate("healthy", requests).traces
    broken = split_calls(healthy, "feature-store")
    print("| input | traces | spans | findings | check_traces | `tracectl check FILE` (fresh process) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for label, traces in (("healthy", healthy), ("feature-store split off", broken)):
            report = check_traces(traces)
            seconds = min(timed(lambda t=traces: check_traces(t)) for _ in range(3))
            path = Path(tmp) / f"{label.split()[0]}.json"
            path.write_bytes(orjson.dumps(otlp_json.dump_document(traces)))
            command = [sys.executable, "-m", "tracectl", "check", str(path), "-o", "json"]
            wall = min(timed(lambda c=command: subprocess.run(c, capture_output=True, check=True)) for _ in range(2))
            print(
                f"| {label} | {report.traces:,} | {report.spans:,} | {len(report.findings)} | {seconds:.2f} s "
                f"| {wall:.2f} s |"
            )


if __name__ == "__main__":
    main()
