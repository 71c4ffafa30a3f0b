"""The readers' fast path: one pass from parsed JSON to spans, for data shaped as exporters write it.

The checked readers (``otlp_json._span``, ``jaeger_json._span``) read every value through the typed reads of
``tracectl.formats.typed``, which name the JSON path of anything wrong; a span then costs a walk over its values
to check them and another to build it. Here the type checks are fused into the decoding, inline, for the shapes
real writers produce. On anything else (a wrong type, an unusual encoding, a missing field, events or links) the
fast path gives up on that span (returns None) and the checked reader reads it, so an error, and every value
read, is the checked reader's: ``tests/test_fastpath.py`` reads every fixture and a few thousand broken copies
both ways and compares.

What the fast path saves besides the second walk: IDs are normalised once per distinct string (a span ID comes
back as its children's parent ID), and repeated short strings (span names, attribute keys and values, most of a
trace's text) are shared rather than held once per span.
"""

from __future__ import annotations

from typing import Any

from tracectl.formats._common import KINDS, STATUSES
from tracectl.formats.typed import INT64_MAX, INT64_MIN
from tracectl.ids import InvalidId, normalize_parent_id, normalize_span_id, normalize_trace_id
from tracectl.model import EMPTY_SCOPE, AttrValue, Resource, Scope, Span, StatusCode

ENABLED = True  # tests switch it off to compare with the checked readers
GIVE_UP = -1  # what ``uint`` returns for a value the fast path leaves to the checked reader
_NO_SCOPE = ("", "")
_SHARED_MAX = 64  # strings up to this length are shared (names, keys, enum-like values); longer ones rarely repeat


class Memo:
    """What one read shares across its spans: normalised IDs by their wire form, and repeated strings."""

    __slots__ = ("scopes", "span_ids", "strings")

    def __init__(self) -> None:
        self.span_ids: dict[str, str] = {}
        self.strings: dict[str, str] = {}
        self.scopes: dict[tuple[str, str], Scope] = {_NO_SCOPE: EMPTY_SCOPE}  # immutable: one for every read

    def span_id(self, raw: Any) -> str | None:
        """The normalised span ID, or None (not a string, or not an ID: the checked reader says why)."""
        out = self.span_ids.get(raw) if type(raw) is str else None
        if out is None:
            if type(raw) is not str or not raw:
                return None
            try:
                out = normalize_span_id(raw)
            except InvalidId:
                return None
            self.span_ids[raw] = out
        return out

    def parent_id(self, raw: Any) -> str | None:
        """The normalised parent ID ("" for none), or None to give up."""
        if raw is None or raw == "":
            return ""
        out = self.span_ids.get(raw) if type(raw) is str else None
        if out is not None:
            return out
        if type(raw) is not str:
            return None
        try:
            out = normalize_parent_id(raw)
        except InvalidId:
            return None
        if out:  # the same as normalize_span_id would give: the parent's own span ID will find it
            self.span_ids[raw] = out
        return out

    def share(self, text: str) -> str:
        if len(text) > _SHARED_MAX:
            return text
        return self.strings.setdefault(text, text)

    def scope(self, name: str, version: str) -> Scope:
        key = (name, version)
        scope = self.scopes.get(key)
        if scope is None:
            scope = self.scopes[key] = Scope(name, version)
        return scope


def trace_id(raw: Any) -> str | None:
    if type(raw) is not str or not raw:
        return None
    try:
        return normalize_trace_id(raw)  # memoised there: every span of a trace repeats it
    except InvalidId:
        return None


def uint(value: Any, hi: int = INT64_MAX) -> int:
    """A non-negative integer up to ``hi`` as protobuf JSON (a decimal string) or JSON (a number) writes it, else
    ``GIVE_UP``."""
    if type(value) is str:
        if 0 < len(value) <= 19 and value.isascii() and value.isdecimal():
            out = int(value)
            return out if out <= hi else GIVE_UP
        return GIVE_UP
    if type(value) is int and 0 <= value <= hi:
        return value
    return GIVE_UP


