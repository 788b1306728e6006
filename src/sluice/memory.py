"""Keep the process's resident memory close to what sluice actually holds.

glibc gives each thread its own malloc arena and, after large frees, raises its
mmap threshold so later large buffers come from the heap, where freed memory is
rarely returned. With reader and writer threads moving megabyte batches, RSS
would creep far above the live data. Two arenas and a fixed 256 KiB mmap
threshold keep big buffers in mmap, returned on free. Elsewhere this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
_done = False


def tune_allocator() -> bool:
    global _done
    if _done or not sys.platform.startswith("linux"):
        return _done
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = libc.mallopt(M_ARENA_MAX, 2) == 1 and libc.mallopt(M_MMAP_THRESHOLD, 256 << 10) == 1
    except (OSError, AttributeError):  # musl or another libc: nothing to tune
        return False
    _done = ok
    return ok
