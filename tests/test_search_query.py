"""What a search means, before any backend: typed --attr values, which conditions hold on one span and which
on the trace, the TraceQL that says so, the client-side check Jaeger needs, and durations at their precision."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.builders import span, trace
from tracectl.backends.query import (
    SearchQuery,
    attr_matches,
    attr_text,
    build_traceql,
    matches_filters,
    parse_attr_flags,
    parse_attr_value,
    traceql_value,
)
from tracectl.errors import InputError
from tracectl.model import StatusCode
from tracectl.quoting import go_float_text
from tracectl.sandbox import traceql
from tracectl.timerange import TimeRange
from tracectl.units import format_duration

WINDOW = TimeRange(0, 10**18)


def query(**kw: object) -> SearchQuery:
    return SearchQuery(time=WINDOW, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("200", 200), ("-3", -3), ("0", 0), ("0.5", 0.5), ("-12.25", -12.25), ("true", True), ("false", False),
        ('"200"', "200"), ('"true"', "true"), ('""', ""), ("02134", "02134"), ("007", "007"), ("1e3", "1e3"),
        ("True", "True"), ("bert", "bert"), ("", ""), ('say "hi"', 'say "hi"'), ("9" * 30, "9" * 30),
    ],
)  # fmt: skip
def test_attr_values_are_typed_as_traceql_compares_them(text: str, value: object) -> None:
    parsed = parse_attr_value(text)
    assert parsed == value and type(parsed) is type(value)


def test_attr_flags_need_a_key() -> None:
    assert parse_attr_flags(["http.status_code=200", 'k="a=b"']) == (("http.status_code", 200), ("k", "a=b"))
    with pytest.raises(InputError, match="not KEY=VALUE"):
        parse_attr_flags(["=5"])


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"attributes": (("http.status_code", 200),)}, "{ .http.status_code = 200 }"),
        ({"attributes": (("ratio", 0.5),)}, "{ .ratio = 0.5 }"),
        ({"attributes": (("ratio", 2.0),)}, "{ .ratio = 2.0 }"),  # stays a float literal
        ({"attributes": (("cache.hit", False),)}, "{ .cache.hit = false }"),
        ({"attributes": (("http.status_code", "200"),)}, '{ .http.status_code = "200" }'),
        ({"attributes": (("resource.k8s.pod.name", "p-1"),)}, '{ resource.k8s.pod.name = "p-1" }'),
        # --errors: the error may be on any span of the trace, so it is a second spanset ...
        ({"service": "api-gateway", "errors": True}, '{ resource.service.name = "api-gateway" } && { status = error }'),
        ({"service": "a", "operation": "op", "errors": True, "min_duration_ns": 2 * 10**9,
          "attributes": (("http.status_code", 500),)},
         '{ resource.service.name = "a" && name = "op" && .http.status_code = 500 && trace:duration >= 2s } '
         "&& { status = error }"),
        # ... unless there is no span condition to keep apart from it
        ({"errors": True}, "{ status = error }"),
        ({"errors": True, "max_duration_ns": 10**9}, "{ trace:duration <= 1s && status = error }"),
        ({}, "{ }"),
    ],
)  # fmt: skip
def test_traceql_for_the_flags(flags: dict[str, object], expected: str) -> None:
    assert build_traceql(query(**flags)) == expected


def test_traceql_parses_in_the_sandbox_with_the_same_types() -> None:
    q = traceql.parse(build_traceql(query(service="s", errors=True, attributes=(("n", 7), ("f", 1.5), ("b", True)))))
    first, second = q.spansets
    assert q.operator == "&&" and [c.value for c in second.span_conds] == [traceql.Typed("status", StatusCode.ERROR)]
    assert [c.value.kind for c in first.span_conds] == ["string", "int", "float", "bool"]


def test_typed_equality_is_tempos() -> None:
    assert attr_matches(200, 200) and attr_matches(200, 200.0) and attr_matches(0.5, 0.5)
    assert not attr_matches(200, "200") and not attr_matches("200", 200)
    assert not attr_matches(False, 0) and not attr_matches(1, True) and not attr_matches("false", False)
    assert attr_matches(("a", "b"), "b") and not attr_matches(None, "x") and not attr_matches(b"x", "x")


scalars = st.one_of(
    st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False), st.text()
)


@given(scalars, scalars)
def test_the_sandbox_compares_attributes_exactly_as_the_client_checks_them(actual: object, wanted: object) -> None:
    """Tempo's rule, written twice on purpose (the sandbox must not borrow the client's): both sides agree."""
    kind = {bool: "bool", int: "int", float: "float", str: "string"}[type(wanted)]
    cond = traceql.Condition("attr:any:k", "=", traceql.Typed(kind, wanted))
    sandbox = traceql.Spanset((), (cond,)).matches(trace(span("s", 0, 1, k=actual)), None) != []
    assert sandbox == attr_matches(actual, wanted)  # type: ignore[arg-type]


@given(st.one_of(st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(-(2.0**62), 2.0**62)))
def test_a_typed_value_survives_its_text_and_its_literal(value: bool | int | float) -> None:
    """What Jaeger gets (the text) and what Tempo gets (the literal) read back as the same typed value."""
    assert attr_matches(parse_attr_value(attr_text(value)), value)
    assert traceql.parse(f"{{ .k = {traceql_value(value)} }}").spansets[0].span_conds[0].value.value == value


def test_go_float_text() -> None:
    assert [go_float_text(v) for v in (1.0, 0.5, 1e-7, 1e21, -2.25)] == [
        "1",
        "0.5",
        "0.0000001",
        "1" + "0" * 21,
        "-2.25",
    ]


def test_client_side_check_same_span_typed_errors_anywhere() -> None:
    t = trace(
        span("root", 0, 100, service="api-gateway", **{"http.status_code": 200}),
        span("validate", 10, 20, "root", service="postprocess", error=True, **{"ml.ok": False}),
    )
    assert matches_filters(t, query(service="api-gateway", errors=True))  # the error is in another service
    assert matches_filters(t, query(service="api-gateway", attributes=(("http.status_code", 200),)))
    assert not matches_filters(t, query(service="api-gateway", attributes=(("http.status_code", "200"),)))
    assert not matches_filters(t, query(service="api-gateway", attributes=(("ml.ok", False),)))  # not its span
    assert matches_filters(t, query(service="postprocess", attributes=(("ml.ok", False),)))
    assert not matches_filters(t, query(service="api-gateway", min_duration_ns=200 * 10**6))


@pytest.mark.parametrize(
    ("ns", "precision", "shown"),
    [
        (7_000_000, 10**6, "7 ms"), (0, 10**6, "<1 ms"), (999_000_000, 10**6, "999 ms"), (1_234_000_000, 10**6, "1.23 s"),
        (7_000_000, 1, "7.00 ms"), (1_500, 1000, "1 µs"), (1_234_000, 1000, "1.23 ms"), (500, 1000, "<1 µs"),
    ],
)  # fmt: skip
def test_durations_at_the_precision_the_server_gave(ns: int, precision: int, shown: str) -> None:
    assert format_duration(ns, precision) == shown
