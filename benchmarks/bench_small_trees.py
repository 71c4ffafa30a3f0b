"""The fixed cost of analysing a small trace: ``analyse_trace(t, key).attribution`` and its stages, microseconds a
trace (best of 7 timeit repeats, the cyclic collector off), on 6, 24 and 100 spans.

    python benchmarks/bench_small_trees.py /tmp/tracectl-bench-scale/jaeger-10000

24 spans: the first Jaeger file of ``bench_scale.py``'s blame workload (what ``blame DIR`` does per file, issue 24);
6 spans: the first six of it in depth-first order; 100 spans: ``mixed_trace(100)`` held as columns. The stages are
timed on a tree already built (so ``whole`` is more than their sum: it also builds, and its data is colder).
Compare two checkouts by running each with its own ``PYTHONPATH``, in the same minutes (the machine is shared).
"""

from __future__ import annotations

import gc
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

from tracectl.analysis.analyse import analyse_trace
from tracectl.analysis.attribution import attribute_nodes, parse_key
from tracectl.analysis.critical_path import path_times
from tracectl.analysis.selftime import self_times
from tracectl.analysis.tree import build_tree
from tracectl.formats.detect import read_source
from tracectl.model import Trace
from tracectl.sandbox.synth import mixed_trace


def best(work: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(work, number=number, repeat=7)) / number * 1e6


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    (t24,) = read_source(str(min(Path(sys.argv[1]).glob("*.json")))).traces
    first = build_tree(t24).preorder()[:6]
    cases = {
        "6 spans": Trace.from_columns(Trace(t24.trace_id, [t24.spans[i] for i in first]).columns),
        "24 spans": t24,
        "100 spans": Trace.from_columns(mixed_trace(100).columns),
    }
    key = parse_key("service")
    gc.disable()
    for name, trace in cases.items():
        tree = build_tree(trace)
        own, (cp, length) = self_times(tree), path_times(tree)
        number = 2000 if len(trace) < 50 else 500
        stages = {
            "whole": best(lambda t=trace: analyse_trace(t, key).attribution, number),
            "build_tree": best(lambda t=trace: build_tree(t), number),
            "self_times": best(lambda t=tree: self_times(t), number),
            "path_times": best(lambda t=tree: path_times(t), number),
            "attribute_nodes": best(lambda t=tree, o=own, c=cp, n=length: attribute_nodes(t, key, o, c, n), number),
        }
        print(f"{name:10} " + "  ".join(f"{k} {v:6.1f}" for k, v in stages.items()) + "  (µs)")


if __name__ == "__main__":
    main()
