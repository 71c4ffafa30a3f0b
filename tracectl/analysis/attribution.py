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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tracectl.analysis.critical_path import CriticalPath
from tracectl.analysis.selftime import self_times
from tracectl.analysis.tree import SpanTree
from tracectl.errors import InputError
from tracectl.model import Span, SpanKind

NONE = "(none)"
EDGE_ARROW = " → "
KEY_JOIN = " | "

KeyFunc = Callable[[Span], str]


@dataclass(frozen=True, slots=True)
class ComponentKey:
    """A parsed ``--by`` value: the functions from a span to each of its parts, and its spelling."""

    spec: str
    funcs: tuple[KeyFunc, ...]

    def parts(self, span: Span) -> tuple[str, ...]:
        """The span's value for each part of the key (``("cv-model", "forward")`` for ``operation``)."""
        return tuple(f(span) for f in self.funcs)

    def __call__(self, span: Span) -> str:
        """The span's component label: its parts joined."""
        return label_of(self.parts(span))


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


_SIMPLE: dict[str, KeyFunc] = {
    "service": lambda s: s.service,
    "name": lambda s: s.name,
    "kind": lambda s: s.kind.label,
}


def _parts(spec: str) -> tuple[KeyFunc, ...]:
    if spec == "operation":  # service and span name: two parts, so each can be read on its own
        return (_SIMPLE["service"], _SIMPLE["name"])
    return (_part(spec),)


def _part(spec: str) -> KeyFunc:
    if spec in _SIMPLE:
        return _SIMPLE[spec]
    for prefix, getter in (("attr:", _attr), ("resource:", _resource_attr)):
        if spec.startswith(prefix) and len(spec) > len(prefix):
            name = spec[len(prefix) :]
            return lambda s, n=name, g=getter: g(s, n)  # type: ignore[misc]
    raise InputError(
        f"--by: unknown component key {spec!r} (use service, name, operation, kind, attr:KEY, resource:KEY, "
        "or several joined by commas)"
    )


# Key parts that already contain others: a part implied by another part of the same key is not repeated.
_IMPLIES = {"operation": frozenset({"service", "name"})}


def parse_key(spec: str = "service") -> ComponentKey:
    """Parse a ``--by`` value such as ``service``, ``operation`` or ``service,attr:ml.model.name``.

    Repeated parts, and parts another part already implies (``service,operation`` is ``operation``:
    ``cv-model | forward``, not ``cv-model | cv-model | forward``), are dropped."""
    parts = list(dict.fromkeys(p.strip() for p in spec.split(",") if p.strip()))
    if not parts:
        raise InputError("--by: empty component key")
    parts = [p for p in parts if not any(p in _IMPLIES.get(other, ()) for other in parts)]
    return ComponentKey(spec, tuple(f for p in parts for f in _parts(p)))


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


@dataclass(frozen=True, slots=True)
class Attribution:
    trace_id: str
    duration_ns: int  # wall time of the trace
    cp_length_ns: int
    by: str
    rows: tuple[Row, ...]  # by critical-path time, largest first; ties by key


def edge_callee(tree: SpanTree, node: int) -> int:
    """The child that makes ``node`` the caller's side of a call to another service (an edge), or -1.

    With span kinds: a CLIENT span whose child is a SERVER span of another service. Without (UNSPECIFIED, as
    many converted datasets and older exporters send): a span whose children *all* belong to one other service
    (and are themselves kind-less or SERVER) is a client span waiting on that service. A kind-less span with
    children of its own service too is a handler doing its own work between calls, not an edge: its time
    outside its children stays its own.
    """
    span = tree.spans[node]
    kids = tree.children[node]
    if span.kind is SpanKind.CLIENT:
        for child in kids:
            c = tree.spans[child]
            if c.kind is SpanKind.SERVER and c.service != span.service:
                return child
        return -1
    if span.kind is not SpanKind.UNSPECIFIED or not kids:
        return -1
    callee = tree.spans[kids[0]].service
    if callee == span.service:
        return -1
    for child in kids:
        c = tree.spans[child]
        if c.service != callee or c.kind not in _CALLEE_KINDS:
            return -1
    return kids[0]


_CALLEE_KINDS = frozenset({SpanKind.UNSPECIFIED, SpanKind.SERVER})


def attribute(path: CriticalPath, by: ComponentKey | None = None, self_ns: Sequence[int] | None = None) -> Attribution:
    """Group the spans of ``path.tree`` by component and sum their self and critical-path time."""
    key = by or parse_key("service")
    tree = path.tree
    selfs = self_ns if self_ns is not None else self_times(tree)
    cps = path.per_node_ns()
    acc: dict[Component, list[int]] = {}
    services: dict[Component, set[str]] = {}
    for i, span in enumerate(tree.spans):
        callee = edge_callee(tree, i)
        if callee >= 0:
            callee_span = tree.spans[callee]
            component, service = Component(key.parts(span), key.parts(callee_span)), callee_span.service
        else:
            component, service = Component(key.parts(span)), span.service
        entry = acc.get(component)
        if entry is None:
            entry = acc[component] = [0, 0, 0, 0]
            services[component] = set()
        services[component].add(service)
        entry[0] += 1
        entry[1] += span.is_error
        entry[2] += selfs[i]
        entry[3] += cps[i]
    length = path.length_ns
    rows = []
    for c, (n, errors, s, cp) in acc.items():
        typed = Component(c.parts, c.callee, tuple(sorted(services[c])))
        rows.append(Row(typed.label, typed.edge, n, errors, s, cp, cp / length if length else 0.0, typed))
    rows.sort(key=lambda r: (-r.cp_ns, -r.self_ns, r.key))
    return Attribution(tree.trace_id, tree.duration_ns, length, key.spec, tuple(rows))
