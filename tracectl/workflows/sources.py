"""Where a ``TRACE`` argument comes from: a file, standard input, or (with a backend) a trace ID.

Every command that takes traces goes through ``load_trace_arg`` (one) or ``load_many`` (many): files are read
(``.gz`` transparently), directories and quoted globs expanded, and anything else must be a valid trace ID,
checked before it can reach a URL, then fetched through the session's backend.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tracectl.errors import FormatError, InputError
from tracectl.ids import InvalidId, normalize_trace_id

if TYPE_CHECKING:
    from tracectl.formats.detect import LoadResult
    from tracectl.model import Trace
    from tracectl.workflows.session import Session, Update


def is_file_arg(arg: str) -> bool:
    return arg == "-" or Path(arg).exists()


def normalize_or_fail(arg: str) -> str:
    try:
        return normalize_trace_id(arg)  # validated before it can reach a URL
    except InvalidId:
        raise InputError(f"{arg}: no such file, and not a trace ID (32 hex characters, or base64)") from None


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
    """All traces of a source, or the one ``--trace-id`` names (in any ID encoding)."""
    if trace_id is None:
        return loaded.traces
    try:
        wanted = normalize_trace_id(trace_id)
    except InvalidId as exc:
        raise InputError(f"--trace-id: {exc}") from None
    chosen = [t for t in loaded.traces if t.trace_id == wanted]
    if not chosen:
        have = ", ".join(t.trace_id for t in loaded.traces[:5])
        raise InputError(f"{loaded.source}: no trace {wanted} in this file (it holds {have})")
    return chosen
