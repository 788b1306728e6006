"""One writer at a time into a target that allows only one (`Capabilities.single_writer`).

SQLite holds its file lock from a transaction's first write to its commit. Left to the
engine, the other writers of a parallel copy wait in SQLite's busy handler, each holding a
thread and the rows its reader already buffered, and a failure shows only as
"database is locked" after the timeout. Instead every write transaction of this process to
such a target (a chunk's load, a table's publish) runs under one lock per target: writers
take turns in order, while readers of the queued chunks still read ahead within the memory
budget (each channel may always hold one batch, sluice.copy.buffer, so the writer holding the lock
is never starved of rows). Other engines get a no-op context.
"""

from __future__ import annotations

import contextlib
import threading
from contextlib import AbstractContextManager

from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect

_LOCKS: dict[tuple, threading.RLock] = {}
_GUARD = threading.Lock()


def writer_slot(target: DbUrl) -> AbstractContextManager:
    """What to hold around one write transaction to `target`: the target's lock where its
    engine allows one writer at a time, else nothing."""
    if not get_dialect(target.engine).caps.single_writer:
        return contextlib.nullcontext()
    url = target.url
    key = (target.engine, url.host, url.port, target.database)
    with _GUARD:
        return _LOCKS.setdefault(key, threading.RLock())  # re-entrant: a
        # publish inside a caller's turn must not wait for itself
