"""Global options anywhere on the command line: the names the settings table and the display options declare, and
moving them in front of the command name."""

from __future__ import annotations

from typing import Any

from tracectl.config import specs

_DISPLAY_FLAGS = frozenset({"--debug", "--no-color", "-q", "--quiet", "--csv-raw"})
_DISPLAY_WITH_VALUE = frozenset({"--tz"})


def _global_options() -> tuple[frozenset[str], frozenset[str]]:
    """The global options without and with a value, as the settings table declares them."""
    bare, valued = set(_DISPLAY_FLAGS), set(_DISPLAY_WITH_VALUE)
    for _name, spec in specs():
        if spec.flag:
            names = {spec.flag, *([spec.short] if spec.short else [])}
            (bare if spec.kind is bool else valued).update(names)
    return frozenset(bare), frozenset(valued)


def _command_options(group: Any, args: list[str], valued: frozenset[str]) -> set[str]:
    """The option names the invoked (sub)command declares itself: those are never hoisted."""
    command, i = group, 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            break
        if arg.startswith("-"):
            i += 2 if arg in valued else 1
            continue
        sub = command.commands.get(arg) if hasattr(command, "commands") else None
        if sub is None:
            break
        command = sub
        i += 1
    if command is group:
        return set()
    return {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}


def hoist_global_options(args: list[str], own: set[str] | None = None) -> list[str]:
    """Let global options appear anywhere (``tracectl show t.json -q``), as logcli users type them: move them in
    front of the command name. An option the command declares itself (``demo --backend``) stays. Stops at ``--``."""
    bare, valued = _global_options()
    own = own or set()
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        name = arg.split("=", 1)[0]
        if arg == "--":
            rest.extend(args[i:])
            break
        if name in own:
            rest.append(arg)
        elif arg in bare or (name in valued and "=" in arg):
            front.append(arg)
        elif arg in valued and i + 1 < len(args):
            front.extend(args[i : i + 2])
            i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest
