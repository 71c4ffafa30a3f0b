"""The one HTTP layer every backend uses: base URL (with a path prefix), auth, tenant, TLS, timeouts, retries,
and the two limits that hold against any server: a byte budget per response and a deadline per command.

- **Retries** (exponential backoff with full jitter) on connection errors, timeouts, 429 (honouring
  ``Retry-After``) and 502/503/504; never on other 4xx, which a retry cannot fix.
- **Deadline**: one ``Deadline`` is shared by every request of a command (all clients): attempts, retry waits,
  slow bodies and fall-throughs to older APIs all count against it. Each attempt's timeouts are cut to the time
  left, and a watchdog cuts a body that is still dripping when it runs out. Over it: ``DeadlineExceeded`` (exit 3).
- **Byte budget**: bodies are streamed and decoded here (``tracectl.backends.body``), their *decoded* bytes
  counted (a gzip bomb is a big body too) up to a
  budget per kind of response (``BUDGET_MB``; ``max_response_mb`` replaces them). Over it: ``ResponseTooLarge``
  (exit 5). Of an error answer only the first ``ERROR_BODY_BYTES`` are read: only its first line is shown.
- **Redirects** are followed here, at most ``MAX_REDIRECTS`` hops; credentials and tenant (``Authorization``,
  ``X-Scope-OrgID``, every configured header) go only to the configured origin, never to another one.
- **Secrets**: messages name the backend and the URL path, never headers or userinfo; text a server sends back
  (error bodies) is scrubbed of the request's credentials in every form (``tracectl.redact``).
"""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx

from tracectl.backends.body import ACCEPT_ENCODING, OutOfTime, OverBudget, Undecodable, read_body
from tracectl.config import header_problem
from tracectl.errors import BackendError, BackendUnreachable, DeadlineExceeded, InputError, ResponseTooLarge
from tracectl.redact import basic_forms, header_secrets, redact, url_secrets

