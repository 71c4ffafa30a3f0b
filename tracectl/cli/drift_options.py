"""Turning ``drift``'s flags into ``DriftOptions``: the current window (or files) and the reference."""

from __future__ import annotations

import typer

from tracectl.cli.search_options import windows
from tracectl.errors import InputError
from tracectl.workflows.drift import DriftOptions


def drift_options(
    ctx: typer.Context, traces: list[str] | None, service: str | None, operation: str | None, since: str | None,
    start: str | None, end: str | None, limit: int, reference: str | None, baseline_from: str | None,
    baseline_to: str | None, features: list[str] | None, predictions: list[str] | None, alpha: float,
) -> DriftOptions:  # fmt: skip
    if reference and baseline_from:
        raise InputError("--reference and --baseline-from are two references: give one")
    checked_reference(reference)
    query, baseline_query = windows(ctx, traces, service, operation, since, start, end, limit, baseline_from,
                                    baseline_to, "the model's service")  # fmt: skip
    return DriftOptions(
        service=service, operation=operation, query=query, files=list(traces or []), reference=reference,
        baseline_query=baseline_query, features=list(features or []), outputs=list(predictions or []), alpha=alpha,
    )  # fmt: skip


def checked_reference(reference: str | None) -> str | None:
    """``--reference``, whose name must say a table format: a wrong one fails before any search."""
    if reference:
        from pathlib import Path

        from tracectl.formats.training_data import table_kind

        table_kind(Path(reference))
    return reference
