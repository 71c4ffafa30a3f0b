"""Sniff what a file or payload is and read it with the right reader.

JSON shapes recognised (BACKENDS.md): ``{"resourceSpans"}`` (OTLP), ``{"batches"}`` (Tempo v1),
``{"trace": …}`` (Tempo v2, ``status: PARTIAL`` noted), ``{"result": …}`` (Jaeger v3),
``{"data": [...]}`` (Jaeger v1 and UI download), a bare Jaeger trace ``{"traceID", "spans", "processes"}``,
a list of any of these, and JSON Lines of them (the OpenTelemetry Collector's file exporter). Anything
that is not JSON is tried as OTLP protobuf.

JSON is read first by ``fastjson`` (msgspec, straight into span columns); what it does not vouch for is read by
orjson and the checked readers below, which give every error message.
"""

from __future__ import annotations

import gc
import sys
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import orjson

from tracectl.errors import FormatError, InputError
from tracectl.formats import jaeger_json, otlp_json, otlp_proto
from tracectl.model import Span, Trace, group_traces

if TYPE_CHECKING:
    from collections.abc import Callable

_EXPECTED = "expected OTLP JSON or protobuf, a Tempo or a Jaeger trace"


@dataclass(slots=True)
class LoadResult:
    """Traces read from one source, with notes about the source itself (e.g. Tempo's PARTIAL status)."""

    source: str
    traces: list[Trace]
    format: str
    notes: list[str] = field(default_factory=list)

    def only(self, trace_id: str) -> LoadResult:
        """This answer to "trace ``trace_id``" holding that trace alone: a backend answer that also held others (a
        misbehaving proxy, a sharding bug) must not add them to a count; what was dropped is noted once."""
        others = [t.trace_id for t in self.traces if t.trace_id != trace_id]
        if not others:
            return self
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        note = f"the answer also held {len(others)} other trace(s) ({shown}): dropped, only the asked one is used"
        kept = [t for t in self.traces if t.trace_id == trace_id]
        return LoadResult(self.source, kept, self.format, [*self.notes, note])


def read_bytes(data: bytes, source: str, allow_empty: bool = False, compact: bool = False) -> LoadResult:
    """Read traces from bytes of any supported format. Raises ``FormatError`` naming ``source``.

    ``allow_empty``: a well-formed document without spans gives no traces instead of an error (backends use
    it to tell "not found" from bad data). ``compact``: the traces will be held with many others, so their
    attributes are made compact at once (dicts of shared strings) rather than kept as decoded until asked for
    (faster to read, bigger to hold: what a file analysed and dropped wants)."""
    if not gc.isenabled():  # paused already (a bulk load)
        return _read_bytes(data, source, allow_empty, compact)
    gc.disable()  # paused_gc, without a context manager per file (a blame reads thousands)
    try:
        return _read_bytes(data, source, allow_empty, compact)
    finally:
        gc.enable()


def _read_bytes(data: bytes, source: str, allow_empty: bool, compact: bool = False) -> LoadResult:
    head = data.lstrip()[:1]
    if not head:
        if allow_empty:
            return LoadResult(source, [], "empty")
        raise FormatError(source, "empty input: no trace data")
    if head in (b"{", b"["):
        try:
            result = _read_json(data, source, compact)
        except FormatError:
            # Protobuf starts with the tag byte 0x0a, a newline: after it, a length of 123 or 91 reads as "{" or
            # "[". Binary data that fails as JSON is therefore tried as protobuf before the JSON error stands.
            if _looks_like_text(data):
                raise
            try:
                return _read_proto(data, source, allow_empty)
            except FormatError:
                pass
            raise
        return result if allow_empty else _check_not_empty(result)
    if _looks_like_text(data):
        start = data.lstrip()[:20].decode("utf-8", "replace").splitlines()[0]
        raise FormatError(source, f"not JSON and not protobuf (starts with {start!r}); {_EXPECTED}")
    return _read_proto(data, source, allow_empty)


def _read_proto(data: bytes, source: str, allow_empty: bool) -> LoadResult:
    traces, status = otlp_proto.read_bytes(data, source, allow_empty)
    result = LoadResult(source, traces, "otlp-proto")
    if status == "PARTIAL":
        result.notes.append("Tempo marked this trace PARTIAL: it was too large and some spans are missing")
    return result if allow_empty else _check_not_empty(result)


def read_source(name: str, compact: bool = False) -> LoadResult:
    """Read a file path, or standard input for ``-``; gzip-compressed input (any name) is read transparently.
    ``compact``: as ``read_bytes``."""
    if name == "-":
        return read_bytes(gunzip_if_needed(sys.stdin.buffer.read(), "<stdin>"), "<stdin>", compact=compact)
    return read_bytes(read_file(name), name, compact=compact)


def read_file(name: str, label: str = "", expected: str = "a trace file") -> bytes:
    """A file's bytes, decompressed when gzip; a missing or unreadable file is one ``InputError`` line, prefixed
    with ``label`` (the flag that named it)."""
    where = f"{label} {name}" if label else name
    try:
        # unbuffered, no Path object: one read of the whole file (a blame reads thousands of small ones)
        with open(name, "rb", buffering=0) as f:  # noqa: PTH123
            data = f.readall()
    except FileNotFoundError:
        raise InputError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{where}: is a directory, expected {expected}") from None
    except OSError as exc:
        raise InputError(f"{where}: cannot read: {exc.strerror or exc}") from None
    return gunzip_if_needed(data, name)


