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
