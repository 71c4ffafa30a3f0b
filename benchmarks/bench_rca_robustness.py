"""Does the root-cause verdict hinge on one sample or one setting? Every Nezha case of ../shared/rca-dev, in-process:

    python benchmarks/bench_rca_robustness.py [--data ../shared/rca-dev] [--seeds 4]

Rows: the cases as they are; random halves of both sets (per seed); each case's fault minute against another
day's baseline of the same system (its own log lines with it); and the ranking's constants across their
plausible range (the effect size that keeps a whole share; the truncation rule's thresholds). Each row prints
top-1 over the cases and the rank of the injected service per case (- = not among the suspects).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracectl.analysis import excess, truncation
from tracectl.analysis.analyse import TraceAnalysis, analyse_trace
from tracectl.analysis.compare import diff_sets
from tracectl.backends.logfiles import read_log_files
from tracectl.workflows.sources import load_many


@dataclass
class Case:
    name: str
    truth: dict[str, Any]
    day: str
    baseline: list[TraceAnalysis]
    fault: list[TraceAnalysis]
    baseline_logs: Path | None
    fault_logs: Path | None


def load(root: Path) -> list[Case]:
    out = []
    for folder in sorted(p for p in (root / "nezha").iterdir() if (p / "truth.json").exists()):

        def traces(name: str, folder: Path = folder) -> list[TraceAnalysis]:
            return [analyse_trace(t) for t in load_many([str(folder / name)], None).traces]

        logs = [folder / f if (folder / f).exists() else None for f in ("baseline.logs.json.gz", "fault.logs.json.gz")]
        day = "-".join(folder.name.split("-")[1:4])
        out.append(Case(folder.name, json.loads((folder / "truth.json").read_text()), day,
                        traces("baseline.json.gz"), traces("fault.json.gz"), logs[0], logs[1]))  # fmt: skip
    return out


def rank_of(
    baseline: list[TraceAnalysis], fault: list[TraceAnalysis], logs: list[Path | None], service: str
) -> int | None:
    files = [str(p) for p in logs if p is not None]
    result = diff_sets(baseline, fault, read_log_files(files) if files else None)
    scored = [s for s in result.ranking.suspects if s.score > 0]
    return next((i for i, s in enumerate(scored, 1) if s.component.rsplit(" → ", 1)[-1] == service), None)


def row(label: str, cases: list[Case], pick: Callable[[Case], int | None]) -> None:
    ranks = [pick(c) for c in cases]
    shown = " ".join("-" if r is None else str(r) for r in ranks)
    print(f"| {label} | {sum(r == 1 for r in ranks)}/{len(ranks)} | {shown} |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "rca-dev"))
    parser.add_argument("--seeds", type=int, default=4)
    opts = parser.parse_args()
    cases = load(Path(opts.data))
    print("| variation | top-1 | rank of the injected service per case |")
    print("| --- | ---: | --- |")

    def as_is(c: Case) -> int | None:
        return rank_of(c.baseline, c.fault, [c.baseline_logs, c.fault_logs], c.truth["service"])

    row("as is", cases, as_is)
    for seed in range(opts.seeds):

        def half(c: Case, seed: int = seed) -> int | None:
            rnd = random.Random(seed)
            a, b = rnd.sample(c.baseline, len(c.baseline) // 2), rnd.sample(c.fault, len(c.fault) // 2)
            return rank_of(a, b, [c.baseline_logs, c.fault_logs], c.truth["service"])

        row(f"random halves, seed {seed}", cases, half)

    def other_day(c: Case) -> int | None:
        other = next((o for o in cases if o.truth["system"] == c.truth["system"] and o.day != c.day), None)
        if other is None:
            return as_is(c)
        return rank_of(other.baseline, c.fault, [other.baseline_logs, c.fault_logs], c.truth["service"])

    row("another day's baseline (its logs)", cases, other_day)
    for value in (0.3, 0.7, 1.0):
        excess.EFFECT_LARGE = value
        row(f"EFFECT_LARGE = {value}", cases, as_is)
    excess.EFFECT_LARGE = 0.5
    saved = truncation.MIN_CALLS, truncation.CUT, truncation.USUAL_CALL
    for calls, cut, usual in itertools.product((3, 10), (0.3, 0.7), (0.3, 0.7)):
        truncation.MIN_CALLS, truncation.CUT, truncation.USUAL_CALL = calls, cut, usual
        row(f"truncation MIN_CALLS={calls} CUT={cut} USUAL_CALL={usual}", cases, as_is)
    truncation.MIN_CALLS, truncation.CUT, truncation.USUAL_CALL = saved
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
