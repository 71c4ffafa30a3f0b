"""Many trace files, a file at a time: each file is read and a command's work done on each of its traces (``work``:
analysis for ``blame``, the per-span rules and propagation records for ``check``), and only what that work returns
is kept (small), merged in file order (``merged``) exactly as ``load_many`` would read the files. Nothing of a
file outlives its work, so memory does not grow with the number of files.

With enough files (``worth_a_pool``) worker processes read them too, one per processor besides this one: a worker
costs a fork and its share of the pickled results, and one file of a few dozen spans is read and analysed in well
under a millisecond, so below a few dozen files and a few MB it stays in this process. Workers are forked before
any progress bar starts its thread, and this process reports progress as the results come back.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from tracectl.errors import FormatError, InputError, TracectlError
from tracectl.formats.detect import read_source  # not per file: an import statement costs ~1 µs a call

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

    from tracectl.model import Trace
    from tracectl.workflows.session import Session, Update
    from tracectl.workflows.sources import InputCounts

MIN_FILES = 64  # below this the serial path wins: reading 64 small files takes ~0.1 s
# And below this many bytes: JSON is read and analysed at ~60 ns a byte (0.5 s for 8 MB, ~400 files of 24 spans),
# and forking the workers, gathering their results and letting them go costs ~0.1 s before any gain.
MIN_BYTES = 8 << 20

T = TypeVar("T")


def default_jobs() -> int:
    """The processors this process may run on (the CPU count, or the container's / taskset's share of it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def worth_a_pool(files: list[str], jobs: int, size: int | None = None) -> bool:
    """Enough files (holding ``size`` bytes, when known) to pay for ``jobs`` workers."""
    return jobs > 1 and len(files) >= MIN_FILES and "-" not in files and (size is None or size >= MIN_BYTES)


def named_files(traces: list[str] | None, query: object) -> tuple[list[str], dict[str, bool]]:
    """The files ``traces`` names (directories and globs expanded) when every one of them is a file: the inputs
    ``over_files`` reads, with what listing the directories learnt (whether each file found there is a link).
    Otherwise no files (a search, trace IDs, standard input: ``load_inputs`` reads those)."""
    from tracectl.workflows.sources import expand_trace_args, is_file_arg

    listed: dict[str, bool] = {}
    if not traces or query is not None:
        return [], listed
    files = expand_trace_args(traces, listed)
    if "-" in files or not all(f in listed or is_file_arg(f) for f in files):
        return [], listed
    return files, listed


def over_files(
    session: Session | None, files: list[str], work: Callable[[Trace], T], *, jobs: int | None, skip_bad: bool,
    label: str, listed: dict[str, bool] | None = None,
) -> Merged[T]:  # fmt: skip
    """``work`` on every trace of ``files``, a file at a time (nothing of a file is kept but what ``work`` returns),
    in ``jobs`` processes (None: one per processor), this one and ``jobs - 1`` workers, when there are enough files
    to pay for workers, else in this process alone; merged as ``load_many`` reads files (``merged``), with the
    progress bar ``label``. Warnings go to the session as they come and into the result. ``listed``: what
    ``named_files`` learnt of the files."""
    from tracectl._gc import kept_bulk
    from tracectl.workflows.session import no_progress
    from tracectl.workflows.sources import distinct_files

    warn = session.warn if session is not None else _ignore
    progress = session.progress if session is not None else no_progress
    files, warnings = distinct_files(files, warn, listed)
    jobs = jobs or default_jobs()
    if not (worth_a_pool(files, jobs) and worth_a_pool(files, jobs, _size_up_to(files, MIN_BYTES))):
        # The collector paused: what the work keeps is many small objects and no cycles (see _gc.kept_bulk).
        with progress(label) as update, kept_bulk():
            return merged(in_this_process(files, work, update), skip_bad, warn, warnings)
    with forked(jobs - 1) as executor:  # and this process: ``jobs`` in all
        # Submits the workers' first chunks: they are forked now, before the progress bar starts its thread. The
        # collector paused (the workers keep theirs): the results arriving are many small objects and no cycles, and
        # a collector rescanning them as they pile up costs a third of taking them in.
        outcomes = each_file(executor, files, work, jobs)
        with progress(label) as update, kept_bulk():
            return merged(counted(outcomes, len(files), update), skip_bad, warn, warnings)


def _size_up_to(files: list[str], enough: int) -> int:
    """The files' total size, or as much of it as makes ``enough`` (no ``stat`` of the rest)."""
    total = 0
    for name in files:
        total += os.stat(name).st_size  # noqa: PTH116
        if total >= enough:
            break
    return total


def _ignore(_message: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class FileOutcome(Generic[T]):
    """What the work made of each trace of one file, or the error reading it (sent as text: tracectl's errors
    are rebuilt here)."""

    name: str
    traces: tuple[tuple[str, T], ...] = ()  # (trace ID, what the work returned), in the file's order
    source: str = ""  # a FormatError: where and what
    problem: str = ""
    input_error: str = ""  # any other InputError (an unreadable file): its message

    def __reduce__(self) -> tuple[type[FileOutcome[T]], tuple[Any, ...]]:
        # pickled as its fields: the dataclass default looks its fields up again for each file, on both sides
        return type(self), (self.name, self.traces, self.source, self.problem, self.input_error)

    def error(self) -> TracectlError | None:
        if self.problem:
            return FormatError(self.source, self.problem)
        return InputError(self.input_error) if self.input_error else None


def _work_file(name: str, work: Callable[[Trace], T]) -> FileOutcome[T]:
    try:
        loaded = read_source(name)
    except FormatError as exc:
        return FileOutcome(name, source=exc.source, problem=exc.problem)
    except InputError as exc:
        return FileOutcome(name, input_error=str(exc))
    return FileOutcome(name, tuple((t.trace_id, work(t)) for t in loaded.traces))


def _work_chunk(args: tuple[list[str], Callable[[Trace], T]]) -> list[FileOutcome[T]]:
    names, work = args
    return [_work_file(n, work) for n in names]


@contextmanager
def forked(jobs: int) -> Iterator[Executor]:
    """``jobs`` worker processes (forked when the first work is submitted: submit before a progress bar starts its
    thread). Fork, because the workers then start with tracectl already imported (no start-up per worker).

    ``concurrent.futures``' executor, not ``multiprocessing.Pool``: the pool's worker-handler thread wakes on every
    result waiting in the pipe and spins until another thread has read it (0.3-0.5 s of the parent's CPU over
    10,000 files, measured); the executor's one thread waits and reads. Leaving early (an error, Ctrl-C) cancels
    the chunks not started; a worker finishes the one it is on (a fraction of a second)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    executor = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"), initializer=_worker_signals)
    try:
        yield executor
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    executor.shutdown()


def _worker_signals() -> None:
    """A worker ends quietly when the parent goes (SIGTERM, SIGHUP) and leaves Ctrl-C to the parent: the handlers
    forked from the CLI would raise in the worker and print a traceback each."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


CHUNK_FILES = 256  # at most, per round trip: fewer messages, and still at least 8 chunks a worker


def each_file(
    executor: Executor, files: list[str], work: Callable[[Trace], T], jobs: int
) -> Iterator[list[FileOutcome[T]]]:
    """Each chunk of files' outcomes, in the order of ``files``: ``work`` (a module-level function, or a
    ``functools.partial`` of one: it is pickled) applied to each trace read, by the executor's ``jobs - 1`` workers
    and by this process. The workers' first chunks are submitted now (which forks them)."""
    size = max(1, min(CHUNK_FILES, len(files) // (jobs * 8)))
    chunks = [(files[i : i + size], work) for i in range(0, len(files), size)]
    return _Shared(executor, chunks, ahead=2 * (jobs - 1)).outcomes()


class _Shared(Generic[T]):
    """Chunks shared between the workers and this process. The workers take them from the front, at most ``ahead``
    submitted and not yet handed on; while the next chunk in order is not ready, this process does the last chunk
    nobody has taken, so it works instead of waiting, and its share is never pickled. Outcomes come in order."""

    def __init__(self, executor: Executor, chunks: list[tuple[list[str], Callable[[Trace], T]]], ahead: int) -> None:
        self.executor, self.chunks, self.ahead = executor, chunks, ahead
        self.submitted: dict[int, Future[list[FileOutcome[T]]]] = {}
        self.front, self.back = 0, len(chunks) - 1  # the next chunk for a worker; the last chunk nobody has taken
        from concurrent.futures.process import BrokenProcessPool

        try:
            self.top_up()
        except BrokenProcessPool:  # a worker died on its first chunk before the next was submitted
            raise self.died(0, self.front - 1) from None

    def top_up(self) -> None:
        while self.front <= self.back and len(self.submitted) < self.ahead:
            self.submitted[self.front] = self.executor.submit(_work_chunk, self.chunks[self.front])
            self.front += 1

    def outcomes(self) -> Iterator[list[FileOutcome[T]]]:
        from concurrent.futures.process import BrokenProcessPool

        mine: dict[int, list[FileOutcome[T]]] = {}  # the chunks done here, by index (the last ones)
        i = 0
        try:
            for i in range(len(self.chunks)):
                if i in mine:
                    yield mine.pop(i)
                    continue
                self.top_up()
                future = self.submitted.pop(i)
                while not future.done() and self.front <= self.back:
                    mine[self.back] = _work_chunk(self.chunks[self.back])
                    self.back -= 1
                    self.top_up()  # the workers' queue kept full meanwhile
                outcomes = future.result()
                self.top_up()
                yield outcomes
        except BrokenProcessPool:  # a worker died (killed, out of memory)
            raise self.died(i, i) from None

    def died(self, first: int, last: int) -> TracectlError:
        """A worker died while chunks ``first`` to ``last`` were handed out: one line naming where it was."""
        names = [name for chunk, _ in self.chunks[first : max(first, last) + 1] for name in chunk]
        return TracectlError(
            f"a worker process ended abruptly (killed, or out of memory?) while reading {names[0]} or the "
            f"{len(names) - 1} files after it; run again with --jobs 1 to read every file in this process"
        )


def counted(chunks: Iterator[list[FileOutcome[T]]], total: int, progress: Update) -> Iterator[FileOutcome[T]]:
    """The outcomes of each chunk in turn, ``progress(done, total)`` after each chunk."""
    done = 0
    for outcomes in chunks:
        yield from outcomes
        done += len(outcomes)
        progress(done, total)


def in_this_process(files: list[str], work: Callable[[Trace], T], progress: Update) -> Iterator[FileOutcome[T]]:
    """Each file's outcome, read and worked on here, one file at a time."""
    for done, name in enumerate(files, 1):
        yield _work_file(name, work)
        progress(done, len(files))


@dataclass(slots=True)
class Merged(Generic[T]):
    """What the work returned for each trace kept, in file order, and what that rests on."""

    results: list[T]
    counts: InputCounts
    sources: list[str] = field(default_factory=list)  # the files that gave a trace kept
    warnings: list[str] = field(default_factory=list)  # what was said about the files, in order


def merged(
    outcomes: Iterator[FileOutcome[T]], skip_bad: bool, warn: Callable[[str], None], warnings: list[str]
) -> Merged[T]:
    """The outcomes as the serial path reads the files (``load_many``): a bad file stops everything unless
    ``skip_bad`` (then it is a warning and a skipped input); an unreadable file always stops; a trace in two
    files is kept once (and said); no readable trace is an error. The warnings are appended to ``warnings`` and
    passed to ``warn``."""
    from tracectl.workflows.sources import InputCounts, Skipped, repeated_trace_warning

    out: Merged[T] = Merged([], InputCounts(), warnings=warnings)
    first: dict[str, str] = {}
    repeats: dict[str, list[str]] = {}
    for outcome in outcomes:
        error = outcome.error()
        if error is not None:
            if not skip_bad or not isinstance(error, FormatError):
                raise error
            out.counts.skipped.append(Skipped(outcome.name, error.problem))
            warnings.append(f"skipped {error}")
            warn(warnings[-1])
            continue
        kept = 0
        for trace_id, result in outcome.traces:
            if trace_id in first:
                repeats.setdefault(trace_id, []).append(outcome.name)
                continue
            first[trace_id] = outcome.name
            out.results.append(result)
            kept += 1
        if kept:
            out.sources.append(outcome.name)
    if not out.results:
        raise InputError("no readable trace among the inputs")
    for trace_id, sources in repeats.items():
        warnings.append(repeated_trace_warning(trace_id, first[trace_id], sources))
        warn(warnings[-1])
    out.counts.analysed = len(out.results)
    return out
