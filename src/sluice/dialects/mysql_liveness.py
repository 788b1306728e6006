"""MySQL/MariaDB liveness through PyMySQL (sluice.core.liveness): its connect, read and
write timeouts, the socket the stall watchdog severs, and KILL for a dropped session.
Kept apart from mysql.py, which holds the engine's SQL and types."""

from __future__ import annotations

from typing import Any

from sluice.core.errors import ConnectError, ServerUnavailable
from sluice.core.liveness import Timeouts, sever_fd
from sluice.core.urls import DbUrl

# Worth another try later: can't connect (2002/2003), lost at the handshake (2006/2013), too
# many connections (1040), server shutting down (1053). A refused login (1045, 1049) is not.
_UNAVAILABLE = frozenset({1040, 1053, 2002, 2003, 2006, 2013})


def connect_error(url: DbUrl, exc: BaseException) -> ConnectError:
    code = exc.args[0] if exc.args else None
    message = f"cannot connect to {url}: {url.redact(str(exc))}"
    if code not in _UNAVAILABLE:
        return ConnectError(message)
    return ServerUnavailable(message)  # retried within a chunk


class MysqlLiveness:
    """The `Dialect` liveness methods for PyMySQL connections."""

    def connect_timeouts(self, timeouts: Timeouts) -> dict[str, Any]:
        return {"connect_timeout": timeouts.connect}

    def stream_timeouts(self, conn: Any, timeouts: Timeouts) -> None:
        """PyMySQL's read and write timeouts, read at every packet: set on a streaming
        connection only (a key build at publish may keep the server silent for minutes).
        A little past the stall timeout, so the watchdog speaks first; this is its backup."""
        conn._read_timeout = conn._write_timeout = timeouts.stall + 2

    def session_id(self, conn: Any) -> Any:
        return conn.thread_id()

    def end_session(self, url: DbUrl, session: Any) -> None:
        conn = self.connect(url, autocommit=True)  # a user may KILL its own connections
        try:
            conn.cursor().execute(f"KILL {int(session)}")
        finally:
            conn.close()

    def session_working(self, url: DbUrl, session: Any) -> bool:
        probe = self.connect(url, autocommit=True)
        try:
            cur = probe.cursor()
            cur.execute("SELECT COMMAND FROM information_schema.PROCESSLIST WHERE ID = %s",
                        (int(session),))  # fmt: skip
            row = cur.fetchone()
        finally:
            probe.close()
        return row is not None and row[0] == "Query"

    def sever(self, conn: Any) -> None:
        sock = getattr(conn, "_sock", None)  # None once PyMySQL closed it itself
        if sock is not None:
            sever_fd(sock.fileno())
