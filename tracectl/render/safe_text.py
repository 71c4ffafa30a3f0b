"""Text from servers and files made safe for where it goes: a terminal, a Markdown report, a CSV cell.

Terminal: control characters are shown, never executed.

A span name, an attribute value, a log line or an error body can hold escape sequences: ``ESC [ … m`` recolours
the terminal, others move the cursor, retitle the window or (OSC 52) write the clipboard. ``visible`` replaces
every such character by a visible stand-in of the same length (``\\x1b`` → ``␛``), so that the styles of a rich
``Text`` keep their offsets and a table keeps its layout. ``safe_console.SafeConsole`` passes everything it prints
through it: every terminal view prints through one, so no view can forget. (This module imports no rich: a line on
a pipe is written without it.)

Markdown (``md_text``, ``md_code``, ``md_fence``): a name must stay one table cell or one list item, and never
become a heading, a link, a code fence or HTML that an HTML-enabled viewer would run. CSV (``csv_cell``): a cell
starting with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) is a formula to a spreadsheet, so it gets
a leading ``'`` unless the user asked for the raw data (``--csv-raw``).
"""

from __future__ import annotations

import re

# C0 controls become the Unicode control pictures (U+2400 + code: ␛ for ESC, ␀ for NUL), DEL becomes ␡, and the
# C1 controls (0x80-0x9f; 0x9b is a one-byte CSI on some terminals) the replacement character. So do the
# invisible characters that change what a name seems to say: bidi overrides and isolates (a terminal shows
# "api\u202egnp.exe" as "apiexe.png"), bidi marks, and zero-width spaces and joiners.
_INVISIBLE = "\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
_INVISIBLE_CODES = [
    *range(0x200B, 0x2010),
    *range(0x202A, 0x202F),
    *range(0x2060, 0x2065),
    *range(0x2066, 0x206A),
    0x061C,
    0xFEFF,
]
_PICTURES = (
    {c: 0x2400 + c for c in range(0x20)}
    | {0x7F: 0x2421}
    | dict.fromkeys(range(0x80, 0xA0), 0xFFFD)
    | dict.fromkeys(_INVISIBLE_CODES, 0xFFFD)
)
_KEEP_NEWLINES = {c: p for c, p in _PICTURES.items() if c not in (0x09, 0x0A)}  # tab and newline lay text out
_ONE_LINE = {c: p for c, p in _PICTURES.items() if c != 0x09}
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_INVISIBLE}]")
_UNSAFE_ONE_LINE = re.compile(f"[\x00-\x08\x0a-\x1f\x7f-\x9f{_INVISIBLE}]")


def visible(text: str, one_line: bool = False) -> str:
    """``text`` with every terminal control character replaced by a visible stand-in of the same length.

    Tabs are kept; newlines too unless ``one_line`` (error messages and other one-line fields)."""
    pattern = _UNSAFE_ONE_LINE if one_line else _UNSAFE
    if pattern.search(text) is None:
        return text
    return text.translate(_ONE_LINE if one_line else _KEEP_NEWLINES)


def is_safe(text: str) -> bool:
    """True when ``text`` holds no control character a terminal would act on (tabs and newlines allowed)."""
    return _UNSAFE.search(text) is None


# ----------------------------------------------------------------------------------------------- Markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#])")
_MD_LEADING = re.compile(r"^(\s*)(?:([-+=])|(\d+)([.)]))")  # a list marker or setext underline starting a line
_NEWLINES = re.compile(r"\r\n|[\r\n\u2028\u2029\x85]")
_BACKTICKS = re.compile(r"`+")


def one_line(text: str) -> str:
    """``text`` folded onto one line (each line break a space), its controls shown (``visible``)."""
    return visible(_NEWLINES.sub(" ", text), one_line=True)


def md_text(text: str) -> str:
    """Plain text for Markdown (a table cell, a list item, a sentence): one line, every character that could start
    markup (emphasis, links, code, headings, HTML, table cells) backslash-escaped, so it renders as itself."""
    folded = _MD_SPECIAL.sub(r"\\\1", one_line(text))
    return _MD_LEADING.sub(
        lambda m: m.group(1) + (f"\\{m.group(2)}" if m.group(2) else f"{m.group(3)}\\{m.group(4)}"), folded
    )


def md_code(text: str, in_table: bool = True) -> str:
    """``text`` as an inline code span (backticks included): one line, fenced by more backticks than it holds,
    and, in a table, its ``|`` escaped (GFM splits cells on a bare one even inside code)."""
    folded = one_line(text)
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(folded)), default=0) + 1)
    pad = " " if folded.startswith("`") or folded.endswith("`") or not folded.strip() else ""
    body = folded.replace("|", "\\|") if in_table else folded
    return f"{fence}{pad}{body}{pad}{fence}"


def md_fence(lines: list[str]) -> list[str]:
    """A fenced code block around ``lines`` (each folded to one line): its fence is longer than any run of
    backticks inside, so no line can close it early."""
    folded = [one_line(line) for line in lines]
    longest = max((len(run) for line in folded for run in _BACKTICKS.findall(line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, *folded, fence]


# ---------------------------------------------------------------------------------------------------- CSV

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A text cell a spreadsheet would run as a formula, prefixed with ``'``; anything else as it is."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
