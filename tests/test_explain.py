"""``explain``'s patterns on hand-built traces, each beside the adversarial twin a naive rule gets wrong, and its
invariants on random trees."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import MS, sid, span, trace
from tests.strategies import examples, random_tree
from tracectl.analysis.analyse import analyse_trace
from tracectl.analysis.explain import Diagnosis, explain_trace, marks
from tracectl.analysis.findings import (
    DominantSection,
    FailureOrigin,
    NPlusOne,
    QueueGap,
    Retry,
    SerialCalls,
)
from tracectl.model import AttrValue, Event, Span, SpanKind, StatusCode, Trace

CLIENT, SERVER = SpanKind.CLIENT, SpanKind.SERVER


def call(key: str, name: str, start: float, end: float, parent: str, service: str = "svc",
         kind: SpanKind = CLIENT, error: bool = False, **attrs: AttrValue) -> Span:  # fmt: skip
    """A span named ``name`` whose ID comes from ``key`` (many calls share one name)."""
    return replace(span(key, start, end, parent, service, kind, error, **attrs), name=name)


def diagnose(*spans: Span, keep_minor: bool = True) -> Diagnosis:
    return explain_trace(analyse_trace(trace(*spans)), keep_minor)


def of(d: Diagnosis, cls: type) -> list:  # type: ignore[type-arg]
    return [x for x in d.findings if isinstance(x, cls)]


def ids(d: Diagnosis, nodes: tuple[int, ...] | list[int]) -> list[str]:
    return [d.analysis.tree.keys[n] for n in nodes]


def failure(d: Diagnosis) -> FailureOrigin:
    (x,) = of(d, FailureOrigin)
    return x


def naive_origin(d: Diagnosis) -> str:
    """The naive rule: the deepest error span with no errored children."""
    tree = d.analysis.tree
    depth = [0] * len(tree)
    for n in tree.preorder():
        if tree.parent[n] >= 0:
            depth[n] = depth[tree.parent[n]] + 1
    leaves = [n for n, s in enumerate(tree.spans)
              if s.is_error and not any(tree.spans[k].is_error for k in tree.children[n])]  # fmt: skip
    return tree.keys[max(leaves, key=lambda n: depth[n])]


# ------------------------------------------------------------------------------------- where the failure began


def test_a_gateway_timeout_masks_the_slow_model_it_was_waiting_on() -> None:
    gateway = replace(span("gateway", 0, 1000, kind=SERVER, service="gateway", error=True),
                      status_message="upstream request timeout")  # fmt: skip
    d = diagnose(
        gateway,
        span("route", 2, 1000, "gateway", service="gateway", kind=CLIENT),
        span("predict", 5, 1600, "route", service="model", kind=SERVER),  # OK, ran on after the gateway gave up
        span("auth", 0.5, 1.5, "gateway", service="gateway", kind=CLIENT),
    )
    x = failure(d)
    assert ids(d, [x.origin, x.failed]) == [sid("predict"), sid("gateway")]
    assert x.masked and x.fatal and x.timeout
    assert ids(d, x.chain) == [sid("gateway"), sid("route"), sid("predict")]
    assert x.failed_says == "upstream request timeout" and x.mechanism is None
    assert naive_origin(d) == sid("gateway")  # the naive rule names the span that gave up
    assert marks(d)[d.analysis.tree.keys.index(sid("predict"))] == [("origin", 0)]


def test_a_504_is_a_timeout_even_when_the_callee_ends_with_the_caller() -> None:
    d = diagnose(
        span("gw", 0, 1000, kind=SERVER, service="gateway", error=True, **{"http.response.status_code": 504}),
        span("model", 3, 1000, "gw", service="model", kind=SERVER),
    )
    x = failure(d)
    assert x.masked and x.timeout and d.analysis.tree.keys[x.origin] == sid("model")


def test_the_twin_a_real_deepest_error_is_its_own_origin_with_its_exception() -> None:
    boom = Event(0, "exception", {"exception.type": "ValueError", "exception.message": "bad shape (3, 4)"})
    model = replace(span("model", 5, 995, "route", service="model", kind=SERVER, error=True), events=(boom,))
    d = diagnose(
        span("gateway", 0, 1000, kind=SERVER, service="gateway", error=True),
        span("route", 2, 998, "gateway", service="gateway", kind=CLIENT, error=True),
        model,
    )
    x = failure(d)
    assert d.analysis.tree.keys[x.origin] == sid("model") == naive_origin(d)
    assert not x.masked and not x.timeout and x.mechanism == "ValueError: bad shape (3, 4)"


def test_a_span_that_failed_on_its_own_after_its_children_ended_is_the_origin() -> None:
    d = diagnose(
        span("api", 0, 1000, kind=SERVER, service="api", error=True),
        span("db", 10, 100, "api", service="db", kind=CLIENT),
    )
    x = failure(d)
    assert x.origin == x.failed and d.analysis.tree.keys[x.origin] == sid("api") and not x.masked
    assert x.mechanism is None  # the trace cannot tell why: the sentence says so
    from tracectl.analysis.explain_text import CANNOT_TELL, describe

    assert CANNOT_TELL in describe(x, d.analysis.tree, d.analysis.path.length_ns)


def test_the_earlier_of_two_failed_siblings_is_the_origin_not_the_deeper_later_one() -> None:
    d = diagnose(
        span("api", 0, 400, kind=SERVER, service="api", error=True),
        span("cache", 0, 100, "api", service="api", kind=CLIENT, error=True, **{"error.type": "ConnectionError"}),
        span("db", 20, 300, "api", service="api", kind=CLIENT, error=True),
        span("db-server", 25, 290, "db", service="db", kind=SERVER, error=True),
    )
    x = failure(d)
    assert d.analysis.tree.keys[x.origin] == sid("cache") and x.mechanism == "ConnectionError"
    assert ids(d, x.later) == [sid("db")]
    assert naive_origin(d) == sid("db-server")  # deeper, but a consequence


def test_the_twin_earliest_failure_is_by_end_not_by_start_or_order() -> None:
    d = diagnose(
        span("api", 0, 400, kind=SERVER, service="api", error=True),
        span("a", 0, 300, "api", service="api", kind=CLIENT, error=True),
        span("b", 50, 100, "api", service="api", kind=CLIENT, error=True),
    )
    x = failure(d)
    assert d.analysis.tree.keys[x.origin] == sid("b") and ids(d, x.later) == [sid("a")]


def test_a_failure_the_request_went_on_from_ranks_after_the_fatal_one() -> None:
    d = diagnose(
        span("api", 0, 1000, kind=SERVER, service="api", error=True),
        span("flag", 0, 50, "api", service="flags", kind=CLIENT, error=True),
        span("work", 60, 1000, "api", service="api", kind=CLIENT),
        span("inner", 100, 990, "work", service="api", error=True),
    )
    fails = of(d, FailureOrigin)
    assert fails[0].fatal and d.findings[0] is fails[0]
    handled = [x for x in fails if not x.fatal]
    assert all(d.findings.index(x) > d.findings.index(fails[0]) for x in handled)


def test_a_failure_under_a_root_that_answered_is_handled_even_when_it_ends_with_the_request() -> None:
    d = diagnose(
        span("api", 0, 100, kind=SERVER, service="api", **{"http.response.status_code": 200}),
        span("audit", 60, 100, "api", service="audit", kind=CLIENT, error=True),
    )
    x = failure(d)
    assert not x.fatal and d.analysis.tree.keys[x.origin] == sid("audit")
    from tracectl.analysis.explain_text import headline

    assert not headline(d).startswith("The request failed")


# ---------------------------------------------------------------------------------------------- N+1


def features(starts: list[tuple[float, float]], parent_end: float = 1000) -> Diagnosis:
    calls = [call(f"f{i}", "GET feature", s, e, "load", service="redis", kind=CLIENT, **{"db.system": "redis"})
             for i, (s, e) in enumerate(starts)]  # fmt: skip
    return diagnose(span("load", 0, parent_end, kind=SERVER, service="features"), *calls)


def test_serial_repeated_calls_taking_most_of_the_parent_are_an_n_plus_one() -> None:
    d = features([(i * 100 + 5, i * 100 + 95) for i in range(10)])
    (x,) = of(d, NPlusOne)
    assert d.analysis.tree.keys[x.parent] == sid("load") and len(x.members) == 10
    assert x.overlapping_pairs == 0 and x.sum_ns == 900 * MS and x.longest_ns == 90 * MS
    assert x.wall_ns == 900 * MS and x.parent_ns == 1000 * MS
    assert x.saving == (905 - 5) * MS - 90 * MS  # one batched call: about the longest of them
    assert list(marks(d).values()) == [[("n+1", 10)]] * 10
    assert d.findings[0] is x  # it costs the most


def test_calls_touching_within_the_rounding_tolerance_are_still_serial() -> None:
    d = features([(i * 100, i * 100 + 100.05) for i in range(6)])  # each ends 50 µs after the next starts
    (x,) = of(d, NPlusOne)
    assert x.overlapping_pairs == 0


def test_the_twin_a_concurrent_fan_out_is_not_an_n_plus_one() -> None:
    d = features([(5 + i, 900 + i) for i in range(10)])
    assert of(d, NPlusOne) == []


def test_the_twin_a_mostly_overlapping_group_with_stragglers_is_not_an_n_plus_one() -> None:
    d = features([(5, 300), (6, 300), (7, 301), (8, 302), (9, 303), (10, 304), (310, 600), (610, 900)])
    assert of(d, NPlusOne) == []


def test_one_overlapping_pair_in_eleven_still_makes_an_n_plus_one() -> None:
    spans = [(i * 80, i * 80 + 75) for i in range(11)]
    spans[4] = (spans[4][0] - 30, spans[4][1])  # starts 25 ms before the previous call ended
    (x,) = of(features(spans, parent_end=900), NPlusOne)
    assert x.overlapping_pairs == 1


def test_repeated_calls_that_are_a_small_part_of_the_parent_are_not_an_n_plus_one() -> None:
    d = features([(i * 20, i * 20 + 15) for i in range(6)], parent_end=1000)
    assert of(d, NPlusOne) == []


def test_four_serial_calls_are_too_few() -> None:
    assert of(features([(i * 200, i * 200 + 190) for i in range(4)], parent_end=800), NPlusOne) == []


# --------------------------------------------------------------------------------------------- retries


def test_the_same_call_made_again_after_it_failed_is_a_retry() -> None:
    d = diagnose(
        span("api", 0, 500, kind=SERVER, service="api"),
        call("try1", "POST /score", 0, 200, "api", service="api", error=True, **{"http.response.status_code": 503}),
        call("try2", "POST /score", 250, 480, "api", service="api", **{"http.response.status_code": 200}),
    )
    (x,) = of(d, Retry)
    assert ids(d, x.attempts) == [sid("try1"), sid("try2")] and x.succeeded
    assert x.wasted_ns == 250 * MS  # the failed attempt and the backoff before the second
    assert of(d, FailureOrigin) == []  # the retry made it good: the request did not fail
    assert marks(d)[d.analysis.tree.keys.index(sid("try2"))] == [("retry", 2)]


def test_a_timed_out_callee_under_the_first_call_makes_the_next_one_a_retry() -> None:
    d = diagnose(
        span("api", 0, 600, kind=SERVER, service="api", error=True),
        call("c1", "GET /rates", 0, 200, "api", service="api"),
        call("s1", "GET /rates", 5, 195, "c1", service="rates", kind=SERVER, error=True),
        call("c2", "GET /rates", 210, 590, "api", service="api"),
        call("s2", "GET /rates", 215, 585, "c2", service="rates", kind=SERVER, error=True),
    )
    (x,) = of(d, Retry)
    assert not x.succeeded and ids(d, x.attempts) == [sid("c1"), sid("c2")]


def test_the_twin_calls_that_share_a_name_with_no_failure_between_are_not_retries() -> None:
    d = diagnose(
        span("api", 0, 500, kind=SERVER, service="api"),
        call("c1", "POST /score", 0, 200, "api", service="api"),
        call("c2", "POST /score", 250, 480, "api", service="api"),
    )
    assert of(d, Retry) == []


def test_a_failed_call_followed_by_another_operation_is_not_a_retry() -> None:
    d = diagnose(
        span("api", 0, 500, kind=SERVER, service="api"),
        call("c1", "POST /score", 0, 200, "api", service="api", error=True),
        call("c2", "POST /fallback", 250, 480, "api", service="api"),
    )
    assert of(d, Retry) == []


# -------------------------------------------------------------------------------------------- serial lookups


def test_back_to_back_independent_lookups_could_run_together() -> None:
    d = diagnose(
        span("checkout", 0, 600, kind=SERVER, service="checkout"),
        call("user", "GET /user", 0, 200, "checkout", service="users", **{"http.request.method": "GET"}),
        call("cart", "GET /cart", 200.5, 500, "checkout", service="carts", **{"http.request.method": "GET"}),
        call("price", "SELECT prices", 501, 600, "checkout", service="db", **{"db.system": "postgresql"}),
    )
    (x,) = of(d, SerialCalls)
    assert ids(d, x.calls) == [sid("user"), sid("cart"), sid("price")]
    assert x.sum_ns == 598.5 * MS and x.longest_ns == 299.5 * MS
    assert x.saving == x.cost_ns and 295 * MS < x.saving <= 600 * MS - x.longest_ns


def test_the_twin_a_write_between_reads_may_be_a_dependency_and_breaks_the_run() -> None:
    d = diagnose(
        span("checkout", 0, 600, kind=SERVER, service="checkout"),
        call("user", "GET /user", 0, 200, "checkout", service="users", **{"http.request.method": "GET"}),
        call("order", "POST /orders", 200, 400, "checkout", service="orders", **{"http.request.method": "POST"}),
        call("cart", "GET /cart", 400, 600, "checkout", service="carts", **{"http.request.method": "GET"}),
    )
    assert of(d, SerialCalls) == []


def test_the_twin_lookups_with_time_between_them_are_not_back_to_back() -> None:
    d = diagnose(
        span("checkout", 0, 600, kind=SERVER, service="checkout"),
        call("user", "GET /user", 0, 200, "checkout", service="users", **{"http.request.method": "GET"}),
        call("cart", "GET /cart", 300, 600, "checkout", service="carts", **{"http.request.method": "GET"}),
    )
    assert of(d, SerialCalls) == []


# ---------------------------------------------------------------------------------------------- gaps


def test_a_child_that_starts_long_after_the_parents_previous_step_is_a_gap() -> None:
    d = diagnose(
        span("api", 0, 1000, kind=SERVER, service="api"),
        span("parse", 0, 100, "api", service="api"),
        call("db", "SELECT", 500, 1000, "api", service="db", kind=CLIENT),
    )
    (x,) = [g for g in of(d, QueueGap) if g.where == "before-child"]
    assert d.analysis.tree.keys[x.child] == sid("db") and x.before_ns == 400 * MS and x.cost_ns == 400 * MS


def test_a_server_span_that_starts_long_after_its_client_span_is_a_call_gap() -> None:
    d = diagnose(
        span("api", 0, 1000, kind=SERVER, service="api"),
        span("out", 0, 1000, "api", service="api", kind=CLIENT),
        span("in", 300, 990, "out", service="model", kind=SERVER),
    )
    (x,) = of(d, QueueGap)
    assert x.where == "call" and x.before_ns == 300 * MS and x.after_ns == 10 * MS
    assert ids(d, [x.parent, x.child]) == [sid("out"), sid("in")]


def test_the_twin_a_child_right_after_the_previous_step_is_no_gap() -> None:
    d = diagnose(
        span("api", 0, 1000, kind=SERVER, service="api"),
        span("parse", 0, 100, "api", service="api"),
        span("work", 100.5, 1000, "api", service="api"),
    )
    assert of(d, QueueGap) == []


# ------------------------------------------------------------------------------------ dominant, ranking


def test_the_dominant_section_and_its_service_share() -> None:
    d = diagnose(
        span("api", 0, 1000, kind=SERVER, service="api"),
        span("model", 100, 900, "api", service="model", kind=SERVER),
    )
    (x,) = of(d, DominantSection)
    assert d.analysis.tree.keys[x.node] == sid("model") and x.share == 0.8 and x.service_share == 0.8


def test_minor_findings_are_counted_not_listed_unless_asked() -> None:
    spans = [span("api", 0, 1000, kind=SERVER, service="api"), span("sub", 0, 100, "api", service="api"),
             span("a", 0, 10, "sub", service="api"), span("b", 30, 100, "sub", service="api"),
             span("c", 100, 1000, "api", service="api")]  # a 20 ms gap: 2% of the path  # fmt: skip
    listed = explain_trace(analyse_trace(trace(*spans)))
    everything = explain_trace(analyse_trace(trace(*spans)), keep_minor=True)
    assert of(listed, QueueGap) == [] and listed.minor == 1 and listed.counts["gap"] == 1
    assert len(of(everything, QueueGap)) == 1 and everything.minor == 0


def test_repeated_handled_failures_list_one_per_operation_and_count_the_rest() -> None:
    # A request that answered (root OK) after 30 failed cache reads, each followed by a database read (the
    # fallback), and one failed write elsewhere: one cache failure and the write are listed, 29 are counted.
    spans = [span("api", 0, 1000, kind=SERVER, service="api")]
    for i in range(30):
        t = i * 30
        spans += [call(f"get{i}", "cache GET", t, t + 1, "api", service="api", error=True),
                  call(f"db{i}", "db SELECT", t + 1, t + 30, "api", service="api")]  # fmt: skip
    spans.append(call("put", "audit PUT", 900, 901, "api", service="api", error=True))
    listed = diagnose(*spans, keep_minor=False)
    shown = [listed.analysis.tree.spans[x.origin].name for x in listed.failures]
    assert sorted(shown) == ["audit PUT", "cache GET"] and not any(x.fatal for x in listed.failures)
    assert listed.counts["failure"] == 31 and listed.minor >= 29
    assert len(diagnose(*spans, keep_minor=True).failures) == 31


# ------------------------------------------------------------------------------------------- properties


@st.composite
def failing_tree(draw: st.DrawFn) -> Trace:
    """The critical-path property tests' random trees, with some spans failed (some saying they timed out)."""
    t = draw(random_tree())
    flags = draw(st.lists(st.integers(0, 5), min_size=len(t.spans), max_size=len(t.spans)))
    spans = tuple(s if f > 1 else replace(s, status=StatusCode.ERROR, status_message="timeout" if f else "")
                  for s, f in zip(t.spans, flags, strict=True))  # fmt: skip
    return Trace(t.trace_id, spans)


@settings(max_examples=examples(250), deadline=None)
@given(failing_tree())
def test_property_no_finding_costs_or_saves_more_than_the_critical_path(t: Trace) -> None:
    d = explain_trace(analyse_trace(t), keep_minor=True)
    length = d.analysis.path.length_ns
    n = len(d.analysis.tree)
    for x in d.findings:
        assert 0 <= x.cost_ns <= length, x
        assert x.saving_ns is None or 0 <= x.saving_ns <= length, x
        assert all(0 <= node < n for node in x.nodes())
    fatal = [x for x in d.failures if x.fatal]
    assert d.findings[: len(fatal)] == fatal  # origin first
    from tracectl.render.explain_doc import explain_document, finding_rows

    doc = explain_document(d, "random", -1, [])
    assert len(doc["findings"]) == len(d.findings) == len(finding_rows(d))
    assert isinstance(doc["sentence"], str) and doc["sentence"]
