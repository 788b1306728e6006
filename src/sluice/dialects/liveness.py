"""How an engine keeps a connection live (sluice.core.liveness): the `Dialect` methods that
bound a driver's waits, sever a stalled connection, and end its session on the server. The
defaults do nothing; postgresql_liveness and mysql_liveness fill them in for their drivers."""

from __future__ import annotations

from typing import Any

from sluice.core.liveness import Timeouts
from sluice.core.urls import DbUrl


class Liveness:
    """Mixed into `Dialect`."""

    def connect_timeouts(self, timeouts: Timeouts) -> dict[str, Any]:
        """Liveness (core/liveness): driver connect arguments bounding the login and what the
        driver can bound on any connection; `connect` and reflection (SQLAlchemy) use them."""
        return {}

    def stream_timeouts(self, conn: Any, timeouts: Timeouts) -> None:
        """Bound every read and write of a connection streaming a chunk (not a key build)."""

    def session_id(self, conn: Any) -> Any:  # the server's id of the session, or None
        return None

    def end_session(self, url: DbUrl, session: Any) -> None:
        """End a session dropped on a stall, from a new connection: over a frozen network the
        server may never learn it, and the session would keep its locks (on staging)."""

    def session_working(self, url: DbUrl, session: Any) -> bool:
        """Whether the server is running a statement for `session` (asked on a connection of
        its own): a statement that rightly keeps the connection silent (a key build, a
        swap waiting for a lock) is no stall. Engines that cannot tell say yes: their
        statements then end by the driver's and the server's own timeouts."""
        return True

    def sever(self, conn: Any) -> None:
        """Drop a connection under a call blocked on it (the stall watchdog's thread); without
        socket access, the driver's timeouts (`stream_timeouts`) are the bound."""
