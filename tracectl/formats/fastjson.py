"""One pass from bytes to spans: OTLP JSON and Jaeger JSON decoded by msgspec into typed structs, straight into
the compact store (``tracectl.model.columns``), with no ``Span`` object and no generic JSON document in between.

The structs accept exactly the shapes real writers produce (every envelope ``tracectl.formats.detect`` reads), with
the types the wire allows (an int64 as a JSON number or a decimal string, kind and status code as an integer or an
enum name). Every object forbids fields it does not declare, and the fields the readers ignore are still decoded
(as scalars), so that a document msgspec accepts is one orjson accepts too: msgspec skips undeclared fields without
checking their UTF-8 or their numbers, and reads integers of any size. What msgspec does not check (ID syntax, enum
names, time ranges) is checked here. On anything else (a decoding or validation error, a value this path does not
vouch for) ``read`` returns None and the caller reads the bytes with the checked readers (orjson, ``otlp_json``,
``jaeger_json``), so every error message, and every value read, is theirs: ``tests/test_fastpath.py`` reads every
fixture and thousands of broken copies both ways and compares.

Span attributes are kept as decoded (structs, validated already) and become a dict on first use, through the store's
``materialise()`` protocol, except in a compact read (a large input, or traces held with many others: see
``_Reader``); resources, scopes, events and links are built
at once. IDs are normalised once per distinct wire string (Jaeger IDs already canonical, the common case, are checked
at once and taken as written); names and attribute strings are shared (Jaeger's only in a compact read: otherwise
the input is typically one file of many, read, analysed and dropped). A large input is decoded a chunk of spans at a
time, so that its structs never all exist at once.
"""

from __future__ import annotations

import re
from array import array
from functools import cache
from itertools import compress, repeat
from operator import add, attrgetter
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType
from msgspec.structs import astuple

from tracectl.formats import fastpath
from tracectl.formats._common import KINDS, STATUSES, split_async_parent
from tracectl.formats.jaeger_json import (
    _ERROR_TAG,
    _EVENT_NAME_FIELD,
    _KIND_TAG,
    _SCOPE_NAME_TAG,
    _SCOPE_VERSION_TAG,
    _STATUS_CODE_TAG,
    _STATUS_DESC_TAG,
    MAX_US,
    US,
    _parent_and_links,
    _status,
)
from tracectl.formats.typed import INT64_MAX, INT64_MIN, b64bytes
from tracectl.ids import InvalidId, normalize_span_id, normalize_trace_id
from tracectl.model import EMPTY_SCOPE, AttrValue, Event, Link, Resource, Scope, SpanKind, Trace
from tracectl.model.columns import ColumnsBuilder, SpanColumns, SpanExtra

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

ENABLED = True  # tests switch it off to compare with the checked readers (``fastpath.ENABLED`` off turns it off too)


class GiveUp(Exception):
    """Something this path does not vouch for: the checked readers read the input instead."""


# ------------------------------------------------------------------------------------------- wire types


def _int64_string_pattern() -> str:
    """A decimal string ``typed.integer`` reads as an int64: optional sign, at most 20 digits, value within range
    (the negative bound is left to the checked reader: one value)."""
    top = str(INT64_MAX)  # 19 digits
    at_most = [top]
    for i, digit in enumerate(top):
        if digit != "0":
            at_most.append(f"{top[:i]}[0-{int(digit) - 1}][0-9]{{{len(top) - i - 1}}}")
    nineteen = "|".join(at_most)
    return rf"\A(?=[+-]?[0-9]{{1,20}}\Z)[+-]?0*(?:[0-9]{{1,18}}|{nineteen})\Z"


Int64 = Annotated[int, Meta(ge=INT64_MIN, le=INT64_MAX)]
Int64Text = Annotated[str, Meta(pattern=_int64_string_pattern())]
UInt64 = Annotated[int, Meta(ge=0, le=INT64_MAX)]
# base64, standard or URL-safe, padded or not, as ``typed.b64bytes`` decodes it without fail
_B64 = "[A-Za-z0-9+/_-]"
_BASE64_PATTERN = rf"\A(?:{_B64}{{4}})*(?:{_B64}{{2}}(?:==)?|{_B64}{{3}}=?)?\Z"
Base64Text = Annotated[str, Meta(pattern=_BASE64_PATTERN)]
_BASE64 = re.compile(_BASE64_PATTERN)
NonFinite = Annotated[str, Meta(pattern=r"\A(?:NaN|-?Infinity)\Z")]  # protobuf JSON's doubles that JSON cannot write
# What the readers ignore is still decoded, with types that reject what orjson rejects (msgspec reads integers of
# any size, orjson not): a scalar, a list of strings (Jaeger's warnings), a flat object (Tempo's metrics).
Scalar = Int64 | float | str | bool | None
Warnings = list[str] | None
_OPTIONS: dict[str, Any] = {"gc": False, "forbid_unknown_fields": True, "omit_defaults": True}

# OTLP attribute values nest (arrays, key/value lists); the checked reader allows 64 levels. The structs are typed
# level by level up to _LEVELS, the last level allowing no further nesting: deeper data is left to the checked reader.
_LEVELS = 8


def _any_value_types() -> tuple[type, type]:
    """(AnyValue, KeyValue) of level 0, each level's nested values one level down."""
    empty = Annotated[list[Any], Meta(max_length=0)]
    inner_values: Any = empty
    inner_kvs: Any = empty
    any_value: Any = None
    key_value: Any = None
    for level in reversed(range(_LEVELS)):
        array = msgspec.defstruct(f"ArrayValue{level}", [("values", inner_values | None, None)], **_OPTIONS)
        kvlist = msgspec.defstruct(f"KvListValue{level}", [("values", inner_kvs | None, None)], **_OPTIONS)
        any_value = msgspec.defstruct(
            f"AnyValue{level}",
            [
                ("stringValue", str | UnsetType, UNSET),
                ("intValue", Int64 | Int64Text | UnsetType, UNSET),
                ("boolValue", bool | UnsetType, UNSET),
                ("doubleValue", float | NonFinite | UnsetType, UNSET),
                ("bytesValue", Base64Text | UnsetType, UNSET),
                ("arrayValue", array | UnsetType, UNSET),
                ("kvlistValue", kvlist | UnsetType, UNSET),
            ],
            **_OPTIONS,
        )
        key_value = msgspec.defstruct(f"KeyValue{level}", [("key", str), ("value", any_value | None, None)], **_OPTIONS)
        inner_values = list[any_value]
        inner_kvs = list[key_value]
    return any_value, key_value


AnyValue, KeyValue = _any_value_types()
if TYPE_CHECKING:
    KeyValues = list[Any]
