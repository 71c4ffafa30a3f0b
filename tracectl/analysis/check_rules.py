"""The per-span instrumentation rules of ``tracectl check`` (pure), each a function of one span.

A rule function returns ``None`` when the rule does not apply to the span, ``""`` when the span passes, and a
short description of what is wrong otherwise (findings group spans by that description). The rules that need
more than one span (propagation, missing parents, clock skew) live in ``tracectl.analysis.checks``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from tracectl.analysis.tree import MAX_VALID_NS, MIN_VALID_NS
from tracectl.model import UNKNOWN_SERVICE, AttrValue, Span, SpanKind, StatusCode

# ------------------------------------------------------------------------------------------------ service.name


def service_name(span: Span) -> str | None:
    name = span.resource.attributes.get("service.name")
    if not isinstance(name, str) or not name.strip():
        return "no service.name on the resource"
    if name.startswith(UNKNOWN_SERVICE):
        return f"the SDK's default service.name {name!r}"
    return ""


# ------------------------------------------------------------------------------------------------ span kind


def span_kind(span: Span) -> str | None:
    return "no span kind" if span.kind is SpanKind.UNSPECIFIED else ""


# ------------------------------------------------------------------------------------------------ span names

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_HEX_ID = re.compile(r"(?<![0-9A-Za-z])(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{16,}(?![0-9A-Za-z])")
_QUERY = re.compile(r"\?[^\s/]*=[^\s]*")
_PATH_NUMBER = re.compile(r"(?<=/)\d+(?=/|$|\s|\?|#)")
_LONG_NUMBER = re.compile(r"(?<![\w.])\d{3,}(?![\w.])")


def name_template(name: str) -> str:
    """``name`` with what varies per request replaced: UUIDs, long hex IDs, e-mail addresses, query strings,
    numeric path segments and standalone numbers of three digits or more."""
    out = _UUID.sub("{uuid}", name)
    out = _EMAIL.sub("{email}", out)
    out = _HEX_ID.sub("{hex}", out)
    out = _QUERY.sub("?{query}", out)
    out = _PATH_NUMBER.sub("{n}", out)
    return _LONG_NUMBER.sub("{n}", out)


def span_name(span: Span) -> str | None:
    if not span.name.strip():
        return "empty span names"
    template = name_template(span.name)
    return f"names like {template!r}" if template != span.name else ""


# ------------------------------------------------------------------------------------------------ semantic conventions

_STATUS_CODE = ("http.response.status_code", "http.status_code")
_METHOD = ("http.request.method", "http.method")
_CLIENT_TARGET = ("url.full", "http.url", "server.address", "net.peer.name", "http.host")
_PEER = (*_CLIENT_TARGET, "peer.service", "db.system", "db.system.name", "messaging.system", "rpc.system",
         "network.peer.address", "net.peer.ip")  # fmt: skip
_NO_ROUTE_STATUSES = (404, 405)  # nothing matched a route: there is no route to record


def _first(attrs: Mapping[str, AttrValue], names: tuple[str, ...]) -> AttrValue | None:
    return next((attrs[n] for n in names if n in attrs and attrs[n] != ""), None)


def status_code(span: Span) -> int | None:
    value = _first(span.attributes, _STATUS_CODE)
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _has_prefix(attrs: Mapping[str, AttrValue], prefix: str) -> bool:
    return any(k.startswith(prefix) for k in attrs)


def _http_missing(span: Span) -> list[str]:
    attrs = span.attributes
    failed_early = "error.type" in attrs or span.is_error  # no response: no status code to record
    missing = []
    if span.kind is SpanKind.SERVER:
        if "http.route" not in attrs and status_code(span) not in _NO_ROUTE_STATUSES:
            missing.append("http.route")
    elif _first(attrs, _CLIENT_TARGET) is None:
        missing.append("url.full")
    if _first(attrs, _STATUS_CODE) is None and not failed_early:
        missing.append("http.response.status_code")
    return missing


def semantic_conventions(span: Span) -> str | None:
    """Key attributes per span type: HTTP server and client, database, messaging, RPC, and any CLIENT span."""
    attrs = span.attributes
    kind = span.kind
    if _first(attrs, _METHOD) is not None and kind in (SpanKind.SERVER, SpanKind.CLIENT):
        missing = _http_missing(span)
        what = f"HTTP {kind.label} spans"
    elif _has_prefix(attrs, "db."):
        missing = [] if _first(attrs, ("db.system", "db.system.name")) is not None else ["db.system"]
        what = "database spans"
    elif _has_prefix(attrs, "messaging.") or kind in (SpanKind.PRODUCER, SpanKind.CONSUMER):
        missing = [n for n in ("messaging.system",) if n not in attrs]
        if _first(attrs, ("messaging.destination.name", "messaging.destination")) is None:
            missing.append("messaging.destination.name")
        what = f"{kind.label if kind is not SpanKind.UNSPECIFIED else 'messaging'} spans"
    elif _has_prefix(attrs, "rpc."):
        missing = [] if "rpc.system" in attrs else ["rpc.system"]
        what = "RPC spans"
    elif kind is SpanKind.CLIENT:
        missing = [] if _first(attrs, _PEER) is not None else ["server.address"]
        what = "client spans that do not say what they call"
    else:
        return None
    return f"{what} without {', '.join(missing)}" if missing else ""


# ------------------------------------------------------------------------------------------------ errors

_ERROR_CAUSE = ("error.type", "exception.type", "exception.message", "rpc.grpc.status_code")


def _http_error(span: Span) -> bool:
    code = status_code(span)
    if code is None:
        return False
    return code >= 500 or (code >= 400 and span.kind is SpanKind.CLIENT)


def error_status(span: Span) -> str | None:
    """Errors recorded consistently: an ERROR status where the span failed, with something saying why."""
    has_exception = any(e.name == "exception" for e in span.events)
    http_error = _http_error(span)
    if not (span.is_error or has_exception or span.status_message or http_error):
        return None
    if span.is_error:
        if span.status_message or has_exception or http_error or _first(span.attributes, _ERROR_CAUSE) is not None:
            return ""
        return "ERROR status with no message, exception event or error.type"
    if http_error:
        return f"HTTP {status_code(span)} on a {span.kind.label} span without ERROR status"
    if has_exception and span.status is StatusCode.UNSET:
        return "exception events on spans without ERROR status"
    if span.status_message:
        return f"a status message on a span whose status is {span.status.name} (only ERROR carries one)"
    return ""


# ------------------------------------------------------------------------------------------------ times


def _valid(ns: int) -> bool:
    return MIN_VALID_NS <= ns <= MAX_VALID_NS


def span_duration(span: Span) -> str | None:
    if span.end_ns == 0:
        return "spans that never ended (no end time)"
    if not _valid(span.start_ns) or not _valid(span.end_ns):
        return "missing or absurd timestamps"
    if span.end_ns < span.start_ns:
        return "spans that end before they start"
    if span.end_ns == span.start_ns:
        return "zero-length spans"
    return ""


# ------------------------------------------------------------------------------------------------ peers


@dataclass(frozen=True, slots=True)
class Peer:
    """What a client span calls, or what a server span serves. Empty fields are unknown."""

    method: str = ""  # HTTP method
    port: str = ""
    path: str = ""  # an HTTP path, "rpc:<method>" or "queue:<destination>"
    target: str = ""  # host, peer service or RPC service

    def agrees_with(self, served: Peer, service: str) -> bool:
        """This call can be the one that ``served`` (a server span of ``service``) handled: no field disagrees,
        and the port agrees, or the path does (an RPC method only together with its target)."""
        pairs = ((self.method, served.method), (self.port, served.port), (self.path, served.path))
        if any(a and b and a != b for a, b in pairs):
            return False
        target_agrees = bool(self.target) and self.target in (served.target, service)
        if self.target and served.target and not target_agrees:
            return False
        same_path = bool(self.path) and self.path == served.path
        return bool(self.port and self.port == served.port) or (
            same_path and (not self.path.startswith("rpc:") or target_agrees)
        )


_SERVER_PORT = ("server.port", "net.host.port")  # on a server span (old conventions) net.peer.port is the caller's
_CLIENT_PORT = ("server.port", "net.peer.port")
_SERVER_HOST = ("server.address", "net.host.name", "http.host", "http.server_name")
_CLIENT_HOST = ("peer.service", "server.address", "net.peer.name")


def peer_of(span: Span) -> Peer | None:
    """The span's ``Peer``, from the HTTP, RPC or messaging attributes of either generation of the semantic
    conventions; None when nothing says what it calls or serves."""
    attrs = span.attributes
    serving = span.kind in (SpanKind.SERVER, SpanKind.CONSUMER)
    destination = _first(attrs, ("messaging.destination.name", "messaging.destination"))
    if destination is not None:
        return Peer(path=f"queue:{destination!s}")
    port = _first(attrs, _SERVER_PORT if serving else _CLIENT_PORT)
    host = _first(attrs, _SERVER_HOST if serving else _CLIENT_HOST)
    if "rpc.method" in attrs:
        target = _first(attrs, ("rpc.service",)) or host
        return Peer(port=str(port or ""), path=f"rpc:{attrs['rpc.method']!s}", target=str(target or ""))
    url = _first(attrs, ("url.full", "http.url"))
    parts = urlsplit(str(url)) if url is not None else None
    path = str(_first(attrs, ("url.path", "http.target")) or (parts.path if parts else "")).split("?")[0]
    if port is None and parts is not None:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    if host is None and parts is not None:
        host = parts.hostname
    if not (path or port):
        return None
    method = str(_first(attrs, _METHOD) or "")
    return Peer(method, str(port or ""), path, str(host or "").split(":")[0])
