"""Latency attribution of one trace by component (ANALYSIS.md section 3).

Spans are grouped by a component key and each group sums self time and critical-path time, with counts,
error counts and its share of the trace's critical-path length.

Keys (``parse_key``): ``service`` (default), ``name`` (span name), ``operation`` (= service + name),
``kind``, ``attr:KEY`` (a span attribute, else a resource attribute of that name), ``resource:KEY``, or several
joined with commas (``service,attr:ml.model.name``). A missing attribute is ``(none)``.

The edge rule: a CLIENT span whose child is a SERVER span of another service spends its time outside that
child on the network, connection set-up, load balancer or the callee's queue. That time is neither the
caller's code nor the callee's handler, so it goes to an edge row ``caller → callee`` (keys of the client and
of the server span), not to the caller. Without span kinds, a span whose children all belong to one other
service is that call's client side (``edge_callee``). Invariant (property-tested): critical-path time over all rows,
edges included, sums to the trace's critical-path length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress, repeat
from operator import eq, itemgetter
from typing import Any

from tracectl.analysis.critical_path import CriticalPath
from tracectl.analysis.selftime import self_times
from tracectl.analysis.tree import SpanTree
from tracectl.errors import InputError
from tracectl.model import Span, SpanKind, StatusCode

NONE = "(none)"
EDGE_ARROW = " → "
KEY_JOIN = " | "

KeyFunc = Callable[[Span], str]
NodesFunc = Callable[[SpanTree], Sequence[str]]  # a key part's value for every node, read from the tree's columns


@dataclass(frozen=True, slots=True)
class ComponentKey:
    """A parsed ``--by`` value: the functions from a span to each of its parts, and its spelling. ``node_funcs``
    give the same parts for every node of a tree at once, from its columns (no ``Span`` objects)."""

    spec: str
    funcs: tuple[KeyFunc, ...]
    node_funcs: tuple[NodesFunc, ...] = field(default=(), compare=False)

    def parts(self, span: Span) -> tuple[str, ...]:
        """The span's value for each part of the key (``("cv-model", "forward")`` for ``operation``)."""
        return tuple(f(span) for f in self.funcs)

    def __call__(self, span: Span) -> str:
        """The span's component label: its parts joined."""
        return label_of(self.parts(span))

    def node_parts(self, tree: SpanTree) -> list[tuple[str, ...]]:
        """Every node's parts: ``node_parts(tree)[i] == parts(tree.spans[i])``."""
        if len(self.node_funcs) != len(self.funcs):  # made by hand from span functions only
            return [self.parts(s) for s in tree.spans]
        return list(zip(*(f(tree) for f in self.node_funcs), strict=True))


def label_of(parts: tuple[str, ...]) -> str:
    """How a component's parts read, in every view and document: joined by `` | ``."""
    return KEY_JOIN.join(parts)


@dataclass(frozen=True, slots=True)
class Component:
    """What an attribution row is about, as data: the key parts of its spans and, for an edge, the callee's parts;
    ``services``: the services its spans belong to (an edge: the callee's). Code reads these fields; only labels
    for people join them, so nothing ever splits a label back apart."""

    parts: tuple[str, ...]
    callee: tuple[str, ...] = ()  # non-empty: the edge caller → callee
    services: tuple[str, ...] = field(default=(), compare=False)

    def __reduce__(self) -> tuple[type[Component], tuple[Any, ...]]:
        return Component, (self.parts, self.callee, self.services)

    @property
    def edge(self) -> bool:
        return bool(self.callee)

    @property
    def label(self) -> str:
        caller = label_of(self.parts)
        return f"{caller}{EDGE_ARROW}{label_of(self.callee)}" if self.callee else caller

    @property
    def caller_label(self) -> str:
        return label_of(self.parts)

    @property
    def callee_label(self) -> str:
        return label_of(self.callee)


def _attr(span: Span, name: str) -> str:
    value = span.attributes.get(name)
    if value is None:
        value = span.resource.attributes.get(name)
    return NONE if value is None else str(value)


def _resource_attr(span: Span, name: str) -> str:
    value = span.resource.attributes.get(name)
    return NONE if value is None else str(value)


def _attr_nodes(tree: SpanTree, name: str) -> list[str]:
    cols = tree.columns
    out: list[str] = []
    for i, resource in enumerate(cols.resource):
        value = cols.attributes_of(i).get(name)
        if value is None:
            value = resource.attributes.get(name)
        out.append(NONE if value is None else str(value))
    return out


