"""MySQL and MariaDB through PyMySQL: multi-row INSERTs sized from `max_allowed_packet`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sluice.dialects.base import Capabilities, Dialect, batched
from sluice.errors import ConnectError, MissingDriver
from sluice.schema import Table
from sluice.types import Kind, SqlType
from sluice.urls import DbUrl

_FIXED: dict[Kind, str] = {
    Kind.BOOLEAN: "TINYINT(1)",
    Kind.TINYINT: "TINYINT UNSIGNED",
    Kind.SMALLINT: "SMALLINT",
    Kind.INTEGER: "INT",
    Kind.BIGINT: "BIGINT",
    Kind.MONEY: "DECIMAL(19,4)",
    Kind.REAL: "FLOAT",
    Kind.DOUBLE: "DOUBLE",
    Kind.DATE: "DATE",
    Kind.UUID: "CHAR(36) CHARACTER SET ascii",
    Kind.JSON: "JSON",
    Kind.XML: "LONGTEXT",
    Kind.ROWVERSION: "BINARY(8)",
}

# Text is stored as utf8mb4 with a binary collation: every code point kept, and keys that
# differ only in case or accents stay distinct, as they are on the source.
TABLE_OPTIONS = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"


class MysqlDialect(Dialect):
    name = "mysql"
    caps = Capabilities(
        max_identifier_length=64,
        max_bind_parameters=65535,
        bulk_method="multirow-insert",
        transactional_ddl=False,
        timestamp_precision=6,
        default_schema=None,
        key_after_load=False,
    )
    quote_chars = ("`", "`")
    driver_module = "pymysql"
    extra = "mysql"

    def render_type(self, t: SqlType) -> str:
        if t.kind in _FIXED:
            return _FIXED[t.kind]
        if t.kind is Kind.STRING:
            if t.length is None:
                return "LONGTEXT"
            return f"CHAR({t.length})" if t.fixed else f"VARCHAR({t.length})"
        if t.kind is Kind.BINARY:
            return "LONGBLOB" if t.length is None else f"VARBINARY({t.length})"
        if t.kind is Kind.DECIMAL:
            return f"DECIMAL({t.precision or 38},{t.scale or 0})"
        if t.kind in (Kind.TIME, Kind.DATETIME, Kind.DATETIME_TZ):
            base = {Kind.TIME: "TIME", Kind.DATETIME: "DATETIME", Kind.DATETIME_TZ: "DATETIME"}
            p = 6 if t.precision is None else min(t.precision, 6)
            return f"{base[t.kind]}({p})"
        raise NotImplementedError(t.kind)

    def identity_clause(self) -> str:
        return "AUTO_INCREMENT"

    def table_options(self) -> str:
        return TABLE_OPTIONS

    def align_identity_sql(self, table: Table, next_value: int) -> list[str]:
        if table.identity is None:
            return []
        return [f"ALTER TABLE {self.qualified(table)} AUTO_INCREMENT = {int(next_value)}"]

    def connect(self, url: DbUrl, *, autocommit: bool = False) -> Any:
        try:
            import pymysql
        except ImportError:
            raise MissingDriver("MySQL", "pymysql", self.extra) from None
        u = url.url
        try:
            return pymysql.connect(
                host=u.host or "localhost",
                port=u.port or 3306,
                user=u.username or "root",
                password=url.password or "",
                database=u.database,
                charset="utf8mb4",
                autocommit=autocommit,
                connect_timeout=10,
                local_infile=False,
            )
        except pymysql.err.MySQLError as exc:
            raise ConnectError(f"cannot connect to {url}: {url.redact(str(exc))}") from None

    def ensure_database(self, url: DbUrl) -> bool:
        if not url.database:
            return False
        conn = self.connect(url.without_database(), autocommit=True)
        try:
            cur = conn.cursor()
            cur.execute("SHOW DATABASES LIKE %s", (url.database,))
            if cur.fetchone():
                return False
            cur.execute(
                f"CREATE DATABASE {self.quote(url.database)} "
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            )
            return True
        finally:
            conn.close()

    def bulk_load(self, conn: Any, table: Table, rows: Iterable[tuple]) -> int:
        """PyMySQL's executemany folds each batch into multi-row INSERTs up to the packet size."""
        cur = conn.cursor()
        cur.execute("SELECT @@max_allowed_packet")
        cur.max_stmt_length = max(64 * 1024, min(int(cur.fetchone()[0]) - 1024, 16 * 1024 * 1024))
        names = ", ".join(self.quote(c) for c in table.column_names)
        marks = ", ".join(["%s"] * len(table.columns))
        sql = f"INSERT INTO {self.qualified(table)} ({names}) VALUES ({marks})"
        n = 0
        for batch in batched(rows, 5000):
            cur.executemany(sql, batch)
            n += len(batch)
        return n
