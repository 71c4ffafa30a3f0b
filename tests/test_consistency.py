"""One rule for files (``-o`` is the format, ``--out FILE`` the file), plural forms, spaced sparkline axis labels."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import orjson
from rich.console import Console
from typer.testing import CliRunner

from tests.builders import span, trace
from tests.conftest import FIXTURES
from tracectl.cli.main import app
from tracectl.formats import otlp_json
from tracectl.units import plural

runner = CliRunner()
ML = str(FIXTURES / "ml-inference.otlp.json")


def test_export_takes_the_format_with_o_and_the_file_with_out(tmp_path: Path) -> None:
    as_jaeger = runner.invoke(app, ["export", ML, "-o", "jaeger-json"])
    assert as_jaeger.exit_code == 0 and "data" in orjson.loads(as_jaeger.stdout)
    assert runner.invoke(app, ["export", ML, "-f", "jaeger-json"]).stdout == as_jaeger.stdout  # the old spelling
    written = runner.invoke(app, ["export", ML, "-o", "otlp-proto", "--out", str(tmp_path / "t.pb")])
    assert written.exit_code == 0 and (tmp_path / "t.pb").stat().st_size > 100


def test_a_file_given_to_o_is_a_one_line_error_pointing_at_out(tmp_path: Path) -> None:
    wrong = runner.invoke(app, ["export", ML, "-o", str(tmp_path / "trace.pb")])
    assert wrong.exit_code == 2 and wrong.stdout == ""
    assert wrong.stderr.count("\n") == 1 and f"--out {tmp_path / 'trace.pb'}" in wrong.stderr
    unknown = runner.invoke(app, ["export", ML, "-o", "yaml"])
    assert unknown.exit_code == 2 and "not a format (formats: otlp-json" in unknown.stderr


def test_export_report_says_when_it_was_made_and_links_the_trace() -> None:
    out = runner.invoke(app, ["--ui-url", "https://jaeger.example/trace/{trace_id}", "export", ML, "-o", "html"])
    assert out.exit_code == 0, out.output
    assert 'href="https://jaeger.example/trace/6513270e269e0d37f2a74de452e6b438"' in out.stdout
    assert "Generated " in out.stdout and "by tracectl " in out.stdout


def test_counts_agree_with_their_nouns(tmp_path: Path) -> None:
    assert [plural(n, "trace") for n in (0, 1, 2)] == ["0 traces", "1 trace", "2 traces"]
    assert plural(1, "log line") == "1 log line" and plural(3, "index", "indices") == "3 indices"
    one = tmp_path / "one.json"
    one.write_bytes(orjson.dumps(otlp_json.dump_document([trace(span("GET /", 0, 10, service="api", error=True))])))
    shown = runner.invoke(app, ["show", str(one)])
    assert shown.exit_code == 0 and "1 span · 1 service · 1 error" in shown.stdout, shown.stdout


def test_sparkline_axis_labels_never_run_together() -> None:
    from tracectl.render.emit import RenderOptions
    from tracectl.render.metrics_view import _axis

    minute = 60 * 10**9
    short = SimpleNamespace(rate=((1_763_972_520 * 10**9, 1.0), (1_763_972_520 * 10**9 + minute, 1.0)),
                            findings=SimpleNamespace(first=None))  # fmt: skip
    buffer = io.StringIO()
    _axis(Console(file=buffer, width=80), short, RenderOptions(tz=None), 60)  # type: ignore[arg-type]
    labels = buffer.getvalue().split()
    assert len(labels) == 2 and all(len(label) == 5 for label in labels)  # "08:22  08:23", not "08:2208:23"
