"""Critical path: hand-worked cases with the expected sections written out, then invariants over random trees."""

from __future__ import annotations

from hypothesis import given, settings

from tests.builders import MS, T0, span, trace
from tests.strategies import examples, random_tree
from tracectl.analysis.critical_path import critical_path
from tracectl.analysis.tree import build_tree
from tracectl.model import Span, SpanKind, Trace
from tracectl.sandbox.synth import chain_trace, fanout_trace

Sections = list[tuple[str, float, float]]


def sections(t: Trace) -> list[Sections]:
    """Per root: (span name, start ms, end ms) of every raw section, in time order."""
    tree = build_tree(t)
    path = critical_path(tree)
    return [
        [(tree.spans[s.node].name, (s.start - T0) / MS, (s.end - T0) / MS) for s in root.sections]
        for root in path.roots
    ]


def test_sequential_children() -> None:
    got = sections(trace(span("root", 0, 100), span("a", 10, 30, "root"), span("b", 40, 70, "root")))
    assert got == [[("root", 0, 10), ("a", 10, 30), ("root", 30, 40), ("b", 40, 70), ("root", 70, 100)]]


def test_back_to_back_children_are_both_on_the_path() -> None:
    # Jaeger UI requires a child to end strictly before the next one starts and would charge 10..40 to root.
    got = sections(trace(span("root", 0, 100), span("a", 10, 40, "root"), span("b", 40, 70, "root")))
    assert got == [[("root", 0, 10), ("a", 10, 40), ("b", 40, 70), ("root", 70, 100)]]


def test_overlapping_siblings_the_last_to_finish_wins() -> None:
    got = sections(trace(span("root", 0, 100), span("a", 10, 60, "root"), span("b", 30, 80, "root")))
    assert got == [[("root", 0, 30), ("b", 30, 80), ("root", 80, 100)]]  # a ended after b started: off the path


def test_sibling_ending_before_the_returned_child_started_is_next() -> None:
    t = trace(span("root", 0, 100), span("a", 5, 25, "root"), span("c", 20, 50, "root"), span("b", 55, 90, "root"))
    # From b (starts 55): the latest child ending by 55 is c (ends 50); from c (starts 20): a ends 25 > 20, skipped.
    assert sections(t) == [[("root", 0, 20), ("c", 20, 50), ("root", 50, 55), ("b", 55, 90), ("root", 90, 100)]]


def test_child_overrunning_its_parent_is_clipped() -> None:
    got = sections(trace(span("root", 0, 100), span("a", 50, 150, "root"), span("g", 90, 140, "a")))
    assert got == [[("root", 0, 50), ("a", 50, 90), ("g", 90, 100)]]


def test_child_wholly_outside_its_parent_is_off_the_path() -> None:
    got = sections(trace(span("root", 0, 100), span("a", 120, 150, "root"), span("b", 10, 20, "root")))
    assert got == [[("root", 0, 10), ("b", 10, 20), ("root", 20, 100)]]


def test_consumer_of_a_producer_does_not_block_it() -> None:
    t = trace(
        span("root", 0, 100),
        span("publish", 10, 20, "root", kind=SpanKind.PRODUCER),
        span("consume", 15, 90, "publish", kind=SpanKind.CONSUMER),  # overlaps the producer: still not its path
    )
    assert sections(t) == [[("root", 0, 10), ("publish", 10, 20), ("root", 20, 100)]]


def test_orphan_root_of_a_partial_trace_gets_its_own_path() -> None:
    lost_parent = Span(**{**_fields(span("orphan", 20, 50)), "parent_span_id": "00000000deadbeef"})
    t = trace(span("root", 0, 100), lost_parent, span("x", 25, 45, "orphan"))
    assert sections(t) == [[("root", 0, 100)], [("orphan", 20, 25), ("x", 25, 45), ("orphan", 45, 50)]]