else:
    KeyValues = list[KeyValue]


class OtlpScope(Struct, **_OPTIONS):
    name: str | None = None
    version: str | None = None
    attributes: KeyValues | None = None
    droppedAttributesCount: Scalar = None


class OtlpResource(Struct, **_OPTIONS):
    attributes: KeyValues | None = None
    droppedAttributesCount: Scalar = None


class OtlpStatus(Struct, **_OPTIONS):
    code: int | str = 0
    message: str | None = None
    deprecatedCode: Scalar = None


class OtlpEvent(Struct, **_OPTIONS):
    timeUnixNano: UInt64 | str | None = None
    name: str | None = None
    attributes: KeyValues | None = None
    droppedAttributesCount: Scalar = None


class OtlpLink(Struct, **_OPTIONS):
    traceId: str
    spanId: str
    attributes: KeyValues | None = None
    traceState: Scalar = None
    flags: Scalar = None
    droppedAttributesCount: Scalar = None


class OtlpSpan(Struct, **_OPTIONS):  # field order: ``_Reader.otlp_spans`` unpacks ``astuple``
    traceId: str
    spanId: str
    parentSpanId: str | None = None
    name: str | None = None
    kind: int | str = 0
    startTimeUnixNano: UInt64 | str | None = None
    endTimeUnixNano: UInt64 | str | None = None
    attributes: KeyValues | None = None
    events: list[OtlpEvent] | None = None
    links: list[OtlpLink] | None = None
    status: OtlpStatus | None = None
    traceState: Scalar = None
    flags: Scalar = None
    droppedAttributesCount: Scalar = None
    droppedEventsCount: Scalar = None
    droppedLinksCount: Scalar = None


# A Jaeger tag: its type one of the five names Jaeger writes (a Literal: msgspec gives the same string object each
# time), its value a JSON scalar; that the value is of the type is checked where it is read (``_tag_value``, or the
# string case inline). One struct rather than a union told apart by "type" (msgspec's tagged union looks ahead for
# the tag, which Jaeger writes after the key: 20% of a file's decoding). Frozen: hashable, equal when key, type and
# value are, so that a tuple of them keys what they make (``_Reader.tags``).
STRING, INT64 = "string", "int64"  # the Literal's own strings (compared by identity; else ``_tag_value`` reads)


class JaegerTag(Struct, frozen=True, **_OPTIONS):
    key: str
    type: Literal["string", "int64", "float64", "bool", "binary"]
    value: Int64 | float | str | bool


Tags = list[JaegerTag]


class JaegerProcess(Struct, **_OPTIONS):
    serviceName: str | None = None
    tags: Tags | None = None


class JaegerReference(Struct, **_OPTIONS):
    spanID: str
    refType: str | None = None
    traceID: str | None = None


# Jaeger's times in microseconds: a start or a log's time beyond what fits 64 bits in ns is one the checked reader
# refuses (a duration may be negative: only the end it makes is bounded, by ``_jaeger_times``)
Microseconds = Annotated[int, Meta(ge=0, le=MAX_US)]


class JaegerLog(Struct, **_OPTIONS):
    timestamp: Microseconds
    fields: Tags | None = None


class JaegerSpan(Struct, **_OPTIONS):  # field order: ``_Reader.jaeger_spans`` unpacks ``astuple``
    traceID: str
    spanID: str
    operationName: str | None = None
    references: list[JaegerReference] | None = None
    startTime: Microseconds | str | None = None
    duration: int | str | None = None
    tags: Tags | None = None
    logs: list[JaegerLog] | None = None
    processID: str | None = None
    process: JaegerProcess | None = None
    flags: Scalar = None
    warnings: Warnings = None


def _document_type(otlp_span: Any, jaeger_span: Any) -> Any:
    """The top-level type: any object tracectl reads (the OTLP, Tempo and Jaeger v3 envelopes, Jaeger v1's ``data``
    envelope, a bare Jaeger trace; which of them it is, ``detect._collect``'s rules decide, here as there) or a list
    of them. Spans are typed as given: structs, or ``msgspec.Raw`` to decode them a chunk at a time."""
    opts = _OPTIONS
    scope_spans = msgspec.defstruct(
        "OtlpScopeSpans",
        [
            ("scope", OtlpScope | None, None),
            ("instrumentationLibrary", OtlpScope | None, None),
            ("spans", list[otlp_span] | None, None),
            ("schemaUrl", Scalar, None),
        ],
        **opts,
    )
    resource_spans = msgspec.defstruct(
        "OtlpResourceSpans",
        [
            ("resource", OtlpResource | None, None),
            ("scopeSpans", list[scope_spans] | None | UnsetType, UNSET),  # type: ignore[valid-type]
            ("instrumentationLibrarySpans", list[scope_spans] | None, None),  # type: ignore[valid-type]
            ("schemaUrl", Scalar, None),
        ],
        **opts,
    )
    groups: Any = list[resource_spans] | None  # type: ignore[valid-type]
    tempo = msgspec.defstruct("TempoTrace", [("resourceSpans", groups | UnsetType, UNSET),
                                             ("batches", groups | UnsetType, UNSET)], **opts)  # fmt: skip
    jaeger_v3 = msgspec.defstruct("JaegerV3Result", [("resourceSpans", groups, None)], **opts)
    spans: Any = list[jaeger_span]
    jaeger_trace = msgspec.defstruct(
        "JaegerTrace",
        [
            ("spans", spans),
            ("processes", dict[str, JaegerProcess] | None, None),
            ("traceID", str | None, None),
            ("warnings", Warnings, None),
        ],
        **opts,
    )
    document = msgspec.defstruct(
        "Document",
        [
            ("resourceSpans", groups | UnsetType, UNSET),
            ("batches", groups | UnsetType, UNSET),
            ("trace", tempo | UnsetType, UNSET),
            ("status", Scalar | UnsetType, UNSET),
            ("message", Scalar | UnsetType, UNSET),
            ("metrics", dict[str, Scalar] | None | UnsetType, UNSET),
            ("result", jaeger_v3 | UnsetType, UNSET),
            ("data", list[jaeger_trace] | UnsetType, UNSET),  # type: ignore[valid-type]
            ("total", Scalar | UnsetType, UNSET),
            ("limit", Scalar | UnsetType, UNSET),
            ("offset", Scalar | UnsetType, UNSET),
            ("errors", list[dict[str, Scalar]] | Scalar | UnsetType, UNSET),
            ("spans", spans | UnsetType, UNSET),
            ("processes", dict[str, JaegerProcess] | None | UnsetType, UNSET),
            ("traceID", str | None | UnsetType, UNSET),
            ("warnings", Warnings | UnsetType, UNSET),
        ],
        **opts,
    )
    return document | list[document]  # type: ignore[valid-type]


