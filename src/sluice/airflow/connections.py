"""Airflow connection -> sluice `DbUrl`. The engine follows from the connection type, so
pointing a connection at another engine just works."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import URL

from sluice.core.errors import ConfigError
from sluice.core.liveness import Timeouts
from sluice.core.urls import DbUrl

# Airflow conn_type -> SQLAlchemy drivername sluice uses for that engine
CONN_TYPES: dict[str, str] = {
    "mssql": "mssql+pymssql",
    "postgres": "postgresql",
    "postgresql": "postgresql",
    "mysql": "mysql+pymysql",
    "sqlite": "sqlite",
}


def url_from_connection(conn: Any, database: str | None = None) -> DbUrl:
    """Build the URL from a connection's fields (conn_type, host, port, login, password,
    schema = database). `database` overrides the connection's schema, e.g. a target database
    created by the run while the connection points at `master`. A PostgreSQL host that is a
    directory is a Unix-socket folder (the embedded PostgreSQL)."""
    conn_type = (conn.conn_type or "").lower()
    try:
        driver = CONN_TYPES[conn_type]
    except KeyError:
        known = ", ".join(sorted(CONN_TYPES))
        raise ConfigError(
            f"connection {conn.conn_id!r} has type {conn_type!r}; sluice knows {known}"
        ) from None
    db = database or conn.schema or None
    timeouts = timeouts_from_extras(conn)
    if driver == "sqlite":
        return DbUrl(URL.create("sqlite", database=conn.host or db), timeouts)
    host, query = conn.host or None, {}
    if host and host.startswith("/"):
        host, query = None, {"host": conn.host}
    url = URL.create(
        driver,
        username=conn.login or None,
        password=conn.password or None,
        host=host,
        port=conn.port or None,
        database=db,
        query=query,
    )
    return DbUrl.parse(url.render_as_string(hide_password=False)).with_timeouts(timeouts)


def timeouts_from_extras(conn: Any) -> Timeouts:
    """`connect_timeout` and `stall_timeout` (seconds) from the connection's extras, where
    set; sluice's defaults otherwise (core/liveness)."""
    extras = getattr(conn, "extra_dejson", None) or {}
    values = {}
    for key, field in (("connect_timeout", "connect"), ("stall_timeout", "stall")):
        if extras.get(key) not in (None, ""):
            try:
                values[field] = float(extras[key])
            except (TypeError, ValueError):
                raise ConfigError(
                    f"connection {conn.conn_id!r}: extra {key!r} must be a number of seconds, "
                    f"got {extras[key]!r}"
                ) from None
    timeouts = Timeouts(**values)
    problems = timeouts.problems()
    if problems:
        raise ConfigError(f"connection {conn.conn_id!r}: {'; '.join(problems)}")
    return timeouts


def url_for(conn_id: str, database: str | None = None) -> DbUrl:
    """Look the connection up through Airflow (inside a task only)."""
    from airflow.sdk import BaseHook

    return url_from_connection(BaseHook.get_connection(conn_id), database)
