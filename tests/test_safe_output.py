"""What a server or a file says reaches the terminal shown, never executed; stdout holds a whole result or nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.builders import span, trace
from tracectl.cli.env import Env
from tracectl.cli.main import app
from tracectl.formats import otlp_json
from tracectl.render.safe_console import SafeConsole
from tracectl.render.safe_text import visible

# A window title, the clipboard (OSC 52), clear screen, a bell, an 8-bit CSI, and colour that never ends.
EVIL = "\x1b]0;pwned\x07\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x9b31m\x1b[31m"
SHOWN = "␛]0;pwned␇␛]52;c;cm0gLXJmIH4=␇␛[2J�31m␛[31m"
SHOWN_IN_TEXT = SHOWN.replace("␇", "")  # rich drops BEL, BS, VT, FF and CR from a Text itself: gone, not run
runner = CliRunner()


def only_styles(out: str) -> bool:
    """Every escape in ``out`` is one rich wrote: a colour/style (SGR) sequence, nothing else."""
    return all(m.group(0) for m in re.finditer(r"\x1b(\[[0-9;]*m)?", out)) and not re.search(
        r"\x1b(?!\[[0-9;]*m)|[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f]", out
    )


def test_visible_keeps_the_length_and_shows_every_control_character() -> None:
    assert visible(EVIL) == SHOWN and len(visible(EVIL)) == len(EVIL)
    assert visible("tab\tand\nnewline") == "tab\tand\nnewline"
    assert visible("a\nb\r", one_line=True) == "a␊b␍"
    assert visible("plain ünïcode ✓") == "plain ünïcode ✓"


def test_the_console_shows_what_a_text_holds_and_keeps_its_styles() -> None:
    import io

    from rich.text import Text

    buf = io.StringIO()
    console = SafeConsole(file=buf, force_terminal=True, color_system="standard", width=200, highlight=False)
    console.print(Text.assemble(("svc", "cyan"), " ", (f"name{EVIL}end", "bold")), "[red]" + EVIL + "[/red]")
    out = buf.getvalue()
    assert only_styles(out) and f"\x1b[1mname{SHOWN_IN_TEXT}end\x1b[0m" in out  # the bold still covers it all
    assert f"\x1b[31m{SHOWN}\x1b[0m" in out  # markup strings are shown before they are parsed


@pytest.fixture
def hostile_file(tmp_path: Path) -> Path:
    t = trace(
        span(f"root{EVIL}", 0, 10, service=f"api{EVIL}", note=f"value{EVIL}"),
        span("child", 1, 5, parent=f"root{EVIL}", service="db"),
    )
    path = tmp_path / "hostile.json"
    path.write_bytes(orjson.dumps(otlp_json.dump_document([t])))
    return path


@pytest.mark.parametrize("terminal", [True, False])
@pytest.mark.parametrize("command", [["show"], ["path"], ["blame"], ["show", "-o", "csv"], ["show", "-o", "json"]])
def test_names_and_values_from_a_file_never_reach_the_terminal_raw(
    hostile_file: Path, terminal: bool, command: list[str]
) -> None:
    result = runner.invoke(app, [command[0], str(hostile_file), *command[1:]], obj=Env(force_terminal=terminal))
    assert result.exit_code == 0, result.output
    assert not any(seq in result.stderr for seq in ("\x1b]", "\x1b[2J", "\x9b", "\x07"))  # a progress bar is fine
    if command[1:] == ["-o", "csv"] and not terminal:
        assert f"root{EVIL}" in result.stdout  # machine output into a pipe: the data as it is, for the next tool
        return
    if command[1:] == ["-o", "json"] and not terminal:
        assert "root\\u001b]0;pwned\\u0007" in result.stdout  # JSON escapes what JSON must, and keeps the rest
        return
    assert only_styles(result.stdout)
    if command[1:] != ["-o", "json"]:  # JSON escapes them itself (\u001b), as it must
        assert "␛]0;pwned" in result.stdout


@pytest.fixture
def loki() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url="http://loki.test:3100", assert_all_mocked=True) as mock:
        yield mock


def test_log_lines_are_shown_on_a_terminal_and_kept_as_they_are_in_a_pipe(
    hostile_file: Path, loki: respx.MockRouter
) -> None:
    values = [["1763972400001000000", f"level=error trace_id={'7' * 32} msg=boom{EVIL}", {}]]
    body = {
        "status": "success",
        "data": {"resultType": "streams", "result": [{"stream": {"a": "b"}, "values": values}]},
    }
    loki.get("/loki/api/v1/query_range").mock(return_value=httpx.Response(200, json=body))
    env = {"LOKI_ADDR": "http://loki.test:3100"}
    for output in ("table", "raw"):
        shown = runner.invoke(app, ["logs", str(hostile_file), "-o", output], env=env, obj=Env(force_terminal=True))
        assert shown.exit_code == 0, shown.output
        assert only_styles(shown.stdout) and f"boom{SHOWN if output == 'raw' else SHOWN_IN_TEXT}" in shown.stdout
    piped = runner.invoke(app, ["logs", str(hostile_file), "-o", "raw"], env=env)
    assert (
        piped.stdout == f"level=error trace_id={'7' * 32} msg=boom{EVIL}\n"
    )  # -o raw into a pipe: the bytes, for the next tool


def test_stdout_stays_empty_when_a_command_fails_half_way(hostile_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracectl.render import tree_view

    real = tree_view.render_tree

    def render_then_fail(view, console, *args):  # type: ignore[no-untyped-def]
        real(view, console, *args)  # the whole table is printed...
        raise RuntimeError("...and then something breaks")

    monkeypatch.setattr(tree_view, "render_tree", render_then_fail)
    result = runner.invoke(app, ["show", str(hostile_file)])
    assert result.exit_code == 1 and result.stdout == "" and "something breaks" in result.stderr


def _through_rich(label: str, style: str, text: str, width: int) -> str:
    """What the rich console of a ``Env`` writing to a pipe prints for ``err_line``."""
    import io

    from rich.text import Text

    buf = io.StringIO()
    env = Env(stderr_stream=buf, force_terminal=False, width=width)
    env.err.print(Text.assemble((label, style), visible(text)), soft_wrap=True)
    return buf.getvalue()


@given(
    text=st.text(st.characters(blacklist_characters="\t", blacklist_categories=("Cs",)), max_size=200),
    label=st.sampled_from(["", "warning: ", "tracectl: error: "]),
    width=st.sampled_from([10, 80, 200]),
)
@settings(max_examples=300, deadline=None)
def test_a_line_on_a_pipe_is_what_the_rich_console_would_write(text: str, label: str, width: int) -> None:
    """Notes, warnings and errors on a pipe skip rich (its import is a third of a short command's start-up): the
    line written must be the console's, character for character (controls shown, wide characters, newlines,
    trailing spaces, a line longer than the width)."""
    import io

    buf = io.StringIO()
    Env(stderr_stream=buf, force_terminal=False, width=width).err_line(text, label, "red")
    assert buf.getvalue() == _through_rich(label, "red", text, width)


def test_a_line_with_a_tab_goes_through_rich_for_its_layout() -> None:
    import io

    buf = io.StringIO()
    Env(stderr_stream=buf, force_terminal=False).err_line("a\tb 界\tc", "warning: ")
    assert (
        buf.getvalue() == _through_rich("warning: ", "", "a\tb 界\tc", 80) == "warning: a      b 界    c\n"
    )  # tab stops by cell width: 界 is two


def test_a_warning_in_a_pipe_shows_control_characters_without_colour() -> None:
    import io

    buf = io.StringIO()
    Env(stderr_stream=buf, force_terminal=False).warn(f"bad name {EVIL}")
    assert buf.getvalue() == f"warning: bad name {SHOWN}\n"