CHUNKED_ABOVE = 4 << 20  # bytes: a larger input is decoded a chunk of spans at a time (peak memory)
CHUNK = 4096  # spans


@cache
def _decoder(chunked: bool) -> msgspec.json.Decoder[Any]:
    if chunked:
        return msgspec.json.Decoder(_document_type(msgspec.Raw, msgspec.Raw))
    return msgspec.json.Decoder(_document_type(OtlpSpan, JaegerSpan))


@cache
def _spans_decoder(span_type: type) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(list[span_type])  # type: ignore[valid-type]


def _chunks(spans: list[Any], span_type: type) -> Iterator[list[Any]]:
    """The decoded spans of a list, in chunks: as they are when decoded already, else ``CHUNK`` raw spans at a time
    (each chunk's structs go once its columns are filled)."""
    if not spans:
        return
    if type(spans[0]) is not msgspec.Raw:
        yield spans
        return
    decode = _spans_decoder(span_type).decode
    for i in range(0, len(spans), CHUNK):
        yield decode(b"[" + b",".join(spans[i : i + CHUNK]) + b"]")


# ------------------------------------------------------------------------------------------- lazy attributes


def _value(v: Any) -> AttrValue:
    """The Python value of a decoded ``AnyValue`` (None: an absent one), as ``otlp_json.any_value`` reads it."""
    if v is None:
        return ""
    if (x := v.stringValue) is not UNSET:
        return x  # type: ignore[no-any-return]
    if (x := v.intValue) is not UNSET:
        return x if type(x) is int else int(x)
    if (x := v.boolValue) is not UNSET:
        return x  # type: ignore[no-any-return]
    if (x := v.doubleValue) is not UNSET:
        return x if type(x) is float else float(x)
    if (x := v.bytesValue) is not UNSET:
        return b64bytes(x)
    if (x := v.arrayValue) is not UNSET:
        return tuple(_value(item) for item in x.values) if x.values else ()
    if (x := v.kvlistValue) is not UNSET:
        return _attributes(x.values) if x.values else {}
    return ""


def _attributes(items: Sequence[Any]) -> dict[str, AttrValue]:
    return {kv.key: _value(kv.value) for kv in items}


class OtlpAttributes(Struct, gc=False):
    """A span's OTLP attributes as decoded (validated already): a dict on first use."""

    items: KeyValues

    def materialise(self) -> dict[str, AttrValue]:
        return _attributes(self.items)


class NoAttributes(Struct, gc=False):
    def materialise(self) -> dict[str, AttrValue]:
        return {}


_NONE = NoAttributes()


class JaegerAttributes(Struct, gc=False):
    """A span's Jaeger tags as decoded (validated already) but for those that are not attributes (``dropped``: the
    kind, status and scope tags ``_Reader.special_read`` took): a dict on first use."""

    tags: Tags
    dropped: frozenset[str]

    def materialise(self) -> dict[str, AttrValue]:
        dropped = self.dropped
        out: dict[str, AttrValue] = {}
        for t in self.tags:
            key = t.key
            if key in dropped:
                continue
            value, kind = t.value, t.type
            if (kind is STRING and type(value) is str) or (kind is INT64 and type(value) is int):  # as they are
                out[key] = value
            else:
                out[key] = _tag_value(t)
        return out


# ------------------------------------------------------------------------------------------- reading


