"""Keep the process's resident memory close to what sluice actually holds, and the
garbage collector from spending the copy's CPU.

glibc gives each thread its own malloc arena and, after large frees, raises its
mmap threshold so later large buffers come from the heap, where freed memory is
rarely returned. With reader and writer threads moving megabyte batches, RSS
would creep far above the live data. Two arenas and a fixed 256 KiB mmap
threshold keep big buffers in mmap, returned on free, and `malloc_trim` after
every chunk returns what small values left behind. Elsewhere this is a no-op.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import sys
import threading
from collections.abc import Iterator

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


# Python's cyclic collector runs a young collection every 700 container allocations that
# outlive their statement, and a full one, which walks every object the process holds
# (SQLAlchemy's metadata, the plan, the queued batches), every hundred of those. A copy keeps
# many such objects alive for a moment (rows in a batch, blocks in a list) and creates almost
# no cycles: perf put 28% of a PostgreSQL -> MariaDB client's CPU in the collector.
YOUNG_THRESHOLD = 50_000
_deferred: dict = {"runs": 0, "saved": (700, 10, 10), "froze": False}
_deferred_lock = threading.Lock()


@contextlib.contextmanager
def deferred_collections() -> Iterator[None]:
    """While a run lasts (nested and concurrent runs share one setting): what the process holds
    already is frozen out of collections (`gc.freeze`, unless the process froze objects of its
    own), and young collections wait for 50,000 allocations; both are undone when the last
    run ends."""
    with _deferred_lock:
        if _deferred["runs"] == 0:
            _deferred["saved"] = gc.get_threshold()
            # a host process that froze objects of its own (a pre-forking server) keeps them
            _deferred["froze"] = gc.get_freeze_count() == 0
            if _deferred["froze"]:
                gc.freeze()
            young, *older = _deferred["saved"]
            gc.set_threshold(max(young, YOUNG_THRESHOLD), *older)
        _deferred["runs"] += 1
    try:
        yield
    finally:
        with _deferred_lock:
            _deferred["runs"] -= 1
            if _deferred["runs"] == 0:
                gc.set_threshold(*_deferred["saved"])
                if _deferred["froze"]:
                    gc.unfreeze()
