"""The direction of imports inside ``tracectl/`` (issue 27), read from the source with ``ast`` (nothing is imported, so
the check is fast and cannot be fooled by import-time side effects): ``cli → workflows → analysis/backends → formats
→ model``, ``render`` fed results, the sandbox a leaf that only ``cli`` (and the sandbox itself) imports.

``KNOWN_VIOLATIONS`` is a ratchet: each import that breaks a rule today is listed by importer and imported module. A
new violation fails the test; so does a listed one that has gone (delete its line), so the list only shrinks.
docs/architecture.md explains the layers."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "tracectl"

# layer → the layers it must never import. A layer is the first component under ``tracectl`` (``tracectl.render.emit``
# is in ``render``; ``tracectl.model`` is its own layer).
FORBIDDEN: dict[str, frozenset[str]] = {
    "analysis": frozenset({"backends", "workflows", "render", "cli", "sandbox"}),
    "backends": frozenset({"workflows", "render", "cli", "sandbox"}),
    "render": frozenset({"cli", "sandbox"}),
    "workflows": frozenset({"cli", "render", "sandbox"}),
}
# layer → the only other layers it may import: formats sit just above the model.
ONLY: dict[str, frozenset[str]] = {
    "formats": frozenset({"model", "ids", "errors", "units", "_gc"}),
}
# Only these layers may import the sandbox: it is a leaf that ``tracectl demo`` and ``tracectl sandbox`` wrap.
SANDBOX_IMPORTERS = frozenset({"cli", "sandbox"})

# (importing module, imported module) pairs that break a rule today. Remove a line when its import goes; never add one.
# (workflows → render is gone: results are plain data, and render/registry.py picks each one's renderer.)
KNOWN_VIOLATIONS: frozenset[tuple[str, str]] = frozenset(
    {
        # formats/labels.py reads the labelled samples' times with timerange's parser, above formats.
        ("tracectl.formats.labels", "tracectl.timerange"),
    }
)


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "tracectl":
        return None
    return parts[1] if len(parts) > 1 else ""


def module_name(path: Path, package: Path = PACKAGE) -> str:
    relative = path.relative_to(package.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> Iterator[str]:
    """Every module ``source`` imports, anywhere in it (inside functions and ``TYPE_CHECKING`` blocks too), with
    relative imports resolved against ``module``. ``from a import b`` yields ``a.b`` (``b`` may be a submodule; a name
    defined in ``a`` is reported as ``a`` by ``_owning_module``)."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names = [alias.name for alias in node.names if alias.name != "*"]
            yield from (f"{target}.{name}" for name in names) if names else (target,)


def violations_in(source: str, module: str, is_package: bool = False) -> set[tuple[str, str]]:
    """The (module, imported) pairs in ``source`` that break a layer rule."""
    importer = layer_of(module)
    found: set[tuple[str, str]] = set()
    for imported in imported_modules(source, module, is_package):
        target = layer_of(imported)
        if importer is None or target is None or target == importer:
            continue
        if (
            target in FORBIDDEN.get(importer, frozenset())
            or (importer in ONLY and target not in ONLY[importer])
            or (target == "sandbox" and importer not in SANDBOX_IMPORTERS)
        ):
            found.add((module, _owning_module(imported)))
    return found


def _owning_module(imported: str) -> str:
    """``tracectl.render.emit.emit`` (a name imported from a module) is reported as ``tracectl.render.emit``."""
    parts = imported.split(".")
    while len(parts) > 2:
        candidate = PACKAGE.parent.joinpath(*parts)
        if candidate.with_suffix(".py").is_file() or (candidate / "__init__.py").is_file():
            break
        parts.pop()
    return ".".join(parts)


def tree_violations() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        found |= violations_in(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")
    return found


def test_the_tree_keeps_the_layers() -> None:
    found = tree_violations()
    new = sorted(found - KNOWN_VIOLATIONS)
    gone = sorted(KNOWN_VIOLATIONS - found)
    assert not new, "imports against the layers (docs/architecture.md):\n" + "\n".join(f"  {a} → {b}" for a, b in new)
    assert not gone, "these allowed violations are gone; delete them from KNOWN_VIOLATIONS:\n" + "\n".join(
        f"  {a} → {b}" for a, b in gone
    )


def test_a_wrong_import_is_caught() -> None:
    source = (
        "from __future__ import annotations\n"
        "import tracectl.model\n"
        "from tracectl.formats import otlp_json\n"
        "def late() -> None:\n"
        "    from tracectl.render.emit import emit\n"
        "    from ..sandbox import start_sandbox\n"
    )
    assert violations_in(source, "tracectl.analysis.example") == {
        ("tracectl.analysis.example", "tracectl.render.emit"),
        ("tracectl.analysis.example", "tracectl.sandbox"),
    }
    assert violations_in("from tracectl.analysis.tree import build_tree\n", "tracectl.formats.example") == {
        ("tracectl.formats.example", "tracectl.analysis.tree")
    }
    assert violations_in("import tracectl.cli.app\n", "tracectl.workflows.example") == {
        ("tracectl.workflows.example", "tracectl.cli.app")
    }
    assert violations_in("from tracectl.sandbox import server\n", "tracectl.render.example") == {
        ("tracectl.render.example", "tracectl.sandbox.server")
    }
    # The layers allowed to import the sandbox, and a module importing its own layer, pass.
    assert not violations_in("from tracectl.sandbox import server\n", "tracectl.cli.example")
    assert not violations_in("from . import tree\nfrom ..model import Span\n", "tracectl.analysis.example")


def test_the_check_is_fast_and_sees_every_module() -> None:
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    assert {"tracectl", "tracectl.cli.app", "tracectl.analysis.tree", "tracectl.sandbox"} <= modules
