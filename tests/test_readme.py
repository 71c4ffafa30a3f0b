"""The README's set-up commands are the ones CI runs, and its examples are real output."""

from __future__ import annotations

import re

from tests.conftest import ROOT, SHARED, needs_samples


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", text)


def test_readme_opens_with_demo_and_test_commands() -> None:
    demo, tests = readme_commands()[:2]
    assert demo.endswith("tracectl demo")
    assert "pytest" in tests and "ruff check" in tests and "mypy" in tests


def test_ci_runs_the_readme_test_command_exactly() -> None:
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci_lines


def test_ci_installs_the_binaries_the_tests_require_there() -> None:
    """Under CI a missing Prometheus or Chromium fails its tests (tests/conftest.py ``require``): .ci/run installs
    both when they are missing."""
    ci = (ROOT / ".ci" / "run").read_text()
    for binary, package in (("prometheus", "prometheus"), ("chromium", "chromium")):
        assert f"if ! command -v {binary} >/dev/null; then" in ci
        assert f"apt-get install -y -q {package} >/dev/null" in ci


def test_readme_show_example_is_current_output(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from tracectl.cli.env import Env
    from tracectl.cli.main import app

    text = (ROOT / "README.md").read_text()
    block = re.search(r"```console\n\$ tracectl (--tz UTC show \S+ --max-depth 4)\n(.+?)\n```", text, re.S)
    assert block is not None
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["--no-color", *block.group(1).split()], obj=Env(width=100))
    assert result.exit_code == 0
    assert [ln.rstrip() for ln in result.stdout.strip().splitlines()] == [
        ln.rstrip() for ln in block.group(2).splitlines()
    ]


@needs_samples
def test_readme_explain_example_is_current_output_on_the_real_case(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from tracectl.cli.env import Env
    from tracectl.cli.main import app

    text = (ROOT / "README.md").read_text()
    block = re.search(r"```text\n\$ tracectl (--tz UTC explain fault\.json\.gz [^\n]+)\n(.+?)\n…\n```", text, re.S)
    assert block is not None
    monkeypatch.chdir(SHARED / "rca-dev" / "nezha" / "onlineboutique-2022-08-23-1235-cartservice-network_delay")
    result = CliRunner().invoke(app, ["--no-color", *block.group(1).split()], obj=Env(width=100))
    assert result.exit_code == 0
    expected = [ln.rstrip() for ln in block.group(2).splitlines()]
    assert [ln.rstrip() for ln in result.stdout.splitlines()][: len(expected)] == expected
