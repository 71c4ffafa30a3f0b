"""Where a ``TRACE`` argument comes from: a file, standard input, or (with a backend) a trace ID.

Every command that takes traces goes through ``load_trace_arg`` (one), ``load_many`` (many) or ``load_inputs``
(many, or what a search finds): files are read (``.gz`` transparently), directories and quoted globs expanded,
and anything else must be a valid trace ID, checked before it can reach a URL, then fetched through the
session's backend. A W3C ``traceparent`` (``00-<trace ID>-<span ID>-<flags>``) works wherever a trace ID does,
and names a span too (``selected_span``).
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

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


def expand_trace_args(args: list[str]) -> list[str]:
    """Files, directories (their files, sorted, hidden ones skipped), quoted globs and ``-`` → file list."""
    out: list[str] = []
    for arg in args:
        path = Path(arg)
        if arg == "-" or path.is_file():
            out.append(arg)
        elif path.is_dir():
            files = sorted(str(p) for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            if not files:
                raise InputError(f"{arg}: directory holds no files")
            out.extend(files)
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


@dataclass(slots=True)
class Loaded:
    """Traces read from many sources, with the warnings about sources that were skipped or partial."""

    results: list[LoadResult]
    warnings: list[str] = field(default_factory=list)

    @property
    def traces(self) -> list[Trace]:
        return [t for r in self.results for t in r.traces]


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


def load_many(
    args: list[str], session: Session | None = None, progress: Update | None = None, skip_bad: bool = False
) -> Loaded:
    """Every source named by ``args``: files first, then trace IDs fetched concurrently; ``progress(done, total)``.

    A bad source fails the whole load (exit 2) unless ``skip_bad``, which makes it a warning."""
    names = expand_trace_args(args)
    files = [n for n in names if is_file_arg(n)]
    ids = [n for n in names if not is_file_arg(n)]
    loaded = Loaded([])
    for n, name in enumerate(files, 1):
        try:
            loaded.results.append(load_trace_arg(name))
        except FormatError as exc:
            if not skip_bad:
                raise
            loaded.warnings.append(f"skipped {exc}")
            if session is not None:
                session.warn(loaded.warnings[-1])
        if progress is not None:
            progress(n, len(names))
    if ids:
        checked = [normalize_or_fail(i) for i in ids]  # every ID is checked before any request is made
        if session is None or session.settings.effective_backend == "file":
            return _no_backend(ids[0])
        offset = len(files)

        def fetched(done: int, _total: int) -> None:
            if progress is not None:
                progress(offset + done, len(names))

        results, warnings = session.fetch_many(checked, fetched, skip_failed=skip_bad)
        loaded.results.extend(r for r in results if r is not None)
        loaded.warnings.extend(warnings)
    if not loaded.results:
        raise InputError("no readable trace among the inputs")
    return loaded


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
