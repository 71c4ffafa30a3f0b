"""Settings: flags > environment > config-file profile > defaults, and where each value came from.

Every setting is declared once, as a field of ``Settings`` with its metadata (flag, environment variables,
default, help, secret): the global command-line options, the environment lookup, the defaults, the config-file
keys and ``tracectl config show`` are all derived from that one table.

Config file: ``$XDG_CONFIG_HOME/tracectl/config.toml`` (``~/.config/...``), or the file ``TRACECTL_CONFIG``
names (which must then exist)::

    default_profile = "prod"

    [profiles.prod]
    backend = "tempo"
    tempo_url = "https://tempo.example.com"
    loki_url = "https://loki.example.com"
    org_id = "ml-serving"
    token_file = "~/.config/tracectl/prod.token"
    headers = { "X-Team" = "inference" }

Secrets are never flags and never in the file: a bearer token comes from ``--token-file``/``token_file`` or the
environment (``TRACECTL_BEARER_TOKEN``), basic auth from ``TRACECTL_USERNAME``/``TRACECTL_PASSWORD``. They are
masked by ``tracectl config show`` and scrubbed from every message (``tracectl.redact``), and so are the password
of a URL's userinfo and the value of every header from ``headers``/``-H``, unless the header is listed in
``safe_headers``.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tracectl.errors import InputError
from tracectl.redact import basic_forms, header_secrets, mask_url, url_secrets

BACKENDS = ("tempo", "jaeger", "file")
LOG_STRATEGIES = ("line", "metadata", "json", "template")
URL_SETTINGS = ("tempo_url", "jaeger_url", "loki_url", "prometheus_url")
CONNECTION = "Connection (flags > env > config profile; see `tracectl config show`)"
MASK = "******** (set)"


@dataclass(frozen=True, slots=True)
class Spec:
    """How one setting is given: its type, flag, environment variables, and whether it is a secret."""

    kind: type  # str, bool, int, float, dict or list
    flag: str | None = None  # the global option; None: environment and config file only
    short: str | None = None
    env: tuple[str, ...] = ()  # in order of preference
    help: str = ""
    secret: bool = False  # masked in `config show`, refused in config files
    in_file: bool = True  # may appear in a config-file profile
    choices: tuple[str, ...] = ()
    repeatable: bool = False  # a flag given several times (--header), parsed by `REPEATABLE_PARSERS`
    unset_means: str = ""  # what an unset value means, for `config show`

    @property
    def env_help(self) -> str:
        return f" (env {', '.join(self.env)})" if self.env else ""


def setting(default: Any, kind: type | None = None, **spec: Any) -> Any:
    """A ``Settings`` field with its ``Spec`` in the field's metadata."""
    resolved = kind or (type(default) if default is not None else str)
    meta = {"spec": Spec(resolved, **spec)}
    if isinstance(default, dict | list):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class Settings:
    """The resolved settings of one run. ``origin`` says where each value came from."""

    backend: str | None = setting(None, flag="--backend", env=("TRACECTL_BACKEND",), choices=BACKENDS,
                                  help="tempo, jaeger or file; default: the one whose URL is set.")  # fmt: skip
    tempo_url: str | None = setting(None, flag="--tempo-url", env=("TEMPO_ADDR",), help="Tempo base URL.")
    jaeger_url: str | None = setting(
        None, flag="--jaeger-url", env=("JAEGER_ADDR",), help="Jaeger query URL, base path included."
    )
    loki_url: str | None = setting(None, flag="--loki-url", env=("LOKI_ADDR",), help="Loki base URL.")
    prometheus_url: str | None = setting(
        None, flag="--prometheus-url", env=("PROMETHEUS_ADDR",),
        help="Prometheus (or Mimir, Thanos, VictoriaMetrics) base URL: `metrics`, and triage's window.",
    )  # fmt: skip
    ui_url: str | None = setting(
        None, flag="--ui-url", env=("TRACECTL_UI_URL",),
        help="Trace UI link for reports' trace and span IDs: a URL with {trace_id} (and {span_id}), e.g. "
             "https://jaeger.example.com/trace/{trace_id}?uiFind={span_id} (Grafana Explore: docs/triage.md).",
    )  # fmt: skip
    org_id: str | None = setting(None, flag="--org-id", env=("TRACECTL_ORG_ID",), help="Tenant, sent as X-Scope-OrgID.")
    headers: dict[str, str] = setting({}, kind=dict, flag="--header", short="-H", repeatable=True,
                                      help="Extra header NAME=VALUE (repeatable); its value is treated as a secret "
                                           "unless listed in safe_headers.")  # fmt: skip
    safe_headers: list[str] = setting([], kind=list, env=("TRACECTL_SAFE_HEADERS",))  # header names that are not secret
    token_file: str | None = setting(
        None, flag="--token-file", env=("TRACECTL_BEARER_TOKEN_FILE",), help="File holding a bearer token."
    )
    bearer_token: str | None = setting(None, env=("TRACECTL_BEARER_TOKEN",), secret=True, in_file=False)
    username: str | None = setting(None, env=("TRACECTL_USERNAME",))
    password: str | None = setting(None, env=("TRACECTL_PASSWORD",), secret=True, in_file=False)
    ca_cert: str | None = setting(None, flag="--ca-cert", env=("TRACECTL_CA_CERT_PATH",), help="CA bundle for TLS.")
    insecure: bool = setting(
        False, flag="--insecure", env=("TRACECTL_TLS_SKIP_VERIFY",), help="Skip TLS verification (warned)."
    )
    timeout: float = setting(120.0, flag="--timeout", env=("TRACECTL_TIMEOUT", "TRACECTL_DEADLINE"),
                             help="Seconds the whole command may wait on backends: every request, retry and "
                                  "wait counts (default 120).")  # fmt: skip
    request_timeout: float = setting(30.0, env=("TRACECTL_REQUEST_TIMEOUT",))  # one attempt of one request
    max_response_mb: float | None = setting(
        None, kind=float, flag="--max-response-mb", env=("TRACECTL_MAX_RESPONSE_MB",),
        help="Largest response body to read, in MB (default per kind: trace by ID and search 128, Loki page 64, "
             "metrics queries 32, other endpoints 1).",
        unset_means="per response: trace by ID and search 128, Loki page 64, metrics queries 32, other endpoints 1",
    )  # fmt: skip
    retries: int = setting(4, env=("TRACECTL_RETRIES",))
    concurrency: int = setting(
        8, flag="--concurrency", env=("TRACECTL_CONCURRENCY",), help="Traces fetched in parallel (default 8)."
    )
    # Loki has its own tenant and credentials, under logcli's names; each falls back to the general one.
    loki_org_id: str | None = setting(None, env=("LOKI_ORG_ID",))
    loki_token_file: str | None = setting(None, env=("LOKI_BEARER_TOKEN_FILE",))
    loki_bearer_token: str | None = setting(None, env=("LOKI_BEARER_TOKEN",), secret=True, in_file=False)
    loki_username: str | None = setting(None, env=("LOKI_USERNAME",))
    loki_password: str | None = setting(None, env=("LOKI_PASSWORD",), secret=True, in_file=False)
    loki_ca_cert: str | None = setting(None, env=("LOKI_CA_CERT_PATH",))
    loki_insecure: bool | None = setting(None, kind=bool, env=("LOKI_TLS_SKIP_VERIFY",))
    log_strategy: str = setting("line", env=("TRACECTL_LOG_STRATEGY",), choices=LOG_STRATEGIES)
    log_query_template: str | None = setting(None, env=("TRACECTL_LOG_QUERY_TEMPLATE",))
    log_trace_field: str = setting("trace_id")  # json strategy: the field holding the trace ID
    log_label_map: dict[str, str] = setting({"service.name": "service_name"}, kind=dict)  # resource attr → label
    log_margin: float = setting(5.0, env=("TRACECTL_LOG_MARGIN",))  # seconds added on each side of a trace
    profile: str | None = setting(
        None, flag="--profile", env=("TRACECTL_PROFILE",), in_file=False, help="Config profile."
    )
    config_path: Path | None = None
    origin: dict[str, str] = field(default_factory=dict)  # setting -> "flag" | "env NAME" | "profile P (file)"
    warnings: list[str] = field(default_factory=list)  # said once by the CLI: exposed secrets, overridden credentials

    @property
    def effective_backend(self) -> str:
        """The backend to use: as configured, else the one whose URL is set (Tempo first), else files."""
        if self.backend:
            return self.backend
        if self.tempo_url:
            return "tempo"
        if self.jaeger_url:
            return "jaeger"
        return "file"

    def token(self, loki: bool = False) -> str | None:
        """The bearer token: from the token file (read now, stripped) or the environment. ``loki`` prefers
        Loki's own (``LOKI_BEARER_TOKEN_FILE``/``LOKI_BEARER_TOKEN``)."""
        if loki and (self.loki_token_file or self.loki_bearer_token):
            return _read_token(self.loki_token_file) if self.loki_token_file else self.loki_bearer_token
        if self.token_file:
            return _read_token(self.token_file)
        return self.bearer_token

    def rows(self) -> list[tuple[str, str, str]]:
        """(setting, value, origin) for ``config show``: secrets, URL passwords and header values masked."""
        out = []
        safe = {h.lower() for h in self.safe_headers}
        for name, spec in specs():
            value = getattr(self, name)
            if spec.secret and value:
                shown = MASK
            elif name == "headers":
                shown = ", ".join(f"{k}: {v if k.lower() in safe else '********'}" for k, v in value.items())
            elif isinstance(value, dict):
                shown = ", ".join(f"{k}: {v}" for k, v in value.items())
            elif isinstance(value, list):
                shown = ", ".join(value)
            elif name in URL_SETTINGS and value:
                shown = mask_url(value)
            else:
                shown = spec.unset_means if value is None else str(value)
            out.append((name, shown, self.origin.get(name, "default" if _has_default(name) else "unset")))
        return out

    def secret_values(self) -> list[str]:
        """Every configured credential, in the forms a message could carry it (for ``tracectl.redact``)."""
        out: list[str] = [v for v in (self.bearer_token, self.loki_bearer_token) if v]
        for user, password in ((self.username, self.password), (self.loki_username, self.loki_password)):
            if password:
                out.extend(basic_forms(user or "", password))
        for name in ("token_file", "loki_token_file"):
            path = getattr(self, name)
            if path:
                with contextlib.suppress(OSError, UnicodeDecodeError):  # reported where the token is used
                    out.append(Path(path).expanduser().read_text().strip())
        for name in URL_SETTINGS:
            out.extend(url_secrets(getattr(self, name)))
        out.extend(header_secrets(self.headers, self.safe_headers))
        return out


