"""PostgreSQL through psycopg 3: binary-safe COPY for loads; a table's definition beyond its
columns (identities of each kind, defaults, collations, comments) in postgresql_definition."""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any

from sluice.core.errors import ConnectError, MissingDriver, RawRejected
from sluice.core.faults import Fault
from sluice.core.schema import Table
from sluice.core.types import Kind, SqlType
from sluice.core.urls import DbUrl
from sluice.dialects import faults
from sluice.dialects import postgresql_native as native
from sluice.dialects import postgresql_values as values
from sluice.dialects.base import INTEGER_KINDS, Capabilities, Dialect
from sluice.dialects.postgresql_capture import PostgresCapture
from sluice.dialects.postgresql_definition import PostgresDefinitions
from sluice.dialects.postgresql_digest import PostgresDigests
from sluice.dialects.postgresql_hierarchy import PostgresHierarchy
from sluice.dialects.postgresql_keys import PostgresKeys
from sluice.dialects.postgresql_liveness import PostgresLiveness, connect_error
from sluice.dialects.postgresql_objects import PostgresObjects
from sluice.dialects.postgresql_translation import PostgresTranslation
from sluice.dialects.schemas import POSTGRESQL_FK_SCHEMAS, POSTGRESQL_SCHEMAS

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
    Kind.JSON: "JSON",  # its text byte for byte, as MariaDB keeps it (jsonb would rewrite it)
    Kind.XML: "XML",
    Kind.ROWVERSION: "BYTEA",
    Kind.TEXT_FORM: "TEXT",
    Kind.GEOMETRY: "BYTEA",  # EWKB; PostGIS's geometry where installed (`spatial_type`)
}


# Type names for binary COPY (`Copy.set_types`); kinds missing here go through text COPY.
_BINARY_COPY: dict[Kind, str] = {
    Kind.BOOLEAN: "bool",
    Kind.TINYINT: "int2",
    Kind.SMALLINT: "int2",
    Kind.INTEGER: "int4",
    Kind.BIGINT: "int8",
    Kind.DECIMAL: "numeric",
    Kind.MONEY: "numeric",
    Kind.REAL: "float4",
    Kind.DOUBLE: "float8",
    Kind.STRING: "text",
    Kind.BINARY: "bytea",
    Kind.ROWVERSION: "bytea",
    Kind.DATE: "date",
    Kind.TIME: "time",
    Kind.TIME_TZ: "timetz",
    Kind.DATETIME: "timestamp",
    Kind.DATETIME_TZ: "timestamptz",
    Kind.UUID: "uuid",
}

# a MySQL TIME (a duration) is an interval of hours, never folded into days
_TIMES = {
    Kind.TIME: "TIME", Kind.TIME_TZ: "TIMETZ", Kind.DURATION: "INTERVAL",
    Kind.DATETIME: "TIMESTAMP", Kind.DATETIME_TZ: "TIMESTAMPTZ",
}  # fmt: skip

log = logging.getLogger(__name__)
_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+(-[0-9A-Fa-f]+)+")  # what pg_export_snapshot() returns


def _csv_expr(column: str, kind: Kind) -> str:
    """A column as the CSV text another engine's loader takes: booleans as 0/1."""
    return f"({column})::int AS {column}" if kind is Kind.BOOLEAN else column


