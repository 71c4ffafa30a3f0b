"""Binary operators of the sandbox's PromQL subset, as Prometheus 2.42 evaluates them: ``+ - * /`` between
scalars and instant vectors (vector–vector: one-to-one on identical label sets, the metric name dropped) and
``or`` (the left side, then the right side's series whose labels the left side lacks)."""

from __future__ import annotations

import math

from tracectl.sandbox.promql import PromQLError, Vector


def arithmetic(op: str, a: float, b: float) -> float:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:  # Go's float division: x/0 = ±Inf, 0/0 = NaN
        return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a)
    return a / b


def _unnamed(key: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple(kv for kv in key if kv[0] != "__name__")


def binary(op: str, lhs: Vector | float, rhs: Vector | float) -> Vector | float:
    if op == "or":
        if not isinstance(lhs, dict) or not isinstance(rhs, dict):
            raise PromQLError('set operator "or" not allowed in binary scalar expression')
        seen = {_unnamed(k) for k in lhs}
        return {**lhs, **{k: v for k, v in rhs.items() if _unnamed(k) not in seen}}
    if isinstance(lhs, float) and isinstance(rhs, float):
        return arithmetic(op, lhs, rhs)
    if isinstance(lhs, float) and isinstance(rhs, dict):
        return {_unnamed(k): arithmetic(op, lhs, v) for k, v in rhs.items()}
    if isinstance(lhs, dict) and isinstance(rhs, float):
        return {_unnamed(k): arithmetic(op, v, rhs) for k, v in lhs.items()}
    assert isinstance(lhs, dict) and isinstance(rhs, dict)  # noqa: S101 - the four cases are exhaustive
    right = {_unnamed(k): v for k, v in rhs.items()}
    out: Vector = {}
    for key, value in lhs.items():
        match = _unnamed(key)
        if match in right:
            out[match] = arithmetic(op, value, right[match])
    return out
