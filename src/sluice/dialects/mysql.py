"""MySQL and MariaDB through PyMySQL: LOAD DATA LOCAL of raw CSV where the source can emit it,
else multi-row INSERTs sized from `max_allowed_packet`."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from sluice.core.errors import MissingDriver
from sluice.core.faults import Fault
from sluice.core.liveness import keep_alive
from sluice.core.schema import Table
from sluice.core.types import Kind, SqlType
from sluice.core.urls import DbUrl
from sluice.dialects import faults, mysql_driver, mysql_export, mysql_load
from sluice.dialects import mysql_native as native
from sluice.dialects.base import INTEGER_KINDS, PARAM, Capabilities, Dialect
from sluice.dialects.mysql_capture import MysqlCapture
from sluice.dialects.mysql_definition import MysqlDefinitions
from sluice.dialects.mysql_keys import MysqlKeys
from sluice.dialects.mysql_literals import (
    VALUE_ERRORS,
    Literals,
    RowTooLarge,
    refused_value,
    too_large,
)
from sluice.dialects.mysql_liveness import MysqlLiveness, connect_error
from sluice.dialects.mysql_objects import MysqlObjects
from sluice.dialects.mysql_types import (
    BIGINT_MAX,
    FIXED,
    FLOAT_MAX,
    MAX_BITS,
    MAX_VARCHAR,
    MYSQL_ENCODE,
    REFLECT,
    TIMES,
    decode_converters,
)
from sluice.dialects.schemas import MYSQL_CREATE_SCHEMA, MYSQL_SCHEMAS

# what bounds a wait for a metadata lock (RENAME, DROP: a day by default) and for a row lock
LOCK_WAITS = ("lock_wait_timeout", "innodb_lock_wait_timeout")
# Text is stored as utf8mb4 with a binary NO PAD collation: every code point kept, and keys
# that differ only in case, accents or trailing spaces ('a' and 'a ') stay distinct, as they
# are on the source (utf8mb4_bin is PAD SPACE: it compares 'a ' equal to 'a', a duplicate key).
COLLATION = "utf8mb4_nopad_bin"
TABLE_OPTIONS = f" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={COLLATION}"
# A source read: SET TRANSACTION (no SESSION) applies to the next transaction only.
BEGIN_READ_SQL = (
    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
    "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
)


class MysqlDialect(MysqlCapture, MysqlLiveness, native.MysqlDigests, native.MysqlIntegers,
                   MysqlObjects, MysqlDefinitions, MysqlKeys, Dialect):  # fmt: skip
    name = "mysql"
    lineage_scheme, default_port = "mysql", 3306  # OpenLineage's naming
    caps = Capabilities(
        max_identifier_length=64,
        max_bind_parameters=65535,
        bulk_method="multirow-insert",
        transactional_ddl=False,
        timestamp_precision=6,
        default_schema=None,
        schemas_are_databases=True,  # a schema is a database of the server
        key_after_load=False,
        float_nan=False,  # DOUBLE, FLOAT and DECIMAL hold neither NaN nor Infinity
        float_infinity=False,
        float_negative_zero=False,  # DOUBLE and FLOAT columns store -0.0 as 0
        index_names_per_table=True,
        index_kinds=frozenset({"fulltext", "spatial"}),
        zero_dates=True,  # outside NO_ZERO_DATE / NO_ZERO_IN_DATE: '0000-00-00', '2020-00-15'
        identity_kinds=INTEGER_KINDS,  # AUTO_INCREMENT on an integer
    )
    quote_chars = ("`", "`")
    probe_before_delete = True  # InnoDB's range DELETE locks the neighbour chunk's first key
    driver_module, extra = "pymysql", "mysql"
    sqlalchemy_driver = "mysql+pymysql"
    autoincrement_is_identity = True
    key_actions = frozenset({"CASCADE", "SET NULL", "RESTRICT"})  # InnoDB refuses SET DEFAULT
    reflect_overrides = REFLECT
    # LOAD DATA LOCAL streams through a named pipe (POSIX only); the kinds whose CSV text the
    # server parses to exactly the value the decoded path would store
    raw_import_format = "csv" if hasattr(os, "mkfifo") else None
    # rows rendered by the server as PostgreSQL's CSV (mysql_export, ADR 0028)
    raw_export_formats = (mysql_export.FORMAT,)
    raw_export_kinds = {mysql_export.FORMAT: mysql_export.CSV_KINDS}
    native_digest = "mysql-md5-rowtext"  # between two catalogs of identical declarations
    # MySQL's binary JSON normalises documents (MariaDB's JSON is LONGTEXT: its exact text)
    verify_domains = {"json": "json-normalised"}
    raw_import_kinds = frozenset({
        Kind.SMALLINT, Kind.INTEGER, Kind.BIGINT, Kind.BOOLEAN, Kind.STRING, Kind.DATE,
        Kind.DATETIME, Kind.DECIMAL, Kind.UUID, Kind.TIME,
    })  # fmt: skip
    fidelity_notes = {
        Kind.DATETIME_TZ: ("lossy", "MySQL DATETIME keeps no offset"),
        Kind.TIME_TZ: ("lossy", "MySQL TIME keeps no offset"),
        Kind.XML: ("widening", "stored as LONGTEXT"),
        Kind.ROWVERSION: ("widening", "opaque 8 bytes kept as BINARY(8)"),
    }

    def fidelity(self, t: SqlType) -> tuple[str, str]:
        if self.render_native(t) is not None:
            return "exact", ""  # the source's own declaration
        if t.kind is Kind.DECIMAL and t.precision is None:
            return "lossy", "unconstrained numeric kept as DECIMAL(65,30)"
        if t.kind is Kind.DECIMAL and t.precision > 65:
            return "lossy", f"{t.precision} digits, MySQL keeps 65"
        if t.kind is Kind.DECIMAL and (t.scale or 0) > 30:
            return "lossy", f"{t.scale} decimal places, MySQL keeps 30"
        if t.kind is Kind.STRING and t.length is not None and t.length > MAX_VARCHAR:
            return "widening", f"over {MAX_VARCHAR:,} characters: stored as LONGTEXT"
        if t.kind in TIMES and (t.precision or 0) > 6:
            return "lossy", f"{t.precision} fractional digits, MySQL keeps 6"
        return super().fidelity(t)

    def url_schema(self, url: DbUrl) -> str | None:
        return url.database

    schemas_query, create_schema_form = MYSQL_SCHEMAS, MYSQL_CREATE_SCHEMA

    def reflected_name(self, name: str) -> str:
        # SQLAlchemy reads column, key and index names from SHOW CREATE TABLE and leaves a
        # backtick inside a name doubled, as the DDL quotes it: `c``d` is the column c`d
        return name.replace("``", "`")

    def select_expr(self, column) -> str:
        # FLOAT travels as text with 6 significant digits; as DOUBLE it keeps its stored value
        if column.type.kind is Kind.REAL or native.data_type(column.type) == "float":
            return f"CAST({self.quote(column.name)} AS DOUBLE)"
        return super().select_expr(column)

    # --- the engine's own types (ADR 0013; catalog work in mysql_native) -------------------
    def native_columns(self, bind: Any, schema: str | None, tables) -> dict:
        return native.native_columns(bind, schema, tables)

    def with_native(self, t: SqlType | None, info: Any) -> SqlType | None:
        return native.with_native(self.name, t, info)

    def enum_members(self, t: SqlType) -> tuple[str, ...] | None:
        mine = t.engine == self.name and native.data_type(t) == "enum"
        return native.enum_members(t.native) if mine else None

    def render_type(self, t: SqlType) -> str:
        if (declared := self.render_native(t)) is not None:
            return declared
        if t.kind in FIXED:
            return FIXED[t.kind]
        if t.kind is Kind.STRING:
            if t.length is None or t.length > MAX_VARCHAR:
                return "LONGTEXT"
            # CHAR holds 255 characters; a wider char(n) keeps its pad spaces in a VARCHAR
            return f"CHAR({t.length})" if t.fixed and t.length <= 255 else f"VARCHAR({t.length})"
        if t.kind is Kind.BINARY:
            return "LONGBLOB" if t.length is None else f"VARBINARY({t.length})"
        if t.kind is Kind.DECIMAL:
            if t.precision is None:  # unconstrained: the widest MySQL has, flagged lossy
                return "DECIMAL(65,30)"
            return f"DECIMAL({min(t.precision, 65)},{min(t.scale or 0, 30)})"
        if t.kind in TIMES:
            p = 6 if t.precision is None else min(t.precision, 6)
            return f"{TIMES[t.kind]}({p})"
        if t.kind is Kind.BIT and (t.length or 1) <= MAX_BITS:
            return f"BIT({t.length or 1})"
        raise NotImplementedError(t.kind)

    def create_table_sql(self, table: Table, *, primary_key: bool = True) -> list[str]:
        """An AUTO_INCREMENT column must lead an index: one is added where the key does not
        start with it (a table without a primary key, whose identity is just a column)."""
        stmts = super().create_table_sql(table, primary_key=primary_key)
        ident = table.identity
        if ident is None or (primary_key and table.primary_key[:1] == (ident.name,)):
            return stmts
        body, close = stmts[0].rsplit("\n)", 1)
        return [f"{body},\n  KEY ({self.quote(ident.name)})\n){close}", *stmts[1:]]

    def refine_columns(self, bind: Any, schema: str | None, table: str, columns: list) -> list:
        """SERIAL is BIGINT UNSIGNED AUTO_INCREMENT: an identity of bigint wherever the values
        it holds fit one (its maximum, read from its index), else a DECIMAL(20,0) that the plan
        refuses as an identity, naming the table."""
        from dataclasses import replace

        out = []
        for c in columns:
            t = c.type
            if c.identity and (t.kind, t.precision, t.scale) == (Kind.DECIMAL, 20, 0):
                sql = f"SELECT MAX({self.quote(c.name)}) FROM {self.qualified(table, schema)}"
                with bind.connect() as conn:
                    top = conn.exec_driver_sql(sql.replace("%", "%%")).scalar()
                if top is None or int(top) <= BIGINT_MAX:
                    c = replace(c, type=replace(t, kind=Kind.BIGINT, precision=None, scale=None))
            out.append(c)
        return out

    def table_options(self) -> str:
        return TABLE_OPTIONS

    def align_identity_sql(self, table: Table, next_value: int) -> list[str]:
        if table.identity is None:
            return []
        return [f"ALTER TABLE {self.qualified(table)} AUTO_INCREMENT = {int(next_value)}"]

    def swap_sql(self, staging: Table, live: Table, live_exists: bool) -> list[str]:
        # One RENAME TABLE statement swaps atomically; MySQL DDL cannot run in a transaction.
        if not live_exists:
            return [f"RENAME TABLE {self.qualified(staging)} TO {self.qualified(live)}"]
        old = self.qualified("_sluice_old_" + live.name[:40], live.schema)
        return [
            f"DROP TABLE IF EXISTS {old}",
            f"RENAME TABLE {self.qualified(live)} TO {old}, {self.qualified(staging)} "
            f"TO {self.qualified(live)}",
            f"DROP TABLE {old}",
        ]

    def rename_constraint_sql(self, table: Table, old: str, new: str) -> list[str]:
        return []  # a MySQL primary key is always named PRIMARY

    def rename_index_sql(self, table: Table, old: str, index) -> list[str]:
        return [
            f"ALTER TABLE {self.qualified(table)} RENAME INDEX {self.quote(old)} "
            f"TO {self.quote(index.name)}"
        ]

    def table_exists(self, conn: Any, name: Table | str) -> bool:
        """From information_schema, taking no metadata lock on the table: the probing SELECT
        waited behind another session's lock and, when the wait was cut short, took the
        table for missing (publish then renamed staging as if there were no live table)."""
        cur = conn.cursor()
        cur.execute(
            "SELECT TABLE_NAME, @@lower_case_table_names FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s",
            (None, name) if isinstance(name, str) else (name.schema, name.name),
        )
        name = name if isinstance(name, str) else name.name
        # information_schema compares names case-insensitively; the server's tables do
        # only when lower_case_table_names is set
        found = any(t == name or (fold and t.lower() == name.lower()) for t, fold in cur)
        conn.rollback()
        return found

    def begin_read(self, conn: Any, snapshot: str | None = None) -> None:
        """A read-only transaction whose InnoDB read view is taken now, at START (REPEATABLE
        READ for this one transaction: the session's READ COMMITTED would take a view per
        statement). MySQL cannot share a view between connections: `snapshot` is unused."""
        cur = conn.cursor()
        for sql in BEGIN_READ_SQL:
            cur.execute(sql)
        cur.close()

    def read_range(
        self, conn: Any, table: Table, lo: Any, hi: Any, fetch: Any, ordered: bool = True
    ):
        """An unbuffered cursor: PyMySQL's default one would load the whole result first."""
        from pymysql.cursors import SSCursor

        sql, params = self.select_range_sql(table, lo, hi, ordered=ordered)
        cur = conn.cursor(SSCursor)
        try:
            cur.execute(sql, self.bind(params))
            while batch := cur.fetchmany(int(fetch)):
                yield list(batch)
        finally:
            cur.close()

    def raw_read(self, conn: Any, table: Table, lo: Any, hi: Any, fmt: str) -> Iterator[bytes]:
        """The chunk as PostgreSQL's CSV, rendered by the server (`mysql_export`), through an
        unbuffered cursor: blocks of whole lines."""
        from pymysql.cursors import SSCursor

        if fmt != mysql_export.FORMAT:
            raise NotImplementedError(fmt)
        sql, params = mysql_export.csv_select_sql(self, table, lo, hi)
        cur = conn.cursor(SSCursor)
        try:
            cur.execute(sql, self.bind(params))
            yield from mysql_export.csv_blocks(cur, table)
        finally:
            cur.close()

    def decode_converters(self, table: Table) -> list:
        return decode_converters(table.columns)

    def encode_converters(self, table: Table) -> list:
        return [MYSQL_ENCODE.get(c.type.kind) for c in table.columns]

    # --- incremental sync ---------------------------------------------------------------------
    def upsert_sql(self, live: Table, staging: Table) -> list[str]:
        cols = ", ".join(self.quote(c) for c in live.column_names)
        rest = [self.quote(c) for c in live.column_names if c not in live.primary_key]
        # every column listed: no key column is ever "updated" to itself by an empty list
        update = ", ".join(f"{c} = VALUES({c})" for c in rest or [self.quote(live.primary_key[0])])
        return [
            f"INSERT INTO {self.qualified(live)} ({cols}) SELECT {cols} FROM "
            f"{self.qualified(staging)} ON DUPLICATE KEY UPDATE {update}"
        ]

    def null_safe_equal(self, a: str, b: str) -> str:
        return f"{a} <=> {b}"

    def alter_column_type_sql(self, table: Table, column_name: str) -> list[str]:
        return [f"ALTER TABLE {self.qualified(table)} MODIFY COLUMN "
                f"{self.column_ddl(table, column_name)}"]  # fmt: skip

    def value_bounds(self, t: SqlType) -> tuple[Any, Any] | None:
        # PostgreSQL's largest real, as a double, is past FLOAT's: refused with no key named
        return (-FLOAT_MAX, FLOAT_MAX) if self.render_type(t).lower() == "float" else None

    def rejects_value(self, exc: BaseException) -> bool:
        """A value refused by the server (data too long, out of range, incorrect value):
        its message names a column and a row of the statement, never the key."""
        code = exc.args[0] if getattr(exc, "args", None) else None
        # PyMySQL's own refusal to render NaN or Infinity: "nan can not be used with MySQL"
        unrenderable = isinstance(code, str) and code.endswith("can not be used with MySQL")
        return isinstance(exc, UnicodeError) or code in VALUE_ERRORS or unrenderable

    def classify_fault(self, exc: BaseException) -> Fault:
        # by error number (dialects/faults.py), and PyMySQL's errors on a socket it dropped
        return faults.mysql(exc)

    def lock_timeout_sql(self, seconds: float) -> list[str]:
        # metadata locks (RENAME, DROP) wait lock_wait_timeout, a day by default; row locks
        # innodb_lock_wait_timeout: both bounded, a stricter session value kept
        n = max(1, round(seconds))
        least = "{0} = LEAST(@@SESSION.{0}, %d)" % n  # noqa: UP031 - {0} is the variable
        return ["SET SESSION " + ", ".join(least.format(v) for v in LOCK_WAITS)]

    def lock_holders(self, conn: Any, table: Table) -> list[str]:
        return faults.mysql_holders(conn, table.name, table.schema)

    def relation_bytes_sql(self, table: Table) -> tuple[str, list[Any]] | None:
        # InnoDB's estimate of the clustered index (the rows), kept by the engine, no scan
        sql = (
            "SELECT DATA_LENGTH FROM information_schema.TABLES WHERE "
            f"TABLE_SCHEMA = COALESCE({PARAM}, DATABASE()) AND TABLE_NAME = {PARAM}"
        )
        return sql, [table.schema, table.name]

    def connect(self, url: DbUrl, *, autocommit: bool = False) -> Any:
        try:
            import pymysql
        except ImportError:
            raise MissingDriver("MySQL", "pymysql", self.extra) from None
        u = url.url
        try:
            conn = mysql_driver.connect(
                host=u.host or "localhost",
                port=u.port or 3306,
                user=u.username or "root",
                password=url.password or "",
                database=u.database,
                charset="utf8mb4",
                autocommit=autocommit,
                **self.connect_timeouts(url.timeouts),
                # the handshake and session set-up below are bounded by the connect timeout
                # too: a network that froze after the TCP connect would otherwise hang them
                read_timeout=url.timeouts.connect,
                write_timeout=url.timeouts.connect,
                # the client offers LOAD DATA LOCAL at the handshake, but PyMySQL answers a
                # server's request for a file only while raw_write runs its own statement
                local_infile=True,
            )
        except pymysql.err.MySQLError as exc:
            raise connect_error(url, exc) from None
        conn._local_infile = False
        keep_alive(conn._sock, url.timeouts)  # PyMySQL has no keepalive option of its own
        cur = conn.cursor()
        # READ COMMITTED takes no gap locks, so parallel chunks loading one staging table do
        # not deadlock; NO_AUTO_VALUE_ON_ZERO keeps an explicit 0 in an AUTO_INCREMENT key;
        # STRICT_ALL_TABLES makes an over-long or out-of-range value an error, whatever the
        # server's default (without it an INSERT cuts the value and only warns).
        cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        # TIMESTAMP holds UTC instants: read and written in UTC they are exact (a zone with
        # daylight saving time shows two instants of its autumn hour as one local time)
        cur.execute("SET SESSION time_zone = '+00:00'")
        # without NO_BACKSLASH_ESCAPES: sluice's string literals (defaults, comments) double
        # each backslash, as MariaDB reads them by default
        cur.execute("SET SESSION sql_mode = REPLACE(CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO,"
                    "STRICT_ALL_TABLES'), 'NO_BACKSLASH_ESCAPES', '')")  # fmt: skip
        cur.close()
        # connected: from here a statement may keep the server silent for long (a key build);
        # streaming connections get the stall timeout (stream_timeouts)
        conn._read_timeout = conn._write_timeout = None
        return conn

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
                f"CHARACTER SET utf8mb4 COLLATE {COLLATION}"
            )
            return True
        finally:
            conn.close()

    def raw_import_ready(self, url: DbUrl) -> bool:
        """LOAD DATA LOCAL needs the server's consent (`local_infile`: ON by default in
        MariaDB, OFF in MySQL 8); without it, rows go through INSERTs."""
        if self.raw_import_format is None:
            return False
        conn = self.connect(url.without_database())
        try:
            cur = conn.cursor()
            cur.execute("SELECT @@local_infile")
            return bool(int(cur.fetchone()[0]))
        finally:
            conn.close()

    def raw_write(self, conn: Any, table: Table, data: Iterable[bytes], fmt: str = "csv") -> int:
        """LOAD DATA LOCAL of CSV, one statement per block of whole rows (mysql_load)."""
        if fmt != "csv":
            raise NotImplementedError(fmt)
        return mysql_load.load_csv(self, conn, table, data)

    def bulk_load(self, conn: Any, table: Table, rows: Iterable[tuple]) -> int:
        """Multi-row INSERTs of at most 5,000 rows and about 1 MiB of statement (never past
        the server's packet limit but for a single row larger than that), rendered by
        `Literals` and measured in encoded bytes."""
        cur = conn.cursor()
        cur.execute("SELECT @@max_allowed_packet")
        packet = int(cur.fetchone()[0])
        max_len = max(64 * 1024, min(packet - 1024, 1024 * 1024))
        names = ", ".join(self.quote(c) for c in table.column_names)
        head = f"INSERT INTO {self.qualified(table)} ({names}) VALUES ".encode()
        literals = Literals(conn.escape)
        n = 0
        try:
            for statement in literals.statements(head, rows, conn.encoding, 5000, max_len,
                                                 packet):  # fmt: skip
                cur.execute(statement)  # bytes and no args: PyMySQL formats nothing
                n += literals.rows_in_last
        except RowTooLarge as exc:
            raise too_large(table, exc.row, exc.size, packet) from None
        except Exception as exc:
            if (refused := refused_value(table, exc, literals.last)) is not None:
                raise refused from None
            raise
        return n
