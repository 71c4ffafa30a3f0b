"""Attribution per trace (edge rule, keys, invariants) and aggregation over many traces (pandas)."""

from __future__ import annotations

import dataclasses
import pickle

import pytest
from hypothesis import given, settings

from tests.builders import MS, span, trace
from tests.strategies import examples, random_tree
from tracectl.analysis.aggregate import aggregate, compare_buckets
from tracectl.analysis.analyse import analyse_trace
from tracectl.analysis.attribution import (
    Attribution,
    Component,
    Row,
    attribute,
    make_attribution,
    make_row,
    parse_key,
)
from tracectl.analysis.critical_path import critical_path
from tracectl.analysis.selftime import self_times
from tracectl.analysis.tree import build_tree
from tracectl.errors import InputError
from tracectl.model import SpanKind, Trace
from tracectl.sandbox.synth import ml_inference_trace

CLIENT, SERVER = SpanKind.CLIENT, SpanKind.SERVER


def rows(t: Trace, by: str = "service") -> dict[str, tuple[int, int, int]]:
    """key -> (spans, self ms, critical-path ms)."""
    a = analyse_trace(t, by).attribution
    return {r.key: (r.spans, r.self_ns // MS, r.cp_ns // MS) for r in a.rows}


def rpc_trace(client_end: float, server_start: float, server_end: float) -> Trace:
    return trace(
        span("root", 0, 100, service="gateway", kind=SERVER),
        span("call", 10, client_end, "root", service="gateway", kind=CLIENT),
        span("handle", server_start, server_end, "call", service="nlp-model", kind=SERVER),
    )


def test_edge_rule_network_growth_goes_to_the_edge_not_the_caller_or_callee() -> None:
    normal = rows(rpc_trace(client_end=50, server_start=12, server_end=48))
    slow = rows(rpc_trace(client_end=70, server_start=32, server_end=68))  # server unchanged (36 ms), client +20 ms
    assert normal == {"nlp-model": (1, 36, 36), "gateway": (1, 60, 60), "gateway → nlp-model": (1, 4, 4)}
    assert slow == {"nlp-model": (1, 36, 36), "gateway": (1, 40, 40), "gateway → nlp-model": (1, 24, 24)}
    assert slow["gateway → nlp-model"][2] - normal["gateway → nlp-model"][2] == 20


def test_client_without_a_remote_server_child_is_the_callers_own_time() -> None:
    t = trace(
        span("root", 0, 100, service="feature-store", kind=SERVER),
        span("SELECT", 10, 90, "root", service="feature-store", kind=CLIENT),  # an uninstrumented database
    )
    assert rows(t) == {"feature-store": (2, 100, 100)}


def kindless(*spans: tuple[str, float, float, str, str]) -> Trace:
    """Spans as Nezha-style converted data carries them: no kind at all."""
    return trace(*(span(n, a, b, p, service=svc, kind=SpanKind.UNSPECIFIED) for n, a, b, p, svc in spans))


def test_without_kinds_a_span_whose_children_are_all_another_service_is_a_client() -> None:
    t = kindless(
        ("root", 0, 100, "", "frontend"),
        ("GetCart", 10, 60, "root", "frontend"),  # the client side: its only child is cart's handler
        ("cart.GetCart", 30, 40, "GetCart", "cart"),
        ("render", 60, 90, "root", "frontend"),
    )
    assert rows(t) == {"frontend": (2, 50, 50), "frontend → cart": (1, 40, 40), "cart": (1, 10, 10)}


def test_without_kinds_a_handler_with_its_own_children_too_is_not_an_edge() -> None:
    t = kindless(
        ("root", 0, 100, "", "frontend"),
        ("handler", 0, 100, "root", "checkout"),
        ("db", 10, 20, "handler", "checkout"),  # the handler does its own work between calls...
        ("pay", 30, 50, "handler", "payment"),  # ...and calls another service directly
    )
    assert rows(t) == {"frontend → checkout": (1, 0, 0), "checkout": (2, 80, 80), "payment": (1, 20, 20)}
    mixed = kindless(("root", 0, 100, "", "api"), ("a", 10, 20, "root", "model"), ("b", 30, 40, "root", "cache"))
    assert not any(" → " in k for k in rows(mixed))  # children of two other services: no single callee


def test_with_kinds_only_client_spans_make_edges() -> None:
    t = trace(
        span("root", 0, 100, service="router", kind=SERVER),
        span("work", 10, 60, "root", service="router", kind=SpanKind.INTERNAL),
        span("remote", 20, 30, "work", service="model", kind=SERVER),
    )
    assert not any(" → " in k for k in rows(t))  # an INTERNAL span says it is not a call


def test_keys_operation_attributes_and_combinations() -> None:
    t = trace(
        span("root", 0, 100, service="router", kind=SERVER),
        span("forward", 10, 60, "root", service="nlp-model", **{"ml.model.name": "bert"}),
        span("forward2", 60, 90, "root", service="nlp-model", **{"ml.model.name": "t5"}),
    )
    assert rows(t, "operation") == {
        "nlp-model | forward": (1, 50, 50), "router | root": (1, 20, 20), "nlp-model | forward2": (1, 30, 30),
    }  # fmt: skip
    assert rows(t, "attr:ml.model.name") == {"bert": (1, 50, 50), "t5": (1, 30, 30), "(none)": (1, 20, 20)}
    assert rows(t, "service,attr:ml.model.name")["nlp-model | t5"] == (1, 30, 30)
    assert rows(t, "attr:service.name") == {"nlp-model": (2, 80, 80), "router": (1, 20, 20)}  # resource fallback
    assert rows(t, "kind") == {"internal": (2, 80, 80), "server": (1, 20, 20)}


@pytest.mark.parametrize(
    ("spec", "label"),
    [
        ("service,operation", "nlp-model | forward"),  # was "nlp-model | nlp-model | forward"
        ("operation,service", "nlp-model | forward"),
        ("name,operation", "nlp-model | forward"),
        ("service,service,name", "nlp-model | forward"),
        ("name,service", "forward | nlp-model"),  # nothing implied: the order given is kept
        ("operation,attr:ml.model.name", "nlp-model | forward | bert"),
    ],
)
def test_a_key_part_implied_by_another_is_not_repeated(spec: str, label: str) -> None:
    t = trace(
        span("root", 0, 100, service="router", kind=SERVER),
        span("forward", 10, 60, "root", service="nlp-model", **{"ml.model.name": "bert"}),
    )
    assert rows(t, spec)[label] == (1, 50, 50)
    assert analyse_trace(t, spec).attribution.by == spec  # the spelling given is what the output records


def test_unknown_key_is_a_usage_error() -> None:
    with pytest.raises(InputError, match="unknown component key 'pod'"):
        parse_key("pod")
    with pytest.raises(InputError, match="empty component key"):
        parse_key(" , ")


def test_ml_trace_attribution_values() -> None:
    a = analyse_trace(ml_inference_trace(7)).attribution
    by = {r.key: r for r in a.rows}
    assert a.rows[0].key == "cv-model" and by["cv-model"].cp_ns == 27_009_000
    assert by["nlp-model"].cp_ns == 0 and by["nlp-model"].self_ns == 17_491_000  # parallel branch, off the path
    assert by["model-router → cv-model"].edge and by["model-router → cv-model"].cp_ns == 400_000
    assert sum(r.cp_ns for r in a.rows) == a.cp_length_ns == 43_767_000


@settings(max_examples=examples(300), deadline=None)
@given(random_tree())
def test_property_attribution_sums_to_the_path_length(t: Trace) -> None:
    tree = build_tree(t)
    path = critical_path(tree)
    selfs = self_times(tree)
    for by in ("service", "operation", "kind,service"):  # random_tree mixes kind-less spans in
        a = attribute(path, parse_key(by), selfs)
        assert sum(r.cp_ns for r in a.rows) == path.length_ns
        assert sum(r.self_ns for r in a.rows) == sum(selfs)
        assert sum(r.spans for r in a.rows) == len(tree)
    for i, s in enumerate(selfs):
        assert 0 <= s <= tree.end[i] - tree.start[i]


# -------------------------------------------------------------------------------------------- aggregate


def db_trace(n: int, db_ms: float, total_ms: float, with_cache: bool = False) -> Trace:
    spans = [span("root", 0, total_ms, service="api", kind=SERVER), span("query", 0, db_ms, "root", service="db")]
    if with_cache:
        spans.append(span("get", db_ms, db_ms + 5, "root", service="cache"))
    return trace(*spans, trace_id=f"{n + 1:032x}")


def test_aggregate_statistics_are_the_numbers_pandas_should_give() -> None:
    traces = [db_trace(i, db, 100, with_cache=i < 2) for i, db in enumerate((10, 20, 30, 40))]
    agg = aggregate([analyse_trace(t).attribution for t in traces])
    by = {c.key: c for c in agg.components}
    db = by["db"]
    assert (db.traces, db.spans, db.errors) == (4, 4, 0)
    assert db.cp_mean == 25 * MS and db.cp_p50 == 25 * MS
    assert db.cp_p95 == pytest.approx(38.5 * MS) and db.cp_p99 == pytest.approx(39.7 * MS)  # linear interpolation
    assert db.share == pytest.approx(100 / 400)
    assert by["cache"].traces == 2 and by["cache"].cp_mean == 5 * MS
    assert by["api"].share == pytest.approx((400 - 100 - 10) / 400)
    assert agg.traces == 4 and agg.total_cp_ns == 400 * MS
    assert sum(c.share for c in agg.components) == pytest.approx(1.0)
    assert [c.key for c in agg.components] == ["api", "db", "cache"]


def test_error_rate_counts_error_spans() -> None:
    t1 = trace(span("root", 0, 10, service="api"), span("q", 0, 5, "root", service="db", error=True))
    t2 = trace(span("root", 0, 10, service="api"), span("q", 0, 5, "root", service="db"), trace_id="2" * 32)
    agg = aggregate([analyse_trace(t).attribution for t in (t1, t2)])
    assert {c.key: c.error_rate for c in agg.components} == {"api": 0.0, "db": 0.5}


def test_buckets_contrast_the_tail_with_typical_traces() -> None:
    traces = [db_trace(i, 10, 50 + i % 5) for i in range(99)] + [db_trace(99, 200, 240)]
    cmp = compare_buckets([analyse_trace(t).attribution for t in traces])
    assert cmp.tail_traces == 1 and cmp.typical_traces >= 1
    top = cmp.rows[0]
    assert top.key == "db" and top.typical_cp_mean == 10 * MS and top.tail_cp_mean == 200 * MS
    assert top.delta == 190 * MS
    assert top.tail_share == pytest.approx(200 / 240)


def test_rows_and_attributions_made_the_fast_way_are_the_dataclasses_in_every_respect() -> None:
    component = Component(("api",), ("db",), ("db",))
    fields = ("api → db", True, 2, 1, 10, 30, 0.75, component)
    made, built = make_row(*fields), Row(*fields)
    assert type(made) is Row and made == built and hash(made) == hash(built) and repr(made) == repr(built)
    assert made != make_row("api", *fields[1:])  # equality still reads the fields (``component`` aside)
    assert dataclasses.asdict(made) == dataclasses.asdict(built)
    assert tuple(getattr(made, f.name) for f in dataclasses.fields(Row)) == fields
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.cp_ns = 0  # type: ignore[misc]
    att = make_attribution("t" * 32, 50, 40, "service", (made,))
    assert type(att) is Attribution and att == Attribution("t" * 32, 50, 40, "service", (built,))
    with pytest.raises(dataclasses.FrozenInstanceError):
        att.rows = ()  # type: ignore[misc]
    back = pickle.loads(pickle.dumps(att, protocol=pickle.HIGHEST_PROTOCOL))  # noqa: S301  # our own bytes
    assert back == att and type(back.rows[0]) is Row and back.rows[0].component.services == ("db",)
    # the slots the fast way fills are the dataclasses' fields: a field added to one and not the other fails here
    assert [f.name for f in dataclasses.fields(Row)] == list(Row.__slots__)
    assert [f.name for f in dataclasses.fields(Attribution)] == list(Attribution.__slots__)
