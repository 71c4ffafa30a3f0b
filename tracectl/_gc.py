"""Pause Python's cyclic garbage collector during bulk object creation.

Reading a 100,000-span trace creates millions of small objects and no reference cycles; the cyclic
collector would rescan the growing heap again and again (about half the load time, measured in
docs/performance.md). Reference counting still frees everything; the collector resumes afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


FREEZE_ABOVE = 200_000  # tracked objects made while paused (10,000 Jaeger files of 24 spans: about 3 million)


@contextmanager
def kept_bulk() -> Iterator[None]:
    """``paused_gc`` around work whose many objects are kept (traces loaded, their analyses). When it made more
    than ``FREEZE_ABOVE``, they leave the collector's generations (``gc.freeze``) before it resumes: its first
    collection would otherwise traverse them all, and again as they age (0.3 s after 10,000 files). They hold no
    cycles: reference counting frees them as before. Nested in another pause, the outer one decides."""
    outermost = gc.isenabled()
    with paused_gc():
        yield
        if outermost and gc.get_count()[0] > FREEZE_ABOVE:
            gc.freeze()
