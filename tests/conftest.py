from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import respx

    from tracectl.backends.tempo import TempoClient

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SAMPLES = ROOT.parent / "shared" / "samples"

needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples is not present on this machine")


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
