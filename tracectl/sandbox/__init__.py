"""The sandbox: a simulated ML serving system behind Tempo-, Jaeger- and Loki-compatible APIs on loopback.

Its names are imported on first use (PEP 562), so that ``python -m tracectl.sandbox.synth`` runs the module once,
not after the package has already imported it through the workload."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracectl.sandbox.server import Fault, SandboxServers
    from tracectl.sandbox.store import Store
    from tracectl.sandbox.workload import SCENARIOS, Scenario, Workload, generate

__all__ = ["SCENARIOS", "Fault", "SandboxServers", "Scenario", "Store", "Workload", "generate", "start_sandbox"]

_LAZY = {
    "Fault": "tracectl.sandbox.server",
    "SandboxServers": "tracectl.sandbox.server",
    "Store": "tracectl.sandbox.store",
    "SCENARIOS": "tracectl.sandbox.workload",
    "Scenario": "tracectl.sandbox.workload",
    "Workload": "tracectl.sandbox.workload",
    "generate": "tracectl.sandbox.workload",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def start_sandbox(
    scenario: str = "healthy",
    requests: int = 300,
    seed: int = 42,
    end_ns: int | None = None,
    faults: dict[str, Fault] | None = None,
) -> tuple[SandboxServers, Workload]:
    """Generate a scenario's workload, load it, and start the servers (stop them with ``.stop()``)."""
    from tracectl.sandbox.server import SandboxServers
    from tracectl.sandbox.store import Store
    from tracectl.sandbox.workload import generate

    workload = generate(scenario, requests, seed, end_ns)
    store = Store()
    store.add_traces(workload.traces)
    store.add_logs(workload.logs)
    return SandboxServers(store, faults).start(), workload