class _Reader:
    """One read: the columns of every trace, the shared IDs, strings, scopes, and what the documents were.

    ``compact``: attributes become dicts of shared strings at once, not lazy. For a large input: the decoded
    structs of an attribute (a key/value struct, a value struct of seven slots, two strings) cost twice a dict
    entry whose strings are shared (measured on 100,000 OTLP spans of two attributes: 68 against 32 MB), while for
    the many small files of a ``blame`` memory does not matter and decoding only what is asked saves time. The same
    for Jaeger tags (``JaegerAttributes``): when blame held every trace, keeping them as decoded cost blame -j 1
    over 10,000 files 451 against 275 MB for no measurable time on spans of a few tags; now that it reads a file at
    a time and drops it after analysis the memory is one file's, and on spans of ten attributes building the dicts
    was a sixth of the read. So a small input is compact only when its caller keeps its traces with many others
    (``load_many``: 10,000 Jaeger files held at once took 406 MB lazy, 180 MB compact)."""

    __slots__ = ("builder", "by_wire", "compact", "formats", "memo", "notes")

    def __init__(self, compact: bool = False) -> None:
        self.compact = compact
        self.builder = ColumnsBuilder()
        self.by_wire: dict[str, SpanColumns] = {}  # a trace ID as written → its columns
        self.memo = fastpath.Memo()
        self.formats: set[str] = set()
        self.notes: list[str] = []

    def columns(self, raw_trace_id: str) -> SpanColumns:
        cols = self.by_wire.get(raw_trace_id)
        if cols is None:
            cols = self.by_wire[raw_trace_id] = self.builder.columns(_trace_id(raw_trace_id))
        return cols

    def by_trace(self, spans: list[Any], trace_id_of: Callable[[Any], str]) -> Iterator[tuple[SpanColumns, list[Any]]]:
        """The spans of each trace among ``spans``, in first-seen order (one trace, the common case, in one step)."""
        wire_ids = list(map(trace_id_of, spans))
        if _same(wire_ids):
            yield self.columns(wire_ids[0]), spans
            return
        groups: dict[str, list[Any]] = {}
        for wire_id, s in zip(wire_ids, spans, strict=True):
            groups.setdefault(wire_id, []).append(s)
        for raw_trace_id, group in groups.items():
            yield self.columns(raw_trace_id), group

    # ---------------------------------------------------------------- documents (detect._collect's rules)

    def document(self, doc: Any, depth: int) -> None:
        if type(doc) is list:
            if depth > 0:
                raise GiveUp
            if doc and all(d.spans is not UNSET for d in doc):
                self.jaeger_traces(doc)
                self.formats.add("jaeger-json")
                return
            for item in doc:
                self.document(item, depth + 1)
            return
        if doc.resourceSpans is not UNSET:
            self.resource_spans(doc.resourceSpans)
            self.formats.add("otlp-json")
        elif doc.batches is not UNSET:
            self.resource_spans(doc.batches)
            self.formats.add("otlp-json")
        elif doc.trace is not UNSET:
            if doc.status == "PARTIAL":
                message = _orelse(doc.message)
                if not (message is None or type(message) is str):
                    raise GiveUp  # printed as decoded: leave it to the checked reader's decoding
                self.notes.append(f"Tempo marked this trace PARTIAL: {message or 'some spans are missing'}")
            inner = doc.trace
            self.resource_spans(inner.batches if inner.batches is not UNSET else _orelse(inner.resourceSpans))
            self.formats.add("tempo-json")
        elif doc.result is not UNSET:
            self.resource_spans(doc.result.resourceSpans)
            self.formats.add("jaeger-v3-json")
        elif doc.data is not UNSET:
            if _orelse(doc.errors) and not doc.data:
                raise GiveUp  # an error response: the checked reader says so
            self.jaeger_traces(doc.data)
            self.formats.add("jaeger-json")
        elif doc.spans is not UNSET and (doc.processes is not UNSET or doc.traceID is not UNSET):
            self.jaeger_traces([doc])
            self.formats.add("jaeger-json")
        elif any(getattr(doc, name) is not UNSET for name in doc.__struct_fields__):
            raise GiveUp  # not a trace (an error, search results, an unexpected shape): the checked reader says what
        # else `{}`: no spans

    # ---------------------------------------------------------------- OTLP

    def resource_spans(self, groups: list[Any] | None) -> None:
        """The spans of each resource and scope. Decoded spans are read all at once, each with its resource and
        scope (an exporter writes a few spans per scope: per call costs would dominate); a large input's raw spans
        a chunk at a time, as they are decoded."""
        memo = self.memo
        batch: list[OtlpSpan] = []
        resources: list[Resource] = []
        scopes: list[Scope] = []
        for rs in groups or ():
            raw_resource = rs.resource
            attrs = raw_resource.attributes if raw_resource is not None else None
            resource = Resource(_shared_attributes(attrs, memo.share) if attrs else {})
            inner = rs.scopeSpans if rs.scopeSpans is not UNSET else rs.instrumentationLibrarySpans
            for ss in inner or ():
                raw_scope = ss.scope if ss.scope is not None else ss.instrumentationLibrary
                if raw_scope is None:
                    scope = memo.scope("", "")
                else:
                    scope = memo.scope(raw_scope.name or "", raw_scope.version or "")
                spans = ss.spans
                ss.spans = None  # read once: each chunk of structs goes once its columns are filled (peak memory)
                if not spans:
                    continue
                if type(spans[0]) is not msgspec.Raw:
                    batch += spans
                    resources += repeat(resource, len(spans))
                    scopes += repeat(scope, len(spans))
                    continue
                for chunk in _chunks(spans, OtlpSpan):
                    for cols, group in self.by_trace(chunk, _otlp_trace_id):
                        self.otlp_spans(cols, group, [resource] * len(group), [scope] * len(group))
        if not batch:
            return
        trace_ids = list(map(_otlp_trace_id, batch))
        if _same(trace_ids):
            self.otlp_spans(self.columns(trace_ids[0]), batch, resources, scopes)
            return
        by_trace: dict[str, list[int]] = {}  # several traces: each one's spans in the order read
        for i, raw_trace_id in enumerate(trace_ids):
            by_trace.setdefault(raw_trace_id, []).append(i)
        for raw_trace_id, at in by_trace.items():
            self.otlp_spans(self.columns(raw_trace_id), [batch[i] for i in at], [resources[i] for i in at],
                            [scopes[i] for i in at])  # fmt: skip

    def otlp_spans(
        self, cols: SpanColumns, spans: list[OtlpSpan], resources: list[Resource], scopes: list[Scope]
    ) -> None:
        """Spans of one trace into its columns, a column at a time (the spans' fields taken out in one pass)."""
        memo = self.memo
        ids = memo.span_ids
        n = len(spans)
        # the spans' fields in OtlpSpan's order, a column each (astuple: one C call a span, not a getattr a field)
        (
            _,
            raw_ids,
            raw_parents,
            raw_names,
            raw_kinds,
            starts,
            ends,
            raw_attributes,
            events_of,
            links_of,
            statuses,
            *_,
        ) = zip(*map(astuple, spans), strict=True)
        span_ids = _span_ids(memo, raw_ids)
        parents: list[Any] = list(
            map(ids.get, raw_parents)
        )  # a parent read already, by its ID as written (the common case)
        if None in parents:
            parents = [x if x is not None else _parent_id(memo, raw) if raw else ""
                       for x, raw in zip(parents, raw_parents, strict=True)]  # fmt: skip
        if None in raw_names:
            raw_names = tuple(x or "" for x in raw_names)
        share = memo.strings.setdefault
        names = list(map(share, raw_names, raw_names))
        kinds = list(map(_KIND_CODES.get, raw_kinds))
        messages: Sequence[str | None] = ()
        if None in statuses:
            codes = [0 if x is None else _STATUS_CODES.get(x.code) for x in statuses]
            if any(x is not None and x.message for x in statuses):
                messages = [x.message if x is not None else None for x in statuses]
        else:
            codes = list(map(_STATUS_CODES.get, map(_STATUS_CODE, statuses)))
            messages = list(map(_STATUS_MESSAGE, statuses))
        if None in kinds or None in codes:
            raise GiveUp
        attributes: list[Any]
        if self.compact:
            attributes = [_shared_attributes(x, memo.share) if x else {} for x in raw_attributes]
        elif None in raw_attributes or [] in raw_attributes:
            attributes = [OtlpAttributes(x) if x else _NONE for x in raw_attributes]
        else:
            attributes = list(map(OtlpAttributes, raw_attributes))
        follows_from = None
        extra: dict[int, SpanExtra] = {}
        if any(messages):
            extra = {i: SpanExtra(message) for i, message in enumerate(messages) if message}
        if any(events_of) or any(links_of):
            for i in [i for i in range(n) if events_of[i] or links_of[i]]:
                events = _otlp_events(events_of[i], memo.share) if events_of[i] else ()
                links: tuple[Link, ...] = ()
                if links_of[i]:
                    is_async, links = split_async_parent(cols.trace_id, parents[i], _otlp_links(links_of[i]))
                    if is_async:
                        if follows_from is None:
                            follows_from = bytearray(n)
                        follows_from[i] = 1
                if events or links:
                    extra[i] = SpanExtra(extra[i].status_message if i in extra else "", events, links)
        cols.extend(span_ids, parents, names, _times(starts), _times(ends), kinds, codes,  # type: ignore[arg-type]  # None: ruled out
                    resources, scopes, attributes, follows_from, extra)  # fmt: skip

    # ---------------------------------------------------------------- Jaeger

    def jaeger_traces(self, traces: Sequence[Any]) -> None:
        share = self.memo.strings.setdefault
        for raw in traces:
            processes = {}
            for pid, proc in (_orelse(raw.processes) or {}).items():  # _process inline: a call less each
                attrs: dict[str, AttrValue] = {"service.name": proc.serviceName or ""}
                for t in proc.tags or ():  # a few per process: shared either way
                    key = t.key
                    attrs[share(key, key)] = (share(v, v) if t.type is STRING and type(v := t.value) is str
                                              else _tag_value(t))  # fmt: skip
                processes[pid] = resource = _new_resource(Resource)
                _set_resource_attributes(resource, attrs)
            spans = raw.spans
            raw.spans = None
            self.jaeger_trace(spans, processes)

    def jaeger_trace(self, spans: list[Any], processes: dict[str, Resource]) -> None:
        """One Jaeger trace object's spans. A span's parent is the reference ``jaeger_json._parent_and_links``
        chooses: with one reference, to the same trace (nearly every span), that one; with several, a choice among
        the spans of this object, made once they are all read."""
        read: list[str] = []  # the span IDs of this trace object
        deferred: list[tuple[SpanColumns, int, list[JaegerReference]]] = []
        fields = None
        if spans and type(spans[0]) is not msgspec.Raw:  # the spans' fields, a column each (one C call a span)
            fields = list(zip(*map(astuple, spans), strict=True))
        if fields is not None and fields[0].count(spans[0].traceID) == len(spans):  # one trace: the common case
            self.jaeger_spans(None, spans, processes, read, deferred, fields)
        else:
            for chunk in _chunks(spans, JaegerSpan):
                for cols, group in self.by_trace(chunk, _jaeger_trace_id):
                    self.jaeger_spans(cols, group, processes, read, deferred)
        if not deferred:
            return
        present = set(read)
        for cols, i, references in deferred:
            trace_id = cols.trace_id
            parsed = [self.reference(r, trace_id) for r in references]
            parent, follows_from, links = _parent_and_links(parsed, trace_id, present)
            cols.parent_id[i] = parent
            if follows_from:
                cols.follows_from[i] = 1
            if links:
                old = cols.extra.get(i)
                cols.extra[i] = SpanExtra(old.status_message, old.events, links) if old else SpanExtra(links=links)

    def reference(self, ref: JaegerReference, trace_id: str) -> tuple[str, str, str]:
        """A reference as ``jaeger_json._reference`` reads it: (type, trace ID, span ID)."""
        ref_trace = self.trace_id(ref.traceID) if ref.traceID else trace_id
        return (ref.refType or "").upper() or "CHILD_OF", ref_trace, self.memo.span_ids.get(
            ref.spanID) or _span_id(self.memo, ref.spanID)  # fmt: skip

    def trace_id(self, raw: str) -> str:
        cols = self.by_wire.get(raw)
        return cols.trace_id if cols is not None else _trace_id(raw)

    def jaeger_spans(
        self,
        cols: SpanColumns | None,
        spans: list[JaegerSpan],
        processes: dict[str, Resource],
        read: list[str],
        deferred: list[tuple[SpanColumns, int, list[JaegerReference]]],
        fields: Sequence[tuple[Any, ...]] | None = None,
    ) -> None:
        """Spans of one trace into its columns (None: those of the spans' trace ID, made whole at the end when the
        trace is new, rather than empty first and extended); a span whose parent needs the whole trace object goes
        to ``deferred`` (``jaeger_trace`` sets it). The spans' fields are taken out a column at a time (one pass, by
        ``msgspec.structs.astuple``: a getattr each costs more), unless given (``fields``)."""
        memo = self.memo
        share = memo.strings.setdefault
        n = len(spans)
        if fields is None:
            fields = list(zip(*map(astuple, spans), strict=True))
        trace_ids, raw_ids, raw_names, refs_of, raw_starts, durations, tag_lists, logs_of, pids, procs, _, _ = fields
        picked = _picked_parents(trace_ids[0], refs_of)
        span_ids: Sequence[str]
        parents: list[str] | None
        if picked is not None and not self.compact and _canonical_span_ids([*raw_ids, *filter(None, picked)]):
            # the common case: every span ID and parent is canonical, taken as written (one check for all; the
            # memo's IDs are for the other cases: a lazy read does not share a parent's string with its span's)
            span_ids, parents = raw_ids, picked
        else:
            span_ids = _span_ids(memo, raw_ids)
            parents = None
        read += span_ids
        if not all(raw_names):  # None among them (or "": the same)
            raw_names = tuple(x or "" for x in raw_names)
        names = list(map(share, raw_names, raw_names)) if self.compact else raw_names  # else one file's, unshared
        starts, ends = _jaeger_times(raw_starts, durations)
        resources: list[Any]
        if procs.count(None) == n:
            try:
                resources = list(map(processes.__getitem__, pids))
            except KeyError:  # a span naming no known process (or none): the checked reader says so
                raise GiveUp from None
        else:
            by_id = processes.get
            resources = [_process(p, share) if p is not None else by_id(pid)
                         for p, pid in zip(procs, pids, strict=True)]  # fmt: skip
            if None in resources:
                raise GiveUp
        attributes, kinds, codes, scopes, messages = self.tags(tag_lists)
        follows_from = bytearray(n)
        if parents is None:
            parents = self.jaeger_parents(picked)
        if parents is None:
            parents = [""] * n
            if cols is None:
                cols = self.columns(trace_ids[0])
            self.jaeger_references(cols, spans, refs_of, parents, follows_from, deferred)
        extra: dict[int, SpanExtra] = {}
        if any(messages):
            extra = {i: SpanExtra(message) for i, message in enumerate(messages) if message}
        if any(logs_of):
            shared = repeat(memo.share)
            for i in compress(range(n), logs_of):
                extra[i] = SpanExtra(messages[i], tuple(map(_jaeger_event, logs_of[i], shared)))
        if cols is None:
            raw_trace_id = trace_ids[0]
            cols = self.by_wire.get(raw_trace_id)
            if cols is None:
                whole = SpanColumns(_trace_id(raw_trace_id), list(span_ids), parents, list(names), starts, ends,
                                    bytearray(kinds), bytearray(codes), follows_from, resources, list(scopes),
                                    attributes, extra)  # fmt: skip
                self.by_wire[raw_trace_id] = self.builder.add(whole)
                return
        cols.extend(span_ids, parents, names, starts, ends, kinds, codes, resources, scopes, attributes,
                    follows_from, extra)  # fmt: skip

    def jaeger_references(
        self,
        cols: SpanColumns,
        spans: list[JaegerSpan],
        refs_of: tuple[list[JaegerReference] | None, ...],
        parents: list[str],
        follows_from: bytearray,
        deferred: list[tuple[SpanColumns, int, list[JaegerReference]]],
    ) -> None:
        """The parents the spans' references name (``parents``, ``follows_from`` at their positions), as
        ``jaeger_json._parent_and_links`` chooses them; a span whose choice needs the whole trace object goes to
        ``deferred``."""
        memo = self.memo
        ids = memo.span_ids
        trace_id = cols.trace_id
        base = len(cols)
        for i in [i for i, refs in enumerate(refs_of) if refs]:
            refs = refs_of[i]
            ref = refs[0]  # type: ignore[index]  # not None: chosen above
            if len(refs) == 1 and (ref.traceID == spans[i].traceID or self.reference(ref, trace_id)[1] == trace_id):  # type: ignore[arg-type]
                parents[i] = ids.get(ref.spanID) or _span_id(memo, ref.spanID)
                if ref.refType != "CHILD_OF" and (ref.refType or "").upper() == "FOLLOWS_FROM":
                    follows_from[i] = 1
            else:
                deferred.append((cols, base + i, refs))  # type: ignore[arg-type]

    def tags(
        self, tag_lists: Sequence[Tags | None]
    ) -> tuple[list[Any], Sequence[int], Sequence[int], Sequence[Scope], Sequence[str]]:
        """Each span's tags as ``jaeger_json._span`` reads them: its attributes, and kind, status code, scope and
        status message from the tags that hold them (``special_read``, remembered by the tuple of those tags).

        In a compact read the attributes become dicts of shared strings in one pass over each span's tags; an
        ``error`` tag, which stays an attribute unless it made the status, is read in a second pass over that span's
        tags. Otherwise they stay as decoded (``lazy_tags``)."""
        if not self.compact:
            return self.lazy_tags(tag_lists)
        share = self.memo.strings.setdefault
        known_of = _SPECIAL_READ.get
        plain = _PLAIN
        attributes = []
        known = []
        for tags in tag_lists:
            attrs: dict[str, AttrValue] = {}
            if not tags:
                attributes.append(attrs)
                known.append(plain)
                continue
            special = []
            for t in tags:
                key = t.key
                if key in _SPECIAL:
                    special.append(t)
                elif t.type is STRING and type(value := t.value) is str:  # the Literal's own string
                    attrs[share(key, key)] = share(value, value)
                else:
                    attrs[share(key, key)] = _tag_value(t)
            if not special:
                attributes.append(attrs)
                known.append(plain)
                continue
            key_of = tuple(special)
            x = known_of(key_of) or self.special_read(key_of)
            if x[4]:  # an error tag that stays: the attributes again, with it in its place
                attrs = {share(t.key, t.key): share(v, v) if type(v := _tag_value(t)) is str else v
                         for t in tags if t.key not in _DROPPED}  # fmt: skip
            attributes.append(attrs)
            known.append(x)
        kinds, codes, scopes, messages, _ = zip(*known, strict=True)
        return attributes, kinds, codes, scopes, messages

    def lazy_tags(
        self, tag_lists: Sequence[Tags | None]
    ) -> tuple[list[Any], Sequence[int], Sequence[int], Sequence[Scope], Sequence[str]]:
        """``tags`` for a read that is not compact: each span's attributes kept as decoded (``JaegerAttributes``), the
        values checked here as ``_tag_value`` checks them (a string tag holding a string, the common case, inline)."""
        known_of = _SPECIAL_READ.get
        special_keys = _SPECIAL
        plain = _PLAIN
        attributes: list[Any] = []
        known = []
        for tags in tag_lists:
            if not tags:
                attributes.append(_NONE)
                known.append(plain)
                continue
            special = []
            for t in tags:
                if t.key in special_keys:
                    special.append(t)
                elif (t.type is not STRING or type(t.value) is not str) and (
                    t.type is not INT64 or type(t.value) is not int
                ):
                    _tag_value(t)  # GiveUp unless of its type
            if not special:
                attributes.append(JaegerAttributes(tags, special_keys))
                known.append(plain)
                continue
            key_of = tuple(special)
            x = known_of(key_of) or self.special_read(key_of)
            attributes.append(JaegerAttributes(tags, _DROPPED if x[4] else special_keys))
            known.append(x)
        kinds, codes, scopes, messages, _ = zip(*known, strict=True)
        return attributes, kinds, codes, scopes, messages

    def jaeger_parents(self, picked: list[str] | None) -> list[str] | None:
        """The parents of the common case (``_picked_parents``: each span's parent as written, "" for none) when
        each is a span ID read already or canonical, the span's own ID string where read already; else None for
        the span-by-span reading (``jaeger_references``)."""
        if picked is None:
            return None
        ids = self.memo.span_ids
        parents = list(map(ids.get, picked, picked))  # the span's own ID string when read already, else as written
        missing = set(picked).difference(ids)  # parents not read (yet): each must be canonical
        missing.discard("")
        if missing and not _canonical_span_ids(list(missing)):
            return None
        return parents

    def special_read(self, special: tuple[JaegerTag, ...]) -> tuple[int, int, Scope, str, bool]:
        """What a span's kind, status and scope tags (the tag structs, in order) make: kind, status code, scope,
        status message, and whether an error tag among them stays an attribute (it does unless it made the status;
        the others never do). Remembered for the next spans with the same tags, all immutable: by the tags alone
        when all are strings (equal structs: the same key, type name and value, a string), else with the types of
        their values too (as structs, 1, 1.0 and True are equal, and an int64 tag may hold a bool msgspec read:
        refused, and never taken for a remembered one), except for floats (0.0 and -0.0 are equal, not their
        text). ``tags`` looks the tags up alone first, so a reading of tags not all strings is found here."""
        key: tuple[Any, ...] = special
        if any(t.type != STRING for t in special):
            key = (special, *[type(t.value) for t in special])
            known = _SPECIAL_READ.get(key)
            if known is not None:
                return known
        values = {t.key: _tag_value(t) for t in special}
        kind, code, scope, message = self.special_tags(values)
        error_stays = _ERROR_TAG in values
        known = (kind, code, scope, message, error_stays)
        if all(t.type != "float64" for t in special):
            if len(_SPECIAL_READ) >= 4096:  # many distinct values: forget, do not grow
                _SPECIAL_READ.clear()
            _SPECIAL_READ[key] = known
        return known

    def special_tags(self, attrs: dict[str, AttrValue]) -> tuple[int, int, Scope, str]:
        """Kind, status code, scope and status message from a span's tags, taken out of ``attrs`` as
        ``jaeger_json._span`` takes them (``attrs`` holds at least one of ``_SPECIAL``)."""
        kind = attrs.pop(_KIND_TAG, "unspecified")
        code, message = 0, ""
        if not _STATUS_TAGS.isdisjoint(attrs):
            status, message = _status(attrs)
            code = int(status)
        scope = (
            self.memo.scope("", "")
            if _SCOPE_TAGS.isdisjoint(attrs)
            else self.memo.scope(str(attrs.pop(_SCOPE_NAME_TAG, "")), str(attrs.pop(_SCOPE_VERSION_TAG, "")))
        )
        return int(_KIND_TAGS.get(kind) or KINDS.get(str(kind).lower(), SpanKind.UNSPECIFIED)), code, scope, message


