"""The committed fixtures are exactly what fixtures/generate.py writes: a generator is code, tested like code."""

from __future__ import annotations

import importlib.util

from tests.conftest import FIXTURES


def test_committed_fixtures_match_the_generator() -> None:
    spec = importlib.util.spec_from_file_location("fixture_generator", FIXTURES / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    files = module.build_all()
    assert len(files) > 20
    stale = [name for name, data in files.items() if (FIXTURES / name).read_bytes() != data]
    assert stale == [], f"run `python fixtures/generate.py`: stale {stale}"
