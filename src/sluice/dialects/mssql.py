"""SQL Server through pymssql: TDS bulk copy for loads, IDENTITY(1,1) identities, sp_rename swaps.

No SQL Server runs in CI: every statement generated here is compiled by the unit tests
(sqlglot's T-SQL parser); the live tests run when `SLUICE_TEST_MSSQL_URL` is set. Types and
value adapters live in `mssql_types`; docs/sqlserver.md explains the decisions. Driver facts
relied on (pymssql 2.4.6 and its FreeTDS 1.5, read in `_pymssql.pyx`/`_mssql.pyx`):
* cursors stream rows from the TDS stream and return canonical values (bool, Decimal, UUID,
  aware datetimes; date/time need TDS 7.3+), except xml, which comes as raw bytes;
* `bulk_copy` keeps explicit identity values by itself (`bcp_control(BCPKEEPIDENTITY)`), but
  binds '' and b'' as NULL (length 0), and FreeTDS's client-side date parsing reads no offset
  and drops years before 1753: such rows go through INSERT (`mssql_types.bcp_safe`);
* every server message of severity >= 6 raises, including sp_rename's informational caution.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sluice.core.errors import ConnectError, MissingDriver
from sluice.core.faults import Fault
from sluice.core.liveness import Timeouts
from sluice.core.schema import Table
from sluice.core.types import Kind, SqlType
from sluice.core.urls import DbUrl
from sluice.dialects import faults, mssql_export
from sluice.dialects import mssql_native as mn
from sluice.dialects import mssql_types as mt
from sluice.dialects.base import PARAM, Capabilities, Dialect
from sluice.dialects.mssql_capture import MssqlCapture
from sluice.dialects.mssql_definition import MssqlDefinitions
from sluice.dialects.mssql_driver import (
    BCP_BATCH_ROWS,
    VALUE_ERRORS,
    Connection,
    Split,
    chain,
    message_of,
)
from sluice.dialects.mssql_keys import MssqlKeys
from sluice.dialects.mssql_objects import MssqlObjects
from sluice.dialects.schemas import MSSQL_SCHEMAS

parse_type = mt.parse_type  # the StackOverflow2010 schema is declared in SQL Server's words


# Source reads (ADR 0010): SNAPSHOT isolation sees every row as of the transaction's first
# read and takes no shared locks, but only where ALLOW_SNAPSHOT_ISOLATION is ON; otherwise
# READ COMMITTED. SQL Server has no read-only transaction: sluice reads only, and least
# privilege (SELECT alone) is what keeps a source untouched.
SNAPSHOT_STATE_SQL = (
    "SELECT snapshot_isolation_state FROM sys.databases WHERE database_id = DB_ID()"
)
SNAPSHOT_READ_SQL = "SET TRANSACTION ISOLATION LEVEL SNAPSHOT"
COMMITTED_READ_SQL = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED"

# Fractional-second digits of temporal columns, which the SQLAlchemy inspector drops.
PRECISION_SQL = (
    "SELECT c.name, c.scale FROM sys.columns AS c "
    "JOIN sys.types AS t ON t.user_type_id = c.user_type_id "
    "WHERE c.object_id = OBJECT_ID(:obj) AND t.name IN ('datetime2', 'time', 'datetimeoffset')"
)


def apply_scales(columns: list, scales: dict[str, int]) -> list:
    """Columns with the catalog's fractional-second digits where it has them."""
    from dataclasses import replace

    out = []
    for c in columns:
        if c.name in scales and c.type.kind in (Kind.DATETIME, Kind.DATETIME_TZ, Kind.TIME):
            c = replace(c, type=replace(c.type, precision=scales[c.name]))
        out.append(c)
    return out


def render_type_is_datetime(t: SqlType) -> bool:
    """Whether `t` is rendered as the legacy `datetime` (1753-01-01 to 9999-12-31)."""
    return t.kind is Kind.DATETIME and t.precision is None