_PLAIN = (0, 0, EMPTY_SCOPE, "", False)  # what a span without special tags has: kind, code, scope, message
_STATUS_TAGS = frozenset((_STATUS_CODE_TAG, _STATUS_DESC_TAG, _ERROR_TAG))
_SCOPE_TAGS = frozenset((_SCOPE_NAME_TAG, _SCOPE_VERSION_TAG))
_SPECIAL = frozenset((_KIND_TAG, *_STATUS_TAGS, *_SCOPE_TAGS))
_DROPPED = _SPECIAL - {_ERROR_TAG}  # what special_tags takes out of a span's tags; the error tag too when it is true
_SPECIAL_READ: dict[tuple[Any, ...], tuple[int, int, Scope, str, bool]] = {}
_KIND_TAGS: dict[object, SpanKind] = {
    k.label: k for k in SpanKind if k
}  # span.kind as Jaeger writes it ("server"), in one look-up


def _orelse(value: Any) -> Any:
    """An optional envelope field as ``dict.get`` would give it (None when absent)."""
    return None if value is UNSET else value


def _trace_id(raw: str) -> str:
    if _CANONICAL_TRACE_ID.fullmatch(raw) is not None and raw != _ZERO_TRACE_ID:  # what normalize_trace_id gives
        return raw
    if not raw:
        raise GiveUp
    try:
        return normalize_trace_id(raw)
    except InvalidId:
        raise GiveUp from None


