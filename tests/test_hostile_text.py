"""Hostile names are neutralised per output: Markdown escapes table and markup characters and folds newlines,
CSV prefixes formula starters (``--csv-raw`` keeps them), and the terminal shows bidi and zero-width characters
visibly, like other controls. HTML reports escape everything already (tests/test_safe_output.py)."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from tests.builders import span, trace
from tracectl.cli.main import app
from tracectl.formats import otlp_json
from tracectl.render.safe_text import csv_cell, md_code, md_fence, md_text, one_line, visible

runner = CliRunner()
HOSTILE_NAME = "load|weights\n# pwned\n```\n<img src=x onerror=alert(1)> [click](http://x) *bold* `tick`"
HOSTILE_SERVICE = "svc|<script>alert(1)</script>"
FORMULA_SERVICE = '=HYPERLINK("http://x","y")'
BIDI_SERVICE = "api\u202egnp.exe\u200b"
MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable("table")
ALLOWED_TAGS = {"table", "thead", "tbody", "tr", "th", "td", "code", "p", "h1", "h2", "h3", "pre", "ul", "li",
                "strong", "em", "br"}  # fmt: skip


def hostile_file(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.json"
    t = trace(
        span("root", 0, 100, service=HOSTILE_SERVICE),
        span("load", 10, 90, parent="root", service=FORMULA_SERVICE),
        span("evil", 20, 80, parent="load", service=BIDI_SERVICE),
    )
    t = type(t)(t.trace_id, (t.spans[0], t.spans[1], _renamed(t.spans[2], HOSTILE_NAME)))
    path.write_bytes(orjson.dumps(otlp_json.dump_document([t])))
    return path


def _renamed(s, name):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(s, name=name)


def tags(html: str) -> set[str]:
    return {t.lower() for t in re.findall(r"<\s*([a-zA-Z][a-zA-Z0-9]*)", html)}


def test_an_md_export_of_hostile_names_keeps_every_row_one_row(tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    result = runner.invoke(app, ["export", str(hostile_file(tmp_path)), "-f", "md", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    html = MARKDOWN.render(text)
    assert tags(html) <= ALLOWED_TAGS, tags(html) - ALLOWED_TAGS  # no <img>, no <script>, no link
    assert "<h1>" in html and html.count("<h1>") == 1  # the report's title only: no "# pwned" heading
    assert "pwned" not in re.sub(r"<(pre|td)>.*?</\1>", "", html, flags=re.DOTALL)  # only inside cells or code
    tokens = MARKDOWN.parse(text)
    fences = [t for t in tokens if t.type == "fence"]
    assert len(fences) == 1 and fences[0].content.count("\n") == 3  # the waterfall: three spans, three lines
    rows = [re.findall(r"<td[^>]*>", row) for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.DOTALL)]
    assert rows and all(len(cells) in (0, 4, 5) for cells in rows)  # header rows have th, body rows 4 or 5 cells
    whole = one_line(HOSTILE_NAME)
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        whole = whole.replace(char, entity)
    assert any(whole in cell for cell in re.findall(r"<td>(.*?)</td>", html)), whole  # the name, whole, in one cell


def test_csv_cells_that_start_a_formula_are_prefixed_unless_raw(tmp_path: Path) -> None:
    source = str(hostile_file(tmp_path))
    safe = runner.invoke(app, ["blame", source, "-o", "csv"])
    assert safe.exit_code == 0, safe.output
    assert "'=HYPERLINK" in safe.stdout and "\n=HYPERLINK" not in safe.stdout
    raw = runner.invoke(app, ["--csv-raw", "blame", source, "-o", "csv"])
    assert '\n"=HYPERLINK' in raw.stdout or "\n=HYPERLINK" in raw.stdout
    assert "'=HYPERLINK" not in raw.stdout


def test_the_terminal_shows_bidi_and_zero_width_characters(tmp_path: Path) -> None:
    shown = runner.invoke(app, ["--no-color", "show", str(hostile_file(tmp_path))], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "\u202e" not in shown.stdout and "\u200b" not in shown.stdout and "api\ufffdgnp.exe" in shown.stdout


@pytest.mark.parametrize("value", ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starters(value: str) -> None:
    assert csv_cell(value) == "'" + value and csv_cell(3) == 3 and csv_cell(-3) == -3 and csv_cell("a=b") == "a=b"


@given(st.text())
def test_visible_text_holds_nothing_a_terminal_would_act_on_or_hide(text: str) -> None:
    shown = visible(text, one_line=True)
    assert len(shown) == len(text)
    assert not re.search("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]", shown)


@given(st.text(), st.text())
def test_any_text_in_an_md_table_stays_one_row_of_two_cells_without_html(name: str, key: str) -> None:
    doc = f"| a | b |\n| --- | --- |\n| {md_code(key)} | {md_text(name)} |\n"
    html = MARKDOWN.render(doc)
    assert tags(html) <= {"table", "thead", "tbody", "tr", "th", "td", "code"}, html
    body = re.findall(r"<tbody>(.*)</tbody>", html, flags=re.DOTALL)
    assert len(body) == 1 and body[0].count("<tr>") == 1 and body[0].count("<td>") == 2, html


@given(st.lists(st.text(), max_size=5))
def test_a_fence_holds_its_lines(lines: list[str]) -> None:
    tokens = MARKDOWN.parse("\n".join(md_fence(lines)) + "\n")
    assert [t.type for t in tokens] == ["fence"]
    assert tokens[0].content.split("\n")[:-1] == [one_line(line) for line in lines]
