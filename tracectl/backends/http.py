"""The one HTTP layer every backend uses: base URL (with a path prefix), auth, tenant, TLS, timeouts, retries.

Retries (exponential backoff with full jitter) happen on connection errors, timeouts, 429 (honouring
``Retry-After``) and 502/503/504 — never on other 4xx, which a retry cannot fix. Every request has a deadline
that bounds all its attempts and waits. Credentials live only in the client's headers: messages name the
backend and the URL path, never headers, tokens or userinfo.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from tracectl.errors import BackendError, BackendUnreachable

RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class HttpConfig:
    base_url: str
    name: str = "backend"  # "Tempo", "Jaeger", "Loki": used in messages
    headers: Mapping[str, str] = field(default_factory=dict)  # custom headers and X-Scope-OrgID
    bearer_token: str | None = None
    basic_auth: tuple[str, str] | None = None
    verify: bool | str = True  # False (--insecure) or a CA bundle path
    timeout_s: float = 30.0  # per attempt
    deadline_s: float = 120.0  # per request, all attempts and waits included
    retries: int = 4
    backoff_s: float = 0.25
    backoff_max_s: float = 8.0
    max_connections: int = 8


def safe_url(url: httpx.URL | str) -> str:
    """The URL without userinfo or query string, for messages."""
    u = httpx.URL(str(url))
    return str(u.copy_with(username=None, password=None, query=None))


def body_excerpt(response: httpx.Response, limit: int = 200) -> str:
    """The first line of an error body (Tempo and Loki answer in plain text; Jaeger in JSON envelopes)."""
    try:
        text = response.text.strip()
    except (httpx.HTTPError, UnicodeDecodeError):
        return ""
    first = text.splitlines()[0] if text else ""
    return first[:limit] + ("…" if len(first) > limit else "")


class HttpClient:
    """A thread-safe client for one backend. ``transport``, ``sleep`` and ``clock`` are injectable for tests."""

    def __init__(
        self,
        config: HttpConfig,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        observer: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self._observe = observer or (lambda _message: None)
        self._sleep = sleep
        self._clock = clock
        headers = dict(config.headers)
        if config.bearer_token:
            headers["Authorization"] = f"Bearer {config.bearer_token}"
        auth = httpx.BasicAuth(*config.basic_auth) if config.basic_auth else None
        self._client = httpx.Client(
            base_url=config.base_url.rstrip("/") + "/",
            headers=headers,
            auth=auth,
            verify=config.verify,
            timeout=config.timeout_s,
            transport=transport,
            limits=httpx.Limits(
                max_connections=config.max_connections, max_keepalive_connections=config.max_connections
            ),
            follow_redirects=True,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        accept: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """GET ``path`` (relative to the base URL, prefix kept) with retries. Returns the final response, whatever
        its status; raises ``BackendUnreachable`` when no response could be had within the deadline."""
        cfg = self.config
        url = path.lstrip("/")
        extra = dict(headers or {})
        if accept:
            extra["Accept"] = accept
        started = self._clock()
        attempt = 0
        self._observe(f"waiting for {cfg.name} ({safe_url(self._client.base_url.join(url))})")
        while True:
            try:
                response = self._client.get(url, params=params, headers=extra or None)
                response.read()
            except httpx.TimeoutException as exc:
                problem: str | None = f"timed out after {cfg.timeout_s:g} s ({type(exc).__name__})"
                response = None
            except httpx.TransportError as exc:
                problem = _describe_transport_error(exc)
                response = None
            else:
                problem = None
            if response is not None and response.status_code not in RETRY_STATUSES:
                return response
            wait = self._next_wait(attempt, response)
            remaining = cfg.deadline_s - (self._clock() - started)
            if attempt >= cfg.retries or wait > remaining:
                if response is not None:
                    return response  # a 429/5xx the caller reports with the server's own words
                where = safe_url(self._client.base_url.join(url))
                raise BackendUnreachable(f"{cfg.name} at {where}: {problem}; gave up after {attempt + 1} attempt(s)")
            why = problem or f"answered {response.status_code}"  # type: ignore[union-attr]
            self._observe(f"{cfg.name} {why}; retry {attempt + 1} of {cfg.retries} in {wait:.1f} s")
            self._sleep(wait)
            attempt += 1

    def _next_wait(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None and response.status_code == 429:
            retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
            if retry_after is not None:
                return retry_after
        ceiling = min(self.config.backoff_max_s, self.config.backoff_s * 2**attempt)
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not security

    def error(self, response: httpx.Response, what: str) -> BackendError:
        """A one-line ``BackendError`` for an unexpected status: backend, what was asked, status, server's words."""
        excerpt = body_excerpt(response)
        hint = ""
        if response.status_code in (401, 403):
            hint = " (check --token-file / --org-id / credentials)"
        return BackendError(
            f"{self.config.name} answered {response.status_code} to {what}" + (f": {excerpt}" if excerpt else "") + hint
        )


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _describe_transport_error(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({_root_cause(exc)})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the connection broke mid-response ({_root_cause(exc)})"
    return f"{type(exc).__name__}: {_root_cause(exc)}"


def _root_cause(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:160]
