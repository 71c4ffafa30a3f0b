"""Every command's table at 80 and 60 columns: nothing wider than the terminal (commands to copy excepted), and
the names the verdict cites whole — numbers and waterfalls give way first."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tracectl.cli.main import app
from tracectl.render.fit import Column, cell_width, fit_widths
from tracectl.sandbox import SandboxServers, start_sandbox

runner = CliRunner()
ML = str(FIXTURES / "ml-inference.otlp.json")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[SandboxServers, Any]]:
    servers, workload = start_sandbox("nlp-network-delay", 200, end_ns=time.time_ns())
    try:
        yield servers, workload
    finally:
        servers.stop()


def run(servers: SandboxServers, width: int, *args: str) -> Any:
    env = {"TEMPO_ADDR": servers.tempo_url, "LOKI_ADDR": servers.loki_url, "JAEGER_ADDR": "",
           "PROMETHEUS_ADDR": servers.prometheus_url, "COLUMNS": str(width)}  # fmt: skip
    result = runner.invoke(app, ["--no-color", *args], env=env)
    assert result.exit_code == 0, (args, result.output)
    return result


def too_wide(text: str, width: int) -> list[str]:
    """Lines wider than ``width``, but for commands to copy (they are not broken, on purpose)."""
    return [line for line in text.splitlines() if cell_width(line) > width and "tracectl " not in line]


def slowest_trace(servers: SandboxServers) -> str:
    doc = orjson.loads(run(servers, 80, "search", "-s", "api-gateway", "--since", "40m", "--limit", "1",
                           "-o", "json").stdout)  # fmt: skip
    return str(doc["traces"][0]["trace_id"])


@pytest.mark.parametrize("width", [80, 60])
def test_show_keeps_the_cited_call_whole(sandbox: tuple[SandboxServers, Any], width: int) -> None:
    servers, _ = sandbox
    out = run(servers, width, "show", slowest_trace(servers)).stdout
    assert too_wide(out, width) == []
    assert "nlp-model/Infer" in out and "model-router Route" in out
    # a child of the same service shows only its operation; the service is written where it changes
    assert re.search(r"└─ forward\s", out)
    assert "nlp-model forward" not in out and "nlp-model Infer" in out


def test_a_pipe_without_columns_is_80_wide(sandbox: tuple[SandboxServers, Any]) -> None:
    servers, _ = sandbox
    env = {"TEMPO_ADDR": servers.tempo_url, "JAEGER_ADDR": "", "COLUMNS": ""}
    out = runner.invoke(app, ["--no-color", "show", slowest_trace(servers)], env=env).stdout
    widths = [cell_width(line) for line in out.splitlines()]
    assert max(widths) <= 80 and widths[3] == 80  # the rule under the header spans the whole width


@pytest.mark.parametrize("width", [80, 60])
def test_triage_panel_names_the_culprits_call_whole(sandbox: tuple[SandboxServers, Any], width: int) -> None:
    servers, _ = sandbox
    out = run(servers, width, "triage", "-s", "api-gateway", "--since", "40m").stdout
    assert too_wide(out, width) == []
    assert "model-router → nlp-model" in out and "nlp-model/Infer" in out


@pytest.mark.parametrize("width", [80, 60])
def test_every_commands_table_fits(sandbox: tuple[SandboxServers, Any], width: int, tmp_path: Path) -> None:
    servers, _ = sandbox
    trace_id = slowest_trace(servers)
    pair = tmp_path / "pair"
    pair.mkdir()
    for name in ("a.json", "b.json"):
        (pair / name).write_bytes(Path(ML).read_bytes())
    cases = [
        ["search", "-s", "api-gateway", "--since", "40m"], ["show", trace_id], ["path", trace_id],
        ["explain", trace_id], ["blame", ML], ["blame", str(pair)], ["blame", str(pair), "--bucket"],
        ["diff", ML, ML], ["metrics", "-s", "api-gateway", "--since", "40m"],
        ["check", "--search", "-s", "api-gateway", "--since", "40m"], ["config", "show"],
    ]  # fmt: skip
    failed = {}
    for args in cases:  # (`logs` prints whole log lines and its LogQL query, as logcli does: the terminal wraps)
        out = run(servers, width, *args).stdout
        if too_wide(out, width):
            failed[args[0]] = too_wide(out, width)
    assert failed == {}


def test_names_stay_whole_until_the_numbers_have_given_way() -> None:
    columns = [Column("span", flex=10), Column("start", "right", drop=1), Column("duration", "right", keep=True),
               Column("path", "right", drop=2), Column("", flex=10, drop=3)]  # fmt: skip
    natural = [40, 8, 8, 8, 30]
    # 80: the waterfall narrows, the start goes; the name stays whole (the room left widens the waterfall)
    assert fit_widths(columns, natural, 80) == {0: 40, 2: 8, 3: 8, 4: 15}
    # 60: everything optional is gone before the name is cut
    assert fit_widths(columns, natural, 60) == {0: 40, 2: 8}
    assert fit_widths(columns, natural, 40) == {0: 29, 2: 8}


def test_a_deep_chain_prints_its_depth_as_a_number_and_stays_narrow(tmp_path: Path) -> None:
    from tracectl.formats import otlp_json
    from tracectl.sandbox.synth import chain_trace

    path = tmp_path / "chain.json"
    path.write_bytes(orjson.dumps(otlp_json.dump_document([chain_trace(3000)])))
    out = runner.invoke(app, ["--no-color", "show", str(path), "--limit", "0"], env={"COLUMNS": "80"}).stdout
    rows = [line for line in out.splitlines() if "level-" in line]
    assert len(rows) == 3000 and too_wide(out, 80) == []
    assert rows[5].startswith(" " * 12 + "└─ level-5 ")  # drawn in full near the top
    assert re.match(r"2999 ⋯ {12}└─ level-2999 ", rows[-1])  # past a dozen levels at 80 columns: the depth
    table = runner.invoke(app, ["--no-color", "path", str(path)], env={"COLUMNS": "80"}).stdout
    assert table.count("chain level-") == 2 * 3000 - 1 and too_wide(table, 80) == []  # down and back up
