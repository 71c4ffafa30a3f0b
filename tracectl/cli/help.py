"""What ``--help`` shows: plain metavars (typer's help patched) and docstrings reflowed into paragraphs."""

from __future__ import annotations

import inspect
from typing import Any

import typer


def plain_metavars(command: Any) -> None:
    """Help shows what to type: nothing after a flag (typer writes ``<bool>``, as if it took a value) and the
    element type of a repeatable option or argument (``<str>``, not ``<list[str]>``), on this command and every
    subcommand. Typer computes these when help is printed, so its methods are wrapped, not its results fixed."""
    import re

    def shown(original: Any, flag: bool) -> Any:
        return lambda ctx: "" if flag else re.sub(r"^<list\[(.*)\]>$", r"<\1>", original(ctx) or "")

    for param in getattr(command, "params", ()):
        if hasattr(param, "display_type_rich"):
            flag = param.param_type_name == "option" and param.is_flag and not param.count
            param.display_type_rich = shown(param.display_type_rich, flag)
    help_option = command.get_help_option  # made on first use

    def plain_help_option(ctx: Any) -> Any:
        option = help_option(ctx)
        if option is not None and hasattr(option, "display_type_rich"):
            option.display_type_rich = lambda ctx: ""
        return option

    command.get_help_option = plain_help_option
    for sub in getattr(command, "commands", {}).values():
        plain_metavars(sub)


def reflow(doc: str | None) -> str | None:
    """A docstring as ``--help`` should show it: prose paragraphs joined into one line each (the terminal wraps
    them), indented lines (examples) kept as they are."""
    if not doc:
        return doc
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    out = []
    for paragraph in paragraphs:
        lines = paragraph.splitlines()
        if any(line.startswith((" ", "\t")) for line in lines):
            out.append(paragraph)
        else:
            out.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(out)


def reflow_help(typer_app: typer.Typer) -> None:
    """Reflow the help of every command and group of ``typer_app`` (see ``reflow``)."""
    for info in typer_app.registered_commands:
        if info.callback is not None:
            info.callback.__doc__ = reflow(info.callback.__doc__)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            reflow_help(group.typer_instance)
