"""Text from servers and files made safe for a terminal: control characters are shown, never executed.

A span name, an attribute value, a log line or an error body can hold escape sequences: ``ESC [ … m`` recolours
the terminal, others move the cursor, retitle the window or (OSC 52) write the clipboard. ``visible`` replaces
every such character by a visible stand-in of the same length (``\\x1b`` → ``␛``), so that the styles of a rich
``Text`` keep their offsets and a table keeps its layout. ``SafeConsole`` passes everything it prints through it:
every terminal view prints through one, so no view can forget.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

if TYPE_CHECKING:
    from collections.abc import Iterable

    from rich.console import ConsoleOptions, RenderableType
    from rich.segment import Segment

# C0 controls become the Unicode control pictures (U+2400 + code: ␛ for ESC, ␀ for NUL), DEL becomes ␡, and the
# C1 controls (0x80-0x9f; 0x9b is a one-byte CSI on some terminals) the replacement character.
_PICTURES = {c: 0x2400 + c for c in range(0x20)} | {0x7F: 0x2421} | dict.fromkeys(range(0x80, 0xA0), 0xFFFD)
_KEEP_NEWLINES = {c: p for c, p in _PICTURES.items() if c not in (0x09, 0x0A)}  # tab and newline lay text out
_ONE_LINE = {c: p for c, p in _PICTURES.items() if c != 0x09}
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_UNSAFE_ONE_LINE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


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


class SafeConsole(Console):
    """A rich ``Console`` that shows control characters in whatever it prints (strings, markup, ``Text``), before
    layout: a ``Text`` built from a span name is copied with ``visible`` applied, its styles untouched."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(visible(text), **kwargs)

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        if isinstance(renderable, Text) and not is_safe(renderable.plain):
            safe = renderable.copy()
            safe.plain = visible(renderable.plain)  # same length: every style span keeps its place
            renderable = safe
        return super().render(renderable, options)
