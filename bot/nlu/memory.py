"""Giving freed heap memory back to the operating system after one-time bulk work.

Loading the NLU model (and in `serve`, training it and importing the demo data just before)
allocates and frees a few hundred MB of small objects. glibc keeps freed pages in its arenas,
so without a trim the server's resident size stays about 100 MB above what it uses.
A no-op where the C library has no malloc_trim (macOS, musl).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    return trim


def release_memory() -> bool:
    """Collect garbage and hand free heap pages back; True when the C library could trim."""
    gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
