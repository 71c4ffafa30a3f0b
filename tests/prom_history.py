"""Every sandbox scenario's metrics in ONE real Prometheus: each scenario in its own window, two hours apart,
backfilled with promtool (tracectl.sandbox.real_prometheus). Built once per test session (conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass

from tests.conftest import require
from tracectl.sandbox import SCENARIOS, Store, generate
from tracectl.sandbox.prom_api import PromSource
from tracectl.sandbox.promseries import SeriesDB
from tracectl.sandbox.real_prometheus import RealPrometheus, available
from tracectl.sandbox.workload import Workload

REQUESTS = 300
SEED = 42
FIRST_END_NS = 1_763_972_400_000_000_000  # 2025-11-24T08:20Z
APART_NS = 2 * 3600 * 10**9


@dataclass
class History:
    url: str
    workloads: dict[str, Workload]
    stores: dict[str, Store]


def scenario_store(name: str, index: int) -> tuple[Workload, Store]:
    workload = generate(name, REQUESTS, SEED, end_ns=FIRST_END_NS + index * APART_NS)
    store = Store()
    store.add_traces(workload.traces)
    return workload, store


def start_history() -> tuple[RealPrometheus, History]:
    """A real Prometheus over every scenario's series, as the sandbox's own Prometheus computes them."""
    require(available(), "prometheus/promtool", "apt-get install prometheus; .ci/run installs Debian's")
    db = SeriesDB()
    workloads, stores = {}, {}
    for i, name in enumerate(SCENARIOS):
        workloads[name], stores[name] = scenario_store(name, i)
        db.extend(PromSource(stores[name]).db())
    server = RealPrometheus(db).start()
    return server, History(server.url, workloads, stores)