def _span_ids(memo: fastpath.Memo, raw_ids: Sequence[str]) -> Sequence[str]:
    """Spans' own IDs normalised, each remembered in ``memo``; or ``GiveUp``."""
    if _canonical_span_ids(raw_ids):  # each its own normalised form (the common case): no look-up per span
        memo.span_ids.update(zip(raw_ids, raw_ids, strict=True))
        return raw_ids
    ids = memo.span_ids
    return [ids.get(x) or _span_id(memo, x) for x in raw_ids]


def _span_id(memo: fastpath.Memo, raw: str) -> str:
    out = memo.span_id(raw)
    if out is None:
        raise GiveUp
    return out


def _parent_id(memo: fastpath.Memo, raw: str) -> str:
    out = memo.parent_id(raw)
    if out is None:
        raise GiveUp
    return out


def _picked_parents(raw_trace_id: str, refs_of: Sequence[list[JaegerReference] | None]) -> list[str] | None:
    """The common case of a Jaeger trace's references, picked in one pass over its spans: each span has at most one
    reference, a CHILD_OF one to this trace (as written in the spans: ``raw_trace_id``) by a span ID. Then the
    parent of each as written ("" for none), else None."""
    if None in refs_of:
        return None
    picked = ["" if not refs else s if len(refs) == 1 and (r := refs[0]).refType == _CHILD_OF
              and r.traceID == raw_trace_id and (s := r.spanID) else None for refs in refs_of]  # fmt: skip
    return None if None in picked else picked  # type: ignore[return-value]  # None: ruled out


