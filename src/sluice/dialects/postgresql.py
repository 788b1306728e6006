"""PostgreSQL through psycopg 3: binary-safe COPY for loads, identities as GENERATED ALWAYS."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sluice.dialects.base import Capabilities, Dialect
from sluice.errors import ConnectError, MissingDriver
from sluice.schema import Table
from sluice.types import Kind, SqlType
from sluice.urls import DbUrl

_FIXED: dict[Kind, str] = {
    Kind.BOOLEAN: "BOOLEAN",
    Kind.TINYINT: "SMALLINT",  # SQL Server tinyint is 0..255: smallint holds it
    Kind.SMALLINT: "SMALLINT",
    Kind.INTEGER: "INTEGER",
    Kind.BIGINT: "BIGINT",
    Kind.MONEY: "NUMERIC(19,4)",
    Kind.REAL: "REAL",
    Kind.DOUBLE: "DOUBLE PRECISION",
    Kind.DATE: "DATE",
    Kind.UUID: "UUID",
    Kind.JSON: "JSONB",
    Kind.XML: "XML",
    Kind.ROWVERSION: "BYTEA",
}


class PostgresDialect(Dialect):
    name = "postgresql"
    caps = Capabilities(
        max_identifier_length=63,
        max_bind_parameters=65535,
        bulk_method="copy",
        transactional_ddl=True,
        timestamp_precision=6,
        default_schema="public",
    )
    driver_module = "psycopg"
    extra = "postgresql"

    def render_type(self, t: SqlType) -> str:
        if t.kind in _FIXED:
            return _FIXED[t.kind]
        if t.kind is Kind.STRING:
            if t.length is None:
                return "TEXT"
            return f"CHAR({t.length})" if t.fixed else f"VARCHAR({t.length})"
        if t.kind is Kind.BINARY:
            return "BYTEA"
        if t.kind is Kind.DECIMAL:
            return f"NUMERIC({t.precision},{t.scale or 0})" if t.precision else "NUMERIC"
        if t.kind in (Kind.TIME, Kind.DATETIME, Kind.DATETIME_TZ):
            base = {Kind.TIME: "TIME", Kind.DATETIME: "TIMESTAMP", Kind.DATETIME_TZ: "TIMESTAMPTZ"}
            p = t.precision
            return base[t.kind] if p is None or p >= 6 else f"{base[t.kind]}({p})"
        raise NotImplementedError(t.kind)

    def identity_clause(self) -> str:
        return "GENERATED ALWAYS AS IDENTITY"

    def align_identity_sql(self, table: Table, next_value: int) -> list[str]:
        col = table.identity
        if col is None:
            return []
        return [
            f"ALTER TABLE {self.qualified(table)} ALTER COLUMN {self.quote(col.name)} "
            f"RESTART WITH {int(next_value)}"
        ]

    def connect(self, url: DbUrl, *, autocommit: bool = False) -> Any:
        try:
            import psycopg
        except ImportError:
            raise MissingDriver("PostgreSQL", "psycopg", self.extra) from None
        try:
            return psycopg.connect(_conninfo(url), autocommit=autocommit, connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise ConnectError(f"cannot connect to {url}: {url.redact(str(exc)).strip()}") from None

    def ensure_database(self, url: DbUrl) -> bool:
        try:  # the common case, and the only one a user without CREATEDB can pass
            self.connect(url).close()
            return False
        except ConnectError as exc:
            if f'database "{url.database}" does not exist' not in str(exc):
                raise
        with self.connect(url.with_database("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {self.quote(url.database)}")
        return True

    def bulk_load(self, conn: Any, table: Table, rows: Iterable[tuple]) -> int:
        names = ", ".join(self.quote(c) for c in table.column_names)
        n = 0
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY {self.qualified(table)} ({names}) FROM STDIN") as cp,
        ):
            for row in rows:
                cp.write_row(row)
                n += 1
        return n


def _conninfo(url: DbUrl) -> str:
    """libpq conninfo from a SQLAlchemy-style URL (keeps query options such as host=/socket)."""
    from psycopg.conninfo import make_conninfo

    u = url.url
    params: dict[str, Any] = {k: v for k, v in u.query.items() if isinstance(v, str)}
    if u.host:
        params["host"] = u.host
    if u.port:
        params["port"] = u.port
    if u.username:
        params["user"] = u.username
    if url.password:
        params["password"] = url.password
    params["dbname"] = u.database or "postgres"
    return make_conninfo("", **params)
