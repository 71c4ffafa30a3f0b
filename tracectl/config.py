"""Settings: flags > environment > config-file profile > defaults, and where each value came from.

Config file: ``$XDG_CONFIG_HOME/tracectl/config.toml`` (``~/.config/...``), or ``TRACECTL_CONFIG``::

    default_profile = "prod"

    [profiles.prod]
    backend = "tempo"
    tempo_url = "https://tempo.example.com"
    loki_url = "https://loki.example.com"
    org_id = "ml-serving"
    token_file = "~/.config/tracectl/prod.token"
    headers = { "X-Team" = "inference" }

Secrets are never flags: a bearer token comes from ``--token-file``/``token_file`` or the environment
(``TRACECTL_BEARER_TOKEN``), basic auth from ``TRACECTL_USERNAME``/``TRACECTL_PASSWORD``. They are masked by
``tracectl config show`` and scrubbed from every message (``tracectl.redact``), and so are the password of a URL's
userinfo and the value of every header from ``headers``/``-H``, unless the header is listed in ``safe_headers``.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tracectl.errors import InputError
from tracectl.redact import basic_forms, header_secrets, mask_url, url_secrets

BACKENDS = ("tempo", "jaeger", "file")

# setting -> (type, environment variables in order of preference)
_FIELDS: dict[str, tuple[type, tuple[str, ...]]] = {
    "backend": (str, ("TRACECTL_BACKEND",)),
    "tempo_url": (str, ("TEMPO_ADDR",)),
    "jaeger_url": (str, ("JAEGER_ADDR",)),
    "loki_url": (str, ("LOKI_ADDR",)),
    "org_id": (str, ("TRACECTL_ORG_ID",)),
    "token_file": (str, ("TRACECTL_BEARER_TOKEN_FILE",)),
    "bearer_token": (str, ("TRACECTL_BEARER_TOKEN",)),
    "username": (str, ("TRACECTL_USERNAME",)),
    "password": (str, ("TRACECTL_PASSWORD",)),
    "ca_cert": (str, ("TRACECTL_CA_CERT_PATH",)),
    "insecure": (bool, ("TRACECTL_TLS_SKIP_VERIFY",)),
    "timeout": (float, ("TRACECTL_TIMEOUT",)),
    "deadline": (float, ("TRACECTL_DEADLINE",)),  # seconds for all the network work of one command
    "max_response_mb": (float, ("TRACECTL_MAX_RESPONSE_MB",)),  # unset: a budget per kind of response
    "retries": (int, ("TRACECTL_RETRIES",)),
    "concurrency": (int, ("TRACECTL_CONCURRENCY",)),
    "headers": (dict, ()),
    "safe_headers": (list, ("TRACECTL_SAFE_HEADERS",)),  # header names whose values are not secret
    # Loki has its own tenant and credentials, under logcli's names; each falls back to the general one.
    "loki_org_id": (str, ("LOKI_ORG_ID",)),
    "loki_token_file": (str, ("LOKI_BEARER_TOKEN_FILE",)),
    "loki_bearer_token": (str, ("LOKI_BEARER_TOKEN",)),
    "loki_username": (str, ("LOKI_USERNAME",)),
    "loki_password": (str, ("LOKI_PASSWORD",)),
    "loki_ca_cert": (str, ("LOKI_CA_CERT_PATH",)),
    "loki_insecure": (bool, ("LOKI_TLS_SKIP_VERIFY",)),
    "log_strategy": (str, ("TRACECTL_LOG_STRATEGY",)),  # line | metadata | json | template
    "log_query_template": (str, ("TRACECTL_LOG_QUERY_TEMPLATE",)),
    "log_trace_field": (str, ()),  # json strategy: the field holding the trace ID
    "log_label_map": (dict, ()),  # resource attribute -> Loki label
    "log_margin": (float, ("TRACECTL_LOG_MARGIN",)),  # seconds added on each side of the trace's window
}
SECRETS = frozenset({"bearer_token", "password", "loki_bearer_token", "loki_password"})
NOT_IN_FILES = SECRETS  # secrets do not belong in a config file either
DEFAULTS: dict[str, Any] = {
    "insecure": False, "timeout": 30.0, "deadline": 120.0, "retries": 4, "concurrency": 8, "log_strategy": "line",
    "log_trace_field": "trace_id", "log_margin": 5.0, "log_label_map": {"service.name": "service_name"},
}  # fmt: skip
LOG_STRATEGIES = ("line", "metadata", "json", "template")
URL_SETTINGS = ("tempo_url", "jaeger_url", "loki_url")
# What an unset setting means, for `config show`.
UNSET_MEANS = {"max_response_mb": "per response: trace by ID and search 128, Loki page 64, other endpoints 1"}


@dataclass
class Settings:
    backend: str | None = None
    tempo_url: str | None = None
    jaeger_url: str | None = None
    loki_url: str | None = None
    org_id: str | None = None
    token_file: str | None = None
    bearer_token: str | None = None
    username: str | None = None
    password: str | None = None
    ca_cert: str | None = None
    insecure: bool = False
    timeout: float = 30.0
    deadline: float = 120.0
    max_response_mb: float | None = None
    retries: int = 4
    concurrency: int = 8
    headers: dict[str, str] = field(default_factory=dict)
    safe_headers: list[str] = field(default_factory=list)
    loki_org_id: str | None = None
    loki_token_file: str | None = None
    loki_bearer_token: str | None = None
    loki_username: str | None = None
    loki_password: str | None = None
    loki_ca_cert: str | None = None
    loki_insecure: bool | None = None
    log_strategy: str = "line"
    log_query_template: str | None = None
    log_trace_field: str = "trace_id"
    log_label_map: dict[str, str] = field(default_factory=lambda: {"service.name": "service_name"})
    log_margin: float = 5.0
    profile: str | None = None
    config_path: Path | None = None
    origin: dict[str, str] = field(default_factory=dict)  # setting -> "flag" | "env NAME" | "profile P (file)"

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
        for name in _FIELDS:
            value = getattr(self, name)
            if name in SECRETS and value:
                shown = "******** (set)"
            elif name == "headers":
                shown = ", ".join(f"{k}: {v if k.lower() in safe else '********'}" for k, v in value.items())
            elif isinstance(value, dict):
                shown = ", ".join(f"{k}: {v}" for k, v in value.items())
            elif isinstance(value, list):
                shown = ", ".join(value)
            elif name in URL_SETTINGS and value:
                shown = mask_url(value)
            else:
                shown = UNSET_MEANS.get(name, "") if value is None else str(value)
            out.append((name, shown, self.origin.get(name, "default" if name in DEFAULTS else "unset")))
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


def _read_token(name: str) -> str | None:
    path = Path(name).expanduser()
    try:
        return path.read_text().strip() or None
    except OSError as exc:
        raise InputError(f"token file {path}: cannot read it ({exc.strerror or exc})") from None


def default_config_path(environ: Mapping[str, str]) -> Path:
    if environ.get("TRACECTL_CONFIG"):
        return Path(environ["TRACECTL_CONFIG"]).expanduser()
    base = environ.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    return Path(base) / "tracectl" / "config.toml"


def _coerce(name: str, value: Any, kind: type, where: str) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off", ""):
            return value.lower() in ("1", "true", "yes", "on")
        raise InputError(f"{where}: {name} must be true or false, not {value!r}")
    if kind is dict:
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise InputError(f'{where}: {name} must be a table of strings, like {{ "X-Team" = "ml" }}')
        return dict(value)
    if kind is list:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise InputError(f'{where}: {name} must be a list of strings, like ["X-Team"]')
        return [v.strip() for v in items if v.strip()]
    try:
        out = kind(value)
    except (TypeError, ValueError):
        raise InputError(f"{where}: {name} must be a {kind.__name__}, not {value!r}") from None
    if kind is float and not math.isfinite(out):
        raise InputError(f"{where}: {name} must be a finite number, not {value!r}")
    if kind in (int, float) and out <= 0 and name != "retries":
        raise InputError(f"{where}: {name} must be positive, not {value!r}")
    if kind is int and out < 0:
        raise InputError(f"{where}: {name} must not be negative")
    return out


def _load_profile(path: Path, wanted: str | None, explicit: bool) -> tuple[str | None, dict[str, Any]]:
    if not path.is_file():
        if explicit:
            raise InputError(f"profile {wanted!r} asked for, but there is no config file at {path}")
        return None, {}
    try:
        doc = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    profiles = doc.get("profiles", {})
    if not isinstance(profiles, dict):
        raise InputError(f"{path}: 'profiles' must be a table of [profiles.NAME] sections")
    name = wanted or doc.get("default_profile")
    if name is None:
        return None, {}
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise InputError(f"{path}: no profile {name!r} (profiles: {known})")
    return str(name), dict(profiles[name])


def resolve_settings(
    flags: Mapping[str, Any], environ: Mapping[str, str] | None = None, config_path: Path | None = None
) -> Settings:
    """Merge flags (None = not given) over environment over profile over defaults."""
    env = os.environ if environ is None else environ
    path = config_path or default_config_path(env)
    wanted = flags.get("profile") or env.get("TRACECTL_PROFILE")
    profile_name, profile = _load_profile(path, wanted, explicit=bool(wanted))
    settings = Settings(profile=profile_name, config_path=path if path.is_file() else None)
    for key in profile:
        if key not in _FIELDS or key in NOT_IN_FILES:
            why = "secrets go in token_file or the environment" if key in NOT_IN_FILES else "unknown setting"
            raise InputError(f"{path}: profiles.{profile_name}.{key}: {why} (known: {', '.join(sorted(_FIELDS))})")
    for name, (kind, env_names) in _FIELDS.items():
        value, origin = DEFAULTS.get(name), "default" if name in DEFAULTS else None
        if name in profile:
            where = f"{path}: profiles.{profile_name}"
            value, origin = _coerce(name, profile[name], kind, where), f"profile {profile_name} ({path})"
        for env_name in env_names:
            if env.get(env_name):
                value, origin = _coerce(name, env[env_name], kind, f"environment {env_name}"), f"env {env_name}"
                break
        if flags.get(name) not in (None, {}, []):
            value, origin = _coerce(name, flags[name], kind, f"--{name.replace('_', '-')}"), "flag"
        if value is not None:
            setattr(settings, name, value)
        if origin:
            settings.origin[name] = origin
    if settings.log_strategy not in LOG_STRATEGIES:
        raise InputError(f"log_strategy must be one of {', '.join(LOG_STRATEGIES)}, not {settings.log_strategy!r}")
    if settings.log_strategy == "template" and not settings.log_query_template:
        raise InputError("log_strategy 'template' needs log_query_template (or TRACECTL_LOG_QUERY_TEMPLATE)")
    if settings.backend is not None and settings.backend not in BACKENDS:
        raise InputError(f"backend must be one of {', '.join(BACKENDS)}, not {settings.backend!r}")
    for header, value in settings.headers.items():
        problem = header_problem(header, value)
        if problem:
            raise InputError(f"headers ({settings.origin.get('headers')}): {problem}")
    for name in URL_SETTINGS:
        url = getattr(settings, name)
        problem = _url_problem(url) if url else None
        if problem:
            raise InputError(f"{name} ({settings.origin.get(name)}): {mask_url(url)!r} {problem}")
    return settings


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
