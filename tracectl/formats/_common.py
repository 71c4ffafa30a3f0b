"""Helpers shared by the readers and writers: OTLP enum names, grouping spans for writing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from tracectl.model import Link, Resource, Scope, Span, SpanKind, StatusCode

# Jaeger's convention for carrying OpenTracing reference types through OTLP links.
REF_TYPE_KEY = "opentracing.ref_type"
FOLLOWS_FROM = "follows_from"

KINDS: dict[Any, SpanKind] = {}
for _k in SpanKind:
    KINDS[int(_k)] = _k
    KINDS[f"SPAN_KIND_{_k.name}"] = _k
    KINDS[_k.name.lower()] = _k

STATUSES: dict[Any, StatusCode] = {}
for _s in StatusCode:
    STATUSES[int(_s)] = _s
    STATUSES[f"STATUS_CODE_{_s.name}"] = _s
    STATUSES[_s.name] = _s


def enum_value(table: dict[Any, Any], raw: Any) -> Any:
    """The enum member ``raw`` names (an integer or a name), or None; never confused by a boolean or a list."""
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        return None
    return table.get(raw)


def freeze(value: Any) -> Any:
    """A hashable stand-in for an attribute value, to compare resources by value."""
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return (type(value).__name__, value)


def group_for_writing(spans: Iterable[Span]) -> Iterator[tuple[Resource, Scope, list[Span]]]:
    """Group spans by (resource, scope) by value, in first-seen order, as OTLP batches them."""
    resource_keys: dict[int, Any] = {}
    groups: dict[tuple[Any, Scope], tuple[Resource, list[Span]]] = {}
    for span in spans:
        rid = id(span.resource)
        rkey = resource_keys.get(rid)
        if rkey is None:
            rkey = resource_keys[rid] = freeze(span.resource.attributes)
        key = (rkey, span.scope)
        entry = groups.get(key)
        if entry is None:
            groups[key] = (span.resource, [span])
        else:
            entry[1].append(span)
    for (_, scope), (resource, group) in groups.items():
        yield resource, scope, group


def split_async_parent(trace_id: str, parent: str, links: tuple[Link, ...]) -> tuple[bool, tuple[Link, ...]]:
    """OTLP has no FOLLOWS_FROM: an async parent travels as a link to the parent marked follows_from.
    Returns (is the parent async, the links without that marker link)."""
    if not (parent and links):
        return False, links
    kept = tuple(
        lk
        for lk in links
        if not (lk.span_id == parent and lk.trace_id == trace_id and lk.attributes.get(REF_TYPE_KEY) == FOLLOWS_FROM)
    )
    return len(kept) != len(links), kept


def links_for_otlp(span: Span) -> list[Link]:
    """The span's links as OTLP carries them: with the async-parent marker link first when needed."""
    links = list(span.links)
    if span.follows_from and span.parent_span_id:
        links.insert(0, Link(span.trace_id, span.parent_span_id, {REF_TYPE_KEY: FOLLOWS_FROM}))
    return links