def specs() -> Iterator[tuple[str, Spec]]:
    """Every declared setting, in declaration order."""
    for f in fields(Settings):
        spec = f.metadata.get("spec")
        if spec is not None:
            yield f.name, spec


def spec_of(name: str) -> Spec:
    return dict(specs())[name]


def _has_default(name: str) -> bool:
    return getattr(_DEFAULT, name) not in (None, {}, (), [])


_DEFAULT = Settings()


def _read_token(name: str) -> str | None:
    path = Path(name).expanduser()
    try:
        return path.read_text().strip() or None
    except OSError as exc:
        raise InputError(f"token file {path}: cannot read it ({exc.strerror or exc})") from None


def default_config_path(environ: Mapping[str, str]) -> tuple[Path, bool]:
    """The config file and whether the user named it (``TRACECTL_CONFIG``): a named file must exist."""
    if environ.get("TRACECTL_CONFIG"):
        return Path(environ["TRACECTL_CONFIG"]).expanduser(), True
    base = environ.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    return Path(base) / "tracectl" / "config.toml", False


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def _as_bool(name: str, value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE + _FALSE:
        return value.lower() in _TRUE
    raise InputError(f"{where}: {name} must be true or false, not {value!r}")


def _as_dict(name: str, value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InputError(f'{where}: {name} must be a table of strings, like {{ "X-Team" = "ml" }}')
    return dict(value)


def _as_list(name: str, value: Any, where: str) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise InputError(f'{where}: {name} must be a list of strings, like ["X-Team"]')
    return [v.strip() for v in items if v.strip()]


_STRUCTURED: dict[type, Callable[[str, Any, str], Any]] = {bool: _as_bool, dict: _as_dict, list: _as_list}


def _coerce(name: str, value: Any, spec: Spec, where: str) -> Any:
    kind = spec.kind
    if kind in _STRUCTURED:
        return _STRUCTURED[kind](name, value, where)
    if kind in (int, float) and isinstance(value, bool):
        raise InputError(f"{where}: {name} must be a {kind.__name__}, not {value!r}")
    try:
        out = kind(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{where}: {name} must be a {kind.__name__}, not {value!r}") from None
    if kind is float and not math.isfinite(out):
        raise InputError(f"{where}: {name} must be a finite number, not {value!r}")
    if kind in (int, float) and not out > 0 and name != "retries":
        raise InputError(f"{where}: {name} must be positive, not {value!r}")
    if kind is int and out < 0:
        raise InputError(f"{where}: {name} must not be negative")
    if spec.choices and out not in spec.choices:
        raise InputError(f"{where}: {name} must be one of {', '.join(spec.choices)}, not {out!r}")
    return out


def _load_profile(path: Path, wanted: str | None, named: bool) -> tuple[str | None, dict[str, Any]]:
    if not path.is_file():
        if named:
            raise InputError(f"TRACECTL_CONFIG names {path}, which does not exist")
        if wanted:
            raise InputError(f"profile {wanted!r} asked for, but there is no config file at {path}")
        return None, {}
    try:
        doc = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    for key in doc:
        if key not in ("profiles", "default_profile"):
            raise InputError(f"{path}:{_line_of(path, key)}: {key} is outside any profile, where it would be ignored: "
                             "put it under a [profiles.NAME] table (and default_profile = \"NAME\")")  # fmt: skip
    profiles = doc.get("profiles", {})
    if not isinstance(profiles, dict):
        raise InputError(f"{path}: 'profiles' must be a table of [profiles.NAME] sections")
    name = wanted or doc.get("default_profile")
    if name is None:
        return None, {}
    if name not in profiles or not isinstance(profiles[name], dict):
        known = ", ".join(sorted(profiles)) or "none"
        raise InputError(f"{path}: no profile {name!r} (profiles: {known})")
    return str(name), dict(profiles[name])


def _line_of(path: Path, key: str) -> int:
    """The line of ``path`` where the top-level ``key`` (``key = …`` or ``[key…]``) is set, 1 if not found."""
    pattern = re.compile(rf"^\s*(?:\[\s*)?[\"']?{re.escape(key)}[\"']?\s*(?:=|\]|\.)")
    with contextlib.suppress(OSError, UnicodeDecodeError):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.match(line):
                return n
    return 1


def flag_name(name: str) -> str:
    """How a setting is spelled on the command line, for messages."""
    return spec_of(name).flag or f"--{name.replace('_', '-')}"


def resolve_settings(
    flags: Mapping[str, Any], environ: Mapping[str, str] | None = None, config_path: Path | None = None
) -> Settings:
    """Merge flags (None = not given) over environment over profile over defaults."""
    env = os.environ if environ is None else environ
    path, named = (config_path, True) if config_path is not None else default_config_path(env)
    if config_path is not None:
        named = False  # an explicit path from code (tests, library) may be absent, like the default one
    wanted = flags.get("profile") or env.get("TRACECTL_PROFILE")
    profile_name, profile = _load_profile(path, wanted, named)
    settings = Settings(profile=profile_name, config_path=path if path.is_file() else None)
    known = dict(specs())
    for key in profile:
        spec = known.get(key)
        if spec is None or not spec.in_file:
            why = "secrets go in token_file or the environment" if spec is not None and spec.secret else (
                "not a config-file setting" if spec is not None else "unknown setting")  # fmt: skip
            names = ", ".join(sorted(n for n, s in known.items() if s.in_file))
            raise InputError(f"{path}: profiles.{profile_name}.{key}: {why} (known: {names})")
    for name, spec in known.items():
        value, origin = getattr(_DEFAULT, name), "default" if _has_default(name) else None
        if name in profile:
            where = f"{path}: profiles.{profile_name}"
            value, origin = _coerce(name, profile[name], spec, where), f"profile {profile_name} ({path})"
        for env_name in spec.env:
            if env.get(env_name):
                value, origin = _coerce(name, env[env_name], spec, f"environment {env_name}"), f"env {env_name}"
                break
        if flags.get(name) not in (None, {}, []):
            value, origin = _coerce(name, flags[name], spec, flag_name(name)), "flag"
        if name == "profile":
            value = profile_name
        setattr(settings, name, value)
        if origin:
            settings.origin[name] = origin
    _check(settings)
    settings.warnings.extend(_credential_warnings(settings))
    return settings


def _exposed(path: Path) -> bool:
    """True when ``path`` can be read by its group or by others (a secret there is not only its owner's)."""
    try:
        return bool(path.stat().st_mode & 0o044)
    except OSError:
        return False


def _credential_warnings(settings: Settings) -> list[str]:
    """A secret in a file others can read, and which credential is sent when two are set (documented in the README:
    Basic auth, from the URL's userinfo or username/password, wins over a bearer token)."""
    out = []
    path = settings.config_path
    file_secrets = [
        n for n in URL_SETTINGS if url_secrets(getattr(settings, n)) and "profile" in settings.origin.get(n, "")
    ]
    if (
        settings.headers
        and "profile" in settings.origin.get("headers", "")
        and header_secrets(settings.headers, settings.safe_headers)
    ):
        file_secrets.append("headers")
    if path is not None and file_secrets and _exposed(path):
        out.append(f"{path} holds secrets ({', '.join(file_secrets)}) and others can read it: chmod 600 {path}")
    for name in ("token_file", "loki_token_file"):
        token = getattr(settings, name)
        if token and _exposed(Path(token).expanduser()):
            out.append(f"{name} {token} can be read by others: chmod 600 {token}")
    for url_name, loki in (("tempo_url", False), ("jaeger_url", False), ("prometheus_url", False), ("loki_url", True)):
        url = getattr(settings, url_name)
        if not url:
            continue
        basic = "the user and password in " + url_name if url_secrets(url) else None
        user = settings.loki_username if loki and settings.loki_username else settings.username
        basic = basic or ("username/password" if user else None)
        token = _token_source(settings, loki)
        if basic and token:
            out.append(f"{url_name}: both {basic} and a bearer token ({token}) are set: Basic auth is sent, the token "
                       "is not")  # fmt: skip
    return out


def _token_source(settings: Settings, loki: bool) -> str | None:
    if loki and (settings.loki_token_file or settings.loki_bearer_token):
        return "loki_token_file" if settings.loki_token_file else "LOKI_BEARER_TOKEN"
    if settings.token_file:
        return "token_file"
    return "TRACECTL_BEARER_TOKEN" if settings.bearer_token else None


def _check(settings: Settings) -> None:
    ui = settings.ui_url
    if ui and (not ui.startswith(("http://", "https://")) or "{trace_id}" not in ui):
        raise InputError(f"ui_url ({settings.origin.get('ui_url')}): {ui!r} must be an http(s) URL holding "
                         "{trace_id} (and optionally {span_id})")  # fmt: skip
    if settings.log_strategy == "template" and not settings.log_query_template:
        raise InputError("log_strategy 'template' needs log_query_template (or TRACECTL_LOG_QUERY_TEMPLATE)")
    for header, value in settings.headers.items():
        problem = header_problem(header, value)
        if problem:
            raise InputError(f"headers ({settings.origin.get('headers')}): {problem}")
    for name in URL_SETTINGS:
        url = getattr(settings, name)
        problem = _url_problem(url) if url else None
        if problem:
            raise InputError(f"{name} ({settings.origin.get(name)}): {mask_url(url)!r} {problem}")


def _url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a backend's base URL, or None."""
    if not url.startswith(("http://", "https://")):
        return "must start with http:// or https://"
    if any(c.isspace() or not c.isprintable() for c in url):
        return "holds a space or a control character"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is the check: out of range or not a number raises
    except ValueError as exc:
        return f"is not a URL ({exc})"
    return None if parts.hostname else "has no host"


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an HTTP field name (RFC 9110)
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e]*")  # visible ASCII, spaces and tabs: what every server reads alike


def header_problem(name: str, value: str) -> str | None:
    """Why a header cannot be sent (never quoting the value: it may be a secret), or None."""
    if not _TOKEN.fullmatch(name):
        return f"{name!r} is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)"
    if not _FIELD_VALUE.fullmatch(value):
        return f"the value of {name} holds a line break, a control character or a character outside ASCII"
    return None


def parse_header_flags(values: list[str]) -> dict[str, str]:
    """Repeatable ``--header k=v`` (``k: v`` accepted too)."""
    out: dict[str, str] = {}
    for raw in values:
        sep = "=" if "=" in raw else ":"
        key, found, value = raw.partition(sep)
        if not found or not key.strip():
            raise InputError(f"--header: {raw!r} is not NAME=VALUE")
        out[key.strip()] = value.strip()
    return out


# How a repeatable flag's values become the setting's value.
REPEATABLE_PARSERS: dict[str, Callable[[list[str]], Any]] = {"headers": parse_header_flags}
