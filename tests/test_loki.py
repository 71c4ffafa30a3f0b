"""Loki: LogQL building and escaping, the exact request, paging past the limit, both response forms,
matching lines to spans, errors, and the CLI (`logs`, `show --logs`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import respx
from typer.testing import CliRunner

from tests.conftest import FIXTURES, SAMPLES, needs_samples
from tests.fake_loki import FakeLoki
from tracectl.analysis.logs import level_counts, match_logs
from tracectl.analysis.tree import build_tree
from tracectl.backends.http import HttpClient, HttpConfig
from tracectl.backends.logql import log_mentions_trace, trace_log_query
from tracectl.backends.loki import LogQueryOptions, LokiClient, fetch_trace_logs, parse_query_range
from tracectl.cli.main import app
from tracectl.errors import BackendError, InputError
from tracectl.model import LogRecord, Resource, Span, Trace
from tracectl.sandbox.synth import ml_inference_trace

BASE = "http://loki.test:3100"
ML = ml_inference_trace(7)
ML_FILE = str(FIXTURES / "ml-inference.otlp.json")


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_mocked=True) as mock:
        yield mock


def loki() -> LokiClient:
    return LokiClient(HttpClient(HttpConfig(BASE, "Loki", retries=1), sleep=lambda _s: None))


def trace_with(services: list[str], trace_id: str = "0000000000000000" + "00ab" * 4) -> Trace:
    spans = tuple(
        Span(trace_id, f"{i + 1:016x}", "", "op", 10**18, 10**18 + 10**9, resource=Resource({"service.name": s}))
        for i, s in enumerate(services)
    )
    return Trace(trace_id, spans)


# ------------------------------------------------------------------------------------------------ LogQL


def test_each_strategy_builds_the_expected_query() -> None:
    t = trace_with(["nlp-model", "cv-model"])
    assert trace_log_query(t, "line") == '{service_name=~"cv-model|nlp-model"} |= "ab00ab00ab00ab"'
    assert trace_log_query(t, "metadata") == '{service_name=~"cv-model|nlp-model"} | trace_id=~"0*ab00ab00ab00ab"'
    assert trace_log_query(t, "json", trace_field="traceId") == (
        '{service_name=~"cv-model|nlp-model"} | json | traceId=~"0*ab00ab00ab00ab"'
    )
    one = trace_with(["api-gateway"])
    assert trace_log_query(one, "line", {"service.name": "app"}) == '{app="api-gateway"} |= "ab00ab00ab00ab"'
    tpl = '{app="${service}"} |= "${__span.traceId}" | span="${__span.spanId}" ${__tags}'
    assert trace_log_query(one, "template", template=tpl) == (
        '{app="api-gateway"} |= "000000000000000000ab00ab00ab00ab" | span="0000000000000001" service_name="api-gateway"'
    )


def _go_unquote(literal: str) -> str:
    """Undo LogQL's Go string escaping (what Loki's parser does with a double-quoted string)."""
    import codecs

    return codecs.decode(literal[1:-1], "unicode_escape")


def test_hostile_label_values_cannot_change_the_query() -> None:
    import re

    evil = ['a"} |= "x', "b\\", "c|d.*"]
    query = trace_log_query(trace_with(evil), "line")
    selector, _, line_filter = query.partition("} |= ")
    assert selector.startswith('{service_name=~"') and line_filter == '"ab00ab00ab00ab"'
    regex = _go_unquote(selector[len("{service_name=~") :])
    assert all(re.fullmatch(regex, v) for v in evil)  # the alternation matches exactly the three names
    assert not re.fullmatch(regex, "cXd") and not re.fullmatch(regex, "a")
    single = trace_log_query(trace_with(['x"} or {job=~".+']), "metadata")
    literal = single[len("{service_name=") : single.index("} | trace_id")]
    assert _go_unquote(literal) == 'x"} or {job=~".+'
    with pytest.raises(InputError, match="not a valid Loki label name"):
        trace_log_query(trace_with(["a"]), "line", {"service.name": 'x"}'})
    with pytest.raises(InputError, match="no span has the mapped resource attributes"):
        trace_log_query(trace_with(["a"]), "line", {"k8s.pod.name": "pod"})


@pytest.mark.parametrize(
    ("line", "found"),
    [
        ("trace_id=000000000000000000ab00ab00ab00ab msg=x", True),  # 32 characters
        ("traceID: 00ab00ab00ab00ab done", True),  # 16-character (64-bit) form
        ('{"traceId": "AB00AB00AB00AB"}', True),  # stripped, upper case
        ("id=1ab00ab00ab00ab", False),  # a longer hex number that merely contains the ID
        ("nothing here", False),
    ],
)
def test_every_form_of_the_trace_id_is_recognised(line: str, found: bool) -> None:
    assert log_mentions_trace(line, "000000000000000000ab00ab00ab00ab") is found


# ----------------------------------------------------------------------------------------- the request


def streams(
    values: list[tuple[int, str]], labels: dict[str, str], meta: dict[str, str] | None = None
) -> dict[str, Any]:
    rows = [[str(ts), line, {"structuredMetadata": meta} if meta else {}] for ts, line in values]
    return {"status": "success", "data": {"resultType": "streams", "result": [{"stream": labels, "values": rows}]}}


def test_request_has_the_exact_logql_window_direction_and_header(router: respx.MockRouter) -> None:
    route = router.get("/loki/api/v1/query_range").mock(return_value=httpx.Response(200, json=streams([], {})))
    fetch_trace_logs(loki(), ML, LogQueryOptions(margin_ns=2 * 10**9, limit=300))
    sent = route.calls.last.request
    params = dict(sent.url.params)
    start = min(s.start_ns for s in ML.spans)
    end = max(s.end_ns for s in ML.spans)
    stripped = ML.trace_id.lstrip("0")
    assert params["query"] == (
        '{service_name=~"api-gateway|audit-logger|cv-model|feature-store|inference-orchestrator|model-router|'
        f'nlp-model|postprocess"}} |= "{stripped}"'
    )
    assert params["start"] == str(start - 2 * 10**9) and params["end"] == str(end + 2 * 10**9 + 1)  # end exclusive
    assert params["limit"] == "301" and params["direction"] == "forward"  # one past the limit shows there are more
    assert sent.headers["X-Loki-Response-Encoding-Flags"] == "categorize-labels"


@pytest.mark.parametrize("direction", ["backward", "forward"])
def test_paging_12000_lines_past_a_5000_limit_is_complete_ordered_and_without_duplicates(
    router: respx.MockRouter, direction: str
) -> None:
    lines = []
    for i in range(12_000):
        ts = 10**18 + (i // 7) * 1000  # seven lines share each timestamp, so page boundaries split groups
        lines.append((ts, f"svc{i % 3}", f"line {i:05d}"))
    fake = FakeLoki(lines)
    router.get("/loki/api/v1/query_range").mock(side_effect=fake)
    result = loki().query_range('{x="y"}', 10**18, 10**18 + 10**12, limit=20_000, direction=direction, batch=5000)
    got = [r.line for r in result.records]
    assert sorted(got) == sorted(line for _, _, line in lines)  # every line, once
    assert len(got) == len(set(got)) == 12_000
    times = [r.time_ns for r in result.records]
    assert times == sorted(times, reverse=direction == "backward")
    assert fake.requests == 5 and not result.truncated  # three pages, and the tie at each full page's end


def test_paging_stops_at_the_limit_and_says_so(router: respx.MockRouter) -> None:
    fake = FakeLoki([(10**18 + i, "s", f"l{i}") for i in range(50)])
    router.get("/loki/api/v1/query_range").mock(side_effect=fake)
    result = loki().query_range('{x="y"}', 10**18, 10**18 + 100, limit=20, batch=8)
    assert [r.line for r in result.records] == [f"l{i}" for i in range(49, 29, -1)] and result.truncated


def test_real_duplicate_lines_inside_a_page_are_kept(router: respx.MockRouter) -> None:
    fake = FakeLoki([(10**18, "s", "same"), (10**18, "s", "same"), (10**18 + 1, "s", "other")])
    router.get("/loki/api/v1/query_range").mock(side_effect=fake)
    assert [r.line for r in loki().query_range('{a="b"}', 10**18, 10**18 + 10).records] == ["other", "same", "same"]


@needs_samples
def test_real_responses_in_both_forms() -> None:
    plain, _ = parse_query_range((SAMPLES / "loki" / "loki_query_range_streams__loki_docs_head.json").read_bytes())
    assert [(r.time_ns, r.line, r.labels["level"]) for r in plain] == [
        (1569266497240578000, "foo", "info"), (1569266492548155000, "bar", "info"),
    ]  # fmt: skip
    records, warnings = parse_query_range(
        (SAMPLES / "loki" / "loki_query_range_categorize_labels__loki_marshal_test.json").read_bytes(), "forward"
    )
    assert warnings == ["this is a warning"]
    assert [r.metadata for r in records] == [{}, {"foo": "a", "bar": "b"}, {"foo": "a", "bar": "b"}]
    assert records[2].parsed == {"msg": "text"} and records[2].labels == {"test": "test"}
    grafana, _ = parse_query_range(
        (SAMPLES / "loki" / "loki_query_range_streams__grafana_pkg_tsdb_loki_testdata_streams_simple.json").read_bytes()
    )
    assert any(r.labels.get("location") == "moon🌙" for r in grafana)
    with pytest.raises(BackendError, match="metric query"):
        parse_query_range((SAMPLES / "loki" / "loki_query_range_matrix__loki_docs_head.json").read_bytes())


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (
            httpx.Response(400, text="parse error at line 1, col 15: syntax error: unexpected IDENTIFIER"),
            "Loki answered 400 to the log query: parse error",
        ),
        (
            httpx.Response(400, text="max entries limit per query exceeded, limit > max_entries_limit (9000 > 5000)"),
            "max entries limit",
        ),
        (httpx.Response(401, text="no org id"), "no org id (check --token-file / --org-id / credentials)"),
        (httpx.Response(504, text="Gateway Timeout"), "Loki answered 504"),
    ],
)
def test_loki_errors_are_one_clear_line(router: respx.MockRouter, response: httpx.Response, message: str) -> None:
    router.get("/loki/api/v1/query_range").mock(return_value=response)
    with pytest.raises(BackendError, match=message.replace("(", r"\(").replace(")", r"\)")):
        loki().query_range('{a="b"}', 1, 2)


@pytest.mark.parametrize(
    ("result", "where"),
    [
        (
            [{"stream": {"a": "b"}, "values": [["1", 5]]}],
            "data.result[0].values[0][1]: expected a string, got a number",
        ),
        (
            [{"stream": {"a": "b"}, "values": [["x1", "l"]]}],
            "data.result[0].values[0][0]: expected an integer, got 'x1'",
        ),
        ([{"stream": {"a": 1}, "values": []}], "data.result[0].stream.a: expected a string, got a number"),
        (
            [{"stream": {}, "values": [["1"]]}],
            "data.result[0].values[0]: expected [timestamp, line] (a list of two or three)",
        ),
        ([{"stream": {}, "values": [["1", "l", []]]}], "data.result[0].values[0][2]: expected an object, got a list"),
        (["not a stream"], "data.result[0]: expected an object, got a string"),
    ],
)
def test_the_right_envelope_with_wrong_inner_types_is_a_backend_error(
    router: respx.MockRouter, result: list[Any], where: str
) -> None:
    body = {"status": "success", "data": {"resultType": "streams", "result": result}}
    router.get("/loki/api/v1/query_range").mock(return_value=httpx.Response(200, json=body))
    with pytest.raises(BackendError) as info:
        loki().query_range('{a="b"}', 1, 2)
    assert str(info.value) == f"Loki answered with an unexpected shape: {where}"


# ------------------------------------------------------------------------------------- matching to spans


def test_lines_match_spans_by_span_id_then_by_service_and_time() -> None:
    tree = build_tree(ML)
    forward = next(i for i, s in enumerate(tree.spans) if s.service == "cv-model" and s.name == "forward")
    lookup = next(i for i, s in enumerate(tree.spans) if s.name == "online_store.lookup")
    records = [
        LogRecord(tree.start[forward] + 5, "CUDA OOM, retrying", {"service_name": "cv-model"},
                  {"span_id": tree.spans[forward].span_id, "level": "error"}),
        LogRecord(tree.start[lookup] + 5, '{"level": "warn", "msg": "slow read", "spanId": "' + tree.spans[lookup].span_id.upper() + '"}',
                  {"service_name": "feature-store"}),
        LogRecord(tree.start[forward] + 10, "INFO batch of 4 images", {"service_name": "cv-model"}),
        LogRecord(tree.wall_start - 10**9, "WARN before the trace", {"service_name": "cv-model"}),
    ]  # fmt: skip
    matched = match_logs(tree, records)
    assert [(m.node, m.how, m.level) for m in matched] == [  # in time order
        (-1, "none", "warn"), (lookup, "span_id", "warn"), (forward, "span_id", "error"), (forward, "time", "info"),
    ]  # fmt: skip
    counts = level_counts(matched, tree)
    assert counts[("cv-model", "error")] == 1 and counts[("feature-store", "warn")] == 1
    assert counts[("cv-model", "warn")] == 1  # the unmatched line, counted under its own service label


# ------------------------------------------------------------------------------------------------ the CLI

runner = CliRunner()


def cli(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--loki-url", BASE, *args], env={"LOKI_ADDR": "", "TEMPO_ADDR": "", "JAEGER_ADDR": ""})


def ml_logs() -> dict[str, Any]:
    tree = build_tree(ML)
    rows = []
    for i, span in enumerate(tree.spans):
        level = "error" if span.name == "forward" and span.service == "cv-model" else "info"
        line = orjson.dumps({"level": level, "msg": f"{span.name} done", "trace_id": ML.trace_id}).decode()
        rows.append([str(tree.start[i] + 1), line, {"structuredMetadata": {"span_id": span.span_id}}])
    result = [{"stream": {"service_name": "ml"}, "values": rows}]
    return {"status": "success", "data": {"resultType": "streams", "result": result}}


def test_cli_logs_grouped_filtered_and_machine_outputs(router: respx.MockRouter) -> None:
    router.get("/loki/api/v1/query_range").mock(return_value=httpx.Response(200, json=ml_logs()))
    table = cli("logs", ML_FILE)
    assert table.exit_code == 0, table.output
    assert "24 log lines for trace" in table.stdout and "▸ cv-model forward" in table.stdout
    errors = orjson.loads(cli("logs", ML_FILE, "--level", "error", "-o", "json").stdout)
    assert [(x["service"], x["span_name"], x["matched_by"]) for x in errors["lines"]] == [
        ("cv-model", "forward", "span_id")
    ]
    raw = cli("logs", ML_FILE, "--grep", "calibrate", "-o", "raw").stdout
    assert raw.count("\n") == 1 and "calibrate done" in raw
    rank = next(s for s in ML.spans if s.name == "rank")
    one = cli("logs", ML_FILE, "--span", rank.span_id.upper(), "-o", "jsonl").stdout.splitlines()
    assert len(one) == 1 and orjson.loads(one[0])["span_id"] == rank.span_id
    assert cli("logs", ML_FILE, "--level", "loud").exit_code == 2
    assert cli("logs", ML_FILE, "--grep", "(").exit_code == 2


def test_cli_show_logs_interleaves_and_survives_a_loki_failure(router: respx.MockRouter) -> None:
    route = router.get("/loki/api/v1/query_range").mock(return_value=httpx.Response(200, json=ml_logs()))
    doc = orjson.loads(cli("show", ML_FILE, "--logs", "-o", "json").stdout)["traces"][0]
    logs = {r["name"]: r.get("logs") for r in doc["spans"]}
    assert logs["calibrate"][0]["line"].startswith('{"level":"info","msg":"calibrate done"')
    assert "┆" in cli("show", ML_FILE, "--logs").stdout
    route.mock(return_value=httpx.Response(504, text="Gateway Timeout"))
    once = {"LOKI_ADDR": "", "TEMPO_ADDR": "", "JAEGER_ADDR": "", "TRACECTL_RETRIES": "0"}  # retrying is test_http's
    degraded = runner.invoke(app, ["--loki-url", BASE, "--timeout", "1", "show", ML_FILE, "--logs"], env=once)
    assert degraded.exit_code == 0 and "POST /v1/predict" in degraded.stdout
    assert "logs unavailable, showing the tree without them: Loki answered 504" in degraded.stderr
    unconfigured = runner.invoke(app, ["show", ML_FILE, "--logs"], env={"LOKI_ADDR": ""})
    assert unconfigured.exit_code == 0 and "no Loki address" in unconfigured.stderr


def test_cli_logs_exit_codes(router: respx.MockRouter) -> None:
    router.get("/loki/api/v1/query_range").mock(return_value=httpx.Response(401, text="no org id"))
    result = cli("logs", ML_FILE)
    assert result.exit_code == 5 and result.stdout == "" and "no org id" in result.stderr
    assert runner.invoke(app, ["logs", ML_FILE], env={"LOKI_ADDR": ""}).exit_code == 2
