"""The rich console every terminal view prints through: control characters shown, never executed (``safe_text``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

from tracectl.render.safe_text import is_safe, visible

if TYPE_CHECKING:
    from collections.abc import Iterable

    from rich.console import ConsoleOptions, RenderableType
    from rich.segment import Segment


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
