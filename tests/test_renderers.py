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


# The workflows still to be moved (shrinks to nothing).
REMAINING = {
    "inspect.py",
}


def test_workflows_never_import_render() -> None:
    found = {path.name for path in WORKFLOWS.glob("*.py") if "tracectl.render" in path.read_text()}
    assert found <= REMAINING, found - REMAINING
