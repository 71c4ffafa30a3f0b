"""Settings: precedence, origins, errors that name the file and key, secrets masked."""

from __future__ import annotations

from base64 import b64encode
from pathlib import Path

import httpx
import orjson
import pytest
import respx
from typer.testing import CliRunner

from tracectl.cli.main import app
from tracectl.config import resolve_settings
from tracectl.errors import InputError

CONFIG = """
default_profile = "prod"

[profiles.prod]
tempo_url = "https://tempo.prod.example"
org_id = "ml-serving"
timeout = 10
headers = { "X-Team" = "inference" }

[profiles.staging]
backend = "jaeger"
jaeger_url = "https://jaeger.staging.example/jaeger"
concurrency = 16
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    return path


def test_precedence_flags_over_env_over_profile_over_defaults(config_file: Path) -> None:
    s = resolve_settings({}, {}, config_file)
    assert (s.profile, s.tempo_url, s.org_id, s.timeout, s.retries) == (
        "prod",
        "https://tempo.prod.example",
        "ml-serving",
        10.0,
        4,
    )
    assert s.origin["tempo_url"] == f"profile prod ({config_file})" and s.origin["retries"] == "default"
    assert s.headers == {"X-Team": "inference"} and s.effective_backend == "tempo"
    env = {"TEMPO_ADDR": "http://tempo.env:3200", "TRACECTL_TIMEOUT": "5"}
    s = resolve_settings({}, env, config_file)
    assert (s.tempo_url, s.timeout, s.origin["timeout"]) == ("http://tempo.env:3200", 5.0, "env TRACECTL_TIMEOUT")
    s = resolve_settings({"tempo_url": "http://flag:1", "timeout": 2.5}, env, config_file)
    assert (s.tempo_url, s.timeout, s.origin["tempo_url"]) == ("http://flag:1", 2.5, "flag")


def test_profile_selection_by_flag_and_env(config_file: Path) -> None:
    assert resolve_settings({"profile": "staging"}, {}, config_file).effective_backend == "jaeger"
    s = resolve_settings({}, {"TRACECTL_PROFILE": "staging"}, config_file)
    assert (s.profile, s.concurrency) == ("staging", 16)


@pytest.mark.parametrize(
    ("text", "flags", "message"),
    [
        ("[profiles.prod\n", {}, "not valid TOML"),
        ('default_profile = "prod"\n[profiles.prod]\ntimeout = "fast"\n', {}, "profiles.prod: timeout must be a float"),
        ('default_profile = "prod"\n[profiles.prod]\ntempo = "x"\n', {}, "profiles.prod.tempo: unknown setting"),
        (
            'default_profile = "prod"\n[profiles.prod]\npassword = "x"\n',
            {},
            "secrets go in token_file or the environment",
        ),
        ("[profiles.prod]\n", {"profile": "dev"}, "no profile 'dev' (profiles: prod)"),
        ('[profiles.p]\ntempo_url = "tempo:3200"\n', {"profile": "p"}, "must start with http:// or https://"),
        ('[profiles.p]\nbackend = "zipkin"\n', {"profile": "p"}, "backend must be one of tempo, jaeger, file"),
        ("[profiles.p]\n", {"profile": "p", "timeout": "nan"}, "--timeout: timeout must be a finite number"),
        ("[profiles.p]\n", {"profile": "p", "max_response_mb": "inf"}, "max_response_mb must be a finite number"),
        ("[profiles.p]\n", {"profile": "p", "tempo_url": "http://[::1"}, "is not a URL (Invalid IPv6 URL)"),
        ("[profiles.p]\n", {"profile": "p", "tempo_url": "http://t:99999"}, "is not a URL (Port out of range"),
        ("[profiles.p]\n", {"profile": "p", "loki_url": "http://"}, "loki_url (flag): 'http://' has no host"),
        ('[profiles.p]\ntempo_url = "http://u:pw@t :1"\n', {"profile": "p"}, "'http://u:********@t :1' holds a space"),
    ],
)
def test_config_errors_name_the_file_and_the_key(
    tmp_path: Path, text: str, flags: dict[str, str], message: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        resolve_settings(flags, {}, path)
    assert message in str(info.value)
    if "TOML" in message or "profiles." in message:
        assert str(path) in str(info.value)


def test_missing_config_file_is_fine_unless_a_profile_is_asked_for(tmp_path: Path) -> None:
    assert resolve_settings({}, {}, tmp_path / "none.toml").profile is None
    with pytest.raises(InputError, match="no config file"):
        resolve_settings({"profile": "prod"}, {}, tmp_path / "none.toml")


def test_token_file_is_read_and_never_shown(tmp_path: Path, config_file: Path) -> None:
    token = tmp_path / "token"
    token.write_text("  s3cret-token\n")
    s = resolve_settings(
        {"token_file": str(token)}, {"TRACECTL_PASSWORD": "pw", "TRACECTL_USERNAME": "me"}, config_file
    )
    assert s.token() == "s3cret-token"
    shown = {name: value for name, value, _ in s.rows()}
    assert shown["password"] == "******** (set)" and shown["token_file"] == str(token)
    assert "s3cret" not in repr(s.rows())
    with pytest.raises(InputError, match="cannot read it"):
        resolve_settings({"token_file": str(tmp_path / "missing")}, {}, config_file).token()


def test_config_show_command(config_file: Path) -> None:
    env = {"TRACECTL_CONFIG": str(config_file), "TRACECTL_BEARER_TOKEN": "s3cret", "TEMPO_ADDR": "", "JAEGER_ADDR": ""}
    result = CliRunner().invoke(app, ["config", "show", "-o", "json", "--org-id", "other"], env=env)
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["profile"] == "prod" and doc["backend"] == "tempo"
    assert doc["settings"]["org_id"] == {"value": "other", "origin": "flag"}
    assert doc["settings"]["bearer_token"] == {"value": "******** (set)", "origin": "env TRACECTL_BEARER_TOKEN"}
    assert "s3cret" not in result.stdout
    table = CliRunner().invoke(app, ["config", "show"], env=env).stdout
    assert "https://tempo.prod.example" in table and "s3cret" not in table


def test_config_show_prints_no_planted_secret(tmp_path: Path) -> None:
    planted = ["urlpa55", "hdr-s3cret-1", "hdr-s3cret-2", "bearer-t0ken", "basic-pa55", "loki-pa55", "file-t0ken",
               "loki-bearer-t0ken", "lokiurl-pa55", "auth-hdr-val"]  # fmt: skip
    (tmp_path / "token").write_text("file-t0ken\n")
    (tmp_path / "config.toml").write_text(
        'default_profile = "p"\n[profiles.p]\n'
        'tempo_url = "https://me:urlpa55@tempo.example"\n'
        'loki_url = "https://loki:lokiurl-pa55@loki.example"\n'
        f'token_file = "{tmp_path / "token"}"\n'
        'headers = { "X-Api-Key" = "hdr-s3cret-1", "X-Team" = "inference" }\n'
        'safe_headers = ["x-team"]\n'
    )
    env = {
        "TRACECTL_CONFIG": str(tmp_path / "config.toml"), "TRACECTL_BEARER_TOKEN": "bearer-t0ken",
        "TRACECTL_USERNAME": "me", "TRACECTL_PASSWORD": "basic-pa55", "LOKI_PASSWORD": "loki-pa55",
        "LOKI_BEARER_TOKEN": "loki-bearer-t0ken", "TEMPO_ADDR": "", "LOKI_ADDR": "",
    }  # fmt: skip
    runs = [[], ["-H", "X-Secret=hdr-s3cret-2", "-H", "Authorization: auth-hdr-val"]]  # -H replaces the profile's
    for flags in runs:
        for output in ("table", "json", "csv"):
            result = CliRunner().invoke(app, [*flags, "config", "show", "-o", output], env=env)
            assert result.exit_code == 0, result.output
            assert [s for s in planted if s in result.stdout + result.stderr] == []
    shown = {
        " ".join(flags): orjson.loads(CliRunner().invoke(app, [*flags, "config", "show", "-o", "json"], env=env).stdout)
        for flags in runs
    }
    doc = shown[""]["settings"]
    assert doc["tempo_url"]["value"] == "https://me:********@tempo.example"
    assert doc["loki_url"]["value"] == "https://loki:********@loki.example"
    assert doc["headers"]["value"] == "X-Api-Key: ********, X-Team: inference"  # X-Team is listed as safe
    assert doc["safe_headers"] == {"value": "x-team", "origin": f"profile p ({tmp_path / 'config.toml'})"}
    assert doc["max_response_mb"]["value"].startswith("per response: trace by ID and search 128")
    flagged = shown[" ".join(runs[1])]["settings"]["headers"]
    assert flagged == {"value": "X-Secret: ********, Authorization: ********", "origin": "flag"}


def test_secret_values_cover_every_form_a_server_may_echo() -> None:
    import base64

    s = resolve_settings(
        {"headers": {"X-Key": "k3y-value", "X-Team": "ml"}, "tempo_url": "http://u:p%40ss@t:1"},
        {"TRACECTL_USERNAME": "bob", "TRACECTL_PASSWORD": "hunter22", "TRACECTL_SAFE_HEADERS": "X-Team"},
        Path("/nonexistent/config.toml"),
    )
    secrets = set(s.secret_values())
    assert {"k3y-value", "hunter22", "bob:hunter22", base64.b64encode(b"bob:hunter22").decode(), "p@ss"} <= secrets
    assert "ml" not in secrets and s.safe_headers == ["X-Team"]


def test_loki_tls_skip_verify_is_warned_like_insecure(tmp_path: Path) -> None:
    env = {"LOKI_TLS_SKIP_VERIFY": "true", "LOKI_ADDR": "https://l"}
    result = CliRunner().invoke(app, ["config", "show"], env=env)
    assert "TLS certificate verification is off for Loki (LOKI_TLS_SKIP_VERIFY)" in result.stderr


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("X-A=s3cret\nvalue", "the value of X-A holds a line break, a control character or a character outside ASCII"),
        ("X-A=s3cretföö", "the value of X-A holds a line break"),
        ("X A=v", "'X A' is not a valid header name"),
    ],
)
def test_a_header_that_cannot_be_sent_is_bad_input_without_its_value(tmp_path: Path, header: str, message: str) -> None:
    env = {"TEMPO_ADDR": "http://127.0.0.1:9"}
    result = CliRunner().invoke(app, ["-H", header, "search", "-s", "x"], env=env)
    assert result.exit_code == 2 and message in result.stderr
    assert "s3cret" not in result.stderr  # the value is never quoted: it may be a secret


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ('tempo_url = "http://tempo:3200"\n\n[profiles.prod]\norg_id = "a"\n', 1, "tempo_url"),
        ('default_profile = "prod"\n\n[profiles.prod]\norg_id = "a"\n\n[tempo]\nurl = "x"\n', 6, "tempo"),
    ],
)
def test_a_setting_outside_any_profile_is_an_error_naming_its_line(
    tmp_path: Path, text: str, line: int, key: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=rf"^{path}:{line}: {key} is outside any profile") as info:
        resolve_settings({}, {}, path)
    assert "[profiles.NAME]" in str(info.value)


def test_a_secret_others_can_read_is_warned_once(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('default_profile = "p"\n[profiles.p]\ntempo_url = "https://alice:pa55@tempo.example"\n')
    token = tmp_path / "token"
    token.write_text("t0ken")
    for private in (path, token):
        private.chmod(0o600)
    env = {"TRACECTL_BEARER_TOKEN_FILE": str(token)}
    assert not any("others" in w for w in resolve_settings({}, env, path).warnings)
    path.chmod(0o644)
    token.chmod(0o640)
    warnings = resolve_settings({}, env, path).warnings
    assert f"{path} holds secrets (tempo_url) and others can read it: chmod 600 {path}" in warnings
    assert f"token_file {token} can be read by others: chmod 600 {token}" in warnings
    assert not any("pa55" in w or "t0ken" in w for w in warnings)


def test_two_credentials_say_which_one_is_sent(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("t0ken")
    token.chmod(0o600)
    both = resolve_settings({"tempo_url": "https://alice:pa55@tempo.example", "token_file": str(token)}, {})
    assert both.warnings == [
        "tempo_url: both the user and password in tempo_url and a bearer token (token_file) are set: Basic auth is "
        "sent, the token is not"
    ]
    assert resolve_settings({"tempo_url": "https://tempo.example", "token_file": str(token)}, {}).warnings == []
    with respx.mock(base_url="https://tempo.test", assert_all_mocked=True) as tempo:
        asked = tempo.get(path__startswith="/api/").mock(return_value=httpx.Response(404))
        result = CliRunner().invoke(app, ["--tempo-url", "https://alice:pa55@tempo.test", "--token-file", str(token),
                                          "show", "0" * 31 + "1"], env={"TEMPO_ADDR": ""})  # fmt: skip
    assert "Basic auth is sent, the token is not" in result.stderr and "pa55" not in result.stderr
    assert result.exit_code == 4 and asked.calls  # not found, after asking with Basic auth and no token
    assert {c.request.headers["Authorization"] for c in asked.calls} == {"Basic " + b64encode(b"alice:pa55").decode()}
