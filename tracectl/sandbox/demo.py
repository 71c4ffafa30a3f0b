"""The demo's flow: start the sandbox with a scenario, triage it like a user would, stop the sandbox."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tracectl.workflows.triage import TriageOptions, TriageResult


def run_demo(
    scenario: str, backend: str, requests: int, announce: Callable[[str], None] | None = None,
    show_metrics: Callable[[Any], None] | None = None, show_slos: Callable[[Any], None] | None = None,
    **callbacks: Any,
) -> TriageResult:  # fmt: skip
    """Triage ``scenario`` served by a fresh sandbox as ``backend`` (tempo or jaeger). The user's own settings
    and environment are ignored: the session talks only to the sandbox. With ``show_metrics``, the sandbox's
    metrics are read first (``tracectl metrics``) and handed to it: the spike, when it began, what lined up. With
    ``show_slos``, before that, the status of the sandbox's SLOs (examples/slo/ml-serving.sloth.yml): what burns."""
    from tracectl.backends.query import SearchQuery
    from tracectl.config import Settings
    from tracectl.sandbox import start_sandbox
    from tracectl.sandbox.recommender import write_reference
    from tracectl.timerange import resolve_range
    from tracectl.workflows.session import Session
    from tracectl.workflows.triage import triage

    servers, workload = start_sandbox(scenario, requests, end_ns=time.time_ns())
    try:
        settings = Settings(backend=backend, tempo_url=servers.tempo_url, jaeger_url=servers.jaeger_url,
                            loki_url=servers.loki_url, prometheus_url=servers.prometheus_url)  # fmt: skip
        if announce is not None:
            announce(servers.tempo_url if backend == "tempo" else servers.jaeger_url)
        # The sandbox holds exactly `requests` traces: a higher limit reads them all without a "limit reached" note.
        query = SearchQuery(time=resolve_range("35m", None, None), service="api-gateway", limit=requests + 100)
        with Session(settings, **callbacks) as session, tempfile.TemporaryDirectory(prefix="tracectl-demo-") as tmp:
            reference = Path(tmp) / "train.csv"  # the recommender's training data, as a user would pass it
            write_reference(reference)
            if show_slos is not None:
                from tracectl.sandbox.labels import write_labels
                from tracectl.sandbox.slos import SPEC_NAME, SPEC_TEXT
                from tracectl.slo.spec import parse_spec_text
                from tracectl.workflows.slo import SloStatusRequest, slo_status

                # The spec's labels_file is beside it: the labelled sample of these requests, as a team keeps one.
                spec = Path(tmp) / Path(SPEC_NAME).name
                write_labels(spec.parent / "labels.jsonl", workload)
                slos = parse_spec_text(SPEC_TEXT, str(spec))
                show_slos(slo_status(session, SloStatusRequest(slos, history_ns=query.time.duration_ns)))
            if show_metrics is not None:
                from tracectl.workflows.metrics import MetricsRequest, metrics

                show_metrics(metrics(session, MetricsRequest("api-gateway", query.time)))
            result = triage(session, TriageOptions(query=query, reference=str(reference)))
    finally:
        servers.stop()
    result.commands = []
    return result
