"""The tier tables in tests/conftest.py name files and tests that exist, so a rename cannot drop a test out of its
tier (into the fast one) without a failure saying which entry went stale; a fast test that opens a socket or starts
a subprocess fails (the watch in conftest.py); and ``-m`` skips importing only files it deselects whole."""

from __future__ import annotations

import ast
import socket
import subprocess
from functools import cache

import pytest

from tests import conftest
from tests.conftest import ROOT, TIERS, TIERS_BY_FILE, TIERS_BY_TEST, deselects_whole_file, tiers_of

TESTS = ROOT / "tests"


@cache
def _test_names(file: str) -> set[str]:
    tree = ast.parse((TESTS / file).read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}


def test_every_entry_names_an_existing_file_or_test() -> None:
    stale = [f for f in TIERS_BY_FILE if not (TESTS / f).is_file()]
    for key in TIERS_BY_TEST:
        file, _, name = key.partition("::")
        if not (TESTS / file).is_file() or name not in _test_names(file):
            stale.append(key)
    assert not stale, f"tier entries naming nothing: {stale}"
    assert {t for tiers in [*TIERS_BY_FILE.values(), *TIERS_BY_TEST.values()] for t in tiers} <= set(TIERS)


def test_a_test_takes_its_files_tier_and_its_own() -> None:
    assert tiers_of("tests/test_sandbox.py::test_responses_have_the_real_shapes") == {"e2e"}
    assert tiers_of(
        "tests/test_sandbox.py::test_a_real_opentelemetry_sdk_sends_to_the_sandbox_and_tracectl_finds_the_slow_step"
    ) == {"e2e", "real"}
    assert tiers_of("tests/test_tree.py::test_property_tree_invariants[x]") == {"slow"}
    assert tiers_of("tests/test_ids.py::test_anything", ["prometheus_history"]) == {"e2e", "real"}
    assert tiers_of("tests/test_ids.py::test_anything") == set()


def test_a_socket_or_a_subprocess_in_a_fast_test_is_seen() -> None:
    seen: list[str] = []
    conftest._watching.append(seen)  # as stays_in_process watches a fast test (this one's own watch stays clean)
    try:
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", 0))
        with pytest.raises(FileNotFoundError):
            subprocess.Popen(["/nonexistent/tier-check"])  # seen before it fails to start
        a, b = socket.socketpair()  # a local pipe, not the network: allowed
        a.close()
        b.close()
    finally:
        conftest._watching.remove(seen)
    assert [s.split(" ", 1)[0] for s in seen] == ["bind", "a"] and "/nonexistent/tier-check" in seen[1]


def test_m_skips_importing_a_file_only_when_it_deselects_all_it_can_hold() -> None:
    fast = "not e2e and not real"
    assert deselects_whole_file(fast, "test_sandbox.py") and deselects_whole_file(fast, "test_rca_dev.py")
    assert not deselects_whole_file(fast, "test_ids.py")  # not listed: its tests are fast
    assert not deselects_whole_file(fast, "test_atomic_write.py")  # fast, with two e2e tests of its own
    assert not deselects_whole_file("not e2e", "test_rca_dev.py")  # real and slow, not e2e
    assert not deselects_whole_file("slow or not e2e", "test_sandbox.py")  # one of its tests may be slow too
    assert not deselects_whole_file("(slow)", "test_faults.py")  # e2e: a test of it may add slow
    assert deselects_whole_file("not (e2e or real)", "test_slo_status.py")
    assert not deselects_whole_file("not e2e and not flaky", "test_sandbox.py")  # another marker: not judged here
