"""The sandbox: a simulated ML serving system behind Tempo-, Jaeger- and Loki-compatible APIs on loopback."""

from __future__ import annotations

from tracectl.sandbox.server import Fault, SandboxServers
from tracectl.sandbox.store import Store
from tracectl.sandbox.workload import SCENARIOS, Scenario, Workload, generate

__all__ = ["SCENARIOS", "Fault", "SandboxServers", "Scenario", "Store", "Workload", "generate", "start_sandbox"]


def start_sandbox(
    scenario: str = "healthy",
    requests: int = 300,
    seed: int = 42,
    end_ns: int | None = None,
    faults: dict[str, Fault] | None = None,
) -> tuple[SandboxServers, Workload]:
    """Generate a scenario's workload, load it, and start the servers (stop them with ``.stop()``)."""
    workload = generate(scenario, requests, seed, end_ns)
    store = Store()
    store.add_traces(workload.traces)
    store.add_logs(workload.logs)
    return SandboxServers(store, faults).start(), workload
