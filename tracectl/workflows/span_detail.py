"""``tracectl show TRACE --span ID``: one span of a trace, whole, with its log lines when logs can be had."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracectl.results import Result

if TYPE_CHECKING:
    from tracectl.analysis.tree_rows import TreeView
    from tracectl.workflows.session import Session


SPAN_SCHEMA = "tracectl.span/v1"
SPAN_DETAIL_CSV_COLUMNS = ("trace_id", "span_id", "section", "offset_ns", "key", "value")


@dataclass(slots=True)
class SpanDetail(Result, schema=SPAN_SCHEMA, columns=SPAN_DETAIL_CSV_COLUMNS):
    source: str
    view: TreeView
    node: int
    warnings: list[str] = field(default_factory=list)


def span_detail(
    session: Session | None, trace: str, span_id: str, *, trace_id: str | None = None,
    logs_files: list[str] | None = None,
) -> SpanDetail:  # fmt: skip
    """The span ``span_id`` (hex, any case; a duplicate's node key such as ``…#2`` too) of ``trace``; its log
    lines from ``logs_files``, else from Loki when one is configured."""
    from tracectl.errors import InputError
    from tracectl.workflows.inspect import show

    wanted = span_id.strip().lower()
    loki = session is not None and bool(getattr(session.settings, "loki_url", None))
    shown = show(session, trace, trace_id=trace_id, logs=loki, logs_files=logs_files)
    for view in shown.views:
        tree = view.tree
        for node in view.order:
            if tree.keys[node].lower() == wanted or tree.spans[node].span_id.lower() == wanted:
                return SpanDetail(shown.source, view, node, shown.warnings)
    raise InputError(f"span {span_id} is not in {shown.source}")