def _same(values: Iterable[str]) -> bool:
    """Whether all of ``values`` (at least one) are equal (compared, not hashed: they are new strings)."""
    items = list(values)
    return items.count(items[0]) == len(items)


_otlp_trace_id = attrgetter("traceId")
_jaeger_trace_id = attrgetter("traceID")


_KIND_CODES = {raw: int(kind) for raw, kind in KINDS.items()}
_STATUS_CODES = {raw: int(code) for raw, code in STATUSES.items()}


def _uint(value: int | str | None) -> int:
    """A time as ``typed.integer(value, lo=0)`` reads it (msgspec checked an int already), or ``GiveUp``."""
    if value is None:
        return 0
    if type(value) is int:
        return value
    out = fastpath.uint(value)
    if out < 0:
        raise GiveUp
    return out


def _times(values: Sequence[Any]) -> array[int]:
    """Times as ``typed.integer(value, lo=0)`` reads them: JSON numbers (msgspec checked their range) or decimal
    strings (protobuf JSON's int64, the common case: all of them checked and converted at once), as an int64
    column."""
    try:
        if set(map(type, values)) == _STR:
            joined = "".join(values)
            if joined.isascii() and joined.isdecimal() and max(map(len, values)) <= 20:
                return array("q", list(map(int, values)))  # ValueError: an empty string among them
        return array("q", [int(v) if type(v) is str and len(v) <= 20 and v.isascii() and v.isdecimal() else _uint(v)
                           for v in values])  # fmt: skip
    except (OverflowError, ValueError):  # beyond int64, or not a time: the checked reader says so
        raise GiveUp from None


def _jaeger_times(starts: Sequence[Any], durations: Sequence[Any]) -> tuple[array[int], array[int]]:
    """Start and end in ns from Jaeger's microseconds, as ``jaeger_json._span`` reads and bounds them. The common
    case, numbers (msgspec bounded each start), at once: the ends in microseconds by one ``map(add)`` (a string or
    None among them raises TypeError, or strings add up to a string, which TypeError refuses when compared), then
    both in ns, an end beyond the bound refused by the int64 column itself; else ``_jaeger_wire_times``."""
    try:
        ends = list(map(add, starts, durations))
        if min(ends) < 0:
            raise GiveUp
        us = US
        return array("q", [x * us for x in starts]), array("q", [x * us for x in ends])
    except TypeError:
        return _jaeger_wire_times(starts, durations)
    except OverflowError:  # an end beyond MAX_US: beyond int64 in ns (MAX_US is the last microsecond that fits)
        raise GiveUp from None


def _jaeger_wire_times(starts: Sequence[Any], durations: Sequence[Any]) -> tuple[array[int], array[int]]:
    """``_jaeger_times`` for times not all numbers: decimal strings or None."""
    if set(map(type, starts)) != _INT:
        starts = [_uint(v) for v in starts]
        if max(starts) > MAX_US:  # a number is bounded by its type already (Microseconds), a string here
            raise GiveUp
    if set(map(type, durations)) != _INT:
        durations = [v if type(v) is int else _uint(v) for v in durations]
    start_ns = [x * US for x in starts]
    end_ns = [x + y * US for x, y in zip(start_ns, durations, strict=True)]
    if min(end_ns) < 0 or max(end_ns) > _MAX_NS:
        raise GiveUp
    return array("q", start_ns), array("q", end_ns)


