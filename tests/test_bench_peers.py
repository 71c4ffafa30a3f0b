"""``benchmarks/peers/check_path.py`` puts Jaeger UI's and tracectl's critical-path sections in one form before
comparing them; a mistake there would report agreement (or a difference) that is not there. The peers themselves
(node, CRISP) are not installed where the tests run: ``benchmarks/peers/README.md`` has the comparison's results."""

from __future__ import annotations

from benchmarks.peers.check_path import normalise


def test_jaeger_ui_order_and_tracectl_order_normalise_alike() -> None:
    # Jaeger UI lists sections latest first and never merges; tracectl lists them in time order, merged.
    jaeger_ui = [("a", 40, 50), ("b", 20, 40), ("a", 15, 20), ("a", 10, 15), ("c", 10, 10)]
    tracectl = [("a", 10, 20), ("b", 20, 40), ("a", 40, 50)]
    assert normalise(jaeger_ui) == normalise(tracectl) == [("a", 10, 20), ("b", 20, 40), ("a", 40, 50)]


def test_sections_of_one_span_merge_only_when_they_touch() -> None:
    assert normalise([("a", 10, 20), ("a", 21, 30)]) == [("a", 10, 20), ("a", 21, 30)]
    assert normalise([("a", 10, 20), ("b", 20, 20), ("a", 20, 30)]) == [("a", 10, 30)]


def test_a_different_section_stays_different() -> None:
    # The 100k-span case: Jaeger UI charges a back-to-back child's time to the parent.
    ours = [("p", 0, 28), ("c1", 28, 409), ("c2", 409, 500)]
    theirs = [("c2", 409, 500), ("p", 0, 409)]
    assert normalise(ours) != normalise(theirs)
