"""Settings: precedence, origins, errors that name the file and key, secrets masked."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
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
