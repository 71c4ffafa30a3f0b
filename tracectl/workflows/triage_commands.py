"""The ``triage`` command that gives a result again: its windows as absolute ``--from/--to`` (UTC seconds), so a
report's "Reproduce" line means the same requests tomorrow, whichever way the windows were chosen (``--since``,
the metrics, an alert)."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from tracectl.timerange import go_duration, window_flags

if TYPE_CHECKING:
    from tracectl.workflows.triage import TriageOptions, TriageResult

DEFAULT_MAX_TRACES = 500  # triage's --max-traces default: said only when another was given


def reproduce_command(result: TriageResult, options: TriageOptions) -> str:
    """``tracectl triage …`` with what chose the traces, the suspects and the evidence of ``result``."""
    q = options.query
    parts = ["tracectl triage"]
    if q is None:
        parts += [shlex.quote(f) for f in options.files]
        parts += [f"--baseline {shlex.quote(f)}" for f in options.baseline_files]
    else:
        parts += [f"-s {shlex.quote(q.service)}"] if q.service else []
        parts += [f"--operation {shlex.quote(q.operation)}"] if q.operation else []
        parts.append(window_flags(q.time).strip())
        if options.baseline_query is not None:
            parts.append(window_flags(options.baseline_query.time, "baseline-").strip())
        parts += [f"--max-traces {q.limit}"] if q.limit != DEFAULT_MAX_TRACES else []
    if options.slo_ns is not None:
        parts.append(f"--slo {go_duration(options.slo_ns)}")
    parts += ["--errors"] if options.mode == "errors" else []
    parts += [f"--percentile {options.percentile:g}"] if options.percentile != 90.0 else []
    parts += [f"--by {options.by}"] if options.by != "service" else []
    parts += [f"--logs-file {shlex.quote(f)}" for f in options.logs_files]
    parts += ["--no-logs"] if not options.logs and not options.logs_files else []
    parts += ["--quality"] if options.quality else []
    parts += [f"--reference {shlex.quote(options.reference)}"] if options.reference else []
    return " ".join(parts)
