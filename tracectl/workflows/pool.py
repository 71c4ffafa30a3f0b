"""Many trace files on every core: each worker process reads its files and analyses their traces, and sends back
only the per-trace attributions (small), merged in file order so the result is exactly the serial one.

Worth it only past a few dozen files: a worker costs a fork and its share of the pickled results, and one file
of a few dozen spans is read and analysed in about a millisecond. Workers are forked before any progress bar
starts its thread, and the parent reports progress as the results come back.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracectl.errors import FormatError, InputError, TracectlError

if TYPE_CHECKING:
    from multiprocessing.pool import Pool

    from tracectl.analysis.attribution import Attribution
    from tracectl.workflows.session import Update
    from tracectl.workflows.sources import InputCounts

MIN_FILES = 64  # below this the serial path wins: reading 64 small files takes ~0.1 s


def default_jobs() -> int:
    """The processors this process may run on (the CPU count, or the container's / taskset's share of it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def worth_a_pool(files: list[str], jobs: int) -> bool:
    return jobs > 1 and len(files) >= MIN_FILES and "-" not in files


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """One file's attributions, or the error reading it (sent as text: tracectl's errors are rebuilt here)."""

    name: str
    attributions: tuple[Attribution, ...] = ()
    repairs: tuple[tuple[str, str], ...] = ()  # (trace ID, what the tree repaired), for the warnings
    source: str = ""  # a FormatError: where and what
    problem: str = ""
    input_error: str = ""  # any other InputError (an unreadable file): its message

    def error(self) -> TracectlError | None:
        if self.problem:
            return FormatError(self.source, self.problem)
        return InputError(self.input_error) if self.input_error else None


def _attribute_file(name: str, key_spec: str) -> FileOutcome:
    from tracectl.analysis.analyse import analyse_trace
    from tracectl.analysis.attribution import parse_key
    from tracectl.formats.detect import read_source

    try:
        loaded = read_source(name)
    except FormatError as exc:
        return FileOutcome(name, source=exc.source, problem=exc.problem)
    except InputError as exc:
        return FileOutcome(name, input_error=str(exc))
    key = parse_key(key_spec)
    analyses = [analyse_trace(t, key) for t in loaded.traces]
    repairs = tuple((a.tree.trace_id, w.message) for a in analyses for w in a.tree.warnings)
    return FileOutcome(name, tuple(a.attribution for a in analyses), repairs)


def _attribute_chunk(args: tuple[list[str], str]) -> list[FileOutcome]:
    names, key_spec = args
    return [_attribute_file(n, key_spec) for n in names]


@contextmanager
def forked(jobs: int) -> Iterator[Pool]:
    """``jobs`` worker processes, forked now: enter this before a progress bar starts its thread. Fork, because the
    workers then start with tracectl already imported (no start-up per worker)."""
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        yield pool


def attribute_files(
    pool: Pool, files: list[str], key_spec: str, progress: Update | None = None
) -> Iterator[FileOutcome]:
    """Each file's outcome, in the order of ``files``, computed by the pool's workers."""
    jobs = getattr(pool, "_processes", 1)
    # Chunks of a few files: few round trips, yet small enough to keep every worker busy to the end.
    size = max(1, min(64, len(files) // (jobs * 8)))
    chunks = [(files[i : i + size], key_spec) for i in range(0, len(files), size)]
    done = 0
    for outcomes in pool.imap(_attribute_chunk, chunks):
        for outcome in outcomes:
            done += 1
            if progress is not None:
                progress(done, len(files))
            yield outcome


def merged(
    outcomes: Iterator[FileOutcome], skip_bad: bool, warn: Callable[[str], None], warnings: list[str]
) -> tuple[list[Attribution], InputCounts]:
    """Attributions in file order and what they rest on, as the serial path gives them (``load_many``): a bad
    file stops everything unless ``skip_bad`` (then it is a warning and a skipped input); an unreadable file
    always stops; a trace in two files is kept once (and said); the trees' repairs are said; no readable trace is
    an error. The warnings are appended to ``warnings`` and passed to ``warn``."""
    from tracectl.workflows.repairs import repairs_said
    from tracectl.workflows.sources import InputCounts, Skipped, repeated_trace_warning

    attributions: list[Attribution] = []
    counts = InputCounts()
    first: dict[str, str] = {}
    repeats: dict[str, list[str]] = {}
    repairs: list[tuple[str, str]] = []
    for outcome in outcomes:
        error = outcome.error()
        if error is not None:
            if not skip_bad or not isinstance(error, FormatError):
                raise error
            counts.skipped.append(Skipped(outcome.name, error.problem))
            warnings.append(f"skipped {error}")
            warn(warnings[-1])
            continue
        kept = set()
        for a in outcome.attributions:
            if a.trace_id in first:
                repeats.setdefault(a.trace_id, []).append(outcome.name)
                continue
            first[a.trace_id] = outcome.name
            kept.add(a.trace_id)
            attributions.append(a)
        repairs += [(trace_id, what) for trace_id, what in outcome.repairs if trace_id in kept]
    if not attributions:
        raise InputError("no readable trace among the inputs")
    for trace_id, sources in repeats.items():
        warnings.append(repeated_trace_warning(trace_id, first[trace_id], sources))
        warn(warnings[-1])
    for warning in repairs_said(repairs):
        warnings.append(warning)
        warn(warning)
    counts.analysed = len(attributions)
    return attributions, counts
