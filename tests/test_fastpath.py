"""The readers' fast paths read exactly what the checked readers read: the same spans from every fixture, and the
same spans or the same one-line error from thousands of broken copies of them (the fuzzing of ``test_fuzz_inputs``:
wrong types at any JSON path, huge numbers, deep nesting, keys removed). Two fast paths: msgspec straight into
columns (``tracectl.formats.fastjson``, small inputs with lazy attributes, large ones in chunks with shared ones),
and, where it does not vouch for the input, orjson with the per-span fast path (``tracectl.formats.fastpath``)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.test_fuzz_inputs import SEEDS, _mutate
from tracectl.errors import TracectlError
from tracectl.formats import fastjson, fastpath
from tracectl.formats.detect import read_bytes
from tracectl.sandbox.synth import mixed_trace

JSON_SEEDS = [p for p in SEEDS if p.suffix in (".json", ".jsonl")]


def _outcome(data: bytes) -> object:
    try:
        result = read_bytes(data, "case.json")
    except TracectlError as exc:
        return (type(exc).__name__, str(exc))
    return (result.format, result.notes, result.traces)


def read_both(data: bytes, monkeypatch: pytest.MonkeyPatch, large: bool = False) -> tuple[object, object]:
    """(what the fast paths read, what the checked readers read); the msgspec path and the orjson fast path must
    agree with each other too. ``large``: the msgspec path reads ``data`` as a large input (in chunks of 3 spans,
    attributes shared at once)."""
    with monkeypatch.context() as m:
        if large:
            m.setattr(fastjson, "CHUNKED_ABOVE", -1)
            m.setattr(fastjson, "CHUNK", 3)
        fast = _outcome(data)
        m.setattr(fastjson, "ENABLED", False)
        per_span = _outcome(data)
        m.setattr(fastpath, "ENABLED", False)
        checked = _outcome(data)
    assert per_span == checked
    return fast, checked


def vouched(data: bytes) -> bool:
    """Whether the msgspec path reads ``data`` itself (rather than leaving it to the checked readers)."""
    return fastjson.read(data) is not None


@pytest.mark.parametrize("seed", JSON_SEEDS, ids=lambda p: str(p.relative_to(FIXTURES)))
@pytest.mark.parametrize("large", [False, True], ids=["small", "large"])
def test_every_fixture_reads_the_same_both_ways(seed: Path, large: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, checked = read_both(seed.read_bytes(), monkeypatch, large)
    assert fast == checked
    assert vouched(seed.read_bytes()) == ("bad" not in seed.parts or seed.name == "empty-trace.json")


def test_broken_copies_read_the_same_or_fail_with_the_same_line(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(24)
    failures, errors, fast_reads = [], 0, 0
    for n in range(1500):
        seed = rng.choice(JSON_SEEDS)
        data, kind = _mutate(seed.read_bytes(), rng)
        fast, checked = read_both(data, monkeypatch, large=n % 3 == 0)
        errors += isinstance(fast, tuple) and len(fast) == 2
        fast_reads += vouched(data)
        if fast != checked:
            failures.append(f"case {n} {seed.name} {kind}: fast {str(fast)[:200]} / checked {str(checked)[:200]}")
    assert failures == [], failures[:3]
    assert 100 < errors < 1400  # both outcomes were exercised
    assert fast_reads > 150  # and both paths: the msgspec path read the readable copies it vouches for


def test_a_large_trace_reads_the_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    import orjson

    from tracectl.formats import jaeger_json, otlp_json

    trace = mixed_trace(3000, seed=5)
    for doc in (otlp_json.dump_document([trace]), otlp_json.dump_document([trace], ids="base64"),
                jaeger_json.dump_document([trace])):  # fmt: skip
        data = orjson.dumps(doc)
        fast, checked = read_both(data, monkeypatch)
        assert fast == checked and vouched(data)
        assert read_both(data, monkeypatch, large=True) == (fast, checked)
        assert isinstance(fast, tuple)
        (got,) = fast[2]  # type: ignore[misc]
        assert sorted(got.spans, key=lambda s: s.span_id) == sorted(trace.spans, key=lambda s: s.span_id)