def _resource_attr_nodes(tree: SpanTree, name: str) -> list[str]:
    by_resource: dict[int, str] = {}  # resources are shared: one lookup each
    out: list[str] = []
    for resource in tree.columns.resource:
        text = by_resource.get(id(resource))
        if text is None:
            value = resource.attributes.get(name)
            text = by_resource[id(resource)] = NONE if value is None else str(value)
        out.append(text)
    return out


_KIND_LABELS = tuple(k.label for k in SpanKind)  # by code

_SIMPLE: dict[str, tuple[KeyFunc, NodesFunc]] = {
    "service": (lambda s: s.service, lambda t: t.services),
    "name": (lambda s: s.name, lambda t: t.names),
    "kind": (lambda s: s.kind.label, lambda t: list(map(_KIND_LABELS.__getitem__, t.columns.kind))),
}


def _parts(spec: str) -> tuple[tuple[KeyFunc, NodesFunc], ...]:
    if spec == "operation":  # service and span name: two parts, so each can be read on its own
        return (_SIMPLE["service"], _SIMPLE["name"])
    return (_part(spec),)


def _part(spec: str) -> tuple[KeyFunc, NodesFunc]:
    if spec in _SIMPLE:
        return _SIMPLE[spec]
    getters: tuple[tuple[str, Callable[[Span, str], str], Callable[[SpanTree, str], list[str]]], ...] = (
        ("attr:", _attr, _attr_nodes),
        ("resource:", _resource_attr, _resource_attr_nodes),
    )
    for prefix, getter, nodes_getter in getters:
        if spec.startswith(prefix) and len(spec) > len(prefix):
            name = spec[len(prefix) :]
            return (lambda s, n=name, g=getter: g(s, n)), (lambda t, n=name, g=nodes_getter: g(t, n))
    raise InputError(
        f"--by: unknown component key {spec!r} (use service, name, operation, kind, attr:KEY, resource:KEY, "
        "or several joined by commas)"
    )


# Key parts that already contain others: a part implied by another part of the same key is not repeated.
_IMPLIES = {"operation": frozenset({"service", "name"})}


@lru_cache(maxsize=256)
def parse_key(spec: str = "service") -> ComponentKey:
    """Parse a ``--by`` value such as ``service``, ``operation`` or ``service,attr:ml.model.name``.

    Repeated parts, and parts another part already implies (``service,operation`` is ``operation``:
    ``cv-model | forward``, not ``cv-model | cv-model | forward``), are dropped. Each spelling is parsed once (a
    ``ComponentKey`` is immutable, and blame's workers ask again for every trace: 2.8 µs a time)."""
    parts = list(dict.fromkeys(p.strip() for p in spec.split(",") if p.strip()))
    if not parts:
        raise InputError("--by: empty component key")
    parts = [p for p in parts if not any(p in _IMPLIES.get(other, ()) for other in parts)]
    pairs = [pair for p in parts for pair in _parts(p)]
    return ComponentKey(spec, tuple(f for f, _ in pairs), tuple(g for _, g in pairs))


@dataclass(frozen=True, slots=True)
class Row:
    """One component (or edge) of one trace. ``key`` is its label; ``component`` says what it is, as data."""

    key: str
    edge: bool
    spans: int
    errors: int
    self_ns: int
    cp_ns: int
    share: float  # cp_ns / critical-path length (0 when the length is 0)
    component: Component = field(default=Component(()), compare=False)

    def __reduce__(self) -> tuple[Callable[..., Row], tuple[Any, ...]]:
        # pickled as its fields (blame's workers send thousands) and rebuilt by ``make_row``: the dataclass default
        # looks its fields up again for each row, on both sides
        return make_row, (self.key, self.edge, self.spans, self.errors, self.self_ns, self.cp_ns, self.share,
                          self.component)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Attribution:
    trace_id: str
    duration_ns: int  # wall time of the trace
    cp_length_ns: int
    by: str
    rows: tuple[Row, ...]  # by critical-path time, largest first; ties by key

    def __reduce__(self) -> tuple[Callable[..., Attribution], tuple[Any, ...]]:
        return make_attribution, (self.trace_id, self.duration_ns, self.cp_length_ns, self.by, self.rows)


