"""Where traces come from: Tempo, Jaeger (and files). One HTTP layer; concurrent fetching with a bounded pool."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING, Protocol

from tracectl.errors import DeadlineExceeded, InputError, TracectlError

if TYPE_CHECKING:
    import httpx

    from tracectl.backends.http import Deadline, HttpClient, HttpConfig
    from tracectl.backends.query import SearchQuery, SearchResult
    from tracectl.config import Settings
    from tracectl.formats.detect import LoadResult


class Backend(Protocol):
    name: str

    def search(self, q: SearchQuery) -> SearchResult: ...

    def get_trace(self, trace_id: str) -> LoadResult: ...


def http_config(settings: Settings, which: str) -> HttpConfig:
    """The HTTP settings for one backend (``tempo``, ``jaeger``, ``loki`` or ``prometheus``). Prometheus shares the
    general tenant (``X-Scope-OrgID``, as Mimir and Cortex read it) and credentials."""
    from tracectl.backends.http import HttpConfig

    url = getattr(settings, f"{which}_url")
    if not url:
        env = {"tempo": "TEMPO_ADDR", "jaeger": "JAEGER_ADDR", "loki": "LOKI_ADDR",
               "prometheus": "PROMETHEUS_ADDR"}[which]  # fmt: skip
        raise InputError(f"no {which.capitalize()} address: set --{which}-url or {env} (or a config profile)")
    loki = which == "loki"
    headers = dict(settings.headers)
    org_id = (settings.loki_org_id or settings.org_id) if loki else settings.org_id
    if org_id:
        headers["X-Scope-OrgID"] = org_id
    user, password = (settings.loki_username, settings.loki_password) if loki else (None, None)
    if not user:
        user, password = settings.username, settings.password
    insecure = settings.loki_insecure if loki and settings.loki_insecure is not None else settings.insecure
    ca_cert = (settings.loki_ca_cert or settings.ca_cert) if loki else settings.ca_cert
    return HttpConfig(
        base_url=url,
        name={"tempo": "Tempo", "jaeger": "Jaeger", "loki": "Loki", "prometheus": "Prometheus"}[which],
        headers=headers,
        bearer_token=settings.token(loki=loki),
        basic_auth=(user, password or "") if user else None,
        verify=False if insecure else (ca_cert or True),
        timeout_s=min(settings.request_timeout, settings.timeout),
        deadline_s=settings.timeout,
        retries=settings.retries,
        max_connections=max(settings.concurrency, 1),
        max_response_mb=settings.max_response_mb,
        safe_headers=tuple(settings.safe_headers),
    )


def open_http(
    settings: Settings, which: str, transport: httpx.BaseTransport | None = None, deadline: Deadline | None = None,
    observer: Callable[[str], None] | None = None,
) -> HttpClient:  # fmt: skip
    """An HTTP client for one configured service (``tempo``, ``jaeger``, ``loki`` or ``prometheus``, as
    ``http_config`` reads it). ``deadline``: the command's, shared with every other client it opens; ``observer``
    hears what each request waits on and each retry. ``LokiClient`` and ``PrometheusClient`` wrap one."""
    from tracectl.backends.http import HttpClient

    return HttpClient(http_config(settings, which), transport=transport, deadline=deadline, observer=observer)


def open_backend(
    settings: Settings, transport: httpx.BaseTransport | None = None, deadline: Deadline | None = None,
    observer: Callable[[str], None] | None = None,
) -> Backend:  # fmt: skip
    """A client for the configured trace backend (``tempo`` or ``jaeger``), over ``open_http``."""
    kind = settings.effective_backend
    if kind in ("tempo", "jaeger"):
        http = open_http(settings, kind, transport, deadline, observer)
        if kind == "tempo":
            from tracectl.backends.tempo import TempoClient

            return TempoClient(http)
        from tracectl.backends.jaeger import JaegerClient

        return JaegerClient(http)
    raise InputError("no trace backend configured: set --tempo-url/TEMPO_ADDR or --jaeger-url/JAEGER_ADDR")


def fetch_traces(
    backend: Backend,
    trace_ids: Sequence[str],
    concurrency: int = 8,
    on_done: Callable[[int, int], None] | None = None,
    on_error: Callable[[str, TracectlError], None] | None = None,
) -> list[LoadResult | None]:
    """Fetch traces concurrently (at most ``concurrency`` in flight), results in input order.

    Without ``on_error`` the first failure (in input order) is raised once the others have finished; with it,
    each failure is reported there and its slot is None. The deadline running out ends the whole fetch: it is
    raised, never skipped.
    """
    results: list[LoadResult | None] = [None] * len(trace_ids)
    errors: list[tuple[int, TracectlError]] = []
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="fetch") as pool:
        futures = {pool.submit(backend.get_trace, tid): i for i, tid in enumerate(trace_ids)}
        for future in as_completed(futures):
            i = futures[future]
            try:
                results[i] = future.result()
            except TracectlError as exc:
                errors.append((i, exc))
            done += 1
            if on_done is not None:
                on_done(done, len(trace_ids))
    if errors:
        out_of_time = [e for e in errors if isinstance(e[1], DeadlineExceeded)]
        if out_of_time:
            raise out_of_time[0][1]
        if on_error is None:
            raise min(errors, key=lambda e: e[0])[1]
        for i, error in sorted(errors, key=lambda e: e[0]):
            on_error(trace_ids[i], error)
    return results