_MAX_NS = MAX_US * US  # a time in ns within MAX_US microseconds (whole ones: so is every time here)
_INT = {int}
_STR = {str}
_STATUS_CODE, _STATUS_MESSAGE = attrgetter("code"), attrgetter("message")
_ZERO_ONE = {0, 1}
_CHILD_OF = "CHILD_OF"


def _shared_attributes(items: Sequence[Any], share: Callable[[str], str]) -> dict[str, AttrValue]:
    out: dict[str, AttrValue] = {}
    for kv in items:
        value = _value(kv.value)
        out[share(kv.key)] = share(value) if type(value) is str else value
    return out


def _otlp_events(events: list[OtlpEvent], share: Callable[[str], str]) -> tuple[Event, ...]:
    return tuple(
        Event(
            _uint(ev.timeUnixNano),
            share(ev.name) if ev.name else "",
            _attributes(ev.attributes) if ev.attributes else {},
        )
        for ev in events
    )


def _otlp_links(links: list[OtlpLink]) -> tuple[Link, ...]:
    out = []
    for lk in links:
        try:
            trace_id = normalize_trace_id(lk.traceId)
            span_id = normalize_span_id(lk.spanId)
        except InvalidId:
            raise GiveUp from None
        out.append(Link(trace_id, span_id, _attributes(lk.attributes) if lk.attributes else {}))
    return tuple(out)


def _tag_value(tag: JaegerTag) -> AttrValue:
    """A tag's value as ``jaeger_json._tag_value`` reads it, when of its type as msgspec decoded it (a number in
    int64 range, the five type names), else ``GiveUp``."""
    kind, value = tag.type, tag.value
    if kind == "string":
        ok = type(value) is str
    elif kind == "int64":
        ok = type(value) is int
    elif kind == "float64":
        if type(value) is int:
            return float(value)
        ok = type(value) is float
    elif kind == "bool":
        ok = type(value) is bool
    else:  # binary
        if type(value) is str and _BASE64.fullmatch(value) is not None:
            return b64bytes(value)
        ok = False
    if not ok:
        raise GiveUp
    return value


_CANONICAL_TRACE_ID = re.compile("[0-9a-f]{32}")
_ZERO_TRACE_ID = "0" * 32
_ZERO_SPAN_ID = b"0" * 16
_LOWER_HEX = b"0123456789abcdef"


def _canonical_span_ids(raw: Sequence[str]) -> bool:
    """Whether each ID (at least one) is already what ``normalize_span_id`` makes of it: 16 lowercase hex digits,
    not all zeros. Checked for the whole list at once, in C (a regular expression took twice as long): joined by
    commas, the IDs are all hex digits when deleting those leaves just the n - 1 commas, each 16 characters long
    when the commas are every 17th character; then an ID of zeros is 16 zeros anywhere in the text."""
    n = len(raw)
    joined = ",".join(raw)
    if len(joined) != 17 * n - 1 or not joined.isascii():
        return False
    text = joined.encode()
    commas = b"," * (n - 1)
    return text.translate(None, _LOWER_HEX) == commas and text[16::17] == commas and _ZERO_SPAN_ID not in text


def _process(proc: JaegerProcess, share: Callable[[str, str], str]) -> Resource:
    """A Jaeger process as ``jaeger_json._resource`` reads it, strings shared (``share``: a ``dict.setdefault``).
    Not remembered across reads: in a directory of traces, processes repeat (the benchmark's do not: each names
    its own pod), but a look-up by their content costs about what building one does."""
    attrs: dict[str, AttrValue] = {"service.name": proc.serviceName or ""}
    for t in proc.tags or ():
        key = t.key
        attrs[share(key, key)] = share(v, v) if t.type is STRING and type(v := t.value) is str else _tag_value(t)
    resource = _new_resource(Resource)  # Resource(attrs) without the frozen dataclass's __init__ (a call less)
    _set_resource_attributes(resource, attrs)
    return resource


_new_resource = Resource.__new__
_set_resource_attributes = Resource.attributes.__set__  # type: ignore[attr-defined,misc]  # the slot's descriptor


def _jaeger_event(log: JaegerLog, share: Callable[[str], str]) -> Event:
    """A Jaeger log as ``jaeger_json`` reads it: its fields (the string ones inline), the ``event`` one its name;
    the Event's slots set directly (its frozen dataclass's __init__ costs a call per field)."""
    fields: dict[str, AttrValue] = {}
    for t in log.fields or ():
        fields[t.key] = v if t.type is STRING and type(v := t.value) is str else _tag_value(t)
    name = fields.pop(_EVENT_NAME_FIELD, "")
    event = _new_event(Event)
    _set_event_time(event, log.timestamp * US)
    _set_event_name(event, share(str(name)))
    _set_event_attributes(event, fields)
    return event


_new_event = Event.__new__
_set_event_time = Event.time_ns.__set__  # type: ignore[attr-defined,misc]  # the slots' descriptors
_set_event_name = Event.name.__set__  # type: ignore[attr-defined,misc]
_set_event_attributes = Event.attributes.__set__  # type: ignore[attr-defined,misc]


def _decode_all(data: bytes, chunked: bool) -> list[Any]:
    """The documents in ``data``: one JSON document, else JSON Lines (as ``detect._read_json`` splits them)."""
    decode = _decoder(chunked).decode
    try:
        return [decode(data)]
    except msgspec.ValidationError:
        raise
    except msgspec.DecodeError:
        pass
    lines = [ln for ln in data.splitlines() if ln.strip()]
    if len(lines) < 2:
        raise GiveUp
    return [decode(line) for line in lines]


def read(data: bytes, compact: bool = False) -> tuple[list[Trace], str, list[str]] | None:
    """The traces in JSON ``data`` with the format name and notes ``detect`` gives, or None when this path does not
    vouch for the input (then the checked readers read it). ``compact``: attributes as dicts of shared strings at
    once (``_Reader``), as a large input always has them: for traces held with many others."""
    if not (ENABLED and fastpath.ENABLED):
        return None
    large = len(data) > CHUNKED_ABOVE
    reader = _Reader(compact=compact or large)
    try:
        for doc in _decode_all(data, chunked=large):
            reader.document(doc, depth=0)
    except (msgspec.DecodeError, RecursionError, GiveUp):
        return None
    formats = reader.formats
    return (
        reader.builder.traces(),
        formats.pop() if len(formats) == 1 else "+".join(sorted(formats)) or "json",
        reader.notes,
    )
