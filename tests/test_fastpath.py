"""The readers' fast path (``tracectl.formats.fastpath``) reads exactly what the checked readers read: the same
spans from every fixture, and the same spans or the same one-line error from thousands of broken copies of them
(the fuzzing of ``test_fuzz_inputs``: wrong types at any JSON path, huge numbers, deep nesting, keys removed)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.test_fuzz_inputs import SEEDS, _mutate
from tracectl.errors import TracectlError
from tracectl.formats import fastpath
from tracectl.formats.detect import read_bytes
from tracectl.sandbox.synth import mixed_trace

JSON_SEEDS = [p for p in SEEDS if p.suffix in (".json", ".jsonl")]


def read_both(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    def outcome() -> object:
        try:
            result = read_bytes(data, "case.json")
        except TracectlError as exc:
            return (type(exc).__name__, str(exc))
        return (result.format, result.notes, result.traces)

    fast = outcome()
    with monkeypatch.context() as m:
        m.setattr(fastpath, "ENABLED", False)
        checked = outcome()
    return fast, checked


@pytest.mark.parametrize("seed", JSON_SEEDS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_reads_the_same_both_ways(seed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, checked = read_both(seed.read_bytes(), monkeypatch)
    assert fast == checked


def test_broken_copies_read_the_same_or_fail_with_the_same_line(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(24)
    failures, errors = [], 0
    for n in range(1500):
        seed = rng.choice(JSON_SEEDS)
        data, kind = _mutate(seed.read_bytes(), rng)
        fast, checked = read_both(data, monkeypatch)
        errors += isinstance(fast, tuple) and len(fast) == 2
        if fast != checked:
            failures.append(f"case {n} {seed.name} {kind}: fast {str(fast)[:200]} / checked {str(checked)[:200]}")
    assert failures == [], failures[:3]
    assert 100 < errors < 1400  # both outcomes were exercised


def test_a_large_trace_reads_the_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    import orjson

    from tracectl.formats import jaeger_json, otlp_json

    trace = mixed_trace(3000, seed=5)
    for doc in (otlp_json.dump_document([trace]), otlp_json.dump_document([trace], ids="base64"),
                jaeger_json.dump_document([trace])):  # fmt: skip
        fast, checked = read_both(orjson.dumps(doc), monkeypatch)
        assert fast == checked
        assert isinstance(fast, tuple)
        (got,) = fast[2]  # type: ignore[misc]
        assert sorted(got.spans, key=lambda s: s.span_id) == sorted(trace.spans, key=lambda s: s.span_id)