def test_several_roots_each_get_a_path_and_the_length_sums_them() -> None:
    t = trace(span("r1", 0, 10), span("r2", 20, 50), span("c", 30, 40, "r2"))
    assert sections(t) == [[("r1", 0, 10)], [("r2", 20, 30), ("c", 30, 40), ("r2", 40, 50)]]
    assert critical_path(build_tree(t)).length_ns == 40 * MS


def test_ties_prefer_the_child_that_started_first_then_the_smaller_id() -> None:
    t = trace(span("root", 0, 100), span("short", 40, 60, "root"), span("long", 10, 60, "root"))
    assert sections(t) == [[("root", 0, 10), ("long", 10, 60), ("root", 60, 100)]]
    same = trace(span("root", 0, 100), span("bbb", 10, 60, "root"), span("aaa", 10, 60, "root"))
    assert sections(same) == [[("root", 0, 10), ("aaa", 10, 60), ("root", 60, 100)]]


def test_zero_length_children_and_zero_length_root() -> None:
    t = trace(span("root", 0, 100), span("z", 100, 100, "root"), span("y", 50, 50, "root"))
    # The walk visits y at 50 (nothing to charge: zero length), which splits root's raw sections; merged joins them.
    assert sections(t) == [[("root", 0, 50), ("root", 50, 100)]]
    tree = build_tree(t)
    assert [(s.start - T0, s.end - T0) for s in critical_path(tree).merged()] == [(0, 100 * MS)]
    assert sections(trace(span("instant", 5, 5))) == [[]]


def test_merged_joins_consecutive_sections_of_one_span() -> None:
    t = trace(span("root", 0, 100), span("a", 10, 30, "root"), span("z", 30, 30, "a"))
    tree = build_tree(t)
    merged = critical_path(tree).merged()
    assert [(tree.spans[s.node].name, (s.start - T0) / MS, (s.end - T0) / MS) for s in merged] == [
        ("root", 0, 10), ("a", 10, 30), ("root", 30, 100),
    ]  # fmt: skip


def test_fifty_thousand_sequential_children_and_a_deep_chain() -> None:
    fan = build_tree(fanout_trace(50_000))
    (root_path,) = critical_path(fan).roots
    assert len(root_path.sections) == 2 * 50_000 + 1
    assert root_path.length_ns == fan.duration_ns
    chain = build_tree(chain_trace(50_000))
    (chain_path,) = critical_path(chain).roots
    assert chain_path.length_ns == chain.duration_ns
    assert len({s.node for s in chain_path.sections}) == 50_000


def _fields(s: Span) -> dict[str, object]:
    return {f: getattr(s, f) for f in s.__dataclass_fields__}


# ------------------------------------------------------------------------------------------- properties


@settings(max_examples=examples(400), deadline=None)
@given(random_tree())
def test_property_sections_tile_each_root_exactly(t: Trace) -> None:
    tree = build_tree(t)
    path = critical_path(tree)
    assert [r.root for r in path.roots] == tree.roots
    for root in path.roots:
        cursor = tree.start[root.root]
        for s in root.sections:
            assert s.start == cursor and s.end > s.start  # no gap, no overlap, no empty section
            assert tree.cp_start[s.node] <= s.start and s.end <= tree.cp_end[s.node]
            assert tree.on_path_eligible[s.node] or s.node == root.root
            cursor = s.end
        assert cursor == tree.end[root.root] or (not root.sections and tree.start[root.root] == tree.end[root.root])
        assert root.length_ns == tree.end[root.root] - tree.start[root.root]
    per_node = path.per_node_ns()
    for i, cp in enumerate(per_node):
        assert 0 <= cp <= tree.cp_end[i] - tree.cp_start[i]


@settings(max_examples=100, deadline=None)
@given(random_tree())
def test_property_path_is_deterministic_under_span_order(t: Trace) -> None:
    tree_a = build_tree(t)
    tree_b = build_tree(Trace(t.trace_id, tuple(reversed(t.spans))))
    key = lambda tree: [  # noqa: E731
        [(tree.keys[s.node], s.start, s.end) for s in r.sections] for r in critical_path(tree).roots
    ]
    assert sorted(key(tree_a)) == sorted(key(tree_b))
