"""Each result type meets its renderer in ``render``; results never import ``render`` (issue 25, item 8)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tracectl.render.registry import RENDERERS, Renderer

WORKFLOWS = Path(__file__).resolve().parent.parent / "tracectl" / "workflows"


@pytest.mark.parametrize("result_type", sorted(RENDERERS))
def test_every_registered_result_type_and_renderer_exist(result_type: str) -> None:
    module, name = result_type.rsplit(".", 1)
    assert isinstance(getattr(importlib.import_module(module), name), type)
    render_module, renderer = RENDERERS[result_type]
    assert isinstance(getattr(importlib.import_module(render_module), renderer), Renderer)


def test_workflows_never_import_render() -> None:
    """``grep -r "tracectl.render" tracectl/workflows`` finds nothing: lazy imports and type-only ones count too."""
    found = [f"{path.name}:{n}" for path in sorted(WORKFLOWS.glob("*.py"))
             for n, line in enumerate(path.read_text().splitlines(), 1) if "tracectl.render" in line]  # fmt: skip
    assert found == []
