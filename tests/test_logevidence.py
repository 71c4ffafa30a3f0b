"""Logs without a live Loki: saved files (both Loki encodings, logcli jsonl, gzip), lines tied to traces by ID in
any place (the text included) or by service and time, stack traces as one event, and the log evidence the
ranking uses (new templates, silenced statements, origin), end to end through ``--logs-file``."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tests.builders import T0, span, trace
from tests.conftest import SAMPLES, needs_samples
from tracectl.analysis.analyse import TraceAnalysis, analyse_trace
from tracectl.analysis.logevidence import display_message, log_evidence, template_of
from tracectl.analysis.logs import trace_events
from tracectl.backends.logfiles import read_log_bytes, read_log_file
from tracectl.cli.main import app
from tracectl.errors import FormatError
from tracectl.formats import otlp_json
from tracectl.model import LogRecord, SpanKind, Trace

runner = CliRunner()
U = SpanKind.UNSPECIFIED
MS = 1_000_000


def shop(n: int) -> Trace:
    """api → (client) → orders → (client) → stock, kind-less, the same timing in every window."""
    from dataclasses import replace

    t = trace(
        span("POST /buy", 0, 40, service="api", kind=U),
        span("orders.Create", 2, 38, "POST /buy", service="api", kind=U),
        span("Create", 3, 37, "orders.Create", service="orders", kind=U),
        span("stock.Reserve", 10, 30, "Create", service="orders", kind=U),
        span("Reserve", 11, 29, "stock.Reserve", service="stock", kind=U),
    )
    trace_id, offset = f"{n + 1:032x}", (n % 1000) * 100 * MS  # one request every 100 ms
    return Trace(trace_id, tuple(replace(x, trace_id=trace_id, start_ns=x.start_ns + offset,
                                         end_ns=x.end_ns + offset) for x in t.spans))  # fmt: skip


def _wrapped(text: str) -> str:
    """A container runtime's JSON wrapper around the application's line, as kubectl logs stores it."""
    return orjson.dumps({"log": text + "\n", "stream": "stdout", "time": "2026-11-24T10:00:00Z"}).decode()


def shop_logs(t: Trace, broken: bool) -> list[tuple[str, int, str]]:
    """(service, time, line): stock reserves, orders confirms; when ``broken``, stock throws (with a stack trace
    stored one line per entry) and orders logs the failure it got back."""
    tid, start = t.trace_id, t.spans[0].start_ns
    spans = {s.name: s.span_id for s in t.spans}
    lines = [("api", start + 1 * MS, f'{{"level":"info","msg":"buy","trace_id":"{tid}"}}')]
    if broken:
        lines += [
            ("stock", start + 12 * MS, _wrapped(f"10:00:00.012 ERROR StockService TraceID: {tid} SpanID: "
                                                f"{spans['Reserve']} reserve failed: NullPointerException")),
            ("stock", start + 12 * MS + 1, _wrapped("\tat shop.StockService.reserve(StockService.java:42)")),
            ("stock", start + 12 * MS + 2, _wrapped("\tat shop.Controller.handle(Controller.java:7)")),
            ("orders", start + 31 * MS, _wrapped(f"10:00:00.031 ERROR OrderService TraceID: {tid} order "
                                                 "failed: 500 from stock")),
        ]  # fmt: skip
    else:
        lines += [
            ("stock", start + 12 * MS, _wrapped(f"10:00:00.012 INFO StockService TraceID: {tid} reserved 3 items")),
            ("orders", start + 31 * MS, _wrapped(f"10:00:00.031 INFO OrderService TraceID: {tid} order 991 placed")),
        ]
    return lines


def loki_document(lines: list[tuple[str, int, str]], categorize: bool = False) -> bytes:
    streams: dict[str, list[list[object]]] = {}
    for service, time_ns, line in lines:
        streams.setdefault(service, []).append([str(time_ns), line, {}] if categorize else [str(time_ns), line])
    result = [{"stream": {"service_name": s}, "values": v} for s, v in streams.items()]
    return orjson.dumps({"status": "success", "data": {"resultType": "streams", "result": result}})


def windows(tmp_path: Path, count: int = 20) -> tuple[Path, Path, Path, Path]:
    """Baseline and suspect windows (traces + logs) one hour apart; no latency change, stock throws in half the
    suspect requests."""
    base = [shop(i) for i in range(count)]
    later = [_shifted(shop(1000 + i), 3600 * 10**9) for i in range(count)]
    files = tmp_path / "base.json", tmp_path / "now.json.gz", tmp_path / "base.logs.json", tmp_path / "now.logs.json.gz"
    files[0].write_bytes(orjson.dumps(otlp_json.dump_document(base)))
    files[1].write_bytes(gzip.compress(orjson.dumps(otlp_json.dump_document(later))))
    files[2].write_bytes(loki_document([x for t in base for x in shop_logs(t, False)]))
    now_lines = [x for i, t in enumerate(later) for x in shop_logs(t, broken=i % 2 == 0)]
    files[3].write_bytes(gzip.compress(loki_document(now_lines, categorize=True)))
    return files


def _shifted(t: Trace, ns: int) -> Trace:
    from dataclasses import replace

    return Trace(t.trace_id, tuple(replace(s, start_ns=s.start_ns + ns, end_ns=s.end_ns + ns) for s in t.spans))


# -------------------------------------------------------------------------------------------- the files


def test_both_loki_encodings_logcli_jsonl_and_gzip_read_the_same(tmp_path: Path) -> None:
    lines = shop_logs(shop(0), broken=True)
    plain = read_log_bytes(loki_document(lines), "plain")
    categorized = read_log_bytes(loki_document(lines, categorize=True), "categorized")
    jsonl = b"\n".join(
        orjson.dumps({"labels": {"service_name": s}, "line": line,
                      "timestamp": f"2025-11-24T08:20:00.{t % 10**9:09d}+00:00"})
        for s, t, line in lines
    )  # fmt: skip
    cli_lines = read_log_bytes(jsonl, "logcli")
    assert [r.line for r in sorted(plain, key=lambda r: r.time_ns)] == [r.line for r in categorized]
    assert [r.line for r in cli_lines] == [line for _, _, line in lines]
    assert cli_lines[1].time_ns - cli_lines[0].time_ns == lines[1][1] - lines[0][1]  # nanoseconds kept
    assert cli_lines[0].labels == {"service_name": "api"}
    packed = tmp_path / "saved.gz"
    packed.write_bytes(gzip.compress(loki_document(lines)))
    assert [r.line for r in read_log_file(str(packed))] == [r.line for r in sorted(plain, key=lambda r: r.time_ns)]


@needs_samples
def test_real_loki_answers_read_from_files() -> None:
    records = read_log_file(str(SAMPLES / "loki" / "loki_query_range_categorize_labels__loki_marshal_test.json"))
    assert [r.metadata for r in records] == [{}, {"foo": "a", "bar": "b"}, {"foo": "a", "bar": "b"}]
    with pytest.raises(FormatError, match="metric query"):
        read_log_file(str(SAMPLES / "loki" / "loki_query_range_matrix__loki_docs_head.json"))


def test_bad_log_files_are_one_line_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"traces": []}')
    with pytest.raises(FormatError, match="unexpected shape; expected a Loki query_range response or logcli"):
        read_log_file(str(bad))
    bad.write_text("not json\nat all")
    with pytest.raises(FormatError, match="not JSON"):
        read_log_file(str(bad))
    good_trace = tmp_path / "trace.json"  # a readable trace: only the log file can be what fails
    good_trace.write_bytes(orjson.dumps(otlp_json.dump_document([trace(span("root", 0, 10))])))
    assert runner.invoke(app, ["show", str(good_trace)]).exit_code == 0
    result = runner.invoke(app, ["show", str(good_trace), "--logs-file", str(bad)])
    assert result.exit_code == 2 and result.stdout == ""
    assert f"{bad}" in result.stderr and "not JSON" in result.stderr


# ----------------------------------------------------------------------------------- lines to traces


def test_trace_id_in_the_text_stack_traces_and_time_matching() -> None:
    t = shop(0)
    tree = analyse_trace(t).tree
    lines = shop_logs(t, broken=True)
    records = [LogRecord(time, line, {"service_name": s}) for s, time, line in lines]
    records.append(LogRecord(t.spans[0].start_ns + 20 * MS, "WARN slow reserve", {"service_name": "stock"}))
    records.append(LogRecord(T0 - 10**12, "ERROR long before", {"service_name": "stock"}))
    events = trace_events(records, [tree])
    assert [(e.service, e.level, e.lines, e.trace_id) for e in events] == [
        ("stock", "error", 1, None),  # no ID, and no trace was in stock then
        ("api", "info", 1, t.trace_id),  # a JSON field
        ("stock", "error", 3, t.trace_id),  # the ID in the wrapped text; the stack trace is one event
        ("stock", "warn", 1, t.trace_id),  # no ID: the only trace in stock at that time
        ("orders", "error", 1, t.trace_id),
    ]
    other = analyse_trace(shop(1000)).tree  # the same times: now two traces were in stock at 20 ms
    assert trace_events(records[-2:-1], [tree, other])[0].trace_id is None


def test_templates_mask_values_and_sentences_show_messages() -> None:
    a = template_of("10:00:01.5 ERROR order 1234 failed for user 'bob' (id=9f1c2e3d4a5b6c7d) after 3.5s")
    b = template_of("11:02:07.9 ERROR order 77 failed for user 'al' (id=0a1b2c3d4e5f6a7b) after 12s")
    assert a == b
    assert template_of("No instances available for ts-user-service") != template_of("Timeout reading socket")
    assert (
        display_message(
            "10:00:00.012 ERROR StockService TraceID: 00ab00ab00ab00ab00ab00ab00ab00ab SpanID: 1234abcd1234abcd boom"
        )
        == "ERROR StockService boom"
    )


# ------------------------------------------------------------------------------------------ the evidence


def _evidence(broken_share: float, count: int = 20) -> tuple[list[TraceAnalysis], object]:
    base = [analyse_trace(shop(i)) for i in range(count)]
    now = [analyse_trace(_shifted(shop(1000 + i), 3600 * 10**9)) for i in range(count)]
    b_recs = [LogRecord(t, line, {"service_name": s}) for a in base for s, t, line in shop_logs(_trace(a), False)]
    n_recs = [LogRecord(t, line, {"service_name": s}) for i, a in enumerate(now)
              for s, t, line in shop_logs(_trace(a), broken=i < broken_share * count)]  # fmt: skip
    trees = [a.tree for a in (*base, *now)]
    return now, log_evidence(now, base, trace_events(n_recs, trees), trace_events(b_recs, trees))


def _trace(a: TraceAnalysis) -> Trace:
    return Trace(a.tree.trace_id, tuple(a.tree.spans))


def test_new_errors_go_to_the_deepest_service_and_silenced_statements_count() -> None:
    _, ev = _evidence(0.5)
    stock, orders = ev.services["stock"], ev.services["orders"]  # type: ignore[attr-defined]
    assert stock.new_templates[0].traces == 10 and orders.new_templates[0].traces == 10
    assert (stock.origin_traces, orders.origin_traces) == (10, 0)  # orders only relays stock's failure
    assert stock.share == 1.0 and orders.share == 0.0
    silenced = {(x.operation, x.baseline_rate, x.suspect_rate) for x in stock.silenced}
    assert ("Reserve", 1.0, 0.5) not in silenced  # half still log it: not silenced
    _, all_broken = _evidence(1.0)
    assert [(x.operation, x.baseline_rate, x.suspect_rate) for x in all_broken.services["stock"].silenced] == [
        ("Reserve", 1.0, 0.0)
    ]  # type: ignore[attr-defined]


def test_too_little_support_is_no_evidence() -> None:
    _, ev = _evidence(0.1)  # 2 of 20 requests: below the 3-trace floor
    assert ev.services["stock"].share == 0.0  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------ end to end


def test_a_log_only_fault_is_found_through_logs_files(tmp_path: Path) -> None:
    base, now, base_logs, now_logs = windows(tmp_path)
    args = ["diff", str(base), str(now), "--logs-file", str(base_logs), "--logs-file", str(now_logs), "-o", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    top = doc["suspects"][0]
    assert (top["component"], top["evidence"]) == ("stock", "logs") and doc["logs_checked"] is True
    assert "new error logs in 10 suspect requests" in top["sentence"]
    assert top["new_log_templates"][0]["traces"] == 10
    without = orjson.loads(runner.invoke(app, ["diff", str(base), str(now), "-o", "json"]).stdout)
    assert not without["suspects"] or without["suspects"][0]["component"] != "stock"  # the traces alone: nothing

    triaged = runner.invoke(app, ["triage", "--baseline", str(base), str(now), "--logs-file", str(base_logs),
                                  "--logs-file", str(now_logs), "-o", "json"])  # fmt: skip
    assert triaged.exit_code == 0, triaged.output
    verdict = orjson.loads(triaged.stdout)
    assert verdict["verdict"]["culprit"] == "stock" and verdict["verdict"]["kind"] == "errors"
    assert verdict["mode"] == "windows" and verdict["counts"] == {"traces": 20, "suspects": 20, "baseline": 20}
    assert any("NullPointerException" in x["line"] for x in verdict["logs"]["excerpts"])


def test_show_and_logs_read_saved_lines_and_gzip_traces(tmp_path: Path) -> None:
    _, now, _, now_logs = windows(tmp_path)
    trace_id = f"{1000 + 1:032x}"
    shown = runner.invoke(app, ["show", str(now), "--trace-id", trace_id, "--logs-file", str(now_logs)],
                          env={"COLUMNS": "160"})  # fmt: skip
    assert shown.exit_code == 0, shown.output
    text = shown.stdout
    assert text.count("ERROR") == 4 and text.count("at shop.") == 2  # this trace's lines only, stack lines kept
    assert text.index("stock Reserve") < text.index("ERROR Sto") < text.index("at shop.StockSe")
    logs = runner.invoke(app, ["logs", str(now), "--trace-id", trace_id, "--logs-file", str(now_logs),
                               "--level", "error", "-o", "jsonl"])  # fmt: skip
    assert logs.exit_code == 0, logs.output
    rows = [orjson.loads(x) for x in logs.stdout.splitlines()]
    assert [(r["service"], r["matched_by"]) for r in rows] == [("stock", "span_id"), ("orders", "time")]


def test_gzip_traces_are_read_by_content_and_a_broken_one_is_a_clear_error(tmp_path: Path) -> None:
    from tracectl.formats.detect import read_source

    packed = tmp_path / "trace.bin"  # no .gz in the name: the magic bytes decide
    packed.write_bytes(gzip.compress(orjson.dumps(otlp_json.dump_document([shop(0)]))))
    assert [t.trace_id for t in read_source(str(packed)).traces] == [shop(0).trace_id]
    broken = tmp_path / "cut.json.gz"
    broken.write_bytes(packed.read_bytes()[:20])
    with pytest.raises(FormatError, match="gzip data is corrupt or truncated"):
        read_source(str(broken))
