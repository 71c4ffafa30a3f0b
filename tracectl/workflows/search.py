"""Find traces: the backend's search, with every cut it made stated."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from tracectl.render.search_view import SEARCH_CSV_COLUMNS, SEARCH_SCHEMA, render_search, search_rows

if TYPE_CHECKING:
    from rich.console import Console

    from tracectl.backends.query import SearchQuery, SearchResult
    from tracectl.model import Trace
    from tracectl.render.emit import RenderOptions
    from tracectl.workflows.session import Session
    from tracectl.workflows.sources import InputCounts


@dataclass(slots=True)
class Found:
    """A search's hits (slowest first) and everything that limits them."""

    schema: ClassVar[str] = SEARCH_SCHEMA
    columns: ClassVar[tuple[str, ...]] = SEARCH_CSV_COLUMNS

    query: SearchQuery
    result: SearchResult
    warnings: list[str] = field(default_factory=list)

    @property
    def trace_ids(self) -> list[str]:
        return [t.trace_id for t in self.result.traces]

    def document(self, opts: RenderOptions) -> dict[str, Any]:
        return {
            "backend": self.result.backend, "query": self.result.query, "start_ns": self.query.time.start_ns,
            "end_ns": self.query.time.end_ns, "limit": self.query.limit, "traces": search_rows(self.result),
            "warnings": self.warnings,
        }  # fmt: skip

    def rows(self, opts: RenderOptions) -> Iterable[Mapping[str, Any]]:
        return search_rows(self.result)

    def table(self, console: Console, opts: RenderOptions) -> None:
        render_search(self.result, console, opts.tz)


def search(session: Session, query: SearchQuery, result: SearchResult | None = None) -> Found:
    """Search the configured backend (or take its ``result``, already asked). More hits than ``--limit`` are cut
    (and said); a full page is said too, because a backend returns the first N it finds, not the slowest N."""
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
