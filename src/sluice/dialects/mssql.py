"""SQL Server through pymssql: bulk copy (TDS BCP) for loads, IDENTITY(1,1) identities.

No SQL Server runs in CI: every statement this module generates is compiled by
the unit tests, and live tests run when `SLUICE_TEST_MSSQL_URL` is set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sluice.dialects.base import Capabilities, Dialect
from sluice.errors import ConfigError, ConnectError, MissingDriver
from sluice.schema import Table
from sluice.types import Kind, SqlType
from sluice.urls import DbUrl

# SQL Server type name -> neutral kind, for types without parameters.
_PLAIN: dict[str, SqlType] = {
    "bit": SqlType(Kind.BOOLEAN),
    "tinyint": SqlType(Kind.TINYINT),
    "smallint": SqlType(Kind.SMALLINT),
    "int": SqlType(Kind.INTEGER),
    "bigint": SqlType(Kind.BIGINT),
    "money": SqlType(Kind.MONEY),
    "smallmoney": SqlType(Kind.DECIMAL, precision=10, scale=4),
    "real": SqlType(Kind.REAL),
    "date": SqlType(Kind.DATE),
    "datetime": SqlType(Kind.DATETIME),  # 1/300 s ticks: no fixed digit count
    "smalldatetime": SqlType(Kind.DATETIME, precision=0),
    "uniqueidentifier": SqlType(Kind.UUID),
    "xml": SqlType(Kind.XML),
    "text": SqlType(Kind.STRING, unicode=False),
    "ntext": SqlType(Kind.STRING),
    "image": SqlType(Kind.BINARY),
    "rowversion": SqlType(Kind.ROWVERSION),
    "timestamp": SqlType(Kind.ROWVERSION),
}

_TYPE_RE = re.compile(r"^\s*(\w+)\s*(?:\(\s*(max|\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$", re.I)


def parse_type(text: str) -> SqlType:
    """Parse a SQL Server type declaration such as `nvarchar(40)` or `decimal(18,2)`."""
    m = _TYPE_RE.match(text)
    if not m:
        raise ConfigError(f"not a SQL Server type: {text!r}")
    name, arg, arg2 = m.group(1).lower(), m.group(2), m.group(3)
    if name in _PLAIN and arg is None:
        return _PLAIN[name]
    n = None if arg is None or arg.lower() == "max" else int(arg)
    if name in ("nvarchar", "varchar", "nchar", "char"):
        fixed = name.endswith("char") and not name.endswith("varchar")
        length = n if (arg is not None) else 1
        return SqlType(Kind.STRING, length=length, unicode=name.startswith("n"), fixed=fixed)
    if name in ("varbinary", "binary"):
        return SqlType(Kind.BINARY, length=n if arg is not None else 1, fixed=name == "binary")
    if name in ("decimal", "numeric"):
        return SqlType(Kind.DECIMAL, precision=n or 18, scale=int(arg2) if arg2 else 0)
    if name == "float":
        return SqlType(Kind.REAL if n is not None and n <= 24 else Kind.DOUBLE)
    if name in ("datetime2", "time", "datetimeoffset"):
        kind = {"datetime2": Kind.DATETIME, "time": Kind.TIME, "datetimeoffset": Kind.DATETIME_TZ}
        return SqlType(kind[name], precision=7 if n is None else n)
    raise ConfigError(f"unsupported SQL Server type: {text!r}")


class MssqlDialect(Dialect):
    name = "mssql"
    caps = Capabilities(
        max_identifier_length=128,
        max_bind_parameters=2100,
        bulk_method="bcp",
        transactional_ddl=True,
        timestamp_precision=7,
        default_schema="dbo",
    )
    quote_chars = ("[", "]")
    driver_module = "pymssql"
    extra = "mssql"

    def render_type(self, t: SqlType) -> str:
        k = t.kind
        simple = {
            Kind.BOOLEAN: "bit",
            Kind.TINYINT: "tinyint",
            Kind.SMALLINT: "smallint",
            Kind.INTEGER: "int",
            Kind.BIGINT: "bigint",
            Kind.MONEY: "money",
            Kind.REAL: "real",
            Kind.DOUBLE: "float",
            Kind.DATE: "date",
            Kind.UUID: "uniqueidentifier",
            Kind.JSON: "nvarchar(max)",
            Kind.XML: "xml",
            Kind.ROWVERSION: "binary(8)",  # a copied rowversion is data, not a new version
        }
        if k in simple:
            return simple[k]
        if k is Kind.STRING:
            base = ("n" if t.unicode else "") + ("char" if t.fixed else "varchar")
            if t.length is None or t.length > (4000 if t.unicode else 8000):
                return f"{base}(max)"
            return f"{base}({t.length})"
        if k is Kind.BINARY:
            base = "binary" if t.fixed else "varbinary"
            return f"{base}(max)" if t.length is None or t.length > 8000 else f"{base}({t.length})"
        if k is Kind.DECIMAL:
            return f"decimal({min(t.precision or 38, 38)},{t.scale or 0})"
        if k is Kind.DATETIME:
            return "datetime" if t.precision is None else f"datetime2({min(t.precision, 7)})"
        if k is Kind.DATETIME_TZ:
            return f"datetimeoffset({7 if t.precision is None else min(t.precision, 7)})"
        if k is Kind.TIME:
            return f"time({7 if t.precision is None else min(t.precision, 7)})"
        raise NotImplementedError(k)

    def identity_clause(self) -> str:
        return "IDENTITY(1,1)"

    def primary_key_clause(self, table: Table) -> str:
        return super().primary_key_clause(table).replace("PRIMARY KEY", "PRIMARY KEY CLUSTERED")

    def drop_table_sql(self, table: Table | str) -> str:
        return f"DROP TABLE IF EXISTS {self.qualified(table)}"

    def align_identity_sql(self, table: Table, next_value: int) -> list[str]:
        if table.identity is None:
            return []
        # RESEED n makes the next generated value n + 1 (increment 1) once the table has rows.
        target = self.qualified(table).replace("'", "''")
        return [f"DBCC CHECKIDENT ('{target}', RESEED, {int(next_value) - 1}) WITH NO_INFOMSGS"]

    @contextmanager
    def identity_insert(self, conn: Any, table: Table) -> Iterator[None]:
        if table.identity is None:
            yield
            return
        cur = conn.cursor()
        cur.execute(f"SET IDENTITY_INSERT {self.qualified(table)} ON")
        try:
            yield
        finally:
            cur.execute(f"SET IDENTITY_INSERT {self.qualified(table)} OFF")

    def connect(self, url: DbUrl, *, autocommit: bool = False) -> Any:
        try:
            import pymssql
        except ImportError:
            raise MissingDriver("SQL Server", "pymssql", self.extra) from None
        u = url.url
        try:
            conn = pymssql.connect(
                server=u.host or "localhost",
                port=str(u.port or 1433),
                user=u.username or "",
                password=url.password or "",
                database=u.database or "master",
                login_timeout=10,
                autocommit=autocommit,
            )
        except pymssql.Error as exc:
            raise ConnectError(f"cannot connect to {url}: {url.redact(str(exc))}") from None
        return conn

    def ensure_database(self, url: DbUrl) -> bool:
        if not url.database or url.database == "master":
            return False
        conn = self.connect(url.with_database("master"), autocommit=True)
        try:
            cur = conn.cursor()
            cur.execute("SELECT 1 FROM sys.databases WHERE name = %s", (url.database,))
            if cur.fetchone():
                return False
            cur.execute(f"CREATE DATABASE {self.quote(url.database)}")
            return True
        finally:
            conn.close()

    def bulk_load(self, conn: Any, table: Table, rows: Iterable[tuple]) -> int:
        """TDS bulk copy; explicit identity values are kept (bulk copy's KEEPIDENTITY)."""
        n = 0

        def counted() -> Iterator[tuple]:
            nonlocal n
            for row in rows:
                n += 1
                yield row

        conn.bulk_copy(self.qualified(table), counted(), batch_size=10_000, tablock=True)
        return n
