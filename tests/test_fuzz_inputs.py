"""Fuzzing the readers through the CLI: every file the project ships, broken in every way a file breaks, must end
in exit 0 or exit 2 with one line naming the file and nothing on stdout; never exit 1 ("internal error").

A seeded generator (the same 1,200 cases every run): wrong types at any JSON path, huge and negative numbers,
deep nesting, a key removed, truncation, flipped bytes; each case runs one of six commands.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tracectl.cli.main import app

CASES = 1200
SEEDS = sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".json", ".jsonl", ".pb") and "bad" not in p.parts)
COMMANDS = (["show"], ["show", "-o", "json"], ["show", "-o", "csv"], ["path"], ["blame", "-o", "json"],
            ["export", "-f", "jaeger-json"])  # fmt: skip
WRONG = [None, True, False, 0, -1, 1.5, 1e308, "", "x", "false", "-5", "0x1f", [], [1, "a"], {}, {"a": {}},
         "\x1b]0;title\x07", "ＡＢＣ", "٣"]  # fmt: skip
HUGE = [
    2**63 - 1,
    "9223372036854775807",
    2**63,
    2**64,
    -(2**63) - 1,
    10**30,
    "18446744073709551616",
    "-9223372036854775809",
    "1" * 40,
    -1,
    "-1",
]


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        yield from _paths(value, (*prefix, key))


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc


def _deep(levels: int, rng: random.Random) -> Any:
    value: Any = {"stringValue": "leaf"}
    for _ in range(levels):
        value = {"arrayValue": {"values": [value]}} if rng.random() < 0.5 else {"kvlistValue": {"values": [
            {"key": "k", "value": value}]}}  # fmt: skip
    return value


class _Shape:
    """A seed document's paths, and those holding a number, listed once per document rather than once per case
    (over a thousand cases draw from a few dozen documents; each case parses its own copy to mutate)."""

    def __init__(self, doc: Any) -> None:
        self.paths = list(_paths(doc))
        self._doc = doc
        self._numeric: list[tuple[Any, ...]] | None = None

    def numeric(self) -> list[tuple[Any, ...]]:
        if self._numeric is None:
            doc = self._doc
            self._numeric = [
                p for p in self.paths if isinstance(_get(doc, p), int | float) or str(_get(doc, p)).isdigit()
            ]
            self._doc = None
        return self._numeric


_SHAPES: dict[tuple[bytes, int], _Shape] = {}  # (the seed's bytes, which document of it): its shape


def _mutate_json(doc: Any, rng: random.Random, shape: _Shape | None = None) -> tuple[Any, str]:
    """Mutate ``doc`` in place (or replace it); ``shape`` is ``_Shape(doc)`` made earlier from an equal document."""
    if shape is None:
        shape = _Shape(json.loads(json.dumps(doc)))
    paths = shape.paths
    path = rng.choice(paths)
    kind = rng.choice(("wrong type", "wrong type", "huge number", "deep nesting", "key removed"))
    if kind == "huge number":
        numeric = shape.numeric()
        path = rng.choice(numeric or paths)
        return _set(doc, path, rng.choice(HUGE)), kind
    if kind == "deep nesting":
        return _set(doc, path, _deep(rng.randint(50, 250), rng)), kind
    if kind == "key removed" and len(path) > 0 and isinstance(_get(doc, path[:-1]), dict):
        del _get(doc, path[:-1])[path[-1]]
        return doc, kind
    return _set(doc, path, json.loads(json.dumps(rng.choice(WRONG)))), "wrong type"


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def _mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    roll = rng.random()
    if roll < 0.12:
        return data[: rng.randrange(len(data))], "truncated"
    if roll < 0.24:
        flipped = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            flipped[rng.randrange(len(flipped))] = rng.randrange(256)
        return bytes(flipped), "bytes flipped"
    try:
        docs = [json.loads(data)]
        lines = False
    except ValueError:
        try:
            docs, lines = [json.loads(line) for line in data.splitlines() if line.strip()], True
        except ValueError:  # protobuf: only byte-level mutations apply
            return data[: rng.randrange(len(data))], "truncated"
    i = rng.randrange(len(docs))
    shape = _SHAPES.get((data, i))
    if shape is None:
        shape = _SHAPES[data, i] = _Shape(json.loads(json.dumps(docs[i])))  # a copy: docs[i] is mutated below
    docs[i], kind = _mutate_json(docs[i], rng, shape)
    text = "\n".join(json.dumps(d) for d in docs) if lines else json.dumps(docs[0])
    return text.encode(), kind


def test_broken_files_exit_0_or_2_never_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import typer.main
    import typer.testing

    # Typer rebuilds its click command from the function signatures on every invoke (~75% of a small case):
    # build it once, so the 1,200 cases spend their time in tracectl.
    cli = typer.main.get_command(app)
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: cli)
    rng = random.Random(20_261_124)
    runner = CliRunner()
    outcomes: Counter[tuple[str, int]] = Counter()
    failures = []
    seeds = {seed: seed.read_bytes() for seed in SEEDS}  # read once; each case mutates a copy of its own
    for n in range(CASES):
        seed = rng.choice(SEEDS)
        data, kind = _mutate(seeds[seed], rng)
        path = tmp_path / f"case{n % 50}{''.join(seed.suffixes)}"
        path.write_bytes(data)
        command = rng.choice(COMMANDS)
        result = runner.invoke(app, [command[0], str(path), *command[1:]])
        outcomes[kind, result.exit_code] += 1
        lines = result.stderr.strip().splitlines()
        ok = result.exit_code == 0 or (
            result.exit_code == 2
            and result.stdout == ""
            and len(lines) == 1
            and lines[0].startswith(f"tracectl: error: {path}")
        )
        if not ok or "internal error" in result.stderr or "Traceback" in result.stderr:
            failures.append(f"{seed.name} {kind} {' '.join(command)}: exit {result.exit_code}: {result.stderr[:300]}")
    assert sum(outcomes.values()) == CASES >= 1000
    assert failures == [], f"{len(failures)} of {CASES} cases failed; first: {failures[:5]}"
    # Both outcomes occur for every kind of damage that can leave a file readable: the fuzzing reaches the renderers.
    assert {code for (_, code) in outcomes} == {0, 2}
    assert all(outcomes[kind, 0] > 0 for kind in ("wrong type", "huge number", "key removed")), outcomes
