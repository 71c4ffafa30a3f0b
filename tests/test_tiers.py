"""The tier tables in tests/conftest.py name files and tests that exist, so a rename cannot drop a test out of its
tier (into the fast one) without a failure saying which entry went stale."""

from __future__ import annotations

import ast

from tests.conftest import ROOT, TIERS_BY_FILE, TIERS_BY_TEST, tiers_of

TESTS = ROOT / "tests"
TIERS = {"e2e", "real", "slow"}


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
    assert {t for tiers in [*TIERS_BY_FILE.values(), *TIERS_BY_TEST.values()] for t in tiers} <= TIERS


def test_a_test_takes_its_files_tier_and_its_own() -> None:
    assert tiers_of("tests/test_sandbox.py::test_responses_have_the_real_shapes") == {"e2e"}
    assert tiers_of(
        "tests/test_sandbox.py::test_a_real_opentelemetry_sdk_sends_to_the_sandbox_and_tracectl_finds_the_slow_step"
    ) == {"e2e", "real"}
    assert tiers_of("tests/test_tree.py::test_property_tree_invariants[x]") == {"slow"}
    assert tiers_of("tests/test_ids.py::test_anything", ["prometheus_history"]) == {"e2e", "real"}
    assert tiers_of("tests/test_ids.py::test_anything") == set()
