"""`--grep` and `--level` are sent to Loki, so `--limit` counts matching lines; every read cut at its limit is said
with the flag that lifts it (`logs --limit`, `show --log-limit`); saved files are filtered with the same meaning.
Against the fake Loki (line and label filters applied as Loki applies them), through the CLI."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import respx
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tests.fake_loki import Entry, FakeLoki
from tracectl.backends.logql import trace_log_query
from tracectl.cli.main import app
from tracectl.formats.detect import read_source
from tracectl.timerange import rfc3339

BASE = "http://loki.test:3100"
ML_FILE = str(FIXTURES / "ml-inference.otlp.json")
ML = read_source(ML_FILE).traces[0]
BASE_QUERY = trace_log_query(ML, "line")
T = min(s.start_ns for s in ML.spans) + 1000
GREP = 'line 1[0-9]*"'
ERROR_WORDS = "alert|crit|critical|emergency|eror|err|error|fatal|panic"
runner = CliRunner()


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_mocked=True) as mock:
        yield mock


def cli(*args: str) -> Any:
    return runner.invoke(app, ["--loki-url", BASE, *args], env={"LOKI_ADDR": "", "TEMPO_ADDR": "", "JAEGER_ADDR": ""})


def json_lines(n: int, timestamps: int = 11, streams: int = 20) -> list[Entry]:
    """``n`` JSON lines of the trace; every seventh at level error; ``line 1…`` numbers: 3,111 of 12,000."""
    return [(T + (i % timestamps) * 1000, f"svc{i % streams}",
             orjson.dumps({"level": "error" if i % 7 == 0 else "info", "msg": f"line {i}", "trace_id": ML.trace_id}
                          ).decode()) for i in range(n)]  # fmt: skip


def serve(router: respx.MockRouter, fake: FakeLoki) -> FakeLoki:
    router.get("/loki/api/v1/query_range").mock(side_effect=fake)
    return fake


def lines_of(result: Any) -> list[str]:
    assert result.exit_code == 0, result.output
    return [x["line"] for x in orjson.loads(result.stdout)["lines"]]


def test_grep_is_a_loki_line_filter_and_the_limit_counts_matching_lines(router: respx.MockRouter) -> None:
    entries = json_lines(12_000)
    assert sum(re.search(GREP, line) is not None for *_, line in entries) == 3111
    fake = serve(router, FakeLoki(entries))
    result = cli("logs", ML_FILE, "--grep", GREP, "--limit", "50", "-o", "json")
    got = lines_of(result)
    assert len(got) == 50 and all(re.search(GREP, line) for line in got)
    assert fake.queries[0] == BASE_QUERY + ' |~ `line 1[0-9]*"`'  # the filter Loki receives, exactly
    assert all(q.startswith(fake.queries[0]) for q in fake.queries)  # tie splitting only adds to it
    warnings = orjson.loads(result.stdout)["warnings"]
    assert warnings == [
        f"stopped at --limit 50 matching log lines; there are more, some at the time of the last one, {rfc3339(T)} "
        "(raise --limit, 0 = all)"  # 11 timestamps hold ~283 matching lines each: the cut falls inside one
    ]
    assert warnings[0] in result.stderr


def test_a_plain_grep_is_a_substring_filter(router: respx.MockRouter) -> None:
    fake = serve(router, FakeLoki(json_lines(300)))
    got = lines_of(cli("logs", ML_FILE, "--grep", "line 12", "-o", "json"))
    assert fake.queries == [BASE_QUERY + ' |= "line 12"']
    assert sorted(got) == sorted(line for *_, line in json_lines(300) if "line 12" in line)


def test_level_in_a_json_body_is_a_json_stage_and_the_limit_counts_error_lines(router: respx.MockRouter) -> None:
    fake = serve(router, FakeLoki(json_lines(12_000)))
    result = cli("logs", ML_FILE, "--level", "error", "--limit", "100", "-o", "json")
    got = lines_of(result)
    assert len(got) == 100 and all('"level":"error"' in line for line in got)
    assert fake.queries[0] == BASE_QUERY  # a look at what the lines carry: JSON bodies with a "level" field
    assert fake.queries[1] == BASE_QUERY + f" | json | level=~`(?i){ERROR_WORDS}`"
    assert "stopped at --limit 100 matching log lines" in orjson.loads(result.stdout)["warnings"][0]


def test_level_in_plain_text_is_a_line_filter_and_the_exact_test_is_kept(router: respx.MockRouter) -> None:
    levels = ["INFO", "ERROR", "WARN", "INFO", "DEBUG", "info: no error here"]  # the last is an info line
    entries: list[Entry] = [(T + i, "svc", f"{levels[i % 6]} step {i} trace={ML.trace_id}") for i in range(3000)]
    fake = serve(router, FakeLoki(entries))
    got = lines_of(cli("logs", ML_FILE, "--level", "error", "--limit", "100", "-o", "json"))
    assert len(got) == 100 and all(line.startswith("ERROR ") for line in got)  # "no error here" is not an error
    assert fake.queries[1] == BASE_QUERY + f" |~ `(?i){ERROR_WORDS}`"  # a superset; the exact test is tracectl's


def test_level_in_structured_metadata_is_a_label_filter(router: respx.MockRouter) -> None:
    # Loki 3 stores the level it detects as structured metadata `detected_level` (discover_log_levels).
    entries: list[Entry] = [
        (T + i, f"svc{i % 3}", f"request {i} for {ML.trace_id}", {"detected_level": "error" if i % 5 else "info"})
        for i in range(1000)
    ]
    fake = serve(router, FakeLoki(entries))
    got = lines_of(cli("logs", ML_FILE, "--level", "error", "--limit", "100", "-o", "json"))
    assert len(got) == 100 and all(int(line.split()[1]) % 5 for line in got)
    assert fake.queries[1] == BASE_QUERY + f" | detected_level=~`(?i){ERROR_WORDS}`"


def test_a_regex_loki_cannot_run_is_refused_before_any_request() -> None:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        fake = serve(mock, FakeLoki(json_lines(10)))
        for bad in ["(?=x)line", r"(a)\1", "a*+"]:
            result = cli("logs", ML_FILE, "--grep", bad)
            assert result.exit_code == 2 and "not supported by Loki's regular expressions (RE2)" in result.stderr
            assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1
    assert fake.requests == 0


def test_saved_files_are_filtered_with_the_same_meaning(router: respx.MockRouter, tmp_path: Path) -> None:
    entries = json_lines(2000)
    serve(router, FakeLoki(entries))
    saved = tmp_path / "loki.json"
    values = [[str(ts), line] for ts, _, line, *_ in entries]
    saved.write_bytes(orjson.dumps({"status": "success", "data": {"resultType": "streams",
                                    "result": [{"stream": {"service_name": "svc"}, "values": values}]}}))  # fmt: skip
    for args in (["--grep", GREP], ["--grep", "line 12"], ["--level", "error"], ["--level", "warn", "--grep", "9"]):
        from_loki = lines_of(cli("logs", ML_FILE, *args, "--limit", "0", "-o", "json"))
        from_file = lines_of(cli("logs", ML_FILE, *args, "--logs-file", str(saved), "-o", "json"))
        assert sorted(from_loki) == sorted(from_file) and from_loki, args


def test_13200_lines_at_one_timestamp_all_with_a_high_limit_5000_and_a_warning_at_the_default(
    router: respx.MockRouter,
) -> None:
    entries = json_lines(13_200, timestamps=1)
    serve(router, FakeLoki(entries))
    everything = cli("logs", ML_FILE, "--limit", "20000", "-o", "json")
    assert sorted(lines_of(everything)) == sorted(line for *_, line in entries)
    assert orjson.loads(everything.stdout)["warnings"] == []
    default = cli("logs", ML_FILE, "-o", "json")
    assert len(lines_of(default)) == 5000
    assert orjson.loads(default.stdout)["warnings"] == [
        f"stopped at --limit 5000 log lines; there are more, some at the time of the last one, {rfc3339(T)} "
        "(raise --limit, 0 = all)"
    ]


def test_show_logs_says_the_cut_and_log_limit_0_shows_all(router: respx.MockRouter) -> None:
    entries = json_lines(6000, timestamps=6000)  # one line a timestamp: the cut falls between two
    serve(router, FakeLoki(entries))

    def shown(*args: str) -> tuple[int, list[str], str]:
        result = cli("show", ML_FILE, "--logs", *args, "-o", "json")
        assert result.exit_code == 0, result.output
        doc = orjson.loads(result.stdout)
        count = sum(len(s.get("logs") or []) for t in doc["traces"] for s in t["spans"])
        count += sum(len(t.get("unmatched_logs") or []) for t in doc["traces"])
        return count, doc["warnings"], result.stderr

    count, warnings, stderr = shown()
    cut = f"trace {ML.trace_id}: stopped at --log-limit 5000 log lines; there are more (raise --log-limit, 0 = all)"
    assert count == 5000 and warnings == [cut] and cut in stderr
    count, warnings, _ = shown("--log-limit", "0")
    assert count == 6000 and warnings == []
    count, warnings, _ = shown("--log-limit", "10")
    assert count == 10 and "stopped at --log-limit 10 log lines" in warnings[0]
    table = cli("show", ML_FILE, "--logs", "--log-limit", "10")
    assert table.exit_code == 0 and "stopped at --log-limit 10 log lines" in table.stderr


def test_against_the_sandbox_over_loopback_filters_limits_and_triage_warnings(tmp_path: Path) -> None:
    import time

    from tracectl.analysis.logs import level_of
    from tracectl.sandbox import start_sandbox

    servers, workload = start_sandbox("nlp-timeouts", 120, seed=3, end_ns=time.time_ns())
    try:
        env = {"TEMPO_ADDR": servers.tempo_url, "LOKI_ADDR": servers.loki_url, "JAEGER_ADDR": ""}

        def run(*args: str) -> Any:
            return runner.invoke(app, list(args), env=env)

        trace_id = next(r.get("trace_id") for r in workload.logs if level_of(r) == "error")
        mine = [r for r in workload.logs if r.get("trace_id") == trace_id]
        assert len(mine) > 3
        got = lines_of(run("logs", trace_id, "--level", "error", "-o", "json"))  # the level is in metadata `level`
        assert got == [r.line for r in mine if level_of(r) == "error"] and len(got) == 1
        two = run("logs", trace_id, "--level", "info", "--limit", "2", "-o", "json")
        assert len(lines_of(two)) == 2 and "stopped at --limit 2 matching log lines" in two.stderr
        word = orjson.loads(mine[0].line)["msg"].split()[0]
        grepped = lines_of(run("logs", trace_id, "--grep", f"{re.escape(word)}\\b", "-o", "json"))
        assert sorted(grepped) == sorted(r.line for r in mine if re.search(f"{re.escape(word)}\\b", r.line))

        report = tmp_path / "triage.md"
        triage = run("triage", "-s", "api-gateway", "--since", "40m", "--log-limit", "1", "--report", str(report),
                     "-o", "json")  # fmt: skip
        assert triage.exit_code == 0, triage.output
        cuts = [w for w in orjson.loads(triage.stdout)["warnings"] if "--log-limit" in w]
        assert cuts and all(re.fullmatch(r"log evidence: trace [0-9a-f]{32}: stopped at --log-limit 1 log lines; "
                                         r"there are more.* \(raise --log-limit, 0 = all\)", w) for w in cuts)  # fmt: skip
        assert cuts[0] in triage.stderr and cuts[0] in report.read_text()
    finally:
        servers.stop()


def test_a_margin_past_lokis_max_query_length_is_one_line_naming_the_flag(router: respx.MockRouter) -> None:
    serve(router, FakeLoki(json_lines(10), max_query_length_ns=(30 * 24 + 1) * 3600 * 10**9))  # Loki's 30d1h
    result = cli("logs", ML_FILE, "--margin", "20d")
    assert result.exit_code == 5 and result.stdout == ""
    assert result.stderr.strip().endswith("the query time range exceeds the limit (query length: 3456000s, limit: "
                                          "30d1h); narrow it with --margin")  # fmt: skip
    assert len(result.stderr.strip().splitlines()) == 1
    fine = cli("logs", ML_FILE, "--margin", "10d", "-o", "json")
    assert len(lines_of(fine)) == 10
