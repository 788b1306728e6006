"""Keep the process's resident memory close to what sluice actually holds.

glibc gives each thread its own malloc arena and, after large frees, raises its
mmap threshold so later large buffers come from the heap, where freed memory is
rarely returned. With reader and writer threads moving megabyte batches, RSS
would creep far above the live data. Two arenas and a fixed 256 KiB mmap
threshold keep big buffers in mmap, returned on free, and `malloc_trim` after
every chunk returns what small values left behind. Elsewhere this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
_done = False
_libc = None


def _load_libc():
    global _libc
    if _libc is None and sys.platform.startswith("linux"):
        try:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        except OSError:
            _libc = False
    return _libc or None


def tune_allocator() -> bool:
    global _done
    if _done or not sys.platform.startswith("linux"):
        return _done
    libc = _load_libc()
    try:
        ok = libc.mallopt(M_ARENA_MAX, 2) == 1 and libc.mallopt(M_MMAP_THRESHOLD, 256 << 10) == 1
    except AttributeError:  # no libc, or musl or another libc without mallopt: nothing to tune
        return False
    _done = ok
    return ok


def release_free_memory() -> None:
    """Hand memory freed by a finished chunk back to the system (glibc `malloc_trim`).

    Millions of short-lived row values leave the heap fragmented; without trimming, the peak
    of a long decoded run crept up by a few MiB per million rows (docs/benchmarks.md)."""
    libc = _load_libc()
    if libc is not None and hasattr(libc, "malloc_trim"):  # glibc only
        libc.malloc_trim(0)
