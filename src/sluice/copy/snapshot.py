"""One instant of the source for a whole run, where the engine can share it (ADR 0010).

A PostgreSQL session exports its snapshot (`pg_export_snapshot()`) and keeps its read-only
transaction open while the run's chunks copy; every chunk's reader adopts it, retries
included, so every table and every chunk of a table shows the source as it was at that one
moment. Engines that cannot share a snapshot read each chunk in its own (`begin_read`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from sluice.core.urls import DbUrl, redact_all
from sluice.dialects import get_dialect

log = logging.getLogger(__name__)


@contextlib.contextmanager
def shared_snapshot(source: DbUrl) -> Iterator[str | None]:
    """The id of a snapshot held open until the block ends, or None where the engine cannot
    share one or the export fails (a server that refuses it): each chunk then reads its own."""
    dialect = get_dialect(source.engine)
    if not dialect.shares_snapshots:
        yield None
        return
    conn = None
    snapshot = None
    try:
        conn = dialect.connect(source)
        snapshot = dialect.export_snapshot(conn)
        log.debug("source snapshot %s held for the run", snapshot)
    except Exception as exc:  # the copy still runs, each chunk in a snapshot of its own
        log.warning("no shared source snapshot (%s): each chunk reads its own",
                    redact_all(" ".join(str(exc).split())))  # fmt: skip
    try:
        yield snapshot
    finally:
        if conn is not None:
            with contextlib.suppress(Exception):  # a connection killed meanwhile: nothing held
                conn.close()
