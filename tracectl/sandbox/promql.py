"""The PromQL subset the sandbox's Prometheus answers: the queries tracectl sends, evaluated as Prometheus 2.42 does.

    histogram_quantile(0.95, sum by (le) (rate(x_bucket{job=~"(.+/)?api", code!="500"}[1m])))
    sum by (client, server) (increase(traces_service_graph_request_total[2m]))
    max by (job, service_version) (target_info)          count by (__name__) ({__name__=~"a|b"})

Selectors with ``= != =~ !~`` (regexes fully anchored), ``{__name__=~…}``; range selectors ``[d]`` in ``rate``,
``increase``, ``last_over_time``, ``max_over_time``; ``histogram_quantile``; ``sum``, ``max``, ``min``,
``count``, ``avg`` with ``by``/``without`` before or after the argument; ``vector(n)``, parentheses, the
arithmetic operators ``+ - * /`` and ``or`` (``promql_ops``: what the SLO queries of ``slo status`` use).
Anything else is Prometheus' ``bad_data`` parse error. Semantics follow 2.42: an instant selector takes the latest
sample of the 5 minutes up to the evaluation time; a range ``[d]`` holds the samples of ``[t − d, t]``;
``rate``/``increase`` extrapolate as ``extrapolatedRate`` does; ``histogram_quantile`` interpolates within the
bucket as ``bucketQuantile`` does (NaN without observations).
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from tracectl.sandbox.promseries import Labels, Samples, SeriesDB

__all__ = ["Labels", "PromQLError", "Selector", "parse"]

LOOKBACK_MS = 5 * 60 * 1000
AGGREGATIONS = ("sum", "max", "min", "count", "avg")
RANGE_FUNCTIONS = ("rate", "increase", "last_over_time", "max_over_time")
_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<dur>\[\s*[0-9]+(?:ms|[smhdwy])(?:[0-9]+(?:ms|[smhdwy]))*\s*\])"""
    r"""|(?P<num>[0-9]+(?:\.[0-9]*)?(?:e[+-]?[0-9]+)?|\.[0-9]+)|(?P<op>=~|!~|!=|=|\{|\}|\(|\)|,|\+|-|\*|/)"""
    r"""|(?P<word>[A-Za-z_:][A-Za-z0-9_:]*)|(?P<bad>\S))"""
)
_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000, "y": 31_536_000_000}
Vector = dict[Labels, float]


class PromQLError(ValueError):
    """The message is Prometheus' ``bad_data`` error text."""


@dataclass(frozen=True, slots=True)
class Selector:
    matchers: tuple[tuple[str, str, str], ...]  # (label, op, value)
    range_ms: int = 0


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # a function or an aggregation
    args: tuple[Node, ...]
    grouping: tuple[str, ...] = ()
    without: bool = False


@dataclass(frozen=True, slots=True)
class Number:
    value: float


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # + - * / or
    lhs: Node
    rhs: Node


Node = Selector | Call | Number | Binary
PRECEDENCE = {"or": 1, "+": 2, "-": 2, "*": 3, "/": 3}


