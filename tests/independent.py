"""Reads and writes that check sluice from outside: the drivers themselves (psycopg, PyMySQL,
sqlite3) connected to a URL, nothing of sluice's connection, session or value code, on purpose:
what these read is the evidence a test holds sluice to.

Every session reads and writes instants in UTC (PostgreSQL's TimeZone, MariaDB's time_zone),
so a test's expectations do not depend on the server's zone; statements run in autocommit.

    rows(url, "SELECT id FROM people WHERE age >= %s ORDER BY id", (40,))
    execute(url, "CREATE TABLE t (id int PRIMARY KEY)", "INSERT INTO t VALUES (1)")

Without `params` a statement is sent as written (a `%` is a `%`); with them, `%s` marks each
parameter and a literal `%` is written `%%` (both drivers' rule)."""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from sluice.core.urls import DbUrl  # the URL's parts only: no connection code of sluice's

_tls: list = []


def connect(url: DbUrl, *, sql_mode: str | None = None) -> Any:
    """An autocommit connection with the engine's own driver. `sql_mode`: MariaDB's, for the
    session (the server's default otherwise)."""
    u = url.url
    if url.engine == "postgresql":
        import psycopg

        return psycopg.connect(host=u.query.get("host") or u.host, port=u.port or 5432,
                               user=u.username, password=url.password or None,
                               dbname=url.database, autocommit=True,
                               options="-c TimeZone=UTC")  # fmt: skip
    if url.engine in ("mysql", "mariadb"):
        return _mariadb_class()(host=u.host or "localhost", port=u.port or 3306,
                                user=u.username or "root", password=url.password or "",
                                database=url.database, charset="utf8mb4", autocommit=True,
                                sql_mode=sql_mode,
                                init_command="SET time_zone = '+00:00'")  # fmt: skip
    if url.engine == "sqlite":
        return sqlite3.connect(url.database, isolation_level=None)
    raise ValueError(f"no independent driver for {url.engine}")


@contextlib.contextmanager
def cursor(url: DbUrl, **session: Any) -> Iterator[Any]:
    """A cursor of a fresh `connect(url)`, closed with its connection."""
    conn = connect(url, **session)
    try:
        yield conn.cursor()
    finally:
        conn.close()


def rows(url: DbUrl, sql: str, params: Sequence | None = None, **session: Any) -> list[tuple]:
    """Every row `sql` returns (a test's small result), as tuples."""
    with cursor(url, **session) as cur:
        cur.execute(sql, *([] if params is None else [params]))
        return [tuple(r) for r in cur.fetchall()]


def execute(url: DbUrl, *statements: str, **session: Any) -> None:
    """Run `statements` in order, each committed by itself."""
    with cursor(url, **session) as cur:
        for stmt in statements:
            cur.execute(stmt)


@functools.cache
def _mariadb_class() -> type:
    """PyMySQL's Connection, building its default ("preferred") TLS context once rather than
    per connection (it loads the CA store: ~20 ms of CPU, 40 times a local connect)."""
    from pymysql.connections import Connection

    class OneContext(Connection):
        def _create_ssl_ctx(self, sslp):
            if isinstance(sslp, dict) and not sslp:
                if not _tls:
                    _tls.append(super()._create_ssl_ctx(sslp))
                return _tls[0]
            return super()._create_ssl_ctx(sslp)

    return OneContext