def _int64(value: Any) -> int | None:
    if type(value) is int:
        return value if INT64_MIN <= value <= INT64_MAX else None
    if type(value) is str and 0 < len(value) <= 18 and value.isascii() and value.isdecimal():
        return int(value)
    return None


_OTLP_TYPES = {"stringValue": "string", "intValue": "int", "boolValue": "bool", "doubleValue": "double"}
_JAEGER_TYPES = {None: "string", "string": "string", "int64": "int", "bool": "bool", "float64": "double"}


def _scalar(kind: str | None, v: Any, memo: Memo) -> AttrValue | None:
    """A value of one of the scalar types both wires share ("string", "int", "bool", "double"), as the checked
    readers read it; None to give up (no scalar attribute value is ever None)."""
    if kind == "string":
        return memo.share(v) if type(v) is str else None
    if kind == "int":
        return _int64(v)
    if kind == "bool":
        return v if type(v) is bool else None
    if kind == "double":
        return v if type(v) is float else float(v) if type(v) is int else None
    return None


def otlp_attributes(items: Any, memo: Memo) -> dict[str, AttrValue] | None:
    """OTLP ``KeyValue`` list → dict, for scalar values; None to give up (arrays, maps, bytes, anything odd)."""
    if items is None:
        return {}
    if type(items) is not list:
        return None
    out: dict[str, AttrValue] = {}
    for kv in items:
        if type(kv) is not dict:
            return None
        key = kv.get("key")
        value = kv.get("value")
        if type(key) is not str or type(value) is not dict or len(value) != 1:
            return None
        ((which, v),) = value.items()
        typed = _scalar(_OTLP_TYPES.get(which), v, memo)
        if typed is None:
            return None
        out[memo.share(key)] = typed
    return out


def jaeger_tags(items: Any, memo: Memo) -> dict[str, AttrValue] | None:
    """Jaeger tags → dict, for the types as Jaeger writes them; None to give up (binary, odd spellings)."""
    if items is None:
        return {}
    if type(items) is not list:
        return None
    out: dict[str, AttrValue] = {}
    for tag in items:
        if type(tag) is not dict:
            return None
        key = tag.get("key")
        kind = tag.get("type")
        if type(key) is not str or not (kind is None or type(kind) is str):
            return None
        typed = _scalar(_JAEGER_TYPES.get(kind), tag.get("value"), memo)
        if typed is None:
            return None
        out[memo.share(key)] = typed
    return out


def otlp_span(raw: dict[str, Any], resource: Resource, scope: Scope, memo: Memo) -> Span | None:
    """One OTLP JSON span as ``otlp_json._span`` reads it, or None to leave it to that reader."""
    if raw.get("events") or raw.get("links"):
        return None
    tid = trace_id(raw.get("traceId"))
    sid = memo.span_id(raw.get("spanId"))
    parent = memo.parent_id(raw.get("parentSpanId"))
    if tid is None or sid is None or parent is None:
        return None
    kind = raw.get("kind", 0)
    kind = KINDS.get(kind) if type(kind) is int or type(kind) is str else None
    status = raw.get("status")
    if status is None:
        code: StatusCode | None = StatusCode.UNSET
        message = ""
    elif type(status) is dict:
        c = status.get("code", 0)
        code = STATUSES.get(c) if type(c) is int or type(c) is str else None
        raw_message = status.get("message")
        if raw_message is None:
            message = ""
        elif type(raw_message) is str:
            message = raw_message
        else:
            return None
    else:
        return None
    name = raw.get("name")
    if name is None:
        name = ""
    elif type(name) is not str:
        return None
    start = uint(raw.get("startTimeUnixNano"))
    end = uint(raw.get("endTimeUnixNano"))
    attrs = otlp_attributes(raw.get("attributes"), memo)
    if kind is None or code is None or start < 0 or end < 0 or attrs is None:
        return None
    return Span(tid, sid, parent, memo.share(name), start, end, kind, code, message, attrs, resource, scope)
