"""``blame`` over many files in worker processes gives exactly the serial result: the same aggregate, buckets and
warnings, and the same error for the same bad file."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest

from tracectl.analysis.aggregate import aggregate, compare_buckets
from tracectl.analysis.analyse import analyse_trace
from tracectl.errors import FormatError, InputError
from tracectl.formats import jaeger_json, otlp_json
from tracectl.model import Trace
from tracectl.sandbox.synth import ml_inference_trace
from tracectl.workflows import pool
from tracectl.workflows.blame import AggregateBlame, BucketBlame, blame
from tracectl.workflows.sources import load_many


def write_files(directory: Path, n: int) -> list[Path]:
    """``n`` one-trace files, Jaeger and OTLP alternately, slower towards the end (so buckets have a tail)."""
    paths = []
    for i in range(n):
        trace = ml_inference_trace(seed=100 + i, trace_id=f"{i + 1:032x}")
        if i % 10 == 9:  # a slow one: the whole trace stretched
            trace = Trace(trace.trace_id, [replace(s, end_ns=s.end_ns + 50_000_000) for s in trace.spans])
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
    write_files(directory, pool.MIN_FILES + 6)
    return directory


@pytest.mark.parametrize(("by", "bucket"), [("service", False), ("operation", False), ("service", True)])
def test_the_pool_gives_the_serial_result(many: Path, by: str, bucket: bool) -> None:
    serial = blame(None, [str(many)], by=by, bucket=bucket, jobs=1)
    pooled = blame(None, [str(many)], by=by, bucket=bucket, jobs=2)
    assert isinstance(serial, BucketBlame if bucket else AggregateBlame)
    assert pooled == serial
    # both read a file at a time; the oracle loads every trace first, as the other inputs (IDs, a search) are read
    attributions = [analyse_trace(t, by).attribution for t in load_many([str(many)]).traces]
    if bucket:
        assert isinstance(serial, BucketBlame) and serial.buckets == compare_buckets(attributions)
    else:
        assert isinstance(serial, AggregateBlame) and serial.aggregate == aggregate(attributions)
        assert serial.inputs.analysed == len(attributions) == pool.MIN_FILES + 6


def test_a_bad_file_is_the_same_error_or_the_same_warning(tmp_path: Path) -> None:
    paths = write_files(tmp_path, pool.MIN_FILES + 2)
    paths[5].write_text('{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": 5}]}]}]}')
    paths[40].write_text("{}")
    with pytest.raises(FormatError) as serial_error:
        blame(None, [str(tmp_path)], jobs=1)
    with pytest.raises(FormatError) as pooled_error:
        blame(None, [str(tmp_path)], jobs=2)
    assert str(pooled_error.value) == str(serial_error.value)
    assert "t005.json" in str(serial_error.value)
    serial = blame(None, [str(tmp_path)], skip_bad=True, jobs=1)
    pooled = blame(None, [str(tmp_path)], skip_bad=True, jobs=2)
    assert pooled == serial and len(serial.warnings) == 2


def test_nothing_readable_is_the_same_error(tmp_path: Path) -> None:
    for i in range(pool.MIN_FILES):
        (tmp_path / f"bad{i:03d}.json").write_text("{}")
    for jobs in (1, 2):
        with pytest.raises(InputError, match="no readable trace among the inputs"):
            blame(None, [str(tmp_path)], skip_bad=True, jobs=jobs)


def test_few_files_stay_in_this_process() -> None:
    assert not pool.worth_a_pool(["a.json"] * (pool.MIN_FILES - 1), 8)
    assert not pool.worth_a_pool(["a.json"] * pool.MIN_FILES, 1)
    assert not pool.worth_a_pool(["-", *["a.json"] * pool.MIN_FILES], 8)
    assert pool.worth_a_pool(["a.json"] * pool.MIN_FILES, 2)
    assert not pool.worth_a_pool(["a.json"] * pool.MIN_FILES, 2, size=pool.MIN_BYTES - 1)
    assert pool.worth_a_pool(["a.json"] * pool.MIN_FILES, 2, size=pool.MIN_BYTES)


def test_repeats_and_repairs_are_counted_and_said_as_the_serial_path_does(tmp_path: Path) -> None:
    import shutil

    from tests.conftest import FIXTURES

    paths = write_files(tmp_path, pool.MIN_FILES + 2)
    (tmp_path / "copy.json").write_bytes(paths[3].read_bytes())  # the same trace in a second file
    shutil.copy(FIXTURES / "messy" / "cycle.otlp.json", tmp_path / "zz-cycle.json")  # a tree that needs repair
    args = [str(tmp_path), str(paths[7])]  # a file named twice (inside the folder and on its own)
    serial = blame(None, args, jobs=1)
    pooled = blame(None, args, jobs=2)
    assert isinstance(serial, AggregateBlame)
    assert pooled == serial
    assert serial.inputs.requested == serial.inputs.analysed == serial.aggregate.traces == pool.MIN_FILES + 3
    said = "\n".join(serial.warnings)
    assert "was given 2 times: read once" in said and "inputs" in said and "analysed once" in said
    assert "cycle" in said


THIS_PROCESS = os.getpid()


def dies_in_a_worker(trace: Trace) -> int:
    """A worker's work that kills its own process at the first trace (as the OOM killer would); this process, which
    does chunks too, is spared."""
    if trace.trace_id == f"{1:032x}" and os.getpid() != THIS_PROCESS:
        os.kill(os.getpid(), signal.SIGKILL)
    return len(trace.spans)


def test_a_worker_killed_is_one_error_naming_where_it_was(many: Path) -> None:
    from tracectl.errors import TracectlError

    files = sorted(str(p) for p in many.iterdir())
    with pytest.raises(TracectlError, match="a worker process ended abruptly") as caught:
        pool.over_files(None, files, dies_in_a_worker, jobs=2, skip_bad=False, label="x")
    assert "run again with --jobs 1" in str(caught.value) and str(many) in str(caught.value)
    # in this process the same work is plain (it is the kill that the pool turns into an error)
    assert sum(pool.over_files(None, files[:3], len_of_spans, jobs=1, skip_bad=False, label="x").results) > 0


class DiesAtSecondSubmit(Executor):
    """A pool whose worker died on the first chunk before the second was submitted (seen once in 40 runs of the test
    above on a loaded machine): the second ``submit`` finds the pool broken."""

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        from concurrent.futures.process import BrokenProcessPool

        self.submitted += 1
        if self.submitted > 1:
            raise BrokenProcessPool("A child process terminated abruptly, the process pool is not usable anymore")
        return Future()  # never done: its worker is gone


def test_a_worker_killed_before_the_second_chunk_is_handed_out_is_the_same_one_error(many: Path) -> None:
    from tracectl.errors import TracectlError

    files = sorted(str(p) for p in many.iterdir())
    chunks = [(files[i : i + 4], len_of_spans) for i in range(0, len(files), 4)]
    with pytest.raises(TracectlError, match="a worker process ended abruptly") as caught:
        pool._Shared(DiesAtSecondSubmit(), chunks, ahead=2)
    assert f"while reading {files[0]} or the 3 files after it; run again with --jobs 1" in str(caught.value)


def len_of_spans(trace: Trace) -> int:
    return len(trace.spans)
