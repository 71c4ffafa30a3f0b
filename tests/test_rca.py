"""Root cause on hand-built sets: growth like with like, who owns an edge, faster components, the verdict as the
top of the ranking, and attribute contrast that survives real instrumentation."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import span, trace
from tracectl.analysis.analyse import TraceAnalysis, analyse_trace
from tracectl.analysis.attributes import rank_attributes
from tracectl.analysis.excess import grew, latency_rows
from tracectl.analysis.triage import rank, rank_all, verdict_for
from tracectl.model import SpanKind, Trace

U = SpanKind.UNSPECIFIED  # the converted datasets this mimics carry no kinds


def request(n: int, *, db: float = 10, net: float = 1, api: float = 5, cache: float = 0, seed: int = 0,
            endpoint: str = "GET /cart", shard: str = "", **attrs: str | int) -> Trace:  # fmt: skip
    """api → (client span) → db, kind-less; ``cache`` adds a second call; times in ms with a little jitter.
    ``attrs`` go on every span, ``shard`` on the db handler only."""
    rnd = random.Random(n * 7919 + seed)
    db, net, api = db * rnd.uniform(0.9, 1.1), net * rnd.uniform(0.9, 1.1), api * rnd.uniform(0.9, 1.1)
    end_call = api + 2 * net + db
    spans = [
        span(endpoint, 0, end_call + api + cache, service="api", kind=U, **attrs),
        span("db.Query", api, end_call, endpoint, service="api", kind=U, **attrs),
        span(
            "Query",
            api + net,
            api + net + db,
            "db.Query",
            service="db",
            kind=U,
            **attrs,
            **({"db.shard": shard} if shard else {}),
        ),
    ]
    if cache:
        spans += [
            span("cache.Get", end_call, end_call + cache, endpoint, service="api", kind=U),
            span("Get", end_call + 0.1, end_call + cache - 0.1, "cache.Get", service="cache", kind=U),
        ]
    return trace(*spans, trace_id=f"{n + 1:032x}")


def window(count: int, first: int = 0, **kw: float | str | int) -> list[TraceAnalysis]:
    return [analyse_trace(request(first + i, **kw)) for i in range(count)]  # type: ignore[arg-type]


def test_network_growth_into_a_kindless_callee_is_its_ingress_and_said_so() -> None:
    base, slow = window(30), window(30, 100, net=40)
    top = rank(slow, base)[0]
    assert (top.component, top.edge, top.evidence) == ("api → db", True, "edge")
    assert top.share_of_excess > 0.95
    assert "network or queueing into db, between api and db" in top.sentence


def test_a_caller_slow_on_its_own_time_and_every_call_owns_those_calls() -> None:
    # A CPU-starved api: its own time grows and so does its side of both calls; the callees' handlers do not.
    base = window(30, cache=5)
    slow = [analyse_trace(request(100 + i, api=60, net=30, cache=5)) for i in range(30)]
    ranking = rank_all(slow, base)
    top = ranking.suspects[0]
    assert (top.component, top.evidence) == ("api", "self")
    assert {c.label for c, _ in top.latency.members} >= {"api", "api → db"}  # type: ignore[union-attr]
    assert not any(s.component.endswith("→ db") for s in ranking.suspects[:2])


def test_a_component_that_got_faster_is_never_a_suspect() -> None:
    base = window(30, cache=20)
    slow = window(30, 100, db=60, cache=2)  # db got 50 ms slower; the cache got 18 ms faster
    ranking = rank_all(slow, base)
    assert ranking.suspects[0].component == "db"
    assert "cache" not in [s.component for s in ranking.suspects]
    assert "cache" in [r.component for r in ranking.faster] and all(r.excess_ns < 0 for r in ranking.faster)


def test_a_change_in_the_mix_of_requests_is_not_a_slowdown() -> None:
    def mixed(count: int, first: int, heavy_share: float) -> list[TraceAnalysis]:
        heavy = round(count * heavy_share)
        return [analyse_trace(request(first + i, db=80 if i < heavy else 5, endpoint="GET /report" if i < heavy
                                      else "GET /cart")) for i in range(count)]  # fmt: skip

    base, now = mixed(60, 0, 0.2), mixed(60, 1000, 0.8)  # four times as many report requests, none slower
    verdict = verdict_for("windows", now, base)
    assert verdict.numbers["ratio"] > 2  # the plain means say "much slower"...
    assert verdict.culprit is None  # ...but like with like, nothing grew
    db = next(r for r in latency_rows(now, base) if r.component == "db")
    assert not db.significant or db.share < 0.5


def test_growth_must_be_real() -> None:
    assert grew([10, 11, 12, 13, 14, 15], [1, 2, 3, 2, 1, 2, 3])
    assert not grew([1, 2, 3, 2, 1, 2], [2, 1, 3, 2, 1, 2, 3])
    assert grew([50.0], [3.0, 4.0])  # too few traces for a 1% test: taken at face value
    assert grew([5.0], [])  # new in the suspects


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(1, 50), st.floats(0.1, 30), st.floats(1, 20)), min_size=6, max_size=12),
       st.lists(st.tuples(st.floats(1, 50), st.floats(0.1, 30), st.floats(1, 20)), min_size=6, max_size=12),
       st.sampled_from(["latency", "windows", "errors"]))  # fmt: skip
def test_property_the_culprit_is_always_the_first_suspect(
    a: list[tuple[float, float, float]], b: list[tuple[float, float, float]], mode: str
) -> None:
    base = [analyse_trace(request(i, db=d, net=n, api=x)) for i, (d, n, x) in enumerate(a)]
    now = [analyse_trace(request(100 + i, db=d, net=n, api=x)) for i, (d, n, x) in enumerate(b)]
    verdict = verdict_for(mode, now, base)
    ranked = rank(now, base)
    assert verdict.culprit is None or verdict.culprit == ranked[0].component
    assert all(x.score >= y.score for x, y in itertools.pairwise(ranked))
    assert all(s.excess_ns >= 0 or s.score > 0 for s in ranked)  # faster and nothing else: not listed


def test_an_ephemeral_port_does_not_change_the_verdict() -> None:
    rnd = random.Random(3)
    base = window(30)
    slow = window(30, 100, db=60)
    with_ports = [analyse_trace(request(i, **{"net.peer.port": rnd.randint(32768, 60999)})) for i in range(30)]
    slow_ports = [analyse_trace(request(100 + i, db=60, **{"net.peer.port": rnd.randint(32768, 60999)}))
                  for i in range(30)]  # fmt: skip
    plain, noisy = verdict_for("windows", slow, base), verdict_for("windows", slow_ports, with_ports)
    assert plain.culprit == noisy.culprit == "db"
    assert noisy.suspects[0].attributes == [] and rank_attributes(slow_ports, with_ports) == []


def test_attribute_contrast_ignores_unique_values_and_window_properties_and_needs_support() -> None:
    base = [analyse_trace(request(i, shard="s1", **{"request.id": f"r{i}", "deploy.color": "blue"}))
            for i in range(20)]  # fmt: skip
    # Every service carries the new color (a property of the window); only db's shard moved, in 18 traces.
    now = [analyse_trace(request(100 + i, shard="s7" if i < 18 else "s1", **{"request.id": f"q{i}",
                                                                            "deploy.color": "green"}))
           for i in range(20)]  # fmt: skip
    keys = {(s.key, s.value) for s in rank_attributes(now, base) if s.contrast >= 0.5}
    assert keys == {("db.shard", "s7")}
    few = [analyse_trace(request(200 + i, shard="s9" if i < 2 else "s1")) for i in range(20)]
    assert all(s.value != "s9" for s in rank_attributes(few, base))  # two traces are not enough support


def _failing_query(n: int, by: str, failed: bool) -> TraceAnalysis:
    """api → db where db's Query fails (on the critical path) and retries once when ``failed``."""
    spans = [
        span("GET /cart", 0, 30, service="api", kind=SpanKind.SERVER),
        span("Query", 5, 15, "GET /cart", service="db", kind=SpanKind.SERVER, error=failed, **{"db.shard": "s1"}),
    ]
    if failed:
        spans.append(span("Query retry", 16, 25, "GET /cart", service="db", kind=SpanKind.SERVER, **{"db.shard": "s1"}))
    return analyse_trace(trace(*spans, trace_id=f"{n + 1:032x}"), by)


def test_the_evidence_stays_with_the_component_whatever_the_key() -> None:
    """Errors, new operations and their services belong to a component's own spans, whatever --by groups them
    by: a span name or an attribute is never mistaken for a service (that lost every piece of evidence)."""
    for by, culprit in (("service", "db"), ("operation", "db | Query"), ("attr:db.shard", "s1")):
        base = [_failing_query(i, by, False) for i in range(20)]
        slow = [_failing_query(100 + i, by, True) for i in range(20)]
        top = next(s for s in rank(slow, base) if s.component == culprit)
        assert top.services == ("db",), by
        assert top.errors_on_path_suspect == 1.0 and top.errors_on_path_baseline == 0.0, by
        if by != "operation":  # by operation, the retry is a component of its own
            assert top.new_operations == [("db", "Query retry")], by
