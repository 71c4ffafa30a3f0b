"""Tree repairs (a parent cycle, a duplicate span ID, an orphan) reach the JSON of every command that analysed
that tree, not only ``show``'s."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tests.builders import span, trace
from tracectl.analysis.tree import build_tree
from tracectl.cli.main import app
from tracectl.formats import otlp_json
from tracectl.workflows.repairs import SHOWN_PER_RESULT, repair_warnings

runner = CliRunner()
CYCLE = trace(
    span("root", 0, 100, service="api"),
    span("a", 10, 50, parent="b", service="model"),
    span("b", 20, 60, parent="a", service="model"),
    span("c", 60, 90, parent="root", service="db"),
)


@pytest.fixture
def cycle_file(tmp_path: Path) -> Path:
    path = tmp_path / "cycle.json"
    path.write_bytes(orjson.dumps(otlp_json.dump_document([CYCLE])))
    return path


def repairs_of(doc: dict) -> list[str]:  # type: ignore[type-arg]
    return [w for w in doc["warnings"] if "cycle" in w]


def test_every_command_that_analysed_a_repaired_tree_says_so_in_json(cycle_file: Path, tmp_path: Path) -> None:
    expected = [f"trace {CYCLE.trace_id}: {w.message}" for w in build_tree(CYCLE).warnings if "cycle" in w.message]
    assert expected  # the tree did repair a cycle
    shown = orjson.loads(runner.invoke(app, ["show", str(cycle_file), "-o", "json"]).stdout)
    assert any("cycle" in w["message"] for w in shown["traces"][0]["warnings"])
    for args in (["blame", str(cycle_file)], ["diff", str(cycle_file), str(cycle_file)],
                 ["triage", str(cycle_file), "--no-logs"], ["explain", str(cycle_file)]):  # fmt: skip
        result = runner.invoke(app, [*args, "-o", "json"])
        assert result.exit_code == 0, (args, result.output)
        doc = orjson.loads(result.stdout)
        assert set(expected) <= set(repairs_of(doc)), (args, doc["warnings"])
        assert expected[0] in result.stderr.replace("\n", " ") or args[0] == "explain"


def test_many_repaired_trees_are_listed_then_counted() -> None:
    trees = [build_tree(trace(*CYCLE.spans, trace_id=f"{n:032x}")) for n in range(1, 30)]
    per_tree = len(trees[0].warnings)
    out = repair_warnings(trees)
    assert len(out) == SHOWN_PER_RESULT + 1
    assert out[-1].startswith(f"{29 * per_tree - SHOWN_PER_RESULT} more tree repair(s) in ")
    assert repair_warnings([build_tree(trace(span("root", 0, 10)))]) == []
