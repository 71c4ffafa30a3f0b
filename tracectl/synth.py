"""Moved to :mod:`tracectl.sandbox.synth` (issue 27: the sandbox is a leaf). This re-export keeps
``tracectl/sandbox/workload.py``'s import working until that file, changed on another branch, imports the new
path; then this module goes (tests/test_layers.py lists it in its allowlist, which fails once it is gone)."""

from __future__ import annotations

from tracectl.sandbox.synth import MS, US, TraceBuilder, _stretch

__all__ = ["MS", "US", "TraceBuilder", "_stretch"]
