"""Turning ``drift``'s flags into ``DriftOptions``: the current window (or files) and the reference."""

from __future__ import annotations

import typer

from tracectl.backends.query import SearchQuery
from tracectl.cli.search_options import time_range
from tracectl.errors import InputError
from tracectl.timerange import baseline_range
from tracectl.workflows.drift import DriftOptions


def drift_options(
    ctx: typer.Context, traces: list[str] | None, service: str | None, operation: str | None, since: str | None,
    start: str | None, end: str | None, limit: int, reference: str | None, baseline_from: str | None,
    baseline_to: str | None, features: list[str] | None, predictions: list[str] | None, alpha: float,
) -> DriftOptions:  # fmt: skip
    from tracectl.cli.app import get_env

    if baseline_to and not baseline_from:
        raise InputError("--baseline-to needs --baseline-from")
    if reference and baseline_from:
        raise InputError("--reference and --baseline-from are two references: give one")
    checked_reference(reference)
    query = baseline_query = None
    if not traces:
        if not service:
            raise InputError("give --service (the model's service) or trace files")
        window = time_range(ctx, since, start, end)
        query = SearchQuery(time=window, service=service, operation=operation, limit=limit)
        if baseline_from:
            earlier = baseline_range(baseline_from, baseline_to, window, tz=get_env(ctx).tz)
            baseline_query = SearchQuery(time=earlier, service=service, operation=operation, limit=limit)
    elif baseline_from:
        raise InputError("--baseline-from works with a backend search (--service), not with trace files")
    return DriftOptions(
        service=service, operation=operation, query=query, files=list(traces or []), reference=reference,
        baseline_query=baseline_query, features=list(features or []), outputs=list(predictions or []), alpha=alpha,
    )  # fmt: skip


def checked_reference(reference: str | None) -> str | None:
    """``--reference``, whose name must say a table format: a wrong one fails before any search."""
    if reference:
        from pathlib import Path

        from tracectl.formats.table import table_kind

        table_kind(Path(reference))
    return reference
