"""Faults by what happened, and the one line a person reads when a run fails.

Each dialect sorts its driver's exceptions into one of the `Fault`s below
(`Dialect.classify_fault`); whether a fault is retried follows from the fault, never from the
engine. A failure raised for a person carries its facts (side, host, table, chunk, fault, the
state of the target) on the `SluiceError`, and `failure_line` renders them:

    <side> <host>, table <name>, chunk #<n> (<lo>, <hi>]: <what happened>; target: <state>;
    next: <what to do>

The driver's own text (SQLSTATE messages, PyMySQL's tuples) is the error's `str()`, which
goes to the log, never into that line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sluice.core.errors import SluiceError
    from sluice.core.urls import DbUrl


@dataclass(frozen=True)
class Fault:
    """A kind of fault: `what` and `advice` are plain words, `{side}` filled in."""

    name: str
    retryable: bool
    what: str
    advice: str


AGAIN = "then run the same command again"
CONNECTION_LOST = Fault(
    "connection_lost", True, "the connection to the {side} was lost",
    f"check that the {{side}} server is up and reachable, {AGAIN}",
)  # fmt: skip
SERVER_SHUTDOWN = Fault(
    "server_shutdown", True, "the {side} server ended the session (an administrator's "
    "command, or the server shutting down or restarting)",
    f"wait until the {{side}} server accepts connections, {AGAIN}",
)  # fmt: skip
SERVER_BUSY = Fault(
    "server_busy", True, "the {side} server was too busy (throttled, short of memory or locks, "
    "failing over)", f"wait a little, {AGAIN}",
)  # fmt: skip
DEADLOCK = Fault(
    "deadlock", True, "the {side} server broke a deadlock with another session",
    f"{AGAIN}; if it recurs, pause the other writers of these tables",
)  # fmt: skip
SERIALIZATION = Fault(
    "serialization_failure", True, "the {side} server refused a concurrent change "
    "(serialization failure)", "run the same command again",
)  # fmt: skip
LOCK_TIMEOUT = Fault(
    "lock_timeout", False, "another session held a lock on the table longer than the lock "
    "timeout", f"end that session or wait for it (or raise --lock-timeout), {AGAIN}",
)  # fmt: skip
STATEMENT_TIMEOUT = Fault(
    "statement_timeout", False, "a statement ran past the {side} server's time limit",
    f"raise the statement time limit of this login (or copy smaller --chunk-rows), {AGAIN}",
)  # fmt: skip
DISK_FULL = Fault(
    "disk_full", False, "the {side} server's disk is full",
    f"free space on the {{side}} server or give it more, {AGAIN}",
)  # fmt: skip
RESOURCE_LIMIT = Fault(
    "resource_limit", False, "the {side} server ran out of memory or hit a configured "
    "resource limit", f"raise the limit named in the -v log (or lower --workers), {AGAIN}",
)  # fmt: skip
PERMISSION = Fault(
    "permission", False, "the {side} login lacks a privilege or was refused",
    f"grant this login what the -v log names, {AGAIN}",
)  # fmt: skip
CONSTRAINT = Fault(
    "constraint", False, "the {side} refused a row that breaks a constraint",
    "find the row with the -v log and fix it or the constraint, then run again",
)  # fmt: skip
DATA = Fault(
    "data", False, "the {side} refused a value it cannot store",
    "run with -v to see the value's table and column, then fix it or the mapping",
)  # fmt: skip
OTHER = Fault(
    "error", False, "the {side} server refused a statement",
    "run with -v for the server's message",
)  # fmt: skip

ALL = (
    CONNECTION_LOST,
    SERVER_SHUTDOWN,
    SERVER_BUSY,
    DEADLOCK,
    SERIALIZATION,
    LOCK_TIMEOUT,
    STATEMENT_TIMEOUT,
    DISK_FULL,
    RESOURCE_LIMIT,
    PERMISSION,
    CONSTRAINT,
    DATA,
    OTHER,
)

# Python's own exceptions for a socket that broke under a driver (any engine)
NETWORK_ERRORS = (ConnectionError, TimeoutError, BrokenPipeError)


def where(url: DbUrl) -> str:
    """host:port/database of a URL (a file's path for SQLite): never a user or password."""
    u = url.url
    host = u.host or u.query.get("host") or ""
    if isinstance(host, tuple):
        host = host[0] if host else ""
    if not host:
        return u.database or url.engine
    place = f"{host}:{u.port}" if u.port else str(host)
    return f"{place}/{u.database}" if u.database else place


def failure_line(exc: BaseException) -> str:
    """The line a person reads: from the error's facts where it has them, else its message
    (a `ConfigError`, a `DataError` naming table, column and key) plus the target's state."""
    from sluice.core.urls import redact_all

    fault: Fault | None = getattr(exc, "fault", None)
    side: str | None = getattr(exc, "side", None)
    state: str | None = getattr(exc, "target_state", None)
    if fault is None:
        line = " ".join(str(exc).split())
        return redact_all(f"{line}; target: {state}" if state else line)
    head = [f"{side} {exc.host}" if getattr(exc, "host", None) else (side or "")]
    table = getattr(exc, "table", None)
    chunk = getattr(exc, "chunk", None)
    if table:
        head.append(f"table {table}")
    if chunk:
        head.append(f"chunk {chunk}")
    what = getattr(exc, "what", None) or fault.what.format(side=side or "database")
    tries = getattr(exc, "tries", None)
    if tries and tries > 1:
        what += f" ({tries} tries)"
    line = f"{', '.join(h for h in head if h)}: {what}"
    if state:
        line += f"; target: {state}"
    line += f"; next: {fault.advice.format(side=side or 'database')}"
    return redact_all(" ".join(line.split()))


def fault_error(
    fault: Fault,
    message: str,
    *,
    side: str | None = None,
    url: DbUrl | None = None,
    **facts: Any,
) -> SluiceError:
    """A TransientError or TerminalError (by `fault.retryable`) carrying its facts."""
    from sluice.core.errors import TerminalError, TransientError

    kind = TransientError if fault.retryable else TerminalError
    err = kind(message)
    return err.with_facts(fault=fault, side=side, host=where(url) if url else None, **facts)


def chunk_part(label: str, table: str) -> str:
    """'#5 (10, 20]' from a chunk label 'Posts#5 (10, 20]' (the table is named apart)."""
    return label[len(table) :] if label.startswith(table + "#") else label
