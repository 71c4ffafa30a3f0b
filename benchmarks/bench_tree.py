"""The analysis's share of ``path`` and ``blame`` (issue 24 item 2), the reader excluded: CPU and memory of the work
after a trace is loaded, for a trace held as columns (what the column readers give) or as ``Span`` objects.

    python benchmarks/bench_tree.py path /tmp/tracectl-bench-scale/mixed-100000.otlp.json
    python benchmarks/bench_tree.py blame /tmp/tracectl-bench-scale/jaeger-10000 [--files 3000]

``path``: build the tree, walk the critical path and draw the path table (to /dev/null), once for CPU and once
under tracemalloc for the peak and what stays held, per span. ``blame``: ``analyse_trace(t).attribution`` per
trace (best of 5 rounds, the cyclic collector paused as ``build_tree`` pauses it), microseconds per trace.
Compare two checkouts by running each with its own ``PYTHONPATH``, in the same minutes (the machine is shared).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import tracemalloc
from pathlib import Path

from tracectl.analysis.analyse import analyse_trace
from tracectl.formats.detect import read_source
from tracectl.model import Trace


def held_as(trace: Trace, how: str) -> Trace:
    """A copy of ``trace`` holding only columns, or only ``Span`` objects."""
    return Trace.from_columns(trace.columns) if how == "columns" else Trace(trace.trace_id, trace.spans)


def path(file: str, how: str) -> None:
    from rich.console import Console

    from tracectl.render.path_view import render_path

    (loaded,) = read_source(file).traces
    for_cpu, for_memory = held_as(loaded, how), held_as(loaded, how)  # each run starts from the trace as loaded
    del loaded
    gc.collect()
    n = len(for_cpu)

    def work(trace: Trace) -> None:
        with Path(os.devnull).open("w") as sink:
            render_path(analyse_trace(trace), Console(file=sink, width=120, color_system=None), None, file)

    cpu = time.process_time()
    work(for_cpu)
    cpu = time.process_time() - cpu
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    work(for_memory)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"path, {n} spans held as {how}: {cpu:.3f} s CPU; peak {(peak - base) / n:.0f} B a span")


def blame(directory: str, how: str, files: int) -> None:
    names = sorted(str(p) for p in Path(directory).glob("*.json"))[:files]
    traces = [held_as(t, how) for name in names for t in read_source(name).traces]
    for t in traces:
        _ = t.columns if how == "columns" else t.spans
    gc.collect()
    gc.disable()
    best = float("inf")
    for _ in range(5):
        cpu = time.process_time()
        for t in traces:
            _ = analyse_trace(t).attribution
        best = min(best, time.process_time() - cpu)
    gc.enable()
    print(f"blame, {len(traces)} traces held as {how}: {best / len(traces) * 1e6:.0f} µs a trace (analysis)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("path", "blame"))
    parser.add_argument("input")
    parser.add_argument("--held-as", choices=("columns", "spans"), default="columns")
    parser.add_argument("--files", type=int, default=3000)
    args = parser.parse_args()
    if args.what == "path":
        path(args.input, args.held_as)
    else:
        blame(args.input, args.held_as, args.files)


if __name__ == "__main__":
    sys.exit(main())