def duration_ms(text: str) -> int:
    total, pos = 0, 0
    for m in re.finditer(r"([0-9]+)(ms|[smhdwy])", text):
        if m.start() != pos:
            break
        total += int(m.group(1)) * _UNITS_MS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise PromQLError(f'bad duration "{text}"')
    return total


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = [(m.lastgroup or "", m.group(m.lastgroup or 0), m.start() + 1)
                       for m in _TOKEN.finditer(text) if m.lastgroup]  # fmt: skip
        self.i = 0

    def fail(self, message: str) -> PromQLError:
        col = self.tokens[self.i][2] if self.i < len(self.tokens) else (self.tokens[-1][2] + 1 if self.tokens else 1)
        return PromQLError(f'invalid parameter "query": 1:{col}: parse error: {message}')

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i][:2] if self.i < len(self.tokens) else ("end", "")

    def take(self, want: str | None = None) -> str:
        kind, text = self.peek()
        if kind == "end" or (want is not None and text != want):
            raise self.fail(f"unexpected {'end of input' if kind == 'end' else repr(text)}" +
                            (f", expected {want!r}" if want else ""))  # fmt: skip
        self.i += 1
        return text

    def parse(self) -> Node:
        node = self.binary(1)
        if self.peek()[0] != "end":
            kind, text = self.peek()
            outside = "this operator is outside the sandbox's PromQL subset"
            what = outside if kind == "bad" else f"unexpected {text!r}"
            raise self.fail(what)
        return node

    def binary(self, floor: int) -> Node:
        """Operators of precedence ``floor`` and above, left-associative (precedence climbing)."""
        node = self.expr()
        while self.peek()[1] in PRECEDENCE and PRECEDENCE[self.peek()[1]] >= floor:
            op = self.take()
            node = Binary(op, node, self.binary(PRECEDENCE[op] + 1))
        return node

    def expr(self) -> Node:
        kind, text = self.peek()
        if text == "(":
            self.take("(")
            node = self.binary(1)
            self.take(")")
            return node
        if kind == "num":
            self.i += 1
            return Number(float(text))
        if kind == "word" and text in AGGREGATIONS:
            return self.aggregation()
        if kind == "word" and self.i + 1 < len(self.tokens) and self.tokens[self.i + 1][1] == "(":
            return self.function()
        if (kind == "word" and text not in ("by", "without")) or text == "{":
            return self.selector()
        raise self.fail(f"unexpected {text!r}" if kind != "end" else "unexpected end of input")

    def grouping(self) -> tuple[str, ...]:
        self.take("(")
        labels: list[str] = []
        while self.peek()[1] != ")":
            labels.append(self.take())
            if self.peek()[1] == ",":
                self.take(",")
        self.take(")")
        return tuple(labels)

    def aggregation(self) -> Node:
        name = self.take()
        grouping: tuple[str, ...] = ()
        without = False
        if self.peek()[1] in ("by", "without"):
            without = self.take() == "without"
            grouping = self.grouping()
        self.take("(")
        arg = self.expr()
        self.take(")")
        if self.peek()[1] in ("by", "without"):
            without = self.take() == "without"
            grouping = self.grouping()
        return Call(name, (arg,), grouping, without)

    def function(self) -> Node:
        name = self.take()
        if name == "vector":
            self.take("(")
            arg = self.binary(1)
            self.take(")")
            return Call(name, (arg,))
        if name not in (*RANGE_FUNCTIONS, "histogram_quantile"):
            raise self.fail(f'unknown function with name "{name}"')
        self.take("(")
        args = [self.expr()]
        while self.peek()[1] == ",":
            self.take(",")
            args.append(self.expr())
        self.take(")")
        want = 2 if name == "histogram_quantile" else 1
        if len(args) != want:
            raise self.fail(f"expected {want} argument(s) in call to {name!r}, got {len(args)}")
        if name in RANGE_FUNCTIONS and not (isinstance(args[0], Selector) and args[0].range_ms):
            raise self.fail(f"expected type range vector in call to function {name!r}, got instant vector")
        return Call(name, tuple(args))

    def selector(self) -> Selector:
        matchers: list[tuple[str, str, str]] = []
        if self.peek()[0] == "word":
            matchers.append(("__name__", "=", self.take()))
        if self.peek()[1] == "{":
            self.take("{")
            while self.peek()[1] != "}":
                label = self.take()
                op = self.take()
                if op not in ("=", "!=", "=~", "!~"):
                    raise self.fail(f"unexpected {op!r} in label matching, expected one of =, !=, =~, !~")
                kind, raw = self.peek()
                if kind != "str":
                    raise self.fail(f"unexpected {raw!r} in label matching, expected string")
                self.i += 1
                matchers.append((label, op, _unquote(raw)))
                if self.peek()[1] == ",":
                    self.take(",")
            self.take("}")
        if not any(_non_empty(op, v) for _, op, v in matchers):
            raise self.fail("vector selector must contain at least one non-empty matcher")
        range_ms = 0
        if self.peek()[0] == "dur":
            range_ms = duration_ms(self.take().strip("[] "))
        return Selector(tuple(matchers), range_ms)