GZIP_MAGIC = b"\x1f\x8b"


def gunzip_if_needed(data: bytes, source: str) -> bytes:
    """``data`` decompressed when it is gzip (recognised by its magic bytes, not the file name)."""
    if not data.startswith(GZIP_MAGIC):
        return data
    import gzip
    import zlib

    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise FormatError(source, f"gzip data is corrupt or truncated ({exc})") from None


def _looks_like_text(data: bytes) -> bool:
    sample = data[:512]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\r\n\t" for c in text)


@cache
def _fast_read() -> Callable[[bytes, bool], tuple[list[Trace], str, list[str]] | None]:
    """``fastjson.read``, imported once (an import statement per file costs more than this look-up)."""
    from tracectl.formats import fastjson  # deferred: msgspec is not needed by `tracectl --help`

    return fastjson.read


def _read_json(data: bytes, source: str, compact: bool = False) -> LoadResult:
    fast = _fast_read()(data, compact)
    if fast is not None:
        return LoadResult(source, *fast)
    try:
        docs: list[Any] = [orjson.loads(data)]
    except orjson.JSONDecodeError as exc:
        docs = _json_lines(data, source, exc)
    spans: list[Span] = []
    formats: set[str] = set()
    notes: list[str] = []
    for doc in docs:
        _collect(doc, source, spans, formats, notes, depth=0)
    return LoadResult(source, group_traces(spans), "+".join(sorted(formats)) or "json", notes)


def _json_lines(data: bytes, source: str, first_error: orjson.JSONDecodeError) -> list[Any]:
    lines = [ln for ln in data.splitlines() if ln.strip()]
    if len(lines) < 2:
        raise FormatError(
            source, f"not valid JSON: {first_error.msg} at line {first_error.lineno}, column {first_error.colno}"
        )
    docs = []
    for n, line in enumerate(lines, 1):
        try:
            docs.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            raise FormatError(source, f"not valid JSON (or JSON Lines): line {n}: {exc.msg}") from None
    return docs


def _collect(doc: Any, source: str, spans: list[Span], formats: set[str], notes: list[str], depth: int) -> None:
    if isinstance(doc, list):
        if depth > 0:
            raise FormatError(source, f"JSON of an unexpected shape (nested list); {_EXPECTED}")
        if doc and all(isinstance(d, dict) and "spans" in d for d in doc):
            spans.extend(s for t in jaeger_json.read_traces(doc, source, where="") for s in t.spans)
            formats.add("jaeger-json")
            return
        for item in doc:
            _collect(item, source, spans, formats, notes, depth + 1)
        return
    if not isinstance(doc, dict):
        raise FormatError(source, f"JSON of an unexpected shape (a {type(doc).__name__}); {_EXPECTED}")
    if not doc:
        return  # `{}`: no spans (Tempo's "not found" can look like this)
    if "resourceSpans" in doc:
        spans.extend(otlp_json.read_resource_spans(doc["resourceSpans"] or [], source))
        formats.add("otlp-json")
    elif "batches" in doc:
        spans.extend(otlp_json.read_resource_spans(doc["batches"] or [], source, top_key="batches"))
        formats.add("otlp-json")
    elif isinstance(doc.get("trace"), dict):  # Tempo v2 trace-by-ID
        if doc.get("status") == "PARTIAL":
            notes.append(f"Tempo marked this trace PARTIAL: {doc.get('message') or 'some spans are missing'}")
        inner = doc["trace"]
        key = "batches" if "batches" in inner else "resourceSpans"
        spans.extend(otlp_json.read_resource_spans(inner.get(key) or [], source, top_key=f"trace.{key}"))
        formats.add("tempo-json")
    elif isinstance(doc.get("result"), dict):  # Jaeger v3
        spans.extend(
            otlp_json.read_resource_spans(doc["result"].get("resourceSpans") or [], source, "result.resourceSpans")
        )
        formats.add("jaeger-v3-json")
    elif isinstance(doc.get("data"), list):  # Jaeger v1 envelope / UI download
        _jaeger_errors(doc, source)
        spans.extend(s for t in jaeger_json.read_traces(doc["data"], source) for s in t.spans)
        formats.add("jaeger-json")
    elif isinstance(doc.get("spans"), list) and ("processes" in doc or "traceID" in doc):
        spans.extend(s for t in jaeger_json.read_traces([doc], source, where="trace") for s in t.spans)
        formats.add("jaeger-json")
    elif "error" in doc or "errors" in doc:
        raise FormatError(source, f"holds an error response, not a trace: {_error_text(doc)}")
    elif isinstance(doc.get("traces"), list):
        raise FormatError(source, "holds search results (a list of trace summaries), not a trace")
    else:
        keys = ", ".join(sorted(doc)[:6]) or "none"
        raise FormatError(source, f"JSON of an unexpected shape (top-level keys: {keys}); {_EXPECTED}")


def _jaeger_errors(doc: dict[str, Any], source: str) -> None:
    if doc.get("errors") and not doc["data"]:
        raise FormatError(source, f"holds a Jaeger error response, not a trace: {_error_text(doc)}")


def _error_text(doc: dict[str, Any]) -> str:
    err = doc.get("error") or doc.get("errors")
    if isinstance(err, list) and err:
        err = err[0]
    if isinstance(err, dict):
        return str(err.get("message") or err.get("msg") or err)
    return str(err)


def _check_not_empty(result: LoadResult) -> LoadResult:
    if not result.traces:
        raise FormatError(result.source, "no spans found: the trace is empty")
    return result
