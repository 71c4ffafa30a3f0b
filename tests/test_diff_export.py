"""`tracectl diff` (pairs and sets) and `export` to md/html/json."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tracectl.cli.main import app
from tracectl.formats import otlp_json
from tracectl.sandbox.workload import Scenario, _Logger, generate, simulate_request

runner = CliRunner()


def write(path: Path, traces: list) -> str:  # type: ignore[type-arg]
    path.write_bytes(orjson.dumps(otlp_json.dump_document(traces)))
    return str(path)


def test_diff_of_two_traces_aligns_them_and_shows_the_retry(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", [simulate_request(1, 10**18, None, _Logger())])
    b = write(tmp_path / "b.json", [simulate_request(1, 10**18, "nlp_timeouts", _Logger())])
    doc = orjson.loads(runner.invoke(app, ["diff", a, b, "-o", "json"]).stdout)
    assert doc["schema"] == "tracectl.diff/v1"
    top = doc["components"][0]
    assert top["key"] == "nlp-model" and top["cp_delta"] > 200_000_000 and top["errors_b"] == 1
    ops = {o["operation"]: o for o in doc["operations"]}
    assert ops["nlp-model | Infer"]["change"] == "more calls" and ops["nlp-model | Infer"]["calls_b"] == 2
    only_b = [r["span"] for r in doc["aligned"] if r["duration_a_ns"] is None]
    assert only_b == ["model-router nlp-model/Infer", "nlp-model Infer", "nlp-model preprocess", "nlp-model forward"]
    same = next(r for r in doc["aligned"] if r["span"] == "feature-store online_store.lookup")
    assert same["duration_a_ns"] == same["duration_b_ns"]
    table = runner.invoke(app, ["diff", a, b]).stdout
    assert "(only in B)" in table and "more calls" in table


def test_diff_of_two_sets(tmp_path: Path) -> None:
    (tmp_path / "before").mkdir()
    (tmp_path / "after").mkdir()
    for n, t in enumerate(generate("healthy", 20, seed=1).traces):
        write(tmp_path / "before" / f"{n}.json", [t])
    every_request = Scenario(
        "after-rollout", "every request meets the cold start", "cv_cold_start", 1.0, "cv-model", "latency"
    )
    for n, t in enumerate(generate(every_request, 20, seed=2).traces):
        write(tmp_path / "after" / f"{n}.json", [t])
    doc = orjson.loads(
        runner.invoke(app, ["diff", str(tmp_path / "before"), str(tmp_path / "after"), "-o", "json"]).stdout
    )
    assert doc["a"]["traces"] == doc["b"]["traces"] == 20 and doc["aligned"] is None
    assert doc["components"][0]["key"] == "cv-model" and doc["components"][0]["cp_delta"] > 0
    appeared = [o for o in doc["operations"] if o["change"] == "appeared"]
    assert [o["operation"] for o in appeared] == ["cv-model | load_weights"]
    assert runner.invoke(app, ["diff", str(tmp_path / "before"), "nope.json"]).exit_code == 2


@pytest.mark.parametrize(
    ("fmt", "marker"), [("md", "## Critical path"), ("html", "<svg"), ("json", '"schema": "tracectl.show/v1"')]
)
def test_export_write_ups(fmt: str, marker: str) -> None:
    result = runner.invoke(app, ["export", str(FIXTURES / "ml-inference.otlp.json"), "-f", fmt])
    assert result.exit_code == 0 and marker in result.stdout
    if fmt == "md":
        assert "| `cv-model` | 3 | 27.0 ms | 27.0 ms | 61.7% |" in result.stdout