def _non_empty(op: str, value: str) -> bool:
    """Whether a matcher rules out the empty value (a selector needs one)."""
    matches_empty = {"=": value == "", "!=": value != "", "=~": re.fullmatch(value, "") is not None,
                     "!~": re.fullmatch(value, "") is None}[op]  # fmt: skip
    return not matches_empty


def _unquote(raw: str) -> str:
    body = raw[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def parse(text: str) -> Node:
    if not text.strip():
        raise PromQLError('invalid parameter "query": 1:1: parse error: no expression found in input')
    return _Parser(text).parse()


# --------------------------------------------------------------------------------------------- evaluation


def matches(labels: dict[str, str], matchers: tuple[tuple[str, str, str], ...]) -> bool:
    for label, op, value in matchers:
        actual = labels.get(label, "")
        if op == "=" and actual != value:
            return False
        if op == "!=" and actual == value:
            return False
        if op in ("=~", "!~") and (re.fullmatch(value, actual) is not None) != (op == "=~"):
            return False
    return True


class Evaluator:
    """Evaluates one parsed query against a ``SeriesDB`` at any number of instants (milliseconds)."""

    def __init__(self, db: SeriesDB, node: Node) -> None:
        self.db = db
        self.node = node
        self._selected: dict[Selector, list[tuple[Labels, Samples]]] = {}

    def select(self, sel: Selector) -> list[tuple[Labels, Samples]]:
        if sel not in self._selected:
            self._selected[sel] = [(k, s) for k, s in self.db.series.items() if matches(dict(k), sel.matchers)]
        return self._selected[sel]

    def at(self, t_ms: int) -> Vector | float:
        return self._eval(self.node, t_ms)

    def _eval(self, node: Node, t: int) -> Vector | float:
        if isinstance(node, Number):
            return node.value
        if isinstance(node, Binary):
            from tracectl.sandbox.promql_ops import binary

            return binary(node.op, self._eval(node.lhs, t), self._eval(node.rhs, t))
        if isinstance(node, Call) and node.name == "vector":
            scalar = self._eval(node.args[0], t)
            if not isinstance(scalar, float):
                raise PromQLError('expected type scalar in call to function "vector", got instant vector')
            return {(): scalar}
        if isinstance(node, Selector):
            if node.range_ms:
                raise PromQLError("invalid expression type \"range vector\" for range query, must be Scalar or "
                                  "instant Vector")  # fmt: skip
            out: Vector = {}
            for key, s in self.select(node):
                i = bisect.bisect_right(s.times_ms, t) - 1
                if i >= 0 and s.times_ms[i] >= t - LOOKBACK_MS:
                    out[key] = s.values[i]
            return out
        if node.name in AGGREGATIONS:
            return _aggregate(node, self._vector(node.args[0], t))
        if node.name == "histogram_quantile":
            q = self._eval(node.args[0], t)
            if not isinstance(q, float):
                raise PromQLError('expected type scalar in call to function "histogram_quantile"')
            return histogram_quantile(q, self._vector(node.args[1], t))
        sel = node.args[0]
        if not isinstance(sel, Selector):  # the parser allows only a range selector here
            raise PromQLError(f"expected type range vector in call to function {node.name!r}")
        fn = _RANGE[node.name]
        out = {}
        for key, s in self.select(sel):
            lo = bisect.bisect_left(s.times_ms, t - sel.range_ms)
            hi = bisect.bisect_right(s.times_ms, t)
            if hi > lo:
                value = fn(s.times_ms[lo:hi], s.values[lo:hi], t - sel.range_ms, t, sel.range_ms)
                if value is not None:
                    out[_drop_name(key)] = value
        return out

    def _vector(self, node: Node, t: int) -> Vector:
        value = self._eval(node, t)
        if not isinstance(value, dict):
            raise PromQLError("expected type instant vector, got scalar")
        return value


def _drop_name(key: Labels) -> Labels:
    return tuple(kv for kv in key if kv[0] != "__name__")


def extrapolated_rate(times: list[int], values: list[float], start: int, end: int, range_ms: int,
                      is_rate: bool) -> float | None:  # fmt: skip
    """Prometheus 2.42's ``extrapolatedRate`` for a counter."""
    if len(times) < 2:
        return None
    result = values[-1] - values[0]
    last = values[0]
    for v in values[1:]:
        if v < last:
            result += last
        last = v
    to_start = (times[0] - start) / 1000
    to_end = (end - times[-1]) / 1000
    sampled = (times[-1] - times[0]) / 1000
    average = sampled / (len(times) - 1)
    if result > 0 and values[0] >= 0:
        to_zero = sampled * (values[0] / result)
        to_start = min(to_start, to_zero)
    threshold = average * 1.1
    interval = sampled + (to_start if to_start < threshold else average / 2)
    interval += to_end if to_end < threshold else average / 2
    factor = interval / sampled
    if is_rate:
        factor /= range_ms / 1000
    return result * factor


_RANGE: dict[str, Callable[[list[int], list[float], int, int, int], float | None]] = {
    "rate": lambda ts, vs, a, b, r: extrapolated_rate(ts, vs, a, b, r, True),
    "increase": lambda ts, vs, a, b, r: extrapolated_rate(ts, vs, a, b, r, False),
    "last_over_time": lambda ts, vs, a, b, r: vs[-1],
    "max_over_time": lambda ts, vs, a, b, r: max(vs),
}


def _aggregate(node: Call, vector: Vector) -> Vector:
    groups: dict[Labels, list[float]] = {}
    for key, value in vector.items():
        if node.without:
            group = tuple(kv for kv in key if kv[0] not in node.grouping and kv[0] != "__name__")
        else:
            group = tuple(kv for kv in key if kv[0] in node.grouping)
        groups.setdefault(group, []).append(value)
    combine: dict[str, Callable[[list[float]], float]] = {
        "sum": math.fsum, "max": _nan_max, "min": _nan_min, "count": lambda v: float(len(v)),
        "avg": lambda v: math.fsum(v) / len(v),
    }  # fmt: skip
    return {group: combine[node.name](values) for group, values in groups.items()}


def _nan_max(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return max(finite) if finite else math.nan


def _nan_min(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return min(finite) if finite else math.nan


def histogram_quantile(q: float, vector: Vector) -> Vector:
    """``histogram_quantile``: buckets grouped by their labels without ``le``; Prometheus' ``bucketQuantile``."""
    groups: dict[Labels, list[tuple[float, float]]] = {}
    for key, count in vector.items():
        labels = dict(key)
        try:
            bound = float(labels.pop("le"))
        except (KeyError, ValueError):
            continue
        labels.pop("__name__", None)
        groups.setdefault(tuple(sorted(labels.items())), []).append((bound, count))
    return {group: bucket_quantile(q, buckets) for group, buckets in groups.items()}


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    buckets = sorted(buckets)
    if not math.isinf(buckets[-1][0]):
        return math.nan
    merged: list[list[float]] = []
    for bound, count in buckets:  # coalesce equal bounds
        if merged and merged[-1][0] == bound:
            merged[-1][1] += count
        else:
            merged.append([bound, count])
    highest = -math.inf
    for bucket in merged:  # ensure monotonic
        highest = max(highest, bucket[1])
        bucket[1] = highest
    if len(merged) < 2 or merged[-1][1] == 0:
        return math.nan
    rank = q * merged[-1][1]
    b = next((i for i in range(len(merged) - 1) if merged[i][1] >= rank), len(merged) - 1)
    if b == len(merged) - 1:
        return merged[-2][0]
    if b == 0 and merged[0][0] <= 0:
        return merged[0][0]
    start, end, count = 0.0, merged[b][0], merged[b][1]
    if b > 0:
        start = merged[b - 1][0]
        count -= merged[b - 1][1]
        rank -= merged[b - 1][1]
    return start + (end - start) * (rank / count)
