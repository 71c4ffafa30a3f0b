"""Credentials kept out of everything tracectl prints: settings, error messages, server bodies, tracebacks.

A secret is any value that authenticates a request: a bearer token, a password (also inside a URL's userinfo),
and the value of every header that came from the settings or ``-H``, unless its name is listed in
``safe_headers``. A server may echo one back in another form, so each secret is also removed as Basic
``user:password`` and its base64, and as a bearer ``Authorization`` value.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from urllib.parse import unquote

MASK = "********"
MIN_SECRET_LEN = 3  # shorter values ("1", "on") would mangle every message they appear in, and protect nothing
# The userinfo of a URL, with or without a scheme (a URL rejected for its missing scheme is still masked).
_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)?(?P<user>[^/@:]*):(?P<password>[^/@]+)@")


def basic_forms(user: str, password: str) -> list[str]:
    """The forms of Basic credentials a server may echo: ``user:password`` and its base64."""
    pair = f"{user}:{password}"
    return [pair, base64.b64encode(pair.encode()).decode("ascii"), password]


def url_secrets(url: str | None) -> list[str]:
    """The password in a URL's userinfo, in every form it travels in (it becomes Basic auth)."""
    match = _USERINFO.match(url or "")
    if match is None:
        return []
    user, password = unquote(match["user"]), match["password"]
    return [password, *basic_forms(user, unquote(password))]


def header_secrets(headers: Mapping[str, str], safe: Iterable[str] = ()) -> list[str]:
    """The values of every header not marked safe (names compared case-insensitively)."""
    allowed = {name.lower() for name in safe}
    out = []
    for name, value in headers.items():
        if name.lower() in allowed:
            continue
        out.append(value)
        scheme, _, credential = value.partition(" ")
        if credential and scheme.lower() in ("bearer", "basic", "token"):
            out.append(credential.strip())  # "Bearer abc" echoed as "abc"
    return out


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``********`` (longest first, so a value's parts go with it)."""
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LEN}, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def mask_url(url: str) -> str:
    """``url`` with the password of its userinfo masked (``https://me:********@host/``), for display."""
    return _USERINFO.sub(lambda m: f"{m['scheme'] or ''}{m['user']}:{MASK}@", url, count=1)