class MssqlDialect(MssqlCapture, MssqlObjects, MssqlDefinitions, MssqlKeys, Dialect):
    name = "mssql"
    lineage_scheme, default_port = "sqlserver", 1433  # OpenLineage's naming
    caps = Capabilities(
        max_identifier_length=128,
        # SQL Server accepts 2100 parameters per request and 1000 rows per VALUES list;
        # pymssql inlines parameters as literals, but the caps hold for any driver.
        max_bind_parameters=2100,
        bulk_method="bcp",
        transactional_ddl=True,
        timestamp_precision=7,
        default_schema="dbo",
        text_surrogates=True,  # nvarchar is UTF-16 and keeps an unpaired surrogate
        float_nan=False,  # float, real and decimal hold neither NaN nor Infinity
        float_infinity=False,
        index_names_per_table=True,
    )
    quote_chars = ("[", "]")
    # the staging heap's range DELETE scans every row, waiting on other chunks' open loads
    probe_before_delete = True
    driver_module = "pymssql"
    extra = "mssql"
    sqlalchemy_driver = "mssql+pymssql"
    reflect_overrides = mt.REFLECT_OVERRIDES
    fidelity_notes = mt.FIDELITY_NOTES
    raw_export_formats = (mssql_export.FORMAT,)  # rows rendered as CSV (ADR 0028)
    raw_export_kinds = {mssql_export.FORMAT: mssql_export.CSV_KINDS}

    # --- types and DDL ------------------------------------------------------------------------
    def render_type(self, t: SqlType) -> str:
        return self.render_native(t) or mt.render_type(t)

    def fidelity(self, t: SqlType) -> tuple[str, str]:
        if self.render_native(t) is not None and not mn.fraction_lossy(t):
            return "exact", ""  # the source's own declaration
        return mt.fidelity(t)

    # SQL Server's own types on a SQL Server target (ADR 0013; mssql_native)
    def native_columns(self, bind: Any, schema: str | None, tables) -> dict:
        return mn.native_columns(bind, self.qualified, schema, tables)

    def with_native(self, t: SqlType | None, info: Any) -> SqlType | None:
        return mn.with_native(self.name, t, info)

    def values_group(self, table: Table) -> str:
        return mn.insert_group(table.columns, PARAM)

    def url_schema(self, url: DbUrl) -> str | None:
        return "dbo"

    schemas_query = MSSQL_SCHEMAS

    def create_schema_sql(self, schema: str) -> list[str]:
        """CREATE SCHEMA must open a batch of its own: run through EXEC, when absent."""
        create = self.literal(f"CREATE SCHEMA {self.quote(schema)}")
        return [f"IF SCHEMA_ID({self.literal(schema)}) IS NULL EXEC({create})"]

    def value_bounds(self, t: SqlType) -> tuple[Any, Any] | None:
        return mt.DATETIME_RANGE if render_type_is_datetime(t) else None

    def identity_clause(self, kind: str = "") -> str:
        return "IDENTITY(1,1)"

    key_actions = frozenset({"CASCADE", "SET NULL", "SET DEFAULT"})  # no RESTRICT

    def check_constraint(self, check) -> str | None:
        """Unnamed: a constraint's name is unique per schema here, and the staging table
        is created while the live table still holds the source's name."""
        expression = self.check_clause(check)
        return None if expression is None else f"CHECK ({expression})"

    def primary_key_clause(self, table: Table) -> str:
        keys = ", ".join(self.quote(k) for k in table.primary_key)
        name = table.primary_key_name or f"PK_{table.name}"
        return f"CONSTRAINT {self.quote(name)} PRIMARY KEY CLUSTERED ({keys})"

    def drop_table_sql(self, table: Table | str) -> str:
        return f"DROP TABLE IF EXISTS {self.qualified(table)}"

    def literal(self, text: str) -> str:
        """A national string literal: N'...' with quotes doubled."""
        return "N'" + text.replace("'", "''") + "'"

    def create_database_sql(self, name: str) -> str:
        return f"CREATE DATABASE {self.quote(name)}"

    def align_identity_sql(self, table: Table, next_value: int) -> list[str]:
        """DBCC CHECKIDENT RESEED, for both of its meanings.

        RESEED n makes the next value n itself while the table's identity has never handed
        out a value (sys.identity_columns.last_value IS NULL), and n + 1 once it has.
        """
        if table.identity is None:
            return []
        target = self.literal(self.qualified(table))
        n = int(next_value)
        return [
            f"IF EXISTS (SELECT 1 FROM sys.identity_columns WHERE object_id = OBJECT_ID({target})"
            f" AND last_value IS NULL)\n"
            f"  DBCC CHECKIDENT ({target}, RESEED, {n}) WITH NO_INFOMSGS\n"
            f"ELSE\n"
            f"  DBCC CHECKIDENT ({target}, RESEED, {n - 1}) WITH NO_INFOMSGS"
        ]

    @contextmanager
    def identity_insert(self, conn: Any, table: Table) -> Iterator[None]:
        """SET IDENTITY_INSERT for the INSERT path (bulk copy keeps identities by itself)."""
        if table.identity is None:
            yield
            return
        cur = conn.cursor()
        cur.execute(f"SET IDENTITY_INSERT {self.qualified(table)} ON")
        try:
            yield
        except BaseException:
            with suppress(Exception):  # the session may be gone: keep the original error
                cur.execute(f"SET IDENTITY_INSERT {self.qualified(table)} OFF")
            raise
        cur.execute(f"SET IDENTITY_INSERT {self.qualified(table)} OFF")

    # --- publishing -------------------------------------------------------------------------
    def _check(self, condition: str, what: str) -> str:
        message = self.literal(f"sluice: {what}".replace("%", "%%"))
        return f"IF {condition} RAISERROR ({message}, 16, 1)"

    def _rename(self, objname: str, new: str, objtype: str) -> str:
        return (
            f"EXEC sp_rename {self.literal(objname)}, {self.literal(new)}, {self.literal(objtype)}"
        )

    def swap_sql(self, staging: Table, live: Table, live_exists: bool) -> list[str]:
        """Drop live, rename staging to it (sp_rename: 'schema.name' -> bare new name)."""
        stmts = [f"DROP TABLE {self.qualified(live)}"] if live_exists else []
        stmts.append(self._rename(self.qualified(staging), live.name, "OBJECT"))
        stmts.append(
            self._check(
                f"OBJECT_ID({self.literal(self.qualified(live))}, N'U') IS NULL",
                f"{self.qualified(staging)} was not renamed to {self.quote(live.name)}",
            )
        )
        return stmts

    def rename_constraint_sql(self, table: Table, old: str, new: str) -> list[str]:
        """A primary key is a schema-scoped object: sp_rename 'schema.old', 'new', 'OBJECT'."""
        if old == new:
            return []
        schema = table.schema or self.caps.default_schema
        target = self.qualified(new, schema)
        return [
            self._rename(self.qualified(old, schema), new, "OBJECT"),
            self._check(
                f"OBJECT_ID({self.literal(target)}) IS NULL", f"constraint {target} is missing"
            ),
        ]

    def rename_index_sql(self, table: Table, old: str, index) -> list[str]:
        """An index is named within its table: sp_rename 'schema.table.old', 'new', 'INDEX'."""
        new = getattr(index, "name", index)  # an Index, or its final name
        where = self.literal(self.qualified(table))
        return [
            self._rename(f"{self.qualified(table)}.{self.quote(old)}", new, "INDEX"),
            self._check(
                f"INDEXPROPERTY(OBJECT_ID({where}), {self.literal(new)}, 'IndexID') IS NULL",
                f"index {self.quote(new)} is missing on {self.qualified(table)}",
            ),
        ]

    def referencing_foreign_keys_sql(self) -> str:
        return (
            "SELECT OBJECT_SCHEMA_NAME(fk.parent_object_id), OBJECT_NAME(fk.parent_object_id), "
            "fk.name FROM sys.foreign_keys AS fk "
            "WHERE fk.referenced_object_id = OBJECT_ID(%s) "
            "AND fk.parent_object_id <> fk.referenced_object_id"
        )

    def drop_referencing_foreign_keys_sql(self, conn: Any, table: Table) -> list[str]:
        """Keys of other tables pointing at `table` (its own keys go with DROP TABLE)."""
        cur = conn.cursor()
        cur.execute(self.referencing_foreign_keys_sql(), (self.qualified(table),))
        return [
            f"ALTER TABLE {self.qualified(name, schema)} DROP CONSTRAINT {self.quote(fk)}"
            for schema, name, fk in cur.fetchall()
        ]

    def add_foreign_key_sql(self, fk, name: str) -> list[str]:
        """WITH NOCHECK adds the key without reading rows; WITH CHECK CHECK then validates it
        (and marks it trusted). A failed check leaves the key in place, untrusted."""
        cols = ", ".join(self.quote(c) for c in fk.columns)
        refs = ", ".join(self.quote(c) for c in fk.ref_columns)
        table, constraint = self.qualified(fk.table, fk.schema), self.quote(name)
        return [
            f"ALTER TABLE {table} WITH NOCHECK ADD CONSTRAINT {constraint} FOREIGN KEY ({cols}) "
            f"REFERENCES {self.qualified(fk.ref_table, fk.ref_schema)} ({refs})"
            f"{self.foreign_key_actions(fk)}",
            f"ALTER TABLE {table} WITH CHECK CHECK CONSTRAINT {constraint}",
        ]

    def _in_schema(self, name: str, schema: str | None) -> str:
        """`name` qualified by its schema, dbo when it names none (whatever the login's)."""
        return self.qualified(name, schema or self.caps.default_schema)

    def table_exists(self, conn: Any, name: Table | str) -> bool:
        """OBJECT_ID in the table's schema (dbo for a bare name): no failing statement."""
        cur = conn.cursor()
        where = (name, None) if isinstance(name, str) else (name.name, name.schema)
        cur.execute("SELECT OBJECT_ID(%s, N'U')", (self._in_schema(*where),))
        found = cur.fetchone()[0] is not None
        conn.rollback()
        return found

    # --- incremental sync ---------------------------------------------------------------------
    def upsert_sql(self, live: Table, staging: Table) -> list[str]:
        names = [self.quote(c) for c in live.column_names]
        on = " AND ".join(f"t.{self.quote(k)} = s.{self.quote(k)}" for k in live.primary_key)
        rest = [self.quote(c) for c in live.column_names if c not in live.primary_key]
        matched = ""
        if rest:
            matched = " WHEN MATCHED THEN UPDATE SET " + ", ".join(f"t.{c} = s.{c}" for c in rest)
        merge = (
            f"MERGE {self.qualified(live)} WITH (HOLDLOCK) AS t USING {self.qualified(staging)} "
            f"AS s ON {on}{matched} WHEN NOT MATCHED BY TARGET THEN INSERT "
            f"({', '.join(names)}) VALUES ({', '.join('s.' + c for c in names)});"
        )
        if live.identity is None:
            return [merge]
        ident = f"SET IDENTITY_INSERT {self.qualified(live)}"
        return [f"{ident} ON", merge, f"{ident} OFF"]

    def key_sum_sql(self, column: str) -> str:
        return f"SUM(CAST({column} AS DECIMAL(38, 0)))"  # SUM(int) is an int: it overflows

    def rowversion_ceiling_sql(self) -> str | None:
        return "SELECT MIN_ACTIVE_ROWVERSION()"

    def alter_column_type_sql(self, table: Table, column_name: str) -> list[str]:
        col = table.column(column_name)
        null = "NULL" if col.nullable else "NOT NULL"
        return [f"ALTER TABLE {self.qualified(table)} ALTER COLUMN {self.quote(col.name)} "
                f"{self.render_type(col.type)} {null}"]  # fmt: skip

    def rejects_value(self, exc: BaseException) -> bool:
        """Out-of-range dates (242), truncation (8152, 2628), overflow (8115), failed
        conversions (245, 8114): SQL Server names neither the row nor, mostly, the column."""
        return isinstance(exc, UnicodeError) or message_of(exc)[0] in VALUE_ERRORS

    def classify_fault(self, exc: BaseException) -> Fault:
        # by message number (dialects/faults.py); severity 20+ means the connection closed
        return faults.mssql(*message_of(exc), exc)

    def lock_timeout_sql(self, seconds: float) -> list[str]:
        # sluice's own sessions start with no LOCK_TIMEOUT (wait forever): set it
        return [f"SET LOCK_TIMEOUT {max(1, int(seconds * 1000))}"]

    # --- connections --------------------------------------------------------------------------
    def relation_bytes_sql(self, table: Table) -> tuple[str, list[Any]] | None:
        # pages of the heap or clustered index, LOB and row-overflow included (8 KiB each)
        sql = ("SELECT CAST(SUM(used_page_count) AS BIGINT) * 8192 FROM sys.dm_db_partition_stats "
               f"WHERE object_id = OBJECT_ID({PARAM}) AND index_id IN (0, 1)")  # fmt: skip
        return sql, [self.qualified(table)]

    def row_estimate_sql(self, table: Table) -> tuple[str, list[Any]] | None:
        # the row counts SQL Server keeps per partition of the heap or clustered index
        sql = ("SELECT SUM(row_count) FROM sys.dm_db_partition_stats "
               f"WHERE object_id = OBJECT_ID({PARAM}) AND index_id IN (0, 1)")  # fmt: skip
        return sql, [self.qualified(table)]

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
                **self.connect_timeouts(url.timeouts),
                autocommit=autocommit,
                appname="sluice",
                tds_version="7.4",  # date, time, datetime2, datetimeoffset as native types
            )
        except pymssql.Error as exc:
            raise ConnectError(f"cannot connect to {url}: {url.redact(str(exc))}") from None
        return Connection(conn)

    def connect_timeouts(self, timeouts: Timeouts) -> dict[str, Any]:
        return {"login_timeout": max(1, round(timeouts.connect))}

    def stream_timeouts(self, conn: Any, timeouts: Timeouts) -> None:
        """pymssql hands no socket out (`sever` cannot act): its query timeout bounds every
        wait for the server's answer on a streaming connection."""
        raw = getattr(conn, "_raw", conn)
        with suppress(Exception):  # a driver build without the setting: unbounded
            raw._conn.query_timeout = max(1, round(timeouts.stall))

    def ensure_database(self, url: DbUrl) -> bool:
        if not url.database or url.database == "master":
            return False
        conn = self.connect(url.with_database("master"), autocommit=True)
        try:
            cur = conn.cursor()
            cur.execute("SELECT 1 FROM sys.databases WHERE name = %s", (url.database,))
            if cur.fetchone():
                return False
            cur.execute(self.create_database_sql(url.database))
            return True
        finally:
            conn.close()

    def refine_columns(self, bind: Any, schema: str | None, table: str, columns: list) -> list:
        """SQLAlchemy reflects datetime2/time/datetimeoffset without their fractional digits;
        sys.columns.scale has them, so datetime2(3) is not planned as 7 digits (and lossy)."""
        import sqlalchemy as sa

        with bind.connect() as conn:
            rows = conn.execute(sa.text(PRECISION_SQL), {"obj": self.qualified(table, schema)})
            scales = {name: int(scale) for name, scale in rows}
        return apply_scales(columns, scales)

    def finalize(self, sql: str) -> str:
        """pymssql substitutes `%s` itself and never reads '%%' back as '%': a literal '%'
        (a `--where` LIKE pattern, a name such as "50% off") is sent as it is."""
        return sql.replace(PARAM, self.paramstyle_marker)

    # --- reading ------------------------------------------------------------------------------
    def select_range_sql(
        self, table: Table, lo: Any, hi: Any, name: str | None = None, ordered: bool = True
    ) -> tuple[str, list[Any]]:
        """The keyset query, from the reflected schema (dbo); xml is read as nvarchar(max) so
        that it arrives as str (pymssql hands raw bytes for xml)."""
        source = self.qualified(name or table.name, table.schema or self.caps.default_schema)
        cols = ", ".join(
            f"{self.select_expr(c)} AS {self.quote(c.name)}"
            if c.type.kind is Kind.XML
            else self.select_expr(c)
            for c in table.columns
        )
        where, params = self.read_predicate(table, lo, hi)  # keyset and --where
        order = ", ".join(self.quote(k) for k in table.primary_key)
        order = f" ORDER BY {order}" if order and ordered else ""
        return self.finalize(f"SELECT {cols} FROM {source}{where}{order}"), params

    def select_expr(self, column) -> str:
        if column.type.kind is Kind.XML:  # pymssql hands xml as raw bytes
            return f"CAST({self.quote(column.name)} AS nvarchar(max))"
        return self.quote(column.name)

    def begin_read(self, conn: Any, snapshot: str | None = None) -> None:
        """SNAPSHOT isolation where the database allows it, else READ COMMITTED. The level is
        the session's, and pymssql's open transaction began under the old one: a rollback
        starts the read's transaction under the new level, before any data is touched."""
        cur = conn.cursor()
        cur.execute(SNAPSHOT_STATE_SQL)
        allowed = cur.fetchone()[0] == 1
        cur.execute(SNAPSHOT_READ_SQL if allowed else COMMITTED_READ_SQL)
        conn.rollback()

    def read_range(
        self, conn: Any, table: Table, lo: Any, hi: Any, fetch: Any, ordered: bool = True
    ) -> Iterator[list[tuple]]:
        """pymssql streams the result set from the TDS stream: one batch in memory at a time."""
        sql, params = self.select_range_sql(table, lo, hi, ordered=ordered)
        cur = conn.cursor()
        cur.execute(sql, self.bind(params))
        while batch := cur.fetchmany(int(fetch)):
            yield batch  # pymssql rows are tuples already

    def raw_read(self, conn: Any, table: Table, lo: Any, hi: Any, fmt: str) -> Iterator[bytes]:
        if fmt != mssql_export.FORMAT:  # the chunk as CSV lines the server renders
            raise NotImplementedError(fmt)
        return mssql_export.csv_read(self, conn, table, lo, hi)

    def decode_converters(self, table: Table) -> list:
        return [None] * len(table.columns)  # pymssql returns canonical values (module doc)

    # --- writing ------------------------------------------------------------------------------
    def range_probe_sql(self, table: Table, lo: Any, hi: Any) -> tuple[str, list[Any]]:
        """NOLOCK: only a Sch-S lock, compatible with the other chunks' open bulk loads; rows
        of this range can only come from earlier tries of this very chunk."""
        where, params = self.range_predicate(table.primary_key, lo, hi)
        sql = f"SELECT TOP (1) 1 FROM {self.qualified(table)} WITH (NOLOCK){where}"
        return self.finalize(sql), params

    def encode_converters(self, table: Table) -> list:
        return [mt.encoder(c.type) for c in table.columns]

    def insert_rows(self, conn: Any, table: Table, rows: Iterable[tuple]) -> int:
        """Multi-row INSERTs (at most 1000 rows, 2100 values each) of encoded rows."""
        return super().insert_rows(conn, table, map(mt.row_encoder(table, literal=True), rows))

    def bulk_load(self, conn: Any, table: Table, rows: Iterable[tuple]) -> int:
        """TDS bulk copy, with the rows it would store wrongly sent through `insert_rows`.

        Values are encoded here too (the encoders accept their own output), so callers that
        hand over canonical rows, such as the dataset loader, get the same result. No
        TABLOCK: parallel chunks of one table each hold the IX lock of their idempotence
        DELETE, so their bulk-update (BU) lock requests would deadlock one another.
        """
        if any(c.type.kind is Kind.XML or mn.clr_type(c.type) for c in table.columns):
            return self.insert_rows(conn, table, rows)  # FreeTDS bcp of xml, CLR: not trusted
        split = Split(rows, mt.row_encoder(table, literal=False), mt.bcp_safe(table))
        inserted = 0
        while True:
            segment = split.segment()
            first = next(segment, None)
            if first is not None:  # an empty bulk copy is an error in DB-Library
                conn.bulk_copy(
                    self.qualified(table), chain(first, segment), batch_size=BCP_BATCH_ROWS
                )
            exhausted = not split.filled
            if split.held:
                inserted += self.insert_rows(conn, table, split.held)
                split.held.clear()
            if exhausted:
                return split.sent + inserted
