"""`tracectl path`, `tracectl blame`, `show --critical` through the CLI."""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tracectl.cli.main import app
from tracectl.formats import otlp_json
from tracectl.sandbox.synth import ml_inference_trace

runner = CliRunner()
ML = str(FIXTURES / "ml-inference.otlp.json")


def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=input)


@pytest.fixture(scope="module")
def trace_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("traces")
    for seed in range(20):
        doc = otlp_json.dump_document([ml_inference_trace(seed)])
        (folder / f"t{seed:02d}.json").write_bytes(orjson.dumps(doc))
    return folder


def test_path_json_sections_tile_the_root() -> None:
    result = run("path", ML, "-o", "json")
    assert result.exit_code == 0
    doc = orjson.loads(result.stdout)
    assert doc["schema"] == "tracectl.path/v1"
    (t,) = doc["traces"]
    assert t["cp_length_ns"] == 43_767_000 and t["roots"][0]["length_ns"] == 43_767_000
    secs = t["sections"]
    assert secs[0]["offset_ns"] == 0
    assert all(a["end_ns"] == b["start_ns"] for a, b in itertools.pairwise(secs))
    assert sum(s["duration_ns"] for s in secs) == 43_767_000
    assert max(secs, key=lambda s: s["duration_ns"])["name"] == "forward"
    assert {s["service"] for s in secs} >= {"cv-model", "feature-store"} and "nlp-model" not in {
        s["service"] for s in secs
    }


def test_path_table_and_csv() -> None:
    table = run("path", ML).stdout
    assert "Critical path of 6513270e269e0d37f2a74de452e6b438" in table and "cv-model forward" in table
    rows = list(csv.DictReader(io.StringIO(run("path", ML, "-o", "csv").stdout)))
    assert rows[0]["step"] == "1" and rows[0]["name"] == "POST /v1/predict"
    assert sum(int(r["duration_ns"]) for r in rows) == 43_767_000


def test_show_marks_the_path_and_can_show_only_it() -> None:
    doc = orjson.loads(run("show", ML, "-o", "json").stdout)["traces"][0]
    cp = {(r["service"], r["name"]): r["cp_ns"] for r in doc["spans"]}
    assert cp[("cv-model", "forward")] == 23_804_000 and cp[("nlp-model", "forward")] == 0
    assert doc["cp_length_ns"] == 43_767_000
    assert sum(r["cp_ns"] for r in doc["spans"]) == 43_767_000
    only = orjson.loads(run("show", ML, "-o", "json", "--critical").stdout)["traces"][0]
    services = {r["service"] for r in only["spans"]}
    assert "nlp-model" not in services and "audit-logger" not in services and "cv-model" in services
    assert only["hidden"] == 24 - len(only["spans"]) == 6
    assert "█ critical path (43.8 ms)" in run("show", ML).stdout


def test_blame_one_trace() -> None:
    doc = orjson.loads(run("blame", ML, "-o", "json").stdout)
    assert doc["schema"] == "tracectl.blame/v1" and doc["mode"] == "trace"
    rows = {r["key"]: r for r in doc["rows"]}
    assert rows["cv-model"]["cp_ns"] == 27_009_000 and rows["model-router → nlp-model"]["edge"] is True
    assert sum(r["cp_ns"] for r in doc["rows"]) == doc["cp_length_ns"]
    table = run("blame", ML, "--top", "3").stdout
    assert "cv-model" in table and "audit-logger" not in table


def test_blame_many_traces_from_a_directory_glob_and_stdin(trace_dir: Path) -> None:
    doc = orjson.loads(run("blame", str(trace_dir), "-o", "json").stdout)
    assert doc["mode"] == "aggregate" and doc["traces"] == 20
    top = doc["rows"][0]
    assert top["key"] == "cv-model" and top["traces"] == 20
    assert sum(r["share"] for r in doc["rows"]) == pytest.approx(1.0)
    globbed = orjson.loads(run("blame", str(trace_dir / "t0*.json"), "-o", "json").stdout)
    assert globbed["traces"] == 10
    mixed = orjson.loads(
        run("blame", str(trace_dir / "t00.json"), "-", "-o", "json", input=Path(ML).read_text()).stdout
    )
    assert mixed["traces"] == 2


def test_blame_by_operation_and_buckets(trace_dir: Path) -> None:
    ops = orjson.loads(run("blame", str(trace_dir), "--by", "operation", "-o", "json", "-n", "2").stdout)
    assert [r["key"] for r in ops["rows"]] == ["cv-model | forward", "feature-store | online_store.lookup"]
    buckets = orjson.loads(run("blame", str(trace_dir), "--bucket", "-o", "json").stdout)
    assert buckets["mode"] == "buckets" and buckets["tail_traces"] >= 1
    assert run("blame", str(trace_dir), "--bucket").exit_code == 0
    csv_rows = list(csv.DictReader(io.StringIO(run("blame", str(trace_dir), "-o", "csv").stdout)))
    assert csv_rows[0]["key"] == "cv-model" and float(csv_rows[0]["cp_p99"]) >= float(csv_rows[0]["cp_p50"])


def test_blame_bad_inputs(trace_dir: Path, tmp_path: Path) -> None:
    bad_key = run("blame", ML, "--by", "pod")
    assert bad_key.exit_code == 2 and "unknown component key 'pod'" in bad_key.stderr and bad_key.stdout == ""
    no_match = run("blame", str(tmp_path / "*.json"))
    assert no_match.exit_code == 2 and "no file matches this pattern" in no_match.stderr
    (tmp_path / "good.json").write_bytes((trace_dir / "t00.json").read_bytes())
    (tmp_path / "bad.json").write_text("{oops")
    strict = run("blame", str(tmp_path))
    assert strict.exit_code == 2 and "bad.json: not valid JSON" in strict.stderr
    lenient = run("blame", str(tmp_path), "--skip-bad", "-o", "json")
    assert lenient.exit_code == 0 and orjson.loads(lenient.stdout)["mode"] == "trace"
    assert "skipped" in lenient.stderr and "bad.json" in lenient.stderr


def test_path_names_orphan_roots_and_csv_booleans_match_json() -> None:
    table = run("path", str(FIXTURES / "messy/orphan.otlp.json")).stdout
    assert "root 0000000000000003 (parent missing: a partial trace)" in table
    rows = list(csv.DictReader(io.StringIO(run("blame", ML, "-o", "csv").stdout)))
    assert {r["edge"] for r in rows} == {"true", "false"}
