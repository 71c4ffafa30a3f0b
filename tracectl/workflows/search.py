"""Find traces: the backend's search, with every cut it made stated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracectl.results import Result

if TYPE_CHECKING:
    from tracectl.backends.query import SearchQuery, SearchResult
    from tracectl.model import Trace
    from tracectl.workflows.search_slowest import SearchMethod
    from tracectl.workflows.session import Session
    from tracectl.workflows.sources import InputCounts


SEARCH_SCHEMA = "tracectl.search/v1"
SEARCH_CSV_COLUMNS = (
    "trace_id", "start_ns", "duration_ns", "duration_precision_ns", "root_service", "root_name", "span_count",
    "error_count", "matched",
)  # fmt: skip


@dataclass(slots=True)
class Found(Result, schema=SEARCH_SCHEMA, columns=SEARCH_CSV_COLUMNS):
    """A search's hits (slowest first) and everything that limits them."""

    query: SearchQuery
    result: SearchResult
    warnings: list[str] = field(default_factory=list)
    method: SearchMethod | None = None  # how the list was made (None: the backend's first matches, sorted)

    @property
    def trace_ids(self) -> list[str]:
        return [t.trace_id for t in self.result.traces]

    @property
    def order(self) -> str:
        return self.method.order if self.method else "slowest"


def search(session: Session, query: SearchQuery, result: SearchResult | None = None, order: str | None = None) -> Found:
    """Search the configured backend. ``order`` ``slowest``: the window's ``--limit`` longest traces, asked for
    with a bounded number of requests (``search_slowest.py``); ``recent``: the backend's first matches, newest
    first. Without ``order`` (sampling for triage, blame): one request (or its ``result``, already asked), the
    first matches sorted slowest first, and a full page said, because a backend returns the first N it finds."""
    if order is not None:
        return _ordered(session, query, order)
    result = result if result is not None else session.backend().search(query)
    found = Found(query, result, list(result.warnings))
    if len(result.traces) > query.limit:
        found.warnings.append(f"{result.backend} returned {len(result.traces)} traces for --limit {query.limit}; "
                              f"kept the {query.limit} slowest")  # fmt: skip
        result.traces = result.traces[: query.limit]
    elif len(result.traces) == query.limit and not result.limit_said:
        found.warnings.append(
            f"{query.limit} traces is the --limit: {result.backend} may hold more matches, and it returns the first it "
            "finds, not the slowest; raise --limit (or narrow --since/--min-duration) to see them"
        )
    for warning in found.warnings:
        session.warn(warning)
    return found


def _ordered(session: Session, query: SearchQuery, order: str) -> Found:
    from tracectl.errors import InputError
    from tracectl.workflows.search_slowest import ORDERS, find_recent, find_slowest

    if order not in ORDERS:
        raise InputError(f"--order must be one of {', '.join(ORDERS)}, not {order!r}")
    finder = find_slowest if order == "slowest" else find_recent
    result, method = finder(session.backend(), query)
    found = Found(query, result, list(result.warnings), method)
    for warning in found.warnings:
        session.warn(warning)
    if method.note not in found.warnings and (method.requests > 1 or not method.exact):
        session.info(method.note)  # one complete answer needs no comment
    return found


def fetch_window(
    session: Session, query: SearchQuery, warnings: list[str], counts: InputCounts | None = None
) -> list[Trace]:
    """Every trace a search finds, fetched in parallel; failures and cuts are appended to ``warnings``, and what
    was analysed and skipped added to ``counts``."""
    from tracectl.workflows.sources import fetch_ids

    found = search(session, query)
    warnings.extend(found.warnings)
    with session.progress(f"fetching {len(found.trace_ids)} traces") as update:
        loaded = fetch_ids(session, found.trace_ids, update)
    warnings.extend(loaded.warnings)
    if counts is not None:
        counts.add(loaded.counts)
    return loaded.traces
