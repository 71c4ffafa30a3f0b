"""The window tracectl asks Loki for comes from the repaired tree and stays within sane bounds: a span at t=0 or
near the int64 limit cannot stretch it over centuries (it once asked for end=9223372041854775808)."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import respx
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.builders import T0, span, trace
from tracectl.analysis.logs import log_window
from tracectl.analysis.tree import MAX_VALID_NS, MIN_VALID_NS, build_tree
from tracectl.cli.main import app
from tracectl.formats import otlp_json

LOKI = "http://loki.test:3100"
MS = 10**6
INT64_MAX = 2**63 - 1


def absurd_trace():  # type: ignore[no-untyped-def]
    from dataclasses import replace

    t = trace(span("root", 0, 100), span("zero", 10, 20, parent="root"), span("huge", 30, 40, parent="root"))
    zero, huge = t.spans[1], t.spans[2]
    return type(t)(t.trace_id, (t.spans[0], replace(zero, start_ns=0, end_ns=0),
                                replace(huge, start_ns=INT64_MAX - 10, end_ns=INT64_MAX)))  # fmt: skip


def test_logs_asks_loki_for_the_repaired_window(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_bytes(orjson.dumps(otlp_json.dump_document([absurd_trace()])))
    with respx.mock(base_url=LOKI, assert_all_mocked=True) as mock:
        empty = {"status": "success", "data": {"resultType": "streams", "result": []}}
        route = mock.get("/loki/api/v1/query_range").mock(return_value=httpx.Response(200, json=empty))
        result = CliRunner().invoke(app, ["--loki-url", LOKI, "logs", str(path), "--margin", "5s", "-o", "json"],
                                    env={"LOKI_ADDR": "", "TEMPO_ADDR": "", "JAEGER_ADDR": ""})  # fmt: skip
    assert result.exit_code == 0, result.output
    params = route.calls.last.request.url.params
    start, end = int(params["start"]), int(params["end"])
    assert start == T0 - 5 * 10**9 and end == T0 + 100 * MS + 5 * 10**9 + 1  # the root's 100 ms and the margin
    assert any("absurd timestamp" in w for w in orjson.loads(result.stdout)["warnings"])


@given(
    st.lists(st.tuples(st.integers(-(2**63), 2**63 - 1), st.integers(-(2**63), 2**63 - 1)), min_size=1, max_size=6),
    st.integers(0, 10**18),
)
def test_the_window_is_always_within_sane_bounds_and_holds_the_repaired_tree(
    times: list[tuple[int, int]], margin: int
) -> None:
    from dataclasses import replace

    base = trace(*[span(f"s{n}", 0, 1, parent="s0" if n else "") for n in range(len(times))])
    spans = tuple(replace(s, start_ns=a, end_ns=b) for s, (a, b) in zip(base.spans, times, strict=True))
    tree = build_tree(type(base)(base.trace_id, spans))
    start, end = log_window(tree, margin)
    assert MIN_VALID_NS <= start < end <= MAX_VALID_NS
    if tree.wall_start >= MIN_VALID_NS and tree.wall_end < MAX_VALID_NS - margin:
        assert start <= tree.wall_start and tree.wall_end < end
