"""``check`` over many files in worker processes gives exactly the serial report: the same scores, findings and
examples (propagation judged across files that different workers read), the same warnings and input counts, and
the same error for the same bad file."""

from __future__ import annotations

import pickle
import random
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tests.builders import span
from tracectl.analysis.checks import Tally, check_traces
from tracectl.cli.main import app
from tracectl.errors import FormatError, InputError
from tracectl.formats import jaeger_json, otlp_json
from tracectl.model import SpanKind, Trace
from tracectl.sandbox import generate
from tracectl.workflows import pool
from tracectl.workflows.check import CheckResult, check
from tracectl.workflows.sources import load_many

HEADER_SPLIT = "that arrive without trace context: feature-store starts a new trace"
THREAD_SPLIT = "made outside the request's context"
UNEXPLAINED = "requests to"


def _split_off(trace: Trace, lost_id: str, moved: set[str]) -> tuple[Trace, Trace]:
    """``trace`` without the spans ``moved``, and those as a trace of their own whose roots have no parent: a
    request split in two where the context was dropped."""
    kept = tuple(s for s in trace.spans if s.span_id not in moved)
    lost = tuple(replace(s, trace_id=lost_id, parent_span_id=s.parent_span_id if s.parent_span_id in moved else "")
                 for s in trace.spans if s.span_id in moved)  # fmt: skip
    return Trace(trace.trace_id, kept), Trace(lost_id, lost)


def _subtree(trace: Trace, top: str) -> set[str]:
    inside = {top}
    for _ in trace.spans:  # spans may come in any order: repeat until nothing is added
        grown = inside | {s.span_id for s in trace.spans if s.parent_span_id in inside}
        if grown == inside:
            return inside
        inside = grown
    return inside


def broken_requests(n: int) -> list[Trace]:
    """``n`` overlapping ML-serving requests where one service drops the context: every third request's call to
    the feature store arrives without it (two traces), every fifth request makes one call from a thread without
    the context (two traces), and of every seventh split only the feature store's half is kept (unexplained)."""
    rng = random.Random(3)
    out: list[Trace] = []
    for i, trace in enumerate(generate("healthy", n, seed=9, window_ns=8 * 10**9).traces):
        lost_id = f"{i + 1:031x}f"
        if i % 3 == 0:
            store = {s.span_id for s in trace.spans if s.service == "feature-store"}
            caller, callee = _split_off(trace, lost_id, store)
            out += [callee] if i % 7 == 0 else [caller, callee]
        elif i % 5 == 0:
            call = rng.choice([s for s in trace.spans if s.kind == SpanKind.CLIENT])
            out += _split_off(trace, lost_id, _subtree(trace, call.span_id))
        else:
            out.append(trace)
    # Per-span failures too, spread over the files: ID-like span names on the feature store now and then.
    for k in range(2, len(out), 4):
        trace = out[k]
        spans = tuple(replace(s, name=f"GET /features/{k}{k:04d}") if s.service == "feature-store" else s
                      for s in trace.spans)  # fmt: skip
        out[k] = Trace(trace.trace_id, spans)
    return out


def write_files(directory: Path, traces: list[Trace]) -> list[Path]:
    """One trace per file, Jaeger and OTLP alternately, the halves of a split request apart."""
    paths = []
    for i, trace in enumerate(traces):
        doc = jaeger_json.dump_document([trace]) if i % 2 else otlp_json.dump_document([trace])
        path = directory / f"t{i:03d}.json"
        path.write_bytes(orjson.dumps(doc))
        paths.append(path)
    return paths


@pytest.fixture(autouse=True)
def small_files_pooled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "MIN_BYTES", 0)  # the files here are small: pool them all the same


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("many")
    write_files(directory, broken_requests(pool.MIN_FILES))
    return directory


def causes(result: CheckResult) -> list[str]:
    return [c for r in result.report.findings if r.rule.id == "propagation" for c in r.causes]