class PostgresDialect(
    PostgresCapture,
    PostgresHierarchy,
    PostgresLiveness,
    PostgresDigests,
    PostgresObjects,
    PostgresKeys,
    PostgresTranslation,
    PostgresDefinitions,
    Dialect,
):
    name = "postgresql"
    lineage_scheme, default_port = "postgres", 5432  # OpenLineage's naming
    caps = Capabilities(
        max_identifier_length=63,
        max_bind_parameters=65535,
        bulk_method="copy",
        transactional_ddl=True,
        timestamp_precision=6,
        default_schema="public",
        text_nul=False,  # text and varchar cannot hold U+0000
        infinite_dates=True,  # date, timestamp and timestamptz hold '-infinity'
        identity_kinds=INTEGER_KINDS,  # identity columns are smallint, integer or bigint
        index_kinds=frozenset({"constraint"}),  # a UNIQUE constraint's index
    )
    driver_module = "psycopg"
    extra = "postgresql"
    schemas_query, fk_schemas_query = POSTGRESQL_SCHEMAS, POSTGRESQL_FK_SCHEMAS
    sqlalchemy_driver = "postgresql+psycopg"
    raw_copy_format = "postgresql-binary"
    raw_export_formats = ("postgresql-binary", "csv")
    # CSV rendered by another engine (dialects/mysql_export, dialects/mssql_export), for the
    # kinds whose CSV text COPY parses to exactly what the decoded path stores (ADR 0028);
    # each source lists the kinds it renders exactly (`raw_export_kinds`)
    raw_import_format = "postgresql-csv"
    raw_import_kinds = frozenset({
        Kind.BOOLEAN, Kind.TINYINT, Kind.SMALLINT, Kind.INTEGER, Kind.BIGINT, Kind.DECIMAL,
        Kind.MONEY, Kind.REAL, Kind.DOUBLE, Kind.STRING, Kind.JSON, Kind.BINARY, Kind.DATE,
        Kind.DATETIME, Kind.UUID,
    })  # fmt: skip
    text_form = True
    native_digest = "postgresql-md5-rowtext"
    verify_domains = {"jsonb": "json-normalised"}  # json is compared as its exact text
    fidelity_notes = {
        Kind.TINYINT: ("widening", "0..255 stored in SMALLINT"),
        Kind.MONEY: ("exact", "NUMERIC(19,4) holds every money value"),
        Kind.ROWVERSION: ("widening", "opaque 8 bytes kept as BYTEA; no longer auto-updated"),
        Kind.GEOMETRY: ("exact", "EWKB: WKB with its SRID, PostGIS's binary form"),
    }

    def fidelity(self, t: SqlType) -> tuple[str, str]:
        if self.render_native(t) is not None:
            return "exact", ""  # the source's own declaration
        if t.kind in (Kind.DATETIME, Kind.DATETIME_TZ, Kind.TIME) and (t.precision or 0) > 6:
            return "lossy", f"{t.precision} fractional digits, PostgreSQL keeps 6"
        if t.kind is Kind.STRING and t.fixed:
            return "exact", ""
        return super().fidelity(t)

    reflect_overrides = {
        # PostgreSQL's default precision is 6 digits; say so, so targets keep microseconds
        "TIMESTAMP": lambda t: SqlType(
            Kind.DATETIME_TZ if t.timezone else Kind.DATETIME,
            precision=6 if t.precision is None else t.precision,
        ),
        "TIME": lambda t: SqlType(
            Kind.TIME_TZ if t.timezone else Kind.TIME,
            precision=6 if t.precision is None else t.precision,
        ),
        "BIT": lambda t: None if t.varying else SqlType(Kind.BIT, length=t.length or 1),
    }

    def connect(self, url: DbUrl, *, autocommit: bool = False) -> Any:
        conn = self._connect(url, autocommit=autocommit)
        # json/jsonb arrive as their exact text, not as dicts: nothing to re-encode, and a
        # JSON null stays distinct from SQL NULL.
        from psycopg.types.string import TextLoader

        for name in ("json", "jsonb"):
            conn.adapters.register_loader(name, TextLoader)
        values.register_adapters(conn)  # 24:00:00 read; -infinity written (--zero-dates -infinity)
        return conn

    def encode_converters(self, table: Table) -> list:
        # a geometry into PostGIS's type (declared through `native`) goes as hex EWKB text
        return [values.geometry_hex if c.type.kind is Kind.GEOMETRY and self.render_native(
            c.type) else values.ENCODE.get(c.type.kind) for c in table.columns]  # fmt: skip

    def spatial_type(self, url: DbUrl) -> str | None:
        try:
            with self.connect(url) as conn:
                found = conn.execute(native.POSTGIS_SQL).fetchone()
        except ConnectError:  # a target database not created yet holds no extension
            return None
        return f"{self.quote(found[0])}.geometry" if found else None

    # --- PostgreSQL's own types (ADR 0013; catalog work in postgresql_native) -------------------
    def native_columns(self, bind: Any, schema: str | None, tables) -> dict:
        return native.native_columns(bind, schema, tables)

    def with_native(self, t: SqlType | None, info: Any) -> SqlType | None:
        return native.with_native(self.name, t, info)

    def enum_type(self, schema: str, table: str, column: str, members):
        return native.enum_type(self.name, schema, table, column, members)

    def raw_copy_format_for(self, table: Table) -> str | None:
        """Binary COPY unless a column's type is not built in: binary arrays and composites
        carry their element types' ids, which differ between databases, and some extension
        types have no binary form; those tables move as COPY text (settings pinned). So does
        tsquery: PostgreSQL 18's binary input refuses the empty query its text input takes."""
        if all(native.built_in(c.type) and c.type.native != "tsquery" for c in table.columns):
            return self.raw_copy_format
        return "postgresql-text"

    def native_types(self, url: DbUrl, tables, conn: Any = None) -> tuple:
        if all(native.built_in(c.type) for t in tables for c in t.columns) and not (
            native.user_collations(tables)
        ):
            return ()
        if conn is not None:
            return native.native_types(conn, tables, self.name)
        with self.connect(url) as own:
            return native.native_types(own, tables, self.name)

    def create_native_types(self, conn: Any, types) -> None:
        native.create_native_types(self.quote, conn, [t for t in types if t.engine == self.name])

    def select_expr(self, column) -> str:
        """A Kind.NATIVE column is read as the server's text of it (exact between two
        PostgreSQL databases, with `native.TEXT_SETTINGS` pinned by `read_range`)."""
        if column.type.kind in native.AS_TEXT:
            return native.as_text(self.quote(column.name), column.type.kind)
        return self.quote(column.name)

    def render_type(self, t: SqlType) -> str:
        if (declared := self.render_native(t)) is not None:
            return declared
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
        if t.kind in _TIMES:
            p = t.precision
            return _TIMES[t.kind] if p is None or p >= 6 else f"{_TIMES[t.kind]}({p})"
        if t.kind is Kind.BIT:
            return f"BIT({t.length or 1})"
        raise NotImplementedError(t.kind)

    def _connect(self, url: DbUrl, *, autocommit: bool = False) -> Any:
        try:
            import psycopg
        except ImportError:
            raise MissingDriver("PostgreSQL", "psycopg", self.extra) from None
        try:
            return psycopg.connect(_conninfo(url), autocommit=autocommit, **self.waits(url))
        except psycopg.OperationalError as exc:
            raise connect_error(url, exc) from None

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
        """COPY FROM STDIN, binary where every column type has a binary form, else text."""
        names = ", ".join(self.quote(c) for c in table.column_names)
        types = [_BINARY_COPY.get(c.type.kind) for c in table.columns]
        binary = all(types)
        fmt = " (FORMAT binary)" if binary else ""
        n = 0
        copy_sql = f"COPY {self.qualified(table)} ({names}) FROM STDIN{fmt}"
        with conn.cursor() as cur, cur.copy(copy_sql) as cp:
            if binary:
                cp.set_types(types)
            for row in rows:
                cp.write_row(row)
                n += 1
        return n

    shares_snapshots = True

    def begin_read(self, conn: Any, snapshot: str | None = None) -> None:
        """BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY (psycopg sends it before the first
        statement), adopting the run's exported snapshot when given. When that snapshot is gone
        (its exporting connection ended) the read keeps its own and says so."""
        import psycopg

        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        if snapshot is None:
            return
        if not _SNAPSHOT_ID.fullmatch(snapshot):
            raise ValueError(f"not a PostgreSQL snapshot id: {snapshot!r}")
        try:
            conn.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        # PostgreSQL 15: 22023 "invalid snapshot identifier"; 16 and later: 42704 'snapshot
        # "..." does not exist'
        except (psycopg.errors.InvalidParameterValue, psycopg.errors.UndefinedObject) as exc:
            conn.rollback()
            log.warning("the run's source snapshot is gone (%s): this read takes its own", exc)

    def export_snapshot(self, conn: Any) -> str:
        self.begin_read(conn)
        return conn.execute("SELECT pg_export_snapshot()").fetchone()[0]

    def read_range(
        self, conn: Any, table: Table, lo: Any, hi: Any, fetch: Any, ordered: bool = True
    ) -> Iterator[list[tuple]]:
        """A server-side cursor: the server holds the result, we hold one batch at a time."""
        sql, params = self.select_range_sql(table, lo, hi, ordered=ordered)
        if any(c.type.kind in native.AS_TEXT for c in table.columns):
            for stmt in native.TEXT_SETTINGS:  # the text form of native columns, pinned
                conn.execute(stmt)
        with conn.cursor(name=f"sluice_{next(_cursor_ids)}") as cur:
            cur.execute(sql, self.bind(params))
            while batch := cur.fetchmany(int(fetch)):
                yield batch

    def raw_read(
        self, conn: Any, table: Table, lo: Any, hi: Any, fmt: str = "postgresql-binary"
    ) -> Iterator[bytes]:
        """COPY (keyset query) TO STDOUT: bytes straight from the server, in no particular
        order (the chunk is loaded as a set). `fmt` "csv" is what MySQL's LOAD DATA reads:
        every value quoted, NULL as the bare word NULL, booleans as 0/1, dates in ISO."""
        if fmt == "csv":
            cols = ", ".join(_csv_expr(self.quote(c.name), c.type.kind) for c in table.columns)
            where, params = self.read_predicate(table, lo, hi)
            sql = self.finalize(f"SELECT {cols} FROM {self.relation_sql(table)}{where}")
            options = "FORMAT csv, NULL 'NULL', FORCE_QUOTE *"
            cur = conn.cursor()
            cur.execute("SET DateStyle = ISO, YMD")
        else:  # the columns as stored: binary, or text with its settings pinned
            cols = ", ".join(self.quote(c) for c in table.column_names)
            where, params = self.read_predicate(table, lo, hi)
            sql = self.finalize(f"SELECT {cols} FROM {self.relation_sql(table)}{where}")
            options = "FORMAT binary"
            if fmt == "postgresql-text":
                options = "FORMAT text"
                for stmt in native.TEXT_SETTINGS:
                    conn.execute(stmt)
        if not params:  # psycopg's copy() skips the format step without params: undo '%%'
            sql = sql.replace("%%", "%")
        copy_sql = f"COPY ({sql}) TO STDOUT ({options})"
        with conn.cursor() as cur, cur.copy(copy_sql, params or None) as cp:
            yield from cp

    def raw_write(
        self, conn: Any, table: Table, data: Iterable[bytes], fmt: str = "postgresql-binary"
    ) -> int:
        """COPY FROM STDIN of the raw bytes; the rows the server loaded (its COPY count)."""
        import psycopg

        names = ", ".join(self.quote(c) for c in table.column_names)
        options = "FORMAT binary"
        if fmt == "postgresql-text":  # read back under the settings it was written with
            options = "FORMAT text"
            for stmt in native.TEXT_SETTINGS:
                conn.execute(stmt)
        elif fmt == self.raw_import_format:
            options = "FORMAT csv"
        copy_sql = f"COPY {self.qualified(table)} ({names}) FROM STDIN ({options})"
        with conn.cursor() as cur:
            try:
                with cur.copy(copy_sql) as cp:
                    for block in data:
                        cp.write(block)
            except psycopg.DataError as exc:
                if fmt != self.raw_import_format:
                    raise
                # another engine's text this server refuses (a zero date, a NUL character):
                # the chunk goes again as values, which apply --nul and --zero-dates or name
                # the row
                said = exc.diag.message_primary or exc.sqlstate
                raise RawRejected(f"{table.name}: COPY refused a value ({said})") from None
            return cur.rowcount

    def publish_lock_sql(self) -> list[str]:
        # a transaction-scoped advisory lock, released by the swap's commit or rollback
        return ["SELECT pg_advisory_xact_lock(hashtext('sluice:publish'))"]

    def rename_index_sql(self, table: Table, old: str, index) -> list[str]:
        old_name, name = self.qualified(old, table.schema), self.quote(index.name)
        out = [f"ALTER INDEX {old_name} RENAME TO {name}"]
        if index.kind == "constraint":  # the source's UNIQUE constraint, over its index
            out.append(f"ALTER TABLE {self.qualified(table)} ADD CONSTRAINT {name} "
                       f"UNIQUE USING INDEX {name}")  # fmt: skip
        return out

    def create_index_sql(self, table: Table, name: str, columns, unique: bool,
                         kind: str = "") -> str:  # fmt: skip
        if kind == "constraint":  # built as a unique index; the swap makes it the constraint
            return super().create_index_sql(table, name, columns, True)
        return super().create_index_sql(table, name, columns, unique, kind)

    def add_foreign_key_sql(self, fk, name: str) -> list[str]:
        # NOT VALID: no scan; VALIDATE checks rows unblocking writers, a failure keeps the key
        add = super().add_foreign_key_sql(fk, name)[0] + " NOT VALID"
        table = self.qualified(fk.table, fk.schema)
        return [add, f"ALTER TABLE {table} VALIDATE CONSTRAINT {self.quote(name)}"]

    # --- incremental sync ---------------------------------------------------------------------
    def upsert_sql(self, live: Table, staging: Table) -> list[str]:
        names = [self.quote(c) for c in live.column_names]
        keys = ", ".join(self.quote(k) for k in live.primary_key)
        rest = [self.quote(c) for c in live.column_names if c not in live.primary_key]
        # identities are GENERATED ALWAYS here: the source's values are kept
        override = " OVERRIDING SYSTEM VALUE" if live.identity else ""
        action = "NOTHING"
        if rest:
            action = "UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in rest)
        cols = ", ".join(names)
        return [
            f"INSERT INTO {self.qualified(live)} ({cols}){override} SELECT {cols} FROM "
            f"{self.qualified(staging)} ON CONFLICT ({keys}) DO {action}"
        ]

    def null_safe_equal(self, a: str, b: str) -> str:
        return f"{a} IS NOT DISTINCT FROM {b}"

    def alter_column_type_sql(self, table: Table, column_name: str) -> list[str]:
        col = table.column(column_name)
        return [f"ALTER TABLE {self.qualified(table)} ALTER COLUMN {self.quote(col.name)} "
                f"TYPE {self.render_type(col.type)}"]  # fmt: skip

    def rejects_value(self, exc: BaseException) -> bool:
        """Class 22 (data exception: "value too long", "invalid byte sequence ... 0x00"), or
        psycopg refusing a value client-side (a date after year 9999) without a key."""
        import psycopg

        # TypeError: a value psycopg cannot write as the column's type (a MySQL zero date)
        return isinstance(exc, (psycopg.DataError, UnicodeError, TypeError))

    def locate_unreadable(self, conn: Any, table: Table, lo: Any, hi: Any) -> list[tuple]:
        """Dates and timestamps Python cannot hold: 'infinity', '-infinity', BC, after 9999."""
        return values.unreadable_dates(self, conn, table, lo, hi)

    def table_exists(self, conn: Any, name: Table | str) -> bool:
        """From the catalog, taking no lock (a probing SELECT waited behind another session's
        lock; under lock_timeout, publish took the table for missing and renamed over it)."""
        sql = "SELECT to_regclass(%s) IS NOT NULL"
        found = bool(conn.execute(sql, (self.qualified(name),)).fetchone()[0])
        conn.rollback()
        return found

    def classify_fault(self, exc: BaseException) -> Fault:
        """By SQLSTATE (dialects/faults.py). Not retried: 57014 (statement timeout or a
        cancel), 55P03 (lock timeout: fail fast rather than queue), class 53 (disk full, out of
        memory, temp_file_limit), 22/23 (data): another try would only repeat them."""
        return faults.postgres(exc)

    def lock_timeout_sql(self, seconds: float) -> list[str]:
        # SET LOCAL: the swap's transaction only; a stricter lock_timeout from the URL stays
        ms = max(1, int(seconds * 1000))
        return [
            "SELECT set_config('lock_timeout', (CASE WHEN setting::bigint = 0 OR "
            f"setting::bigint > {ms} THEN {ms} ELSE setting::bigint END)::text, true) "
            "FROM pg_settings WHERE name = 'lock_timeout'"
        ]

    def lock_holders(self, conn: Any, table: Table) -> list[str]:
        return faults.postgres_holders(conn, self.qualified(table))


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
    # text crosses every connection as UTF-8, whatever the database's own encoding: the
    # server converts (and refuses a character its encoding lacks), so two databases in
    # different encodings never exchange raw bytes (binary COPY converts text too)
    params.setdefault("client_encoding", "UTF8")
    return make_conninfo("", **params)


_cursor_ids = itertools.count()
