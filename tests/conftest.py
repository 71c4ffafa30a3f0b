from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import respx

    from tracectl.backends.tempo import TempoClient

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def _find_samples() -> Path:
    """``../shared/samples`` beside this checkout, else beside the repository it was cloned from (a fresh clone in
    another folder, as CI makes one), else where ``TRACECTL_SAMPLES`` points."""
    candidates = [ROOT.parent / "shared" / "samples"]
    if os.environ.get("TRACECTL_SAMPLES"):
        candidates.insert(0, Path(os.environ["TRACECTL_SAMPLES"]))
    origin = _origin_path()
    if origin is not None:
        candidates.append(origin.parent / "shared" / "samples")
    return next((c for c in candidates if c.is_dir()), candidates[-1])


def _origin_path() -> Path | None:
    import subprocess

    try:
        url = subprocess.run(
            ["git", "-C", str(ROOT), "remote", "get-url", "origin"],
            check=False,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    if not url or ("://" in url and not url.startswith("file://")):
        return None
    path = Path(url.removeprefix("file://"))
    return path if path.is_absolute() else (ROOT / path).resolve()


SAMPLES = _find_samples()
SHARED = SAMPLES.parent

# Under CI every real dependency must be there (.ci/run installs them): a missing one fails the test that needs
# it instead of skipping it. Any truthy CI counts (GitHub sets "true", others "1" or "yes").
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes", "on")


def require(present: bool, what: str, how: str) -> None:
    """The one guard for a real dependency (Prometheus, promtool, Chromium, the SDK, the samples, the labelled
    cases): missing, the test is skipped here, and fails under CI."""
    if present:
        return
    if IN_CI:
        pytest.fail(f"CI is set but {what} is missing ({how})")
    pytest.skip(f"{what} is not available here ({how})")


needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir() and not IN_CI, reason="../shared/samples is not present on this machine"
)


def pytest_sessionstart(session: pytest.Session) -> None:
    if IN_CI and not SAMPLES.is_dir():
        raise pytest.UsageError(
            f"CI=true but the real samples are missing (looked for {SAMPLES}); set TRACECTL_SAMPLES"
        )


_OWN_PREFIXES = ("TRACECTL_", "TEMPO_", "JAEGER_", "LOKI_", "PROMETHEUS_")


@pytest.fixture(autouse=True)
def hermetic_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test sees the developer's settings: tracectl's variables are cleared and the config home is empty."""
    for name in list(os.environ):
        if name.startswith(_OWN_PREFIXES) or name == "NO_COLOR":
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    yield


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


TEMPO_BASE = "http://tempo.test:3200"


@pytest.fixture
def tempo_router() -> Iterator[respx.MockRouter]:
    """respx in front of a Tempo at ``TEMPO_BASE``: every request must match a route."""
    import respx

    with respx.mock(base_url=TEMPO_BASE, assert_all_mocked=True) as mock:
        yield mock


def tempo_client() -> TempoClient:
    """A Tempo client for ``TEMPO_BASE`` that never retries or sleeps."""
    from tracectl.backends.http import HttpClient, HttpConfig
    from tracectl.backends.tempo import TempoClient

    return TempoClient(HttpClient(HttpConfig(TEMPO_BASE, "Tempo", retries=0), sleep=lambda _s: None))


def headless_dom(page: Path, tmp_path: Path, documented_in: str) -> str:
    """The DOM headless Chromium builds from ``page``, offline; skips the test where Chromium is not installed
    (fails it under CI)."""
    import shutil
    import subprocess

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    require(browser is not None, "chromium", f".ci/run installs Debian's; the check is documented in {documented_in}")
    assert browser is not None
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()]  # fmt: skip
    proc = subprocess.run([browser, *flags], capture_output=True, text=True, timeout=90, check=False)
    assert proc.returncode == 0, proc.stderr[-500:]
    return proc.stdout


@pytest.fixture(scope="session")
def prometheus_history() -> Iterator[object]:
    """A real Prometheus (Debian's 2.42) on 127.0.0.1 holding every sandbox scenario's metrics, each in its own
    window (tests/prom_history.py); skipped without the binaries, except under CI=true, where that fails."""
    from tests.prom_history import start_history

    server, history = start_history()
    try:
        yield history
    finally:
        server.stop()
