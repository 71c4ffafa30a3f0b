"""Span-tree rebuild: each messy case by hand, then invariants over random messy traces."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from tests.strategies import examples
from tracectl.analysis.selftime import self_times
from tracectl.analysis.tree import SpanTree, build_tree
from tracectl.formats.detect import read_source
from tracectl.model import Resource, Span, SpanKind, Trace
from tracectl.sandbox.synth import MS, chain_trace, fanout_trace, ml_inference_trace

T0 = 1_763_972_400_000_000_000


def tree_of(name: str) -> SpanTree:
    (trace,) = read_source(str(FIXTURES / name)).traces
    return build_tree(trace)


def kinds(tree: SpanTree) -> dict[str, tuple[str, ...]]:
    return {w.kind: w.span_ids for w in tree.warnings}


def node(tree: SpanTree, span_id: str) -> int:
    return tree.index_of(span_id)


def test_clean_trace_has_no_warnings_and_one_root() -> None:
    tree = build_tree(ml_inference_trace(7))
    assert tree.warnings == []
    assert len(tree.roots) == 1 and tree.spans[tree.roots[0]].name == "POST /v1/predict"
    assert sorted(tree.preorder()) == list(range(24))


def test_orphans_become_extra_roots_and_are_reported() -> None:
    tree = tree_of("messy/orphan.otlp.json")
    lost = node(tree, "0000000000000003")
    assert tree.parent[lost] == -1 and tree.orphan[lost]
    assert tree.parent[node(tree, "0000000000000004")] == lost  # its subtree stays attached to it
    assert kinds(tree)["orphan"] == ("0000000000000003",)
    assert len(tree.roots) == 2
    assert tree.duration_ns == 50 * MS


def test_several_roots_wall_time_is_max_end_minus_min_start() -> None:
    tree = tree_of("messy/multiple-roots.otlp.json")
    assert [tree.keys[r] for r in tree.roots] == ["0000000000000001", "0000000000000003"]
    assert tree.duration_ns == 50 * MS  # 0..10 ms and 20..50 ms
    assert "multiple-roots" in kinds(tree)


def test_same_span_in_two_batches_is_kept_once() -> None:
    tree = tree_of("messy/duplicate-batches.otlp.json")
    assert len(tree) == 2
    assert kinds(tree) == {"duplicate": ("0000000000000002",)}


def test_zipkin_shared_client_server_span_keeps_both_halves() -> None:
    tree = tree_of("messy/zipkin-shared-span.jaeger.json")
    assert len(tree) == 4
    client = node(tree, "0000000000000002")
    server = node(tree, "0000000000000002#server")
    assert tree.spans[client].kind is SpanKind.CLIENT and tree.spans[server].kind is SpanKind.SERVER
    assert tree.parent[server] == client
    assert tree.parent[client] == node(tree, "0000000000000001")
    assert tree.parent[node(tree, "0000000000000003")] == server  # the server side made the downstream call
    assert kinds(tree)["shared-span"] == ("0000000000000002",)


def test_parent_cycles_are_broken_at_the_earliest_member() -> None:
    tree = tree_of("messy/cycle.otlp.json")
    a, b = node(tree, "0000000000000003"), node(tree, "0000000000000004")
    assert tree.parent[a] == -1 and tree.parent[b] == a
    assert kinds(tree)["cycle"] == ("0000000000000003",)
    assert sorted(tree.preorder()) == list(range(len(tree)))


def test_clock_skew_is_clipped_for_the_path_and_data_is_not_shifted() -> None:
    tree = tree_of("messy/clock-skew.otlp.json")
    server = node(tree, "0000000000000003")
    client = node(tree, "0000000000000002")
    assert tree.start[server] == tree.spans[server].start_ns == T0 - 1 * MS  # data kept as received
    assert (tree.cp_start[server], tree.cp_end[server]) == (tree.start[client], T0 + 18 * MS)
    assert kinds(tree)["clock-skew"] == ("0000000000000003",)
    late = node(tree, "0000000000000004")
    assert not tree.on_path_eligible[late]
    assert kinds(tree)["outside-parent"] == ("0000000000000004",)


def _rpc(server_start_ms: float, server_end_ms: float, same_process: bool = False) -> SpanTree:
    """A client span 2–22 ms under a 0–30 ms root, with its server child at the given times."""
    from tests.builders import span, trace

    callee = "api" if same_process else "model"
    return build_tree(
        trace(
            span("root", 0, 30, service="api", kind=SpanKind.SERVER),
            span("call", 2, 22, "root", service="api", kind=SpanKind.CLIENT),
            span("handle", server_start_ms, server_end_ms, "call", service=callee, kind=SpanKind.SERVER),
        )
    )


def test_a_server_ending_a_few_microseconds_after_its_client_is_not_skew() -> None:
    tree = _rpc(2.5, 22.005)  # real SDKs end the server span after the client has read the response
    assert tree.warnings == []
    server = tree.index_of(tree.keys[2])
    assert tree.cp_end[server] == tree.end[1]  # still clipped for the path


def test_a_late_end_of_any_size_is_not_skew_but_a_start_before_the_caller_is() -> None:
    assert _rpc(3, 60).warnings == []  # the caller timed out, or the server kept working: ordinary
    assert _rpc(1.5, 20).warnings == []  # within the 1 ms tolerance (millisecond-rounded tracers)
    assert kinds(_rpc(0.5, 20)) == {"clock-skew": (_rpc(0.5, 20).keys[2],)}


def test_wholly_outside_is_judged_against_the_parents_received_window() -> None:
    from tests.builders import span, trace

    tree = build_tree(
        trace(
            span("root", 0, 30, service="api", kind=SpanKind.SERVER),
            span("call", 2, 22, "root", service="api", kind=SpanKind.CLIENT),
            span("handle", 3, 24, "call", service="model", kind=SpanKind.SERVER),  # ends after the client
            span("send", 23, 23.5, "handle", service="model"),  # inside its parent, after the client's end
        )
    )
    send = tree.index_of(tree.keys[3])
    assert tree.warnings == []
    assert not tree.on_path_eligible[send]  # beyond the clipped window, so off the path as before


def test_bad_times_are_repaired_and_reported() -> None:
    tree = tree_of("messy/bad-times.otlp.json")
    root = tree.roots[0]
    missing, absurd, negative = (node(tree, f"000000000000000{i}") for i in (2, 4, 3))
    for i in (missing, absurd):
        assert (tree.start[i], tree.end[i]) == (tree.start[root], tree.start[root])
    assert tree.start[negative] == tree.end[negative] == T0 + 10 * MS
    assert kinds(tree)["bad-time"] == ("0000000000000002", "0000000000000004")
    assert kinds(tree)["negative-duration"] == ("0000000000000003",)
    assert tree.duration_ns == 30 * MS  # absurd times do not stretch the trace


def test_consumer_of_a_producer_is_async_not_skew() -> None:
    tree = tree_of("messy/producer-consumer.otlp.json")
    consumer = node(tree, "0000000000000003")
    assert not tree.on_path_eligible[consumer]
    assert tree.warnings == []
    assert tree.duration_ns == 30 * MS  # the consumer runs past the root: wall time covers it


def test_follows_from_child_is_async() -> None:
    tree = tree_of("messy/follows-from.jaeger.json")
    assert not tree.on_path_eligible[node(tree, "0000000000000002")]


def test_deep_chain_and_wide_fanout_need_no_recursion() -> None:
    chain = build_tree(chain_trace(50_000))
    assert max(chain.depth) == 49_999 and chain.warnings == []
    assert len(chain.preorder()) == 50_000
    assert self_times(chain)[-1] == chain.end[-1] - chain.start[-1]
    fan = build_tree(fanout_trace(50_000))
    assert len(fan.children[fan.roots[0]]) == 50_000
    assert self_times(fan)[fan.roots[0]] == fan.duration_ns - 50_000 * 8_000


def test_self_time_subtracts_the_union_of_overlapping_children() -> None:
    res = Resource({"service.name": "s"})
    tid = "1" * 32

    def sp(sid: str, parent: str, start: int, end: int) -> Span:
        return Span(tid, sid, parent, sid, T0 + start * MS, T0 + end * MS, resource=res)

    tree = build_tree(
        Trace(
            tid,
            (
                sp("a" * 16, "", 0, 100),
                sp("b" * 16, "a" * 16, 10, 40),
                sp("c" * 16, "a" * 16, 30, 60),  # overlaps b: union 10..60
                sp("d" * 16, "a" * 16, 90, 130),  # overruns the parent: only 90..100 counts
            ),
        )
    )
    assert self_times(tree)[tree.roots[0]] == 40 * MS  # 100 - (50 + 10)


# ------------------------------------------------------------------------------------------- properties


_MESSY_N = st.integers(1, 40)
_MESSY_CHOICE = st.integers(0, 9)
_MESSY_START = st.one_of(st.just(0), st.integers(T0, T0 + 10**9))
_MESSY_KIND = st.sampled_from(
    [SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER]
)
_MESSY_DUPLICATES = st.integers(0, 3)


@st.composite
def messy_trace(draw: st.DrawFn) -> Trace:
    """Random parent links (including missing parents, self-loops, cycles), duplicates and bad times. (Strategies
    that do not depend on a draw are built once: see tests/strategies.py.)"""
    n = draw(_MESSY_N)
    ids = [f"{i + 1:016x}" for i in range(n)]
    res = Resource({"service.name": "svc"})
    spans = []
    any_index = st.integers(0, n - 1)
    for i, sid in enumerate(ids):
        choice = draw(_MESSY_CHOICE)
        if choice == 0:
            parent = ""
        elif choice == 1:
            parent = "ffffffffffffffff"  # never arrives
        else:
            parent = ids[draw(any_index)]  # anywhere: makes cycles and self-loops
        start = draw(_MESSY_START)
        end = draw(st.one_of(st.just(0), st.integers(start - 10**6, start + 10**9)))
        kind = draw(_MESSY_KIND)
        spans.append(Span("a" * 32, sid, parent, f"op{i}", start, end, kind=kind, resource=res))
    for _ in range(draw(_MESSY_DUPLICATES)):  # exact duplicates
        spans.append(spans[draw(any_index)])
    return Trace("a" * 32, tuple(draw(st.permutations(spans))))


@settings(max_examples=examples(300), deadline=None)
@given(messy_trace())
def test_property_tree_invariants(trace: Trace) -> None:
    tree = build_tree(trace)
    n = len(tree)
    dropped = sum(len(w.span_ids) for w in tree.warnings if w.kind in ("duplicate", "duplicate-conflict"))
    assert n + dropped == len(trace.spans)  # nothing lost but reported duplicates
    assert {s.span_id for s in tree.spans} == {s.span_id for s in trace.spans}
    order = tree.preorder()
    assert sorted(order) == list(range(n))  # every node reachable from a root exactly once: no cycles left
    for i in range(n):
        p = tree.parent[i]
        assert tree.start[i] <= tree.end[i]
        assert tree.cp_start[i] <= tree.cp_end[i]
        if p == -1:
            assert tree.depth[i] == 0 and i in tree.roots
        else:
            assert tree.depth[i] == tree.depth[p] + 1 and i in tree.children[p]
            assert tree.cp_start[p] <= tree.cp_start[i] <= tree.cp_end[i] <= tree.cp_end[p]
        if tree.orphan[i]:
            assert p == -1
    for i, st_ns in enumerate(self_times(tree)):
        assert 0 <= st_ns <= tree.end[i] - tree.start[i]
    assert tree.spans[0] in trace.spans  # the received objects, unmodified