def test_the_pool_gives_the_serial_report_with_propagation_judged_across_files(
    many: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forks: list[int] = []
    forked = pool.forked
    monkeypatch.setattr(pool, "forked", lambda jobs: forks.append(jobs) or forked(jobs))  # type: ignore[func-returns-value]
    serial = check(None, [str(many)], jobs=1)
    pooled = check(None, [str(many)], jobs=2)
    assert forks == [1]  # the second ran in a worker process and this one
    assert pooled == serial  # every score, count, cause, example and fix
    assert serial.report == check_traces(load_many([str(many)]).traces)  # as if every trace were loaded first
    found = causes(serial)
    assert any(HEADER_SPLIT in c for c in found) and any(THREAD_SPLIT in c for c in found)
    assert any(c.startswith(UNEXPLAINED) for c in found)
    assert serial.source == f"{len(list(many.iterdir()))} sources" and serial.inputs.skipped == []
    assert serial.inputs.analysed == serial.report.traces == len(list(many.iterdir()))
    # The example of a cause is its first span in file order, as one process recording them in order keeps.
    header = next(r for r in serial.report.findings if any(HEADER_SPLIT in c for c in r.causes))
    cause = next(c for c in header.causes if HEADER_SPLIT in c)
    first = min(f for f in many.iterdir() if header.examples[cause][0] in f.read_text())
    assert first.name == "t003.json"  # request 3's caller (request 0 kept only the feature store's half)
    names = next(r for r in serial.report.findings if r.rule.id == "span-name")
    assert names.service == "feature-store" and names.example_trace_id in (many / "t002.json").read_text()


def test_tallies_merged_in_order_even_pickled_are_the_tally_of_recording_everything_in_order() -> None:
    rng = random.Random(11)
    spans = [span(f"s{i}", 0, 1, service=rng.choice("ab"), kind=SpanKind.CLIENT) for i in range(300)]
    spans = [replace(s, trace_id=f"{i // 7 + 1:032x}") for i, s in enumerate(spans)]
    outcomes = [(rng.choice(["propagation", "span-name", "semconv"]), rng.choice(["", "", "x", "y", None]),
                 rng.choice([None, "fix 1", "fix 2"])) for _ in spans]  # fmt: skip
    whole = Tally()
    for s, (rule, outcome, fix) in zip(spans, outcomes, strict=True):
        whole.record(rule, s, outcome, fix)
        whole.spans[s.service] += 1
        whole.traces[s.service].add(s.trace_id)
    merged = Tally()
    cuts = sorted({0, len(spans), *rng.sample(range(1, len(spans)), 40)})
    for lo, hi in pairwise(cuts):
        part = Tally()
        for s, (rule, outcome, fix) in zip(spans[lo:hi], outcomes[lo:hi], strict=True):
            part.record(rule, s, outcome, fix)
            part.spans[s.service] += 1
            part.traces[s.service].add(s.trace_id)
        merged.merge(pickle.loads(pickle.dumps(part)))  # noqa: S301  (as from a worker process)
    assert merged.report() == whole.report()
    fixed = [r for svc in whole.report().services for r in svc.results if r.fixes]
    assert fixed and all(r.examples and r.failed for r in fixed)


def test_a_bad_file_is_the_same_error_or_the_same_warning_and_count(tmp_path: Path) -> None:
    paths = write_files(tmp_path, broken_requests(pool.MIN_FILES))
    paths[5].write_text('{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": 5}]}]}]}')
    paths[40].write_text("{}")
    with pytest.raises(FormatError) as serial_error:
        check(None, [str(tmp_path)], jobs=1)
    with pytest.raises(FormatError) as pooled_error:
        check(None, [str(tmp_path)], jobs=2)
    assert str(pooled_error.value) == str(serial_error.value)
    assert "t005.json" in str(serial_error.value)
    serial = check(None, [str(tmp_path)], skip_bad=True, jobs=1)
    pooled = check(None, [str(tmp_path)], skip_bad=True, jobs=2)
    assert pooled == serial and len(serial.warnings) == 2
    assert [s.source for s in serial.inputs.skipped] == [str(paths[5]), str(paths[40])]
    assert serial.inputs.requested == len(paths) and serial.inputs.analysed == len(paths) - 2


def test_nothing_readable_is_the_same_error(tmp_path: Path) -> None:
    for i in range(pool.MIN_FILES):
        (tmp_path / f"bad{i:03d}.json").write_text("{}")
    for jobs in (1, 2):
        with pytest.raises(InputError, match="no readable trace among the inputs"):
            check(None, [str(tmp_path)], skip_bad=True, jobs=jobs)


def test_repeats_are_counted_and_said_as_the_serial_path_does(tmp_path: Path) -> None:
    paths = write_files(tmp_path, broken_requests(pool.MIN_FILES))
    (tmp_path / "copy.json").write_bytes(paths[3].read_bytes())  # the same trace in a second file
    args = [str(tmp_path), str(paths[7])]  # a file named twice (inside the folder and on its own)
    serial = check(None, args, jobs=1)
    pooled = check(None, args, jobs=2)
    assert pooled == serial
    assert serial.inputs.requested == serial.inputs.analysed == serial.report.traces == len(paths)
    said = "\n".join(serial.warnings)
    assert "was given 2 times: read once" in said and "analysed once" in said


def test_the_command_prints_the_same_document_with_one_worker_or_several(many: Path) -> None:
    runner = CliRunner()
    one = runner.invoke(app, ["check", str(many), "-o", "json", "--jobs", "1"])
    several = runner.invoke(app, ["check", str(many), "-o", "json", "-j", "2"])
    assert one.exit_code == several.exit_code == 0, one.output
    assert one.stdout == several.stdout
    assert orjson.loads(one.stdout)["inputs"]["analysed"] == len(list(many.iterdir()))
