"""SQLite through the standard library, for small local work."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from typing import Any

from sluice.core.errors import ConnectError
from sluice.core.faults import Fault
from sluice.core.schema import Table
from sluice.core.types import Kind, SqlType
from sluice.core.urls import DbUrl
from sluice.dialects import faults
from sluice.dialects.base import Capabilities, Dialect

_AFFINITY: dict[Kind, str] = {
    Kind.BOOLEAN: "BOOLEAN",
    Kind.TINYINT: "INTEGER",
    Kind.SMALLINT: "INTEGER",
    Kind.INTEGER: "INTEGER",
    Kind.BIGINT: "INTEGER",
    Kind.DECIMAL: "NUMERIC",
    Kind.MONEY: "NUMERIC",
    Kind.REAL: "REAL",
    Kind.DOUBLE: "REAL",
    Kind.STRING: "TEXT",
    Kind.BINARY: "BLOB",
    Kind.DATE: "DATE",
    Kind.TIME: "TIME",
    Kind.DATETIME: "TIMESTAMP",
    Kind.DATETIME_TZ: "TIMESTAMP",
    Kind.UUID: "TEXT",
    Kind.JSON: "TEXT",
    Kind.XML: "TEXT",
    Kind.ROWVERSION: "BLOB",
    Kind.TEXT_FORM: "TEXT",
    Kind.GEOMETRY: "BLOB",
}


def _flag(v: Any) -> Any:
    """0 and 1 as booleans; any other value as it is, for the value checks to refuse (a
    BOOLEAN column holds 5 as well)."""
    return bool(v) if v in (0, 1) and not isinstance(v, (str, bytes)) else v


def _sqlite_decoders():
    import datetime as dt
    import uuid
    from decimal import Decimal

    def when(cls):
        return lambda v: v if isinstance(v, cls) else cls.fromisoformat(str(v))

    return {
        Kind.BOOLEAN: _flag,
        Kind.UUID: lambda v: v if isinstance(v, uuid.UUID) else uuid.UUID(str(v)),
        Kind.DATETIME: when(dt.datetime),
        Kind.DATETIME_TZ: when(dt.datetime),
        Kind.DATE: when(dt.date),
        Kind.TIME: when(dt.time),
        Kind.DECIMAL: lambda v: Decimal(str(v)),
        Kind.MONEY: lambda v: Decimal(str(v)),
    }


_SQLITE_DECODE = _sqlite_decoders()


class SqliteDialect(Dialect):
    name = "sqlite"
    caps = Capabilities(
        max_identifier_length=1024,
        max_bind_parameters=32766,
        bulk_method="executemany",
        transactional_ddl=True,
        timestamp_precision=6,
        default_schema=None,
        schemas=False,  # one file, one schema (an attached database is not read)
        key_after_load=False,
        enforces_length=False,  # VARCHAR(5) is documentation: a value of any length fits
        typed_values=False,  # so is INTEGER: a column holds text, a float, a blob
        float_nan=False,  # a NaN is stored as NULL, silently
        float_silent=True,
        float_negative_zero=False,  # REAL stores -0.0 as 0.0
        single_writer=True,  # one writer holds the file lock until it commits
    )
    driver_module = "sqlite3"
    extra = "sqlite"
    paramstyle_marker = "?"
    alters_foreign_keys = False  # dialects.keys: no ALTER TABLE ... ADD CONSTRAINT
    sqlalchemy_driver = "sqlite"

    def classify_fault(self, exc: BaseException) -> Fault:
        # by the primary result code: SQLITE_FULL, SQLITE_BUSY, SQLITE_CONSTRAINT, ...
        return faults.sqlite(exc)

    # views are kept as their CREATE VIEW text; SQLite has no sequences (issue 24)
    views_query = "SELECT NULL, name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name"
    not_carried_queries = (
        (
            "triggers",
            "SELECT 'trigger', NULL, tbl_name, name, sql "
            "FROM sqlite_master WHERE type = 'trigger' ORDER BY 3, 4",
        ),
    )

    def view_ddl(self, view, schema: str | None = None) -> str:
        return view.definition

    def create_view_sql(self, view, schema: str | None) -> list[str]:
        return [*self.drop_view_sql(view, schema), view.definition]

    rowid_key_is_identity = True
    # A declared name picks an affinity, not a size: SQLite has one floating type (an 8-byte
    # double) and one integer type (8 bytes, whatever the name: a SMALLINT column holds any
    # 64-bit value), and its times are text that Python reads to the microsecond.
    reflect_overrides = {
        "REAL": lambda t: SqlType(Kind.DOUBLE),
        "FLOAT": lambda t: SqlType(Kind.DOUBLE),
        "DOUBLE": lambda t: SqlType(Kind.DOUBLE),
        **dict.fromkeys(("INTEGER", "SMALLINT", "BIGINT"), lambda t: SqlType(Kind.BIGINT)),
        **dict.fromkeys(("DATETIME", "TIMESTAMP"), lambda t: SqlType(Kind.DATETIME, precision=6)),
        "TIME": lambda t: SqlType(Kind.TIME, precision=6),
    }
    fidelity_notes = {
        Kind.DECIMAL: ("lossy", "SQLite keeps decimals as 8-byte floats or integers"),
        Kind.MONEY: ("lossy", "SQLite keeps decimals as 8-byte floats or integers"),
    }

    def fidelity(self, t: SqlType) -> tuple[str, str]:
        # a 7th fractional digit (SQL Server's 100 ns) cannot pass through Python's times
        if t.kind in (Kind.DATETIME, Kind.DATETIME_TZ, Kind.TIME) and (t.precision or 0) > 6:
            return "lossy", "7th fractional digit (100 ns) dropped: Python times carry microseconds"
        return super().fidelity(t)

    def rename_constraint_sql(self, table: Table, old: str, new: str) -> list[str]:
        return []  # SQLite cannot rename a constraint; its name is cosmetic there

    def rename_index_sql(self, table: Table, old: str, index) -> list[str]:
        cols = ", ".join(self.quote(c) for c in index.columns)
        unique = "UNIQUE " if index.unique else ""
        return [
            f"DROP INDEX {self.quote(old)}",
            f"CREATE {unique}INDEX {self.quote(index.name)} ON {self.quote(table.name)} ({cols})",
        ]

    def decode_converters(self, table: Table) -> list:
        return [_SQLITE_DECODE.get(c.type.kind) for c in table.columns]

    def encode_converters(self, table: Table) -> list:
        # a decimal held as a Python int (MariaDB BIGINT UNSIGNED) past SQLite's 8-byte
        # integer goes as its text, which NUMERIC affinity keeps as near as it can (the plan
        # calls that lossy); sqlite3 itself would refuse the int without naming the value
        return [_wide_int if c.type.kind in (Kind.DECIMAL, Kind.MONEY) else None
                for c in table.columns]  # fmt: skip

    def render_type(self, t: SqlType) -> str:
        if t.kind is Kind.STRING and t.length is not None:
            return f"VARCHAR({t.length})"  # documentation only: SQLite does not enforce it
        return _AFFINITY[t.kind]

    def identity_clause(self, kind: str = "") -> str:
        return ""  # an INTEGER PRIMARY KEY is the rowid: it hands out max+1 by itself

    def column_ddl(self, table: Table, column_name: str) -> str:
        return super().column_ddl(table, column_name).replace("  ", " ")

    def upsert_sql(self, live: Table, staging: Table) -> list[str]:
        cols = ", ".join(self.quote(c) for c in live.column_names)
        keys = ", ".join(self.quote(k) for k in live.primary_key)
        rest = [self.quote(c) for c in live.column_names if c not in live.primary_key]
        action = "NOTHING"
        if rest:
            action = "UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in rest)
        # WHERE true: without it SQLite would read ON CONFLICT as a join constraint
        source = f"SELECT {cols} FROM {self.qualified(staging)} WHERE true"
        return [f"INSERT INTO {self.qualified(live)} ({cols}) {source} "
                f"ON CONFLICT ({keys}) DO {action}"]  # fmt: skip

    def null_safe_equal(self, a: str, b: str) -> str:
        return f"{a} IS {b}"

    def range_predicate(self, key, lo: Any, hi: Any) -> tuple[str, list[Any]]:
        """Datetimes are text here and compare as text: a bound with all six fractional digits
        sorts right against a value stored with none, three or six ('11:00:00' and
        '11:00:00.000' <= '11:00:00.000000'), where '11:00:00' would put the row holding a sync's
        watermark, written '11:00:00.000' by an application, above its own maximum."""
        return super().range_predicate(key, _bound_text(lo), _bound_text(hi))

    def align_identity_sql(self, table: Table, next_value: int) -> list[str]:
        return []

    def connect(self, url: DbUrl, *, autocommit: bool = False) -> Any:
        path = url.database or ":memory:"
        _register_adapters()
        try:
            # Reader and writer run on different threads. This process's writers queue on
            # sluice.copy.writers (single_writer); the busy timeout is for other processes.
            return sqlite3.connect(
                path,
                isolation_level=None if autocommit else "DEFERRED",
                check_same_thread=False,
                timeout=300,
            )
        except sqlite3.Error as exc:
            raise ConnectError(f"cannot open {url}: {exc}") from None

    def ensure_database(self, url: DbUrl) -> bool:
        return False  # connecting creates the file

    def require_database(self, url: DbUrl) -> None:
        path = url.database
        in_memory = not path or path == ":memory:" or path.startswith("file:")
        if not in_memory and not os.path.isfile(path):
            what = "is not a file" if os.path.exists(path) else "does not exist"
            raise ConnectError(f"no SQLite database at {path}: the file {what}")

    def sever(self, conn: Any) -> None:
        conn.interrupt()  # a local file: no network to stall, but a stuck statement stops

    def begin_read(self, conn: Any, snapshot: str | None = None) -> None:
        """query_only refuses any write on this connection; an explicit BEGIN holds one read
        transaction (sqlite3 opens none before a SELECT), so the whole chunk sees one state."""
        conn.execute("PRAGMA query_only = ON")
        conn.execute("BEGIN")

    def bulk_load(self, conn: Any, table: Table, rows: Iterable[tuple]) -> int:
        names = ", ".join(self.quote(c) for c in table.column_names)
        marks = ", ".join(["?"] * len(table.columns))
        cur = conn.executemany(
            f"INSERT INTO {self.qualified(table)} ({names}) VALUES ({marks})", rows
        )
        return cur.rowcount


def _bound_text(value: Any) -> Any:
    import datetime as dt

    if isinstance(value, dt.datetime):
        return value.isoformat(" ", timespec="microseconds")
    return value


def _register_adapters() -> None:
    """Store UUIDs and datetimes as ISO text (sqlite3 has no native types for them)."""
    import datetime as dt
    import uuid
    from decimal import Decimal

    sqlite3.register_adapter(uuid.UUID, str)
    sqlite3.register_adapter(dt.datetime, lambda v: v.isoformat(" "))
    sqlite3.register_adapter(dt.date, lambda v: v.isoformat())
    sqlite3.register_adapter(dt.time, lambda v: v.isoformat())
    # PostgreSQL's time 24:00:00 arrives as a duration (Python's time stops at 23:59:59)
    sqlite3.register_adapter(dt.timedelta, _clock_text)
    sqlite3.register_adapter(Decimal, str)  # as text: SQLite's REAL would round it


def _clock_text(v: Any) -> str:
    """A duration as clock text, `24:00:00` or `HH:MM:SS.ffffff`, as SQLite keeps times."""
    seconds, micro = divmod((v.days * 86400 + v.seconds) * 1_000_000 + v.microseconds, 1_000_000)
    hours, rest = divmod(seconds, 3600)
    text = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{text}.{micro:06d}" if micro else text


def _wide_int(v: Any) -> Any:
    return str(v) if isinstance(v, int) and not -(2**63) <= v < 2**63 else v