RETRY_STATUSES = frozenset({429, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
MB = 1 << 20
# The most tracectl reads of one successful response, by kind (MB). A 100,000-span trace is ~35 MB of OTLP JSON;
# Jaeger's search answers whole traces. Peak memory stays under ~300 MB whatever a server sends.
BUDGET_MB: dict[str, float] = {"trace": 128, "search": 128, "logs": 64, "metrics": 32, "metadata": 1}
KIND_NAMES = {"trace": "a trace", "search": "a search", "logs": "a page of log lines", "metrics": "a metrics query",
              "metadata": "a metadata request"}  # fmt: skip
ERROR_BODY_BYTES = 64 * 1024
LIMITS_HELP = "raise it with --max-response-mb (TRACECTL_MAX_RESPONSE_MB)"


@dataclass(frozen=True, slots=True)
class HttpConfig:
    base_url: str
    name: str = "backend"  # "Tempo", "Jaeger", "Loki": used in messages
    headers: Mapping[str, str] = field(default_factory=dict)  # custom headers and X-Scope-OrgID
    bearer_token: str | None = None
    basic_auth: tuple[str, str] | None = None
    verify: bool | str = True  # False (--insecure) or a CA bundle path
    timeout_s: float = 30.0  # per attempt (connect, and each read), cut to what is left of the deadline
    deadline_s: float = 120.0  # per request, only when the client is given no shared Deadline
    retries: int = 4
    backoff_s: float = 0.25
    backoff_max_s: float = 8.0
    max_connections: int = 8
    max_response_mb: float | None = None  # None: BUDGET_MB per kind of response
    safe_headers: tuple[str, ...] = ()  # header names whose values are not secret (shown in messages)


class Deadline:
    """The time one command may spend on the network, shared by every request it makes."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic, started: float | None = None):
        self.seconds = seconds
        self._clock = clock
        self._end = (clock() if started is None else started) + seconds

    def remaining(self) -> float:
        return self._end - self._clock()

    def exceeded(self, name: str, doing: str) -> DeadlineExceeded:
        return DeadlineExceeded(
            f"{name}: the deadline of {self.seconds:g} s ran out {doing}; "
            "raise it with --timeout (TRACECTL_TIMEOUT) if the backend is just slow"
        )


def safe_url(url: httpx.URL | str) -> str:
    """The URL without userinfo or query string, for messages."""
    u = httpx.URL(str(url))
    return str(u.copy_with(username=None, password=None, query=None))


def body_excerpt(response: httpx.Response, limit: int = 200) -> str:
    """The first line of an error body (Tempo and Loki answer in plain text; Jaeger in JSON envelopes)."""
    try:
        text = response.text.strip()
    except (httpx.HTTPError, UnicodeDecodeError, LookupError):
        return ""
    first = text.splitlines()[0] if text else ""
    return first[:limit] + ("…" if len(first) > limit else "")


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


class HttpClient:
    """A thread-safe client for one backend. ``transport``, ``sleep`` and ``clock`` are injectable for tests;
    ``deadline`` is the command's (without it, each request gets ``config.deadline_s`` of its own)."""

    def __init__(
        self,
        config: HttpConfig,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        deadline: Deadline | None = None,
        observer: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self._observe = observer or (lambda _message: None)
        self._sleep = sleep
        self._clock = clock
        self._deadline = deadline
        base = httpx.URL(config.base_url.rstrip("/") + "/")
        basic = config.basic_auth
        if base.username or base.password:  # userinfo in the URL: Basic auth under our control, like any other
            basic = basic or (base.username, base.password)
            base = base.copy_with(username=None, password=None)
        self._origin = _origin(base)
        # Sent only to the configured origin (see _attempt); never in a message.
        self._credentials = dict(config.headers)
        if basic:
            self._credentials["Authorization"] = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
        elif config.bearer_token:
            self._credentials["Authorization"] = f"Bearer {config.bearer_token}"
        for name, value in self._credentials.items():  # a token or tenant with a line break cannot be sent
            problem = header_problem(name, value)
            if problem:
                raise InputError(f"{config.name}: {problem}")
        self._secrets = [
            *header_secrets(self._credentials, config.safe_headers),
            *(basic_forms(*basic) if basic else ()),
            *url_secrets(config.base_url),
            *([config.bearer_token] if config.bearer_token else []),
        ]
        self._client = httpx.Client(
            base_url=base,
            verify=_checked_verify(config.verify),
            timeout=config.timeout_s,
            transport=transport,
            limits=httpx.Limits(
                max_connections=config.max_connections, max_keepalive_connections=config.max_connections
            ),
            follow_redirects=False,  # followed by hand: credentials must not follow to another origin
            headers={"Accept-Encoding": ACCEPT_ENCODING},
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def redact(self, text: str) -> str:
        """``text`` without this client's credentials, in any form (for anything a server sent back)."""
        return redact(text, self._secrets)

    def excerpt(self, response: httpx.Response, limit: int = 200) -> str:
        """The first line of an error body, scrubbed of the request's credentials."""
        return self.redact(body_excerpt(response, limit))

    def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        accept: str | None = None,
        headers: Mapping[str, str] | None = None,
        kind: str = "metadata",
    ) -> httpx.Response:
        """GET ``path`` (relative to the base URL, prefix kept), following redirects, with retries. Returns the
        final response, whatever its status, its body read within the budget of ``kind`` (``BUDGET_MB``).

        Raises ``BackendUnreachable`` when no response could be had, ``DeadlineExceeded`` when the deadline ran out,
        ``ResponseTooLarge`` over the budget, ``BackendError`` for redirect loops and undecodable bodies."""
        deadline = self._deadline or Deadline(self.config.deadline_s, self._clock)
        extra = dict(headers or {})
        if accept:
            extra["Accept"] = accept
        url = first = self._client.build_request("GET", path.lstrip("/"), params=params).url
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._with_retries(url, extra, kind, deadline)
            location = response.headers.get("location")
            if response.status_code not in REDIRECT_STATUSES or not location:
                return response
            url = self._redirect_target(url, location)
        raise BackendError(
            f"{self.config.name} redirected {safe_url(first)} more than {MAX_REDIRECTS} times (a redirect loop)"
        )

    def _redirect_target(self, url: httpx.URL, location: str) -> httpx.URL:
        try:
            target = url.join(location)
        except httpx.InvalidURL:
            target = None
        if target is None or target.scheme not in ("http", "https"):
            raise BackendError(f"{self.config.name} redirected {safe_url(url)} to an unusable location")
        return target

    def _with_retries(self, url: httpx.URL, extra: dict[str, str], kind: str, deadline: Deadline) -> httpx.Response:
        cfg = self.config
        attempt = 0
        self._observe(f"waiting for {cfg.name} ({safe_url(url)})")
        while True:
            if deadline.remaining() <= 0:
                raise deadline.exceeded(cfg.name, f"before asking {safe_url(url)}")
            try:
                response: httpx.Response | None = self._attempt(url, extra, kind, deadline)
                problem = ""
            except httpx.TimeoutException as exc:
                if deadline.remaining() <= 0:
                    raise deadline.exceeded(cfg.name, f"waiting for {safe_url(url)}") from None
                response, problem = None, f"timed out after {cfg.timeout_s:g} s ({type(exc).__name__})"
            except httpx.TransportError as exc:
                if _certificate_failure(exc):  # the same certificate fails the same way every time: no retry
                    raise BackendUnreachable(
                        f"{cfg.name} at {safe_url(url)}: {self.redact(_describe_transport_error(exc))} (the server's "
                        "TLS certificate was refused: give its CA with --ca-cert, or --insecure on a trusted network)"
                    ) from None
                response, problem = None, _describe_transport_error(exc)
            if response is not None and response.status_code not in RETRY_STATUSES:
                return response
            wait = self._next_wait(attempt, response)
            if attempt >= cfg.retries or wait >= deadline.remaining():
                if response is not None:
                    return response  # a 429/5xx the caller reports with the server's own words
                raise BackendUnreachable(
                    f"{cfg.name} at {safe_url(url)}: {self.redact(problem)}; gave up after {attempt + 1} attempt(s)"
                )
            why = self.redact(problem) or f"answered {response.status_code}"  # type: ignore[union-attr]
            self._observe(f"{cfg.name} {why}; retry {attempt + 1} of {cfg.retries} in {wait:.1f} s")
            self._sleep(wait)
            attempt += 1

    def _attempt(self, url: httpx.URL, extra: dict[str, str], kind: str, deadline: Deadline) -> httpx.Response:
        """One request: connect and each read bounded by what is left of the deadline, the body by the budget."""
        timeout = max(min(self.config.timeout_s, deadline.remaining()), 0.001)
        headers = {**(self._credentials if _origin(url) == self._origin else {}), **extra}
        request = self._client.build_request("GET", url, headers=headers, timeout=timeout)
        response = self._client.send(request, stream=True)
        try:
            body = self._read_body(response, kind, deadline)
        finally:
            response.close()
        drop = ("content-encoding", "content-length")  # the body kept is decoded
        kept = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in drop]
        return httpx.Response(response.status_code, headers=kept, content=body, request=request)

    def _read_body(self, response: httpx.Response, kind: str, deadline: Deadline) -> bytes:
        success = 200 <= response.status_code < 300
        limit = self.budget(kind) if success else ERROR_BODY_BYTES
        declared = response.headers.get("content-length", "")
        if success and declared.isdigit() and int(declared) > limit and "content-encoding" not in response.headers:
            raise self._too_large(kind, response.url)
        try:
            return read_body(response, limit, deadline.remaining, truncate=not success)
        except OverBudget:
            raise self._too_large(kind, response.url) from None
        except OutOfTime:
            raise deadline.exceeded(self.config.name, f"reading {safe_url(response.url)}") from None
        except Undecodable as exc:
            if not success:
                return b""  # an error page in a strange encoding: the status says enough
            encoding = response.headers.get("content-encoding", "")
            raise BackendError(
                f"{self.config.name} sent a body that is not what its Content-Encoding ({encoding}) says "
                f"({safe_url(response.url)}: {_root_cause(exc)})"
            ) from None

    def budget(self, kind: str) -> int:
        """The most bytes read of one successful response of ``kind``."""
        return int(self._budget_mb(kind) * MB)

    def _budget_mb(self, kind: str) -> float:
        return self.config.max_response_mb or BUDGET_MB.get(kind, BUDGET_MB["metadata"])

    def _too_large(self, kind: str, url: httpx.URL) -> ResponseTooLarge:
        mb = self._budget_mb(kind)
        return ResponseTooLarge(
            f"{self.config.name} sent more than {mb:g} MB for {KIND_NAMES.get(kind, kind)} ({safe_url(url)}): "
            f"stopped reading; if an answer this big is expected, {LIMITS_HELP}"
        )

    def _next_wait(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None and response.status_code == 429:
            retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
            if retry_after is not None:
                return retry_after
        ceiling = min(self.config.backoff_max_s, self.config.backoff_s * 2**attempt)
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not security

    def error(self, response: httpx.Response, what: str) -> BackendError:
        """A one-line ``BackendError`` for an unexpected status: backend, what was asked, status, server's words."""
        excerpt = self.excerpt(response)
        hint = ""
        if response.status_code in (401, 403):
            hint = " (check --token-file / --org-id / credentials)"
        return BackendError(
            f"{self.config.name} answered {response.status_code} to {what}" + (f": {excerpt}" if excerpt else "") + hint
        )


def _checked_verify(verify: bool | str) -> bool | str:
    """A CA bundle path must name a readable file: a missing one is the user's mistake (exit 2), not a crash."""
    if isinstance(verify, str):
        path = Path(verify).expanduser()
        if not path.is_file():
            raise InputError(f"CA certificate {verify}: no such file (--ca-cert / TRACECTL_CA_CERT_PATH)")
        import ssl

        try:
            ssl.create_default_context(cafile=str(path))
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise InputError(f"CA certificate {verify}: not a PEM certificate bundle ({_root_cause(exc)})") from None
        return str(path)
    return verify


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _describe_transport_error(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({_root_cause(exc)})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the connection broke mid-response ({_root_cause(exc)})"
    return f"{type(exc).__name__}: {_root_cause(exc)}"


def _certificate_failure(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a refused TLS certificate: retrying cannot change that."""
    import ssl

    seen: BaseException | None = exc
    for _ in range(8):  # httpx → httpcore → ssl: a short chain
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _root_cause(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:160]
