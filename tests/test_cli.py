"""The CLI through typer's CliRunner: outputs, exit codes, one-line errors, nothing half-written."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import orjson
import pytest
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tracectl.cli.env import Env
from tracectl.cli.main import app
from tracectl.formats.detect import read_bytes
from tracectl.sandbox.synth import ml_inference_trace

runner = CliRunner()
ML = str(FIXTURES / "ml-inference.otlp.json")


def run(*args: str, input: bytes | str | None = None, env: Env | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=input, obj=env)


def test_show_table_in_a_pipe_is_plain_text() -> None:
    result = run("--tz", "UTC", "show", ML)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "\x1b[" not in out  # no colour codes in a pipe
    assert (
        "Trace 6513270e269e0d37f2a74de452e6b438  46.0 ms  24 spans · 8 services\n2025-11-24T08:20:00.000+00:00" in out
    )
    assert "└─ inference-orchestrator Predict" in out
    assert "─ online_store.lookup" in out  # under feature-store GetFeatures: the service is not repeated
    assert "audit-logger audit process ↷" in out


def test_show_table_on_a_terminal_has_colour_and_no_color_turns_it_off() -> None:
    coloured = run("show", ML, env=Env(force_terminal=True, width=160))
    assert "\x1b[" in coloured.stdout
    plain = run("--no-color", "show", ML, env=Env(force_terminal=True, width=160))
    assert "\x1b[3" not in plain.stdout  # no colour escapes (bold may remain)


def test_show_json_is_the_rebuilt_tree_with_values() -> None:
    result = run("show", ML, "-o", "json")
    assert result.exit_code == 0
    doc = orjson.loads(result.stdout)
    assert doc["schema"] == "tracectl.show/v1"
    (trace,) = doc["traces"]
    assert trace["trace_id"] == "6513270e269e0d37f2a74de452e6b438"
    assert trace["span_count"] == 24 and len(trace["spans"]) == 24
    assert trace["warnings"] == [] and trace["hidden"] == 0
    assert trace["duration_ns"] == 46_012_000
    rows = {r["name"]: r for r in trace["spans"]}
    root = trace["spans"][0]
    assert root["name"] == "POST /v1/predict" and root["depth"] == 0 and root["parent_span_id"] is None
    lookup = rows["online_store.lookup"]
    assert lookup["self_ns"] == lookup["duration_ns"] == 8_718_000  # a leaf's self time is its duration
    assert lookup["attributes"]["ml.feature_count"] == 128
    cache, server = rows["cache.get"], rows["GetFeatures"]
    cache_end = cache["start_ns"] + cache["duration_ns"]
    assert cache_end > lookup["start_ns"]  # the two children overlap: self time subtracts their union
    union = lookup["start_ns"] + lookup["duration_ns"] - cache["start_ns"]
    assert server["self_ns"] == server["duration_ns"] - union == 352_000
    by_span = {r["span_id"]: r for r in trace["spans"]}
    assert all(by_span[r["parent_span_id"]]["depth"] == r["depth"] - 1 for r in trace["spans"][1:])


def test_show_json_reports_warnings_and_stderr_repeats_them() -> None:
    result = run("show", str(FIXTURES / "messy/orphan.otlp.json"), "-o", "json")
    assert result.exit_code == 0
    (trace,) = orjson.loads(result.stdout)["traces"]
    assert [w["kind"] for w in trace["warnings"]] == ["orphan", "multiple-roots"]
    assert trace["warnings"][0]["span_ids"] == ["0000000000000003"]
    assert "whose parent never arrived" in result.stderr
    assert run("-q", "show", str(FIXTURES / "messy/orphan.otlp.json"), "-o", "json").stderr == ""


def test_show_csv_and_jsonl() -> None:
    rows = list(csv.DictReader(io.StringIO(run("show", ML, "-o", "csv").stdout)))
    assert len(rows) == 24
    assert rows[0]["service"] == "api-gateway" and rows[0]["depth"] == "0"
    assert rows[0]["duration_ns"] == "43767000"
    lines = run("show", ML, "-o", "jsonl").stdout.splitlines()
    assert len(lines) == 24
    assert orjson.loads(lines[-1])["trace_id"] == "6513270e269e0d37f2a74de452e6b438"


def test_show_filters_hide_subtrees_and_say_so() -> None:
    doc = orjson.loads(run("show", ML, "-o", "json", "--min-duration", "5ms").stdout)["traces"][0]
    assert all(r["duration_ns"] >= 5_000_000 for r in doc["spans"])
    assert doc["hidden"] == 24 - len(doc["spans"]) > 0
    shallow = orjson.loads(run("show", ML, "-o", "json", "--max-depth", "1").stdout)["traces"][0]
    assert [r["depth"] for r in shallow["spans"]] == [0, 1]
    table = run("show", ML, "--max-depth", "1").stdout
    assert "22 spans hidden by --max-depth" in table


def test_show_reads_stdin_in_any_format() -> None:
    data = (FIXTURES / "ml-inference.jaeger.json").read_bytes()
    result = run("show", "-", "-o", "json", input=data)
    assert result.exit_code == 0
    assert orjson.loads(result.stdout)["traces"][0]["span_count"] == 24


def test_show_several_traces_and_pick_one() -> None:
    jsonl = str(FIXTURES / "ml-inference-3-traces.otlp.jsonl")
    assert len(orjson.loads(run("show", jsonl, "-o", "json").stdout)["traces"]) == 3
    wanted = ml_inference_trace(8).trace_id
    picked = orjson.loads(run("show", jsonl, "-o", "json", "--trace-id", wanted.upper()).stdout)["traces"]
    assert [t["trace_id"] for t in picked] == [wanted]
    missing = run("show", jsonl, "--trace-id", "abc")
    assert missing.exit_code == 2 and "no trace 00000000000000000000000000000abc in this file" in missing.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", str(FIXTURES / "bad/not-json.txt")], "not JSON and not protobuf"),
        (["show", str(FIXTURES / "bad/invalid.json")], "not valid JSON"),
        (["show", str(FIXTURES / "bad/truncated.otlp.pb")], "truncated or corrupt"),
        (["show", str(FIXTURES / "bad/wrong-shape.json"), "-o", "json"], "unexpected shape"),
        (["show", str(FIXTURES / "bad/empty-trace.json")], "the trace is empty"),
        (["show", str(FIXTURES / "bad/span-without-id.json")], "span has no spanId"),
        (["show", "no-such-file.json"], "no-such-file.json: no such file"),
        (["show", "5b8efff798038103d269b633813fc700"], "configure a backend (--tempo-url/--jaeger-url)"),
        (["show", ML, "--min-duration", "fast"], "--min-duration: 'fast' is not a duration"),
        (["--tz", "Mars/Olympus", "show", ML], "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_on_stdout(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracectl: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2() -> None:
    assert run("show").exit_code == 2
    assert run("show", ML, "-o", "yaml").exit_code == 2


def test_internal_errors_exit_1_without_traceback_unless_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    import tracectl.analysis.analyse as analyse_module

    def boom(_trace: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(analyse_module, "analyse_trace", boom)
    result = run("show", ML)
    assert result.exit_code == 1
    assert "internal error: RuntimeError: kaboom" in result.stderr and "Traceback" not in result.stderr
    debug = run("--debug", "show", ML)
    assert debug.exit_code == 1 and debug.stdout == ""  # --debug adds the traceback, never changes the code
    assert "Traceback (most recent call last)" in debug.stderr and 'raise RuntimeError("kaboom")' in debug.stderr
    assert debug.stderr.rstrip().endswith("please report it)")


def test_debug_keeps_every_exit_code_and_scrubs_credentials() -> None:
    bad = run("--debug", "-H", "X-Secret=hunter22", "show", str(FIXTURES / "bad/invalid.json"))
    assert bad.exit_code == 2 and "Traceback" in bad.stderr and "FormatError" in bad.stderr
    missing = run("--debug", "-H", "X-Secret=hunter22", "show", "no-such-file-hunter22.json")
    assert (
        missing.exit_code == 2 and "hunter22" not in missing.stderr and "no-such-file-********.json" in missing.stderr
    )


def test_export_converts_losslessly_between_jaeger_and_otlp() -> None:
    jaeger = run("export", str(FIXTURES / "ml-inference.otlp.json"), "-f", "jaeger-json")
    assert jaeger.exit_code == 0 and orjson.loads(jaeger.stdout)["data"][0]["spans"]
    back = run("export", "-", "-f", "otlp-json", input=jaeger.stdout)
    (trace,) = read_bytes(back.stdout.encode(), "mem").traces
    original = ml_inference_trace(7)
    assert sorted(trace.spans, key=lambda s: s.span_id) == sorted(original.spans, key=lambda s: s.span_id)


def test_export_protobuf_to_a_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "t.pb"
    result = run("export", ML, "-f", "otlp-proto", "--out", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    (trace,) = read_bytes(out.read_bytes(), str(out)).traces
    assert len(trace.spans) == 24
    refused = run("export", ML, "-f", "otlp-proto", env=Env(force_terminal=True))
    assert refused.exit_code == 2 and "refusing to write binary" in refused.stderr


def test_version_and_help_document_exit_codes() -> None:
    assert run("--version").stdout.strip() == "tracectl 0.1.0"
    helptext = " ".join(run("--help").stdout.split())
    assert "Exit codes" in helptext and "4 trace not found" in helptext


def test_help_shows_no_value_after_a_flag_and_the_element_type_of_a_repeatable_option() -> None:
    import typer.main

    group = typer.main.get_command(app)
    paths = [[]] + [[name] for name in group.commands]  # type: ignore[attr-defined]
    paths += [["sandbox", "serve"], ["config", "show"]]
    for path in paths:
        page = run(*path, "--help").stdout
        assert "<bool>" not in page and "<list[" not in page, path
    triage = " ".join(run("triage", "--help").stdout.split())
    assert "--errors Suspects" in triage and "--logs-file <str> Log lines" in triage


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['tracectl', '--help']\n"
        "from tracectl.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = {'pandas', 'orjson', 'msgspec', 'google', 'opentelemetry', 'numpy'}\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & heavy)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in proc.stderr


def test_a_command_in_a_pipe_imports_neither_pydantic_nor_rich() -> None:
    """typer 0.29 parses every option through pydantic (0.1-0.15 s on each command): pyproject keeps typer below it.
    rich draws terminals; in a pipe its import (~35 ms) would be for the warnings and the closing note alone."""
    fixture = str(FIXTURES / "messy/orphan.otlp.json")
    code = (
        "import sys\n"
        f"sys.argv = ['tracectl', 'blame', {fixture!r}, {fixture!r}, '--by', 'service', '--top', '3', '-o', 'json']\n"
        "from tracectl.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('PYDANTIC', 'pydantic' in sys.modules, 'RICH', any(m.startswith('rich') for m in sys.modules), "
        "file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "tracectl.blame/v1" in proc.stdout
    assert "warning: trace 0af7651916cd43dd8448eb211c80319c: trace has 2 roots" in proc.stderr  # said without rich
    assert "PYDANTIC False RICH False" in proc.stderr


def test_python_dash_m_entry_point() -> None:
    proc = subprocess.run([sys.executable, "-m", "tracectl", "--version"], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "tracectl 0.1.0"


def test_global_options_work_after_the_command_too() -> None:
    result = run("show", str(FIXTURES / "messy/orphan.otlp.json"), "-o", "json", "-q", "--tz", "UTC")
    assert result.exit_code == 0 and result.stderr == ""
    from tracectl.cli.app import hoist_global_options

    assert hoist_global_options(["show", "x", "-q", "--tz=UTC", "--tz", "local", "--", "-q"]) == [
        "-q",
        "--tz=UTC",
        "--tz",
        "local",
        "show",
        "x",
        "--",
        "-q",
    ]
