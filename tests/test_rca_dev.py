"""The guard on what users rely on most: on real labelled faults (``../shared/rca-dev``), ``tracectl diff`` with the
log files names the injected service first. ``benchmarks/bench_rca.py`` prints the same cases as a table (and runs
each in a fresh process); this test runs them in-process and fails when a change to the ranking loses cases.

Nezha (11 fault injections on two microservice systems): the injected service (or an edge into it) first in at
least 10. The real OpenTelemetry SDK case (otel-fastapi, slow against normal requests): right."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench_rca import nezha_cases, otel_case, rank_of
from tests.conftest import SHARED, require
from tracectl.render.emit import document
from tracectl.workflows.diff import diff

RCA_DEV = SHARED / "rca-dev"
NEZHA_CASES, NEZHA_FIRST_AT_LEAST = 11, 10


def first_suspect_rank(a: Path, b: Path, logs: list[Path], service: str) -> tuple[int | None, str]:
    doc = document(diff(None, str(a), str(b), logs_files=[str(f) for f in logs]))
    top = doc["suspects"][0]["component"] if doc["suspects"] else "(none)"
    return rank_of(doc, service), top


@pytest.fixture(scope="module")
def rca_dev() -> Path:
    require((RCA_DEV / "nezha").is_dir(), f"the labelled root-cause cases ({RCA_DEV})", "../shared/rca-dev")
    return RCA_DEV


def test_the_injected_service_is_first_in_at_least_10_of_the_11_nezha_cases(rca_dev: Path) -> None:
    cases = nezha_cases(rca_dev)
    assert len(cases) == NEZHA_CASES, [c[0] for c in cases]
    outcome = {}
    for name, truth, a, b, logs in cases:
        outcome[name] = (truth["service"], *first_suspect_rank(a, b, logs, truth["service"]))
    first = [name for name, (_, at, _) in outcome.items() if at == 1]
    missed = {name: f"{service} at {at or '-'}, first {top}" for name, (service, at, top) in outcome.items() if at != 1}
    assert len(first) >= NEZHA_FIRST_AT_LEAST, missed


def test_the_real_sdk_case_names_the_stalled_service(rca_dev: Path, tmp_path: Path) -> None:
    case = otel_case(rca_dev, tmp_path)
    require(case is not None, "the otel-fastapi case", f"{rca_dev / 'otel-fastapi'}")
    assert case is not None
    _, truth, normal, slow, logs = case
    at, top = first_suspect_rank(normal, slow, logs, truth["service"])
    assert at == 1, f"{truth['service']} at {at or '-'}, first {top}"
