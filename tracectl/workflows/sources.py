"""Where a ``TRACE`` argument comes from: a file, standard input, or (with a backend) a trace ID.

Every command that takes traces goes through ``load_trace_arg`` (one), ``load_many`` (many) or ``load_inputs``
(many, or what a search finds): files are read (``.gz`` transparently), directories and quoted globs expanded,
and anything else must be a valid trace ID, checked before it can reach a URL, then fetched through the
session's backend. A W3C ``traceparent`` (``00-<trace ID>-<span ID>-<flags>``) works wherever a trace ID does,
and names a span too (``selected_span``).
"""

from __future__ import annotations

import dataclasses
import glob
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracectl._gc import kept_bulk
from tracectl.errors import FormatError, InputError
from tracectl.ids import InvalidId, normalize_trace_id

if TYPE_CHECKING:
    from tracectl.backends.query import SearchQuery
    from tracectl.formats.detect import LoadResult
    from tracectl.model import Trace
    from tracectl.workflows.session import Session, Update

# Four dash-separated fields, the first two hex characters: what a traceparent looks like, well-formed or not.
_TRACEPARENT_SHAPE = re.compile(
    r"(?:traceparent\s*[:=]\s*)?([0-9a-f]{2})-([^-\s]*)-([^-\s]*)-([^-\s]*)(-.*)?", re.IGNORECASE
)
_HEX = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True, slots=True)
class TraceParent:
    """A W3C Trace Context ``traceparent``: the trace, the span that sent it, and the sampled flag."""

    trace_id: str
    span_id: str
    sampled: bool

    @property
    def header(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{'01' if self.sampled else '00'}"


def parse_traceparent(text: str) -> TraceParent | None:
    """``text`` as a traceparent (``00-<32 hex>-<16 hex>-<2 hex>``, optionally after ``traceparent:``), None when
    it does not look like one; one that looks like one but breaks the W3C rules is an ``InputError`` (exit 2)."""
    m = _TRACEPARENT_SHAPE.fullmatch(text.strip())
    if m is None:
        return None
    version, trace_id, span_id, flags, rest = (g.lower() if g else g for g in m.groups())
    problem = None
    if version == "ff":
        problem = "version ff is invalid"
    elif not (len(trace_id) == 32 and _HEX.fullmatch(trace_id)):
        problem = f"the trace ID must be 32 hex characters, not {trace_id!r}"
    elif not (len(span_id) == 16 and _HEX.fullmatch(span_id)):
        problem = f"the parent span ID must be 16 hex characters, not {span_id!r}"
    elif not (len(flags) == 2 and _HEX.fullmatch(flags)):
        problem = f"the flags must be 2 hex characters, not {flags!r}"
    elif trace_id == "0" * 32:
        problem = "the trace ID is all zeros"
    elif span_id == "0" * 16:
        problem = "the parent span ID is all zeros"
    elif version == "00" and rest:
        problem = "version 00 has exactly four fields"
    if problem:
        raise InputError(f"{text.strip()}: not a valid traceparent: {problem} (expected 00-<32 hex>-<16 hex>-<2 hex>)")
    return TraceParent(trace_id, span_id, bool(int(flags, 16) & 1))


def is_file_arg(arg: str) -> bool:
    return arg == "-" or Path(arg).exists()


def trace_id_of(arg: str) -> str:
    """The trace ID ``arg`` names: a traceparent's, or ``arg`` itself in any ID encoding. Raises ``InvalidId``, or
    ``InputError`` saying what is wrong with a malformed traceparent."""
    try:
        parent = parse_traceparent(arg)
    except InputError as bad_traceparent:
        try:
            return normalize_trace_id(arg)  # URL-safe base64 may look like a broken traceparent
        except InvalidId:
            raise bad_traceparent from None
    return parent.trace_id if parent is not None else normalize_trace_id(arg)


def normalize_or_fail(arg: str) -> str:
    try:
        return trace_id_of(arg)  # validated before it can reach a URL
    except InvalidId:
        raise InputError(
            f"{arg}: no such file, and not a trace ID (32 hex characters, or base64) nor a traceparent"
        ) from None


def selected_span(*args: str | None) -> str | None:
    """The span ID a traceparent among ``args`` names (the ``TRACE`` argument, ``--trace-id``), if any."""
    for arg in args:
        if not arg or is_file_arg(arg):
            continue
        try:
            parent = parse_traceparent(arg)
        except InputError:  # a trace ID in URL-safe base64 that merely looks like one
            continue
        if parent is not None:
            return parent.span_id
    return None


def load_trace_arg(arg: str, session: Session | None = None) -> LoadResult:
    """The traces named by one ``TRACE`` argument: a file, ``-``, or a trace ID fetched through ``session``."""
    if is_file_arg(arg):
        from tracectl.formats.detect import read_source  # deferred: keeps `tracectl --help` instant

        return read_source(arg)
    trace_id = normalize_or_fail(arg)
    if session is None or session.settings.effective_backend == "file":
        raise InputError(
            f"{arg}: no such file; to fetch trace {trace_id}, configure a backend (--tempo-url/--jaeger-url)"
        )
    return session.fetch(trace_id)


def expand_trace_args(args: list[str], listed: dict[str, bool] | None = None) -> list[str]:
    """Files, directories (their files, sorted, hidden ones skipped), quoted globs and ``-`` → file list.

    ``listed``, when given, receives the files found in a directory: name → whether it is a symbolic link, as its
    directory entry says (callers need not ask the file system again about each)."""
    out: list[str] = []
    for arg in args:
        path = Path(arg)
        if arg == "-" or path.is_file():
            out.append(arg)
        elif path.is_dir():
            below = dict(_files_below(str(path)))
            files = sorted(below)  # named as Path names them
            if not files:
                raise InputError(f"{arg}: directory holds no files")
            out.extend(files)
            if listed is not None:
                listed.update(below)
        elif any(c in arg for c in "*?["):
            # glob.glob, not Path.glob: users also quote absolute patterns ('/tmp/traces/*.json')
            matches = sorted(m for m in glob.glob(arg, recursive=True) if Path(m).is_file())  # noqa: PTH207
            if not matches:
                raise InputError(f"{arg}: no file matches this pattern")
            out.extend(matches)
        else:
            out.append(arg)  # a trace ID or a missing file: load_trace_arg says which
    if out.count("-") > 1:
        raise InputError("standard input (-) can be read only once")
    return out


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input that gave no trace, and why."""

    source: str
    reason: str


@dataclass(slots=True)
class InputCounts:
    """What a multi-trace result rests on: the distinct traces asked for, those analysed, those skipped and why.

    ``requested`` is always ``analysed + len(skipped)``: a source asked twice is one request, a trace found
    in two inputs is one trace."""

    analysed: int = 0
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def requested(self) -> int:
        return self.analysed + len(self.skipped)

    def add(self, other: InputCounts) -> None:
        self.analysed += other.analysed
        self.skipped.extend(other.skipped)

    def document(self) -> dict[str, Any]:
        return {"requested": self.requested, "analysed": self.analysed, "skipped": len(self.skipped),
                "skipped_inputs": [{"source": s.source, "reason": s.reason} for s in self.skipped]}  # fmt: skip

    def summary(self) -> str:
        """One line for stderr: ``analysed 18 of 20 requested traces (2 skipped)``."""
        skipped = f" ({len(self.skipped)} skipped)" if self.skipped else ""
        return f"analysed {self.analysed} of {self.requested} requested trace(s){skipped}"


@dataclass(slots=True)
class Loaded:
    """Traces read from many sources, with the warnings about sources that were skipped, repeated or partial."""

    results: list[LoadResult]
    warnings: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def traces(self) -> list[Trace]:
        return [t for r in self.results for t in r.traces]

    @property
    def counts(self) -> InputCounts:
        return InputCounts(len(self.traces), list(self.skipped))

    def extend(self, other: Loaded) -> None:
        self.results.extend(other.results)
        self.warnings.extend(other.warnings)
        self.skipped.extend(other.skipped)


def load_inputs(
    session: Session | None, traces: list[str] | None, query: SearchQuery | None = None, skip_bad: bool = False
) -> Loaded:
    """The traces ``traces`` names (files, directories, globs, IDs), or those a backend search for ``query`` finds,
    loaded with a progress bar; the search's warnings come first in the result's."""
    from tracectl.workflows.session import no_progress

    warnings: list[str] = []
    if query is not None:
        if traces:
            raise InputError("give trace files/IDs or --search, not both")
        if session is None:
            raise InputError("--search needs a backend")
        from tracectl.workflows.search import search

        found = search(session, query)
        warnings.extend(found.warnings)
        if not found.trace_ids:
            raise InputError(f"the search found no traces ({found.result.query}); widen --since or relax the filters")
        traces = found.trace_ids
    elif not traces:
        raise InputError("give trace files, directories, trace IDs, or --search with search options")
    progress = session.progress if session is not None else no_progress
    with progress("loading traces") as update:
        loaded = load_many(traces, session, update, skip_bad=skip_bad)
    loaded.warnings[:0] = warnings
    return loaded


def _say(loaded: Loaded, session: Session | None, message: str) -> None:
    loaded.warnings.append(message)
    if session is not None:
        session.warn(message)


def _distinct(names: list[str], key: Callable[[str], str], loaded: Loaded, session: Session | None) -> list[str]:
    """``names`` without repeats (by ``key``: the same file by another path, the same ID in another encoding),
    each repeat said once."""
    seen: dict[str, list[str]] = {}
    for name in names:
        seen.setdefault(key(name), []).append(name)
    for same in seen.values():
        if len(same) > 1:
            _say(loaded, session, f"{same[0]} was given {len(same)} times: read once")
    return [same[0] for same in seen.values()]


def distinct_files(
    names: list[str], warn: Callable[[str], None], listed: dict[str, bool] | None = None
) -> tuple[list[str], list[str]]:
    """``names`` (files) each once, as ``load_many`` reads them, and the warnings about repeats (each also passed
    to ``warn``): for readers that do not go through ``load_many`` (``blame`` and ``check`` over files).
    ``listed``: what ``expand_trace_args`` learnt of files in a directory."""
    loaded = Loaded([])
    folders: dict[str, str] = {}
    kept = _distinct(names, lambda n: _file_key(n, folders, listed), loaded, None)
    for warning in loaded.warnings:
        warn(warning)
    return kept, loaded.warnings


def repeated_trace_warning(trace_id: str, first: str, sources: list[str]) -> str:
    """The warning for a trace found in more than one input (kept once: from ``first``)."""
    return (f"trace {trace_id} is in {len(sources) + 1} inputs ({first}, {sources[0]}"
            f"{', …' if len(sources) > 1 else ''}): analysed once")  # fmt: skip


def _files_below(folder: str) -> Iterator[tuple[str, bool]]:
    """Every file below ``folder``, as ``Path.rglob("*")`` finds them (links followed, hidden names skipped), and
    whether it is a symbolic link, from the directory entries' own types: no ``stat`` per file."""
    stack = [folder]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir():
                    stack.append(entry.path)
                elif not entry.name.startswith(".") and entry.is_file():
                    yield entry.path, entry.is_symlink()


def _file_key(name: str, folders: dict[str, str], listed: dict[str, bool] | None = None) -> str:
    """A file's identity: its real path (links resolved); each folder is resolved once. ``listed``: what
    ``expand_trace_args`` learnt of files in a directory (whether each is a link)."""
    if name == "-":
        return name
    link = listed.get(name) if listed is not None else None
    if link is None:
        link = os.path.islink(name)  # noqa: PTH114
    if link:
        return os.path.realpath(name)
    folder, base = os.path.split(name)
    real = folders.get(folder)
    if real is None:
        real = folders[folder] = os.path.realpath(folder or ".")
    return os.path.join(real, base)  # noqa: PTH118


def load_many(
    args: list[str], session: Session | None = None, progress: Update | None = None, skip_bad: bool = False
) -> Loaded:
    """Every source named by ``args``, once each: files first, then trace IDs fetched concurrently;
    ``progress(done, total)``. A trace found in two sources is kept once (and said).

    A bad source fails the whole load (exit 2) unless ``skip_bad``, which makes it a warning and a ``skipped``."""
    from tracectl.formats.detect import read_source  # deferred: keeps `tracectl --help` instant

    loaded = Loaded([])
    listed: dict[str, bool] = {}
    names = expand_trace_args(args, listed)
    is_file = {n: n in listed or is_file_arg(n) for n in set(names)}
    folders: dict[str, str] = {}
    files = _distinct([n for n in names if is_file[n]], lambda n: _file_key(n, folders, listed), loaded, session)
    ids = _distinct([n for n in names if not is_file[n]], normalize_or_fail, loaded, session)
    total = len(files) + len(ids)
    with kept_bulk():  # the heap only grows here, and acyclically: collections would rescan it again and again
        for n, name in enumerate(files, 1):
            try:
                # a file: load_trace_arg would ask again; compact: every trace is held until the end
                loaded.results.append(read_source(name, compact=True))
            except FormatError as exc:
                if not skip_bad:
                    raise
                loaded.skipped.append(Skipped(name, exc.problem))
                _say(loaded, session, f"skipped {exc}")
            if progress is not None:
                progress(n, total)
    if ids:
        checked = [normalize_or_fail(i) for i in ids]  # every ID is checked before any request is made
        if session is None or session.settings.effective_backend == "file":
            return _no_backend(ids[0])
        offset = len(files)

        def fetched(done: int, _total: int) -> None:
            if progress is not None:
                progress(offset + done, total)

        loaded.extend(fetch_ids(session, checked, fetched, skip_failed=skip_bad))
    drop_repeated_traces(loaded, session)
    if not loaded.results:
        raise InputError("no readable trace among the inputs")
    return loaded


def fetch_ids(
    session: Session, trace_ids: list[str], progress: Update | None = None, skip_failed: bool = True
) -> Loaded:
    """Traces by ID from the session's backend, each ID once, concurrently and in input order. With
    ``skip_failed`` a failed fetch is a warning and a ``skipped``; otherwise the first failure is raised. Each
    answer contributes the asked trace only (``LoadResult.only``)."""
    from tracectl.backends import fetch_traces

    loaded = Loaded([])
    unique = _distinct(trace_ids, lambda i: i, loaded, session)

    def failed(trace_id: str, exc: Exception) -> None:
        loaded.skipped.append(Skipped(trace_id, str(exc)))
        _say(loaded, session, f"skipped trace {trace_id}: {exc}")

    results = fetch_traces(
        session.backend(), unique, session.settings.concurrency, progress, failed if skip_failed else None
    )
    for result in results:
        if result is None:
            continue
        loaded.results.append(result)
        for note in result.notes:
            _say(loaded, session, f"{result.source}: {note}")
    return loaded


def drop_repeated_traces(loaded: Loaded, session: Session | None = None) -> None:
    """Keep each trace ID once (its first source): a trace in two files, or in a file and a fetch, is one
    trace to every count and every percentile. Each repeat is said once."""
    first: dict[str, str] = {}
    repeats: dict[str, list[str]] = {}
    kept: list[LoadResult] = []
    for result in loaded.results:
        traces = []
        for trace in result.traces:
            if trace.trace_id in first:
                repeats.setdefault(trace.trace_id, []).append(result.source)
            else:
                first[trace.trace_id] = result.source
                traces.append(trace)
        if len(traces) == len(result.traces):
            kept.append(result)
        elif traces:
            kept.append(dataclasses.replace(result, traces=traces))
    loaded.results = kept
    for trace_id, sources in repeats.items():
        _say(loaded, session, repeated_trace_warning(trace_id, first[trace_id], sources))


def _no_backend(arg: str) -> Loaded:
    raise InputError(f"{arg}: no such file; to fetch traces by ID, configure a backend (--tempo-url/--jaeger-url)")


def select_traces(loaded: LoadResult, trace_id: str | None) -> list[Trace]:
    """All traces of a source, or the one ``--trace-id`` names (in any ID encoding, or as a traceparent)."""
    if trace_id is None:
        return loaded.traces
    try:
        wanted = trace_id_of(trace_id)
    except InvalidId as exc:
        raise InputError(f"--trace-id: {exc}") from None
    chosen = [t for t in loaded.traces if t.trace_id == wanted]
    if not chosen:
        have = ", ".join(t.trace_id for t in loaded.traces[:5])
        raise InputError(f"{loaded.source}: no trace {wanted} in this file (it holds {have})")
    return chosen