# Rows and attributions are made by the hundred thousand (a row per component per trace, again when blame's workers'
# pickles are read). A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``: about 0.95 µs
# a row. ``make_row`` fills an instance of a plain class with the very same slots and then makes it a ``Row``
# (``__class__`` assignment, allowed between classes of one layout): 0.23 µs, and the result is a ``Row`` in every
# respect (type, equality, hashing, pickling, ``dataclasses.asdict``, frozen afterwards).
class _RowSlots:
    __slots__ = Row.__slots__


class _AttributionSlots:
    __slots__ = Attribution.__slots__


def make_row(key: str, edge: bool, spans: int, errors: int, self_ns: int, cp_ns: int, share: float,
             component: Component) -> Row:  # fmt: skip
    """``Row(key, edge, spans, errors, self_ns, cp_ns, share, component)``, made faster."""
    row: Any = _RowSlots()
    row.key, row.edge, row.spans, row.errors, row.self_ns, row.cp_ns, row.share, row.component = (
        key, edge, spans, errors, self_ns, cp_ns, share, component)  # fmt: skip
    row.__class__ = Row
    return row  # type: ignore[no-any-return]


def make_attribution(trace_id: str, duration_ns: int, cp_length_ns: int, by: str, rows: tuple[Row, ...]) -> Attribution:
    """``Attribution(trace_id, duration_ns, cp_length_ns, by, rows)``, made as ``make_row`` makes a row."""
    made: Any = _AttributionSlots()
    made.trace_id, made.duration_ns, made.cp_length_ns, made.by, made.rows = (
        trace_id, duration_ns, cp_length_ns, by, rows)  # fmt: skip
    made.__class__ = Attribution
    return made  # type: ignore[no-any-return]


def edge_callee(tree: SpanTree, node: int) -> int:
    """The child that makes ``node`` the caller's side of a call to another service (an edge), or -1.

    With span kinds: a CLIENT span whose child is a SERVER span of another service. Without (UNSPECIFIED, as
    many converted datasets and older exporters send): a span whose children *all* belong to one other service
    (and are themselves kind-less or SERVER) is a client span waiting on that service. A kind-less span with
    children of its own service too is a handler doing its own work between calls, not an edge: its time
    outside its children stays its own.
    """
    children = tree.children
    return _callees(tree.columns.kind, tree.services, children.flat, children.offsets, (node,)).get(node, -1)


def _callees(
    kinds: bytearray, services: list[str], flat: Sequence[int], offsets: Sequence[int], nodes: Iterable[int]
) -> dict[int, int]:
    """``edge_callee`` of each of ``nodes`` that has one (children ``flat[offsets[i]:offsets[i + 1]]``): node -> callee.
    (One loop over the nodes, not a call each.)"""
    out: dict[int, int] = {}
    for node in nodes:
        kind = kinds[node]
        if kind == _CLIENT:  # the first child that is a SERVER span of another service
            own = services[node]
            for child in flat[offsets[node] : offsets[node + 1]]:
                if kinds[child] == _SERVER and services[child] != own:
                    out[node] = child
                    break
        elif kind == _UNSPECIFIED:  # children all of one other service, each kind-less or SERVER
            kids = flat[offsets[node] : offsets[node + 1]]
            if not kids:
                continue
            callee = services[kids[0]]
            if callee == services[node]:
                continue
            for child in kids:
                if services[child] != callee or kinds[child] not in _CALLEE_KINDS:
                    break
            else:
                out[node] = kids[0]
    return out


_CLIENT, _SERVER, _UNSPECIFIED = int(SpanKind.CLIENT), int(SpanKind.SERVER), int(SpanKind.UNSPECIFIED)
_CALLEE_KINDS = (_UNSPECIFIED, _SERVER)


def edge_callees(tree: SpanTree) -> dict[int, int]:
    """``edge_callee`` of every node that has one: node -> callee."""
    read = tree.read
    return _callees(tree.columns.kind, tree.services, read.flat, read.offsets, read.with_children)


def attribute(path: CriticalPath, by: ComponentKey | None = None, self_ns: Sequence[int] | None = None) -> Attribution:
    """Group the spans of ``path.tree`` by component and sum their self and critical-path time."""
    tree = path.tree
    selfs = self_ns if self_ns is not None else self_times(tree)
    return attribute_nodes(tree, by or parse_key("service"), selfs, path.per_node_ns(), path.length_ns)


