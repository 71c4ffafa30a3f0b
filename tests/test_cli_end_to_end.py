"""The workflow layer and the CLI's one output path: every command through every -o format it accepts, the
library doing what the commands do, and the defects real use found (each test failed before its fix)."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from tests.conftest import FIXTURES, ROOT
from tracectl.cli.app import hoist_global_options
from tracectl.cli.env import Env
from tracectl.cli.main import app
from tracectl.formats import otlp_json
from tracectl.sandbox import SandboxServers, start_sandbox

runner = CliRunner()
ML = str(FIXTURES / "ml-inference.otlp.json")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[SandboxServers, Any]]:
    servers, workload = start_sandbox("cv-cold-start", 80, end_ns=time.time_ns())
    try:
        yield servers, workload
    finally:
        servers.stop()


def cli(*args: str, env: dict[str, str] | None = None, obj: Env | None = None) -> Any:
    return runner.invoke(app, list(args), env=env, obj=obj)


def parse(fmt: str, text: str) -> Any:
    """The output read back the way a script would: it must parse, and hold something."""
    if fmt == "json":
        doc = orjson.loads(text)
        assert doc["schema"].startswith("tracectl.") and doc["schema"][-3:-1] == "/v"
        return doc
    if fmt == "jsonl":
        rows = [orjson.loads(line) for line in text.splitlines()]
        assert rows and all(isinstance(r, dict) for r in rows)
        return rows
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows and all(None not in r for r in rows)  # no row longer than the header
        return rows
    assert text.strip()
    return text


def backend_env(servers: SandboxServers) -> dict[str, str]:
    return {"TEMPO_ADDR": servers.tempo_url, "LOKI_ADDR": servers.loki_url, "PROMETHEUS_ADDR": servers.prometheus_url}


def command_cases(servers: SandboxServers, trace_id: str, tmp: Path) -> dict[str, tuple[list[str], tuple[str, ...]]]:
    pair = tmp / "pair"
    pair.mkdir(exist_ok=True)
    for name in ("a.json", "b.json"):
        (pair / name).write_bytes(Path(ML).read_bytes())
    from tracectl.sandbox.recommender import write_reference

    train = tmp / "train.parquet"
    write_reference(train, rows=1000)
    return {
        "search": (["search", "-s", "api-gateway", "--since", "40m"], ("table", "json", "jsonl", "csv")),
        "show": (["show", trace_id], ("table", "json", "jsonl", "csv")),
        "path": (["path", trace_id], ("table", "json", "jsonl", "csv")),
        "explain": (["explain", trace_id], ("table", "json", "jsonl", "csv")),
        "blame one": (["blame", ML], ("table", "json", "jsonl", "csv")),
        "blame many": (["blame", str(pair)], ("table", "json", "jsonl", "csv")),
        "blame buckets": (["blame", str(pair), "--bucket"], ("table", "json", "jsonl", "csv")),
        "logs": (["logs", trace_id], ("table", "raw", "json", "jsonl", "csv")),
        "diff": (["diff", ML, ML], ("table", "json", "jsonl", "csv")),
        "triage": (["triage", "-s", "api-gateway", "--since", "40m"], ("table", "json", "jsonl", "csv")),
        "metrics": (["metrics", "-s", "api-gateway", "--since", "40m"], ("table", "json", "jsonl", "csv")),
        "config show": (["config", "show"], ("table", "json", "jsonl", "csv")),
        "check": (["check", "--search", "-s", "api-gateway", "--since", "40m"], ("table", "json", "jsonl", "csv")),
        "drift": (
            ["drift", "-s", "recommender", "--since", "40m", "--reference", str(train)],
            ("table", "json", "jsonl", "csv"),
        ),
        "slo status": (
            [
                "slo",
                "status",
                str(Path(__file__).resolve().parent.parent / "examples" / "slo" / "ml-serving.sloth.yml"),
            ],
            ("table", "json", "jsonl", "csv"),
        ),
    }


COMMANDS = ("search", "show", "path", "explain", "blame one", "blame many", "blame buckets", "logs", "diff",
            "triage", "metrics", "config show", "check", "drift", "slo status")  # fmt: skip


@pytest.fixture(scope="module")
def cases(sandbox, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list[str], tuple[str, ...]]]:  # type: ignore[no-untyped-def]
    servers, workload = sandbox
    trace_id = next(iter(sorted(workload.affected_ids)))
    return command_cases(servers, trace_id, tmp_path_factory.mktemp("commands"))


def test_the_cases_are_every_command() -> None:
    from tracectl.cli.main import app as typer_app

    names = {c.name for c in typer_app.registered_commands if c.name} | {g.name for g in typer_app.registered_groups}
    covered = {case.split()[0] for case in COMMANDS}
    assert names - covered <= {"demo", "sandbox", "export"}, names - covered  # export's -o names trace formats


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_writes_every_format_it_accepts_and_refuses_the_rest(sandbox, cases, name: str) -> None:  # type: ignore[no-untyped-def]
    servers, _ = sandbox
    args, formats = cases[name]
    for fmt in formats:
        result = cli(*args, "-o", fmt, env=backend_env(servers))
        assert result.exit_code == 0, (name, fmt, result.output)
        parse(fmt, result.stdout)
    refused = next(f for f in ("raw", "csv", "xml") if f not in formats)
    result = cli(*args, "-o", refused, env=backend_env(servers))
    assert result.exit_code == 2 and result.stdout == "", (name, refused)


def test_explain_of_an_unknown_trace_id_exits_4(sandbox) -> None:  # type: ignore[no-untyped-def]
    servers, _ = sandbox
    result = cli("explain", "1" * 32, env=backend_env(servers))
    assert result.exit_code == 4 and result.stdout == "" and "not found" in result.stderr


def test_triage_rows_are_the_ranked_suspects(sandbox) -> None:  # type: ignore[no-untyped-def]
    servers, _ = sandbox
    args = ["triage", "-s", "api-gateway", "--since", "40m"]
    doc = parse("json", cli(*args, "-o", "json", env=backend_env(servers)).stdout)
    rows = parse("csv", cli(*args, "-o", "csv", env=backend_env(servers)).stdout)
    assert [r["component"] for r in rows] == [s["component"] for s in doc["suspects"]]
    assert rows[0]["component"] == doc["verdict"]["culprit"] == "cv-model"
    lines = parse("jsonl", cli(*args, "-o", "jsonl", env=backend_env(servers)).stdout)
    assert [r["rank"] for r in lines] == list(range(1, len(lines) + 1)) and lines[0]["culprit"] is True


def test_config_show_jsonl_is_one_setting_per_line() -> None:
    rows = parse("jsonl", cli("config", "show", "-o", "jsonl", "--tempo-url", "http://t:3200").stdout)
    assert {"setting": "tempo_url", "value": "http://t:3200", "origin": "flag"} in rows
    assert all(set(r) == {"setting", "value", "origin"} for r in rows)


# ------------------------------------------------------------------------------------------ the library


def test_the_library_example_in_the_docs_runs_and_names_the_culprit(capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "docs" / "library.md").read_text()
    code = re.search(r"## Workflows.+?```python\n(.+?)```", text, re.S)
    assert code is not None
    exec(compile(code.group(1), "docs/library.md", "exec"), {})  # noqa: S102 - the documented example, verbatim
    out = capsys.readouterr().out
    assert "requests over 300 ms" in out and "culprit: cv-model" in out


def test_library_results_carry_the_warnings_the_cli_prints(sandbox) -> None:  # type: ignore[no-untyped-def]
    from tracectl import SearchQuery, Session, Settings, resolve_range, search

    servers, _ = sandbox
    heard: list[str] = []
    with Session(Settings(tempo_url=servers.tempo_url), warn=heard.append) as session:
        found = search(session, SearchQuery(time=resolve_range("40m", None, None), service="api-gateway", limit=5))
    assert len(found.trace_ids) == 5
    assert found.warnings == heard and "raise --limit" in found.warnings[0]


# ------------------------------------------------------------------------------------------ the defects


def big_trace_file(tmp_path: Path) -> Path:
    from tracectl.sandbox.synth import mixed_trace

    path = tmp_path / "big.json"
    path.write_bytes(orjson.dumps(otlp_json.dump_document([mixed_trace(3000)])))
    return path


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv"])
def test_a_reader_that_closes_the_pipe_early_is_not_an_error(tmp_path: Path, fmt: str) -> None:
    path = big_trace_file(tmp_path)  # far more output than a pipe buffers
    script = f"set -o pipefail; {sys.executable} -m tracectl show {path} --limit 0 -o {fmt} | head -1"
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and len(done.stdout.splitlines()) == 1


def test_demo_keeps_its_own_backend_option() -> None:
    assert hoist_global_options(["demo", "--backend", "jaeger"], {"--backend"}) == ["demo", "--backend", "jaeger"]
    assert hoist_global_options(["show", "t.json", "--backend", "jaeger"]) == ["--backend", "jaeger", "show", "t.json"]
    result = cli("demo", "--backend", "jaeger", "--requests", "60", "--scenario", "healthy")
    assert result.exit_code == 0, result.output
    assert "· jaeger at http://127.0.0.1:" in result.stdout


def test_days_weeks_epoch_seconds_and_offsets_in_time_flags() -> None:
    from datetime import UTC, timedelta, timezone

    from tracectl.errors import InputError
    from tracectl.timerange import baseline_range, parse_instant, resolve_range
    from tracectl.units import parse_duration, resolve_tz

    now = 1_795_510_000 * 10**9
    assert parse_duration("1d") == 86_400 * 10**9 and parse_duration("2w") == 14 * 86_400 * 10**9
    assert resolve_range("1d", None, None, now_ns=now).duration_ns == 86_400 * 10**9
    assert parse_instant("now-1d", "--baseline-from", now) == now - 86_400 * 10**9
    assert parse_instant("1795510295", "--from", now) == 1_795_510_295 * 10**9
    assert parse_instant("1795510295.25", "--from", now) == 1_795_510_295_250_000_000
    assert parse_instant("1795510295123", "--from", now) == 1_795_510_295_123_000_000  # milliseconds
    tokyo = timezone(timedelta(hours=9))
    naive = parse_instant("2026-11-24T18:03:00", "--from", now, tz=tokyo)
    assert naive == parse_instant("2026-11-24T09:03:00Z", "--from", now)  # naive = the display zone
    assert parse_instant("2026-11-24T18:03:00+00:00", "--from", now, tz=tokyo) != naive  # an offset wins
    assert resolve_tz("+02:00") == timezone(timedelta(hours=2)) and resolve_tz("UTC") is UTC
    with pytest.raises(InputError, match=r"^--baseline-from: '1x' is not a duration"):
        parse_instant("now-1x", "--baseline-from", now)
    suspect = resolve_range("15m", None, None, now_ns=now)
    earlier = baseline_range("now-1d", None, suspect, now_ns=now)
    assert earlier.end_ns == suspect.start_ns  # without --baseline-to the windows never overlap
    with pytest.raises(InputError, match="--baseline-from must be before"):
        baseline_range("now-5m", None, suspect, now_ns=now)


def test_naive_from_follows_tz_on_the_command_line(sandbox) -> None:  # type: ignore[no-untyped-def]
    servers, _ = sandbox
    args = ["search", "-s", "api-gateway", "--from", "2026-11-24T18:03:00", "--to", "2026-11-24T18:04:00"]
    utc = orjson.loads(cli("--tz", "UTC", *args, "-o", "json", env=backend_env(servers)).stdout)
    tokyo = orjson.loads(cli("--tz", "Asia/Tokyo", *args, "-o", "json", env=backend_env(servers)).stdout)
    assert utc["start_ns"] - tokyo["start_ns"] == 9 * 3600 * 10**9


def test_a_named_config_file_that_is_missing_is_an_error(tmp_path: Path) -> None:
    result = cli("config", "show", env={"TRACECTL_CONFIG": str(tmp_path / "missing.toml")})
    assert result.exit_code == 2 and "missing.toml, which does not exist" in result.stderr


def test_sandbox_ports_are_validated() -> None:
    result = cli("sandbox", "serve", "--tempo-port", "99999")
    text = " ".join(result.output.split())
    assert result.exit_code == 2 and "--tempo-port" in text and "65535" in text and "internal error" not in text


def test_data_warnings_go_to_stderr_in_table_mode() -> None:
    result = cli("show", str(FIXTURES / "messy/orphan.otlp.json"))
    assert result.exit_code == 0
    assert "whose parent never arrived" in result.stderr and "whose parent never arrived" not in result.stdout
    assert "the data was repaired (orphan, multiple-roots)" in result.stdout


def test_show_names_the_option_that_hid_spans() -> None:
    out = cli("show", ML, "--critical").stdout
    hidden = re.search(r"… (\d+) spans hidden by (\S+)", out)
    assert hidden is not None and hidden.group(2) == "--critical"


def test_logs_on_a_file_of_many_traces_says_which_it_used(sandbox, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    servers, workload = sandbox
    two = tmp_path / "two.json"
    two.write_bytes(orjson.dumps(otlp_json.dump_document(workload.traces[:2])))
    result = cli("logs", str(two), "-o", "json", env=backend_env(servers))
    assert result.exit_code == 0
    doc = orjson.loads(result.stdout)
    assert doc["trace_id"] == workload.traces[0].trace_id
    assert any("holds 2 traces" in w and "--trace-id" in w for w in doc["warnings"])
    assert "holds 2 traces" in result.stderr


def test_a_backend_that_never_answers_is_shown_on_a_terminal_and_bounded_by_timeout() -> None:
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections are accepted by the kernel and never answered
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        result = cli("--timeout", "1", "search", "-s", "x", env={"TEMPO_ADDR": url}, obj=Env(force_terminal=True))
    finally:
        silent.close()
    assert result.exit_code == 3  # ended by the 1 s deadline (said below), not by the 30 s request timeout
    assert "waiting for Tempo" in result.stderr and "the deadline of 1 s ran out" in result.stderr


def test_search_says_when_the_limit_cut_the_answer(sandbox) -> None:  # type: ignore[no-untyped-def]
    servers, _ = sandbox
    result = cli(
        "search",
        "-s",
        "api-gateway",
        "--since",
        "40m",
        "--limit",
        "3",
        "--order",
        "recent",
        "-o",
        "json",
        env=backend_env(servers),
    )
    doc = orjson.loads(result.stdout)
    assert len(doc["traces"]) == 3 and doc["limit"] == 3
    assert any("raise --limit" in w for w in doc["warnings"]) and "raise --limit" in result.stderr
