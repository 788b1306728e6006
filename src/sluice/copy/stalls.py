"""What a chunk try does about a stalled connection (sluice.core.liveness): the error that
says so, and ending the dropped session on the server."""

from __future__ import annotations

import logging
import threading

from sluice.copy.plan import Chunk
from sluice.core.faults import CONNECTION_LOST, chunk_part, fault_error
from sluice.core.liveness import Watchdog
from sluice.core.urls import DbUrl, redact_all

log = logging.getLogger(__name__)


def end_session(dialect, url: DbUrl, session, chunk: Chunk) -> None:
    """Best effort, in the background (over a frozen network it waits a connect timeout):
    the dropped connection's session ends on the server too, and its locks with it."""
    if session is None:
        return

    def end() -> None:
        try:
            dialect.end_session(url, session)
        except Exception as exc:  # the server will end it when it notices; the retry goes on
            log.warning("%s: could not end the stalled session %s: %s", chunk.label, session,
                        redact_all(" ".join(str(exc).split())))  # fmt: skip

    threading.Thread(target=end, name=f"end-{session}", daemon=True).start()


def stalled_error(chunk: Chunk, watch: Watchdog, url: DbUrl, side: str | None = None):
    """The retryable error of a try whose connection the watchdog dropped."""
    side = side or watch.stalled
    what = (f"no byte moved on the connection to the {side} for {watch.stalled_for:.0f}s "
            f"(stall timeout {url.timeouts.stall:g}s): it stalled and was dropped")  # fmt: skip
    err = fault_error(CONNECTION_LOST, f"{chunk.label}: {what}", side=side, url=url, what=what)
    return err.with_facts(table=chunk.table, chunk=chunk_part(chunk.label, chunk.table))