def attribute_nodes(
    tree: SpanTree, key: ComponentKey, self_ns: Sequence[int], cp_ns: Sequence[int], cp_length_ns: int
) -> Attribution:
    """``attribute`` from every node's self and critical-path time and the path's length (read from the tree's
    columns: no ``Span`` object)."""
    # Every node's group: its parts, or for the caller's side of an edge (its parts, the callee's parts); for a key
    # of one part, a plain node's group is that part's value itself (no tuple a node). A str, a tuple of str and a
    # tuple of tuples never equal one another. And the service each node counts for (an edge's is the callee's).
    single = len(key.node_funcs) == len(key.funcs) == 1
    values: Sequence[Any] = key.node_funcs[0](tree) if single else key.node_parts(tree)
    services = tree.services
    callees = edge_callees(tree)
    groups: Sequence[Any] = values
    counted = services
    if callees:
        groups, counted = list(values), services.copy()
        for node, callee in callees.items():
            groups[node] = ((values[node],), (values[callee],)) if single else (values[node], values[callee])
            counted[node] = services[callee]
    acc: dict[Any, list[Any]] = {}  # group -> spans, self, critical path, service, all services if several, errors
    for group, own_ns, path_ns, service in zip(groups, self_ns, cp_ns, counted, strict=True):
        entry = acc.get(group)
        if entry is None:
            acc[group] = [1, own_ns, path_ns, service, None, 0]
        else:
            entry[0] += 1
            entry[1] += own_ns
            entry[2] += path_ns
            if service != entry[3]:  # a group of several services (a key other than the service)
                if entry[4] is None:
                    entry[4] = {entry[3]}
                entry[4].add(service)
    statuses = tree.columns.status
    if _ERROR in statuses:
        for i in compress(range(len(statuses)), map(eq, statuses, repeat(_ERROR))):
            acc[groups[i]][5] += 1
    # A row for each group, as found (made as make_row makes one, without a call a row), ranked by critical-path
    # time, then self time, then label (and as found, for equal labels): tuples sort without a key function.
    length = cp_length_ns
    ranked: list[Any] = []
    for found, (group, (n, s, cp, service, several, errors)) in enumerate(acc.items()):
        names = service if several is None else tuple(sorted(several))
        known = _COMPONENTS.get(group)  # the group's component, if seen lately (with the same services)
        if known is None or known[3] != names:
            known = _component(group, single, names)
        row: Any = _RowSlots()
        row.key, row.edge, row.spans, row.errors, row.self_ns, row.cp_ns, row.share, row.component = (
            known[1], known[2], n, errors, s, cp, cp / length if length else 0.0, known[0])  # fmt: skip
        row.__class__ = Row
        ranked.append((-cp, -s, known[1], found, row))
    ranked.sort()
    return make_attribution(tree.trace_id, tree.duration_ns, length, key.spec, tuple(map(_ROW, ranked)))


_ROW = itemgetter(4)


_ERROR = int(StatusCode.ERROR)

# The components seen lately, by group: the component, its label, whether it is an edge, and the services its spans
# belong to (a str for one service): the same few recur in every trace of a service, and a Component is immutable, so
# the traces' rows share one (fewer objects, smaller pickles from ``blame -j``'s workers). A group seen with other
# services than last time gets its own component, which then replaces the one kept.
_COMPONENTS: dict[Any, tuple[Component, str, bool, str | tuple[str, ...]]] = {}


def _component(group: Any, value: bool, names: str | tuple[str, ...]) -> tuple[Component, str, bool, Any]:
    """The component of a group of ``attribute_nodes`` (``value``: a plain group is a one-part key's value, not
    parts) whose spans belong to the services ``names``, its label, whether it is an edge, and ``names``."""
    if type(group) is tuple and len(group) == 2 and type(group[0]) is tuple:  # an edge: (parts, callee's parts)
        parts, callee = group
    else:
        parts, callee = ((group,) if value else group), ()
    if len(_COMPONENTS) >= 4096:  # many distinct values (an attribute key): forget, do not grow
        _COMPONENTS.clear()
    component = Component(parts, callee, (names,) if isinstance(names, str) else names)
    known = _COMPONENTS[group] = (component, component.label, component.edge, names)
    return known
