"""Each result type meets its renderer in ``render``; results never import ``render`` (issue 25, item 8)."""

from __future__ import annotations

import copy
import importlib
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

import pytest

from tracectl.render.registry import RENDERERS, Renderer
from tracectl.results import Result

WORKFLOWS = Path(__file__).resolve().parent.parent / "tracectl" / "workflows"


@pytest.mark.parametrize("result_type", sorted(RENDERERS))
def test_every_registered_result_type_and_renderer_exist(result_type: str) -> None:
    module, name = result_type.rsplit(".", 1)
    assert isinstance(getattr(importlib.import_module(module), name), type)
    render_module, renderer = RENDERERS[result_type]
    assert isinstance(getattr(importlib.import_module(render_module), renderer), Renderer)


@pytest.mark.parametrize("result_type", sorted(RENDERERS))
def test_every_registered_result_type_declares_its_schema_and_columns_as_a_result(result_type: str) -> None:
    module, name = result_type.rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, Result)
    assert re.fullmatch(r"tracectl\.[a-z-]+/v\d+", cls.schema)
    assert isinstance(cls.columns, tuple) and cls.columns and all(isinstance(c, str) for c in cls.columns)
    assert len(set(cls.columns)) == len(cls.columns)
    assert "__dict__" not in dir(cls)  # slotted all the way up: the Result base adds no instance dict
    assert "schema" not in {f.name for f in fields(cls)} and "columns" not in {f.name for f in fields(cls)}


@dataclass(slots=True)
class _Mine(Result, schema="mine/v1", columns=("a", "b")):
    a: int
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _MineToo(_Mine, columns=("a",)):
    b: int = 0


def test_a_result_keeps_its_schema_and_columns_through_slots_and_subclassing() -> None:
    mine = _Mine(1, ["w"])
    assert (_Mine.schema, _Mine.columns, mine.schema, mine.columns) == ("mine/v1", ("a", "b"), "mine/v1", ("a", "b"))
    assert not hasattr(mine, "__dict__")  # the base adds no instance dict to a slots dataclass
    assert [f.name for f in fields(_Mine)] == ["a", "warnings"]  # the base adds no field either
    assert copy.deepcopy(mine) == mine
    assert (_MineToo.schema, _MineToo.columns) == ("mine/v1", ("a",))  # inherited schema, its own columns
    assert [f.name for f in fields(_MineToo)] == ["a", "warnings", "b"]


def test_workflows_never_import_render() -> None:
    """``grep -r "tracectl.render" tracectl/workflows`` finds nothing: lazy imports and type-only ones count too."""
    found = [f"{path.name}:{n}" for path in sorted(WORKFLOWS.glob("*.py"))
             for n, line in enumerate(path.read_text().splitlines(), 1) if "tracectl.render" in line]  # fmt: skip
    assert found == []
