"""``tracectl show TRACE --span ID``: one span whole — its attributes (resource, then span), events with their
offsets, links, status, its share of the critical path, and its log lines."""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from tracectl.analysis.tree_rows import TreeView, _log, jsonable, span_row
from tracectl.render.fit import Column, fitted_table
from tracectl.render.registry import Renderer
from tracectl.units import format_duration, format_timestamp

if TYPE_CHECKING:
    from rich.console import Console

    from tracectl.results import RenderOptions
    from tracectl.workflows.span_detail import SpanDetail


def span_document(view: TreeView, node: int, source: str) -> dict[str, Any]:
    """The span's row (``show -o json``'s, attributes included) with the events' offsets from the span's start,
    its critical-path share, where it sits (parent, children) and its log lines."""
    tree = view.tree
    row = span_row(view, node, full=True)
    start = tree.start[node]
    for event in row["events"]:
        event["offset_ns"] = event["time_ns"] - start
    length = view.analysis.path.length_ns
    parent = tree.parent[node]
    return {
        "source": source, **row, "cp_share": view.cp_ns[node] / length if length else 0.0, "cp_length_ns": length,
        "parent": _brief(view, parent) if parent >= 0 else None,
        "children": [_brief(view, c) for c in tree.children[node]],
        "logs": [_log(m) for m in view.logs.get(node, ())],
    }  # fmt: skip


def _brief(view: TreeView, node: int) -> dict[str, Any]:
    span = view.tree.spans[node]
    return {"span_id": view.tree.keys[node], "service": span.service, "name": span.name}


def span_detail_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per attribute, event and link: ``section`` is resource, span, event, event attribute or link."""
    base = {"trace_id": doc["trace_id"], "span_id": doc["span_id"]}
    rows = [
        {**base, "section": "resource", "offset_ns": None, "key": k, "value": v} for k, v in doc["resource"].items()
    ]
    rows += [{**base, "section": "span", "offset_ns": None, "key": k, "value": v} for k, v in doc["attributes"].items()]
    for e in doc["events"]:
        rows.append({**base, "section": "event", "offset_ns": e["offset_ns"], "key": e["name"], "value": None})
        rows += [{**base, "section": "event attribute", "offset_ns": e["offset_ns"], "key": k, "value": v}
                 for k, v in e["attributes"].items()]  # fmt: skip
    rows += [{**base, "section": "link", "offset_ns": None, "key": lk["trace_id"], "value": lk["span_id"]}
             for lk in doc["links"]]  # fmt: skip
    return rows


def render_span(view: TreeView, node: int, doc: dict[str, Any], console: Console, tz: tzinfo | None) -> None:
    from rich.text import Text

    from tracectl.render.logs_view import log_line_text

    tree = view.tree
    span = tree.spans[node]
    status = "error" + (f": {span.status_message}" if span.status_message else "") if span.is_error else doc["status"]
    console.print(Text.assemble(("Span ", "bold"), (doc["span_id"], "bold"), "  ", (span.service, "cyan"), " ",
                                (span.name, "bold"), f"  ({doc['kind']})"))  # fmt: skip
    console.print(Text(f"trace {tree.trace_id} · {doc['source']}", style="dim"))
    facts: list[tuple[str, str | Text]] = [
        ("status", Text(status, style="red" if span.is_error else "green" if status == "ok" else "")),
        ("start", f"{format_timestamp(doc['start_ns'], tz)} (+{format_duration(doc['offset_ns'])} into the trace)"),
        ("duration", f"{format_duration(doc['duration_ns'])} · self {format_duration(doc['self_ns'])}"),
        ("critical path", f"{format_duration(doc['cp_ns'])}, {doc['cp_share']:.1%} of the trace's "
                          f"{format_duration(doc['cp_length_ns'])}" if doc["cp_ns"] else "not on it"),
        ("parent", _name(doc["parent"]) if doc["parent"] else "(root)"),
        ("children", f"{len(doc['children'])}" + (f": {', '.join(_name(c) for c in doc['children'][:4])}"
                                                  + (" …" if len(doc["children"]) > 4 else "") if doc["children"]
                                                  else "")),
        ("scope", " ".join(p for p in (doc["scope"]["name"], doc["scope"]["version"]) if p) or "(none)"),
    ]  # fmt: skip
    if doc.get("marks"):
        facts.append(("explain", ", ".join(doc["marks"])))
    for label, value in facts:
        console.print(Text.assemble((f"{label:<14}", "bold"), " ", value))
    for title, attributes in (("resource attributes", doc["resource"]), ("span attributes", doc["attributes"])):
        _attributes(console, title, attributes)
    if doc["events"]:
        console.print(Text(f"\nevents ({len(doc['events'])})", style="bold"))
        rows = [(f"+{format_duration(e['offset_ns'])}", e["name"], _pairs(e["attributes"])) for e in doc["events"]]
        columns = (Column("offset", "right", keep=True), Column("event", flex=12), Column("attributes", flex=20))
        console.print(fitted_table(console, columns, rows))
    if doc["links"]:
        console.print(Text(f"\nlinks ({len(doc['links'])})", style="bold"))
        rows = [(lk["trace_id"], lk["span_id"], _pairs(lk["attributes"])) for lk in doc["links"]]
        columns = (Column("trace", keep=True), Column("span", keep=True), Column("attributes", flex=12, drop=1))
        console.print(fitted_table(console, columns, rows))
    lines = view.logs.get(node, [])
    if lines:
        console.print(Text(f"\nlog lines ({len(lines)})", style="bold"))
        for m in lines:
            console.print(log_line_text(m, tz, "  "), soft_wrap=True)
    elif view.logs:
        console.print(Text("\n(no log line of the trace belongs to this span)", style="dim"))
    else:
        console.print(Text("\n(no log lines: Loki not configured; --logs-file reads saved lines)", style="dim"))


def _name(brief: dict[str, Any]) -> str:
    return f"{brief['service']} {brief['name']}"


def _attributes(console: Console, title: str, attributes: dict[str, Any]) -> None:
    from rich.text import Text

    console.print(Text(f"\n{title} ({len(attributes)})", style="bold"))
    if attributes:
        rows = [(key, _value(value)) for key, value in sorted(attributes.items())]
        console.print(fitted_table(console, (Column("key", style="dim", flex=24), Column("value", flex=20)), rows))


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    import orjson

    return orjson.dumps(jsonable(value)).decode()


def _pairs(attributes: dict[str, Any]) -> str:
    return " ".join(f"{k}={_value(v)}" for k, v in attributes.items())


def _document(detail: SpanDetail) -> dict[str, Any]:
    return span_document(detail.view, detail.node, detail.source)


def _table(detail: SpanDetail, console: Console, opts: RenderOptions) -> None:
    render_span(detail.view, detail.node, _document(detail), console, opts.tz)


SPAN = Renderer(
    document=lambda detail, opts: {**_document(detail), "warnings": detail.warnings},
    rows=lambda detail, opts: span_detail_rows(_document(detail)),
    table=_table,
)
