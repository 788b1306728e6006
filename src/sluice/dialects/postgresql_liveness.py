"""PostgreSQL liveness through psycopg and libpq (sluice.core.liveness): connect and TCP
timeouts, the socket the stall watchdog severs, pg_terminate_backend for a dropped session,
and which connect failures are worth another try. Kept apart from postgresql.py (the SQL)."""

from __future__ import annotations

from typing import Any

from sluice.core.errors import ConnectError, ServerUnavailable
from sluice.core.liveness import Timeouts, sever_fd
from sluice.core.urls import DbUrl

# The server answered but is starting, stopping, resetting after a crash or full: worth another
# try later (a shutdown may end the session just after it was accepted: 57P01 at connect). Any
# other FATAL is a refusal (login, database, pg_hba); no FATAL at all means no answer in time.
_COMING_BACK = (
    "starting up",
    "shutting down",
    "not yet accepting connections",
    "in recovery mode",
    "too many clients",
    "due to administrator command",
    "crash of another server process",
)


def _unavailable(message: str) -> bool:
    return "FATAL:" not in message or any(m in message for m in _COMING_BACK)


def connect_error(url: DbUrl, exc: BaseException) -> ConnectError:
    message = url.redact(str(exc)).strip()
    if not _unavailable(message):
        return ConnectError(f"cannot connect to {url}: {message}")
    return ServerUnavailable(f"cannot connect to {url}: {message}")  # retried in a chunk


class PostgresLiveness:
    """The `Dialect` liveness methods for psycopg connections."""

    def waits(self, url: DbUrl) -> dict[str, Any]:
        """`connect_timeouts`, but an option written in the URL's query wins."""
        given = url.url.query
        return {k: v for k, v in self.connect_timeouts(url.timeouts).items() if k not in given}

    def connect_timeouts(self, timeouts: Timeouts) -> dict[str, Any]:
        """libpq's: keepalives end a connection whose peer stopped answering, and
        tcp_user_timeout one whose sent data stays unacknowledged; neither sees a peer that
        acknowledges but sends nothing (a frozen relay): the watchdog does."""
        idle, interval, count = timeouts.keepalive
        return {
            "connect_timeout": max(2, round(timeouts.connect)),  # libpq's minimum is 2 s
            "keepalives": 1,
            "keepalives_idle": idle,
            "keepalives_interval": interval,
            "keepalives_count": count,
            "tcp_user_timeout": int(timeouts.stall * 1000),
        }

    def session_id(self, conn: Any) -> Any:
        return conn.info.backend_pid

    def end_session(self, url: DbUrl, session: Any) -> None:
        # a role may end its own sessions; the dropped one is the run's own role
        with self.connect(url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (int(session),))

    def session_working(self, url: DbUrl, session: Any) -> bool:
        with self.connect(url, autocommit=True) as probe:
            row = probe.execute("SELECT state FROM pg_stat_activity WHERE pid = %s",
                                (int(session),)).fetchone()  # fmt: skip
        return row is not None and row[0] == "active"

    def sever(self, conn: Any) -> None:
        try:
            fd = conn.pgconn.socket
        except Exception:  # closed already: nothing blocked on it
            return
        sever_fd(fd)
