"""The small interface every engine implements, and the capabilities it declares.

Callers never ask which engine they hold: anything that differs between engines
is a method or a `Capabilities` field here. Per-engine modules are mostly data
(type maps, SQL templates); code only where parameters are involved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sluice.core.errors import SluiceError, TerminalError, TransientError
from sluice.core.faults import OTHER, Fault
from sluice.core.schema import Table
from sluice.core.types import Kind, SqlType
from sluice.core.urls import DbUrl
from sluice.dialects import faults
from sluice.dialects.batching import batched_by_bytes
from sluice.dialects.capabilities import Capabilities
from sluice.dialects.capture import ChangeCapture
from sluice.dialects.definition import Definitions
from sluice.dialects.hierarchy import Hierarchy
from sluice.dialects.keys import Keys
from sluice.dialects.lineage import LineageNames
from sluice.dialects.liveness import Liveness
from sluice.dialects.native import NativeTypes
from sluice.dialects.not_carried import NotCarriedObjects
from sluice.dialects.objects import Objects
from sluice.dialects.schemas import Schemas
from sluice.dialects.statistics import Statistics

Converter = Callable[[Any], Any]
INTEGER_KINDS = frozenset({Kind.TINYINT, Kind.SMALLINT, Kind.INTEGER, Kind.BIGINT})
PARAM = "\x00"  # parameter token in generated SQL; `Dialect.finalize` swaps in the marker

__all__ = ["Capabilities", "Dialect", "INTEGER_KINDS", "PARAM", "batched_by_bytes"]


class Dialect(
    Liveness,
    NativeTypes,
    Schemas,
    Objects,
    NotCarriedObjects,
    Statistics,
    Definitions,
    Hierarchy,
    Keys,
    ChangeCapture,
    LineageNames,
):
    """One engine. Subclasses set `name`, `caps`, `quote_chars` and implement the hooks."""

    name: str
    caps: Capabilities
    quote_chars: tuple[str, str] = ('"', '"')
    driver_module: str
    extra: str  # the pip extra that installs the driver
    sqlalchemy_driver: str  # drivername for reflection, e.g. "postgresql+psycopg"
    reflect_overrides: dict[str, Callable[[Any], SqlType]] = {}
    autoincrement_is_identity = False  # MySQL reports AUTO_INCREMENT only as autoincrement
    rowid_key_is_identity = False  # SQLite: an INTEGER PRIMARY KEY generates its values
    raw_copy_format: str | None = None  # engines sharing a raw format pass bytes through
    # other raw formats this engine can emit (raw_read) and the one it can load (raw_write),
    # with the kinds whose text it parses exactly in that format: a source emitting the
    # target's import format moves bytes, not Python values (PostgreSQL CSV -> MySQL LOAD DATA)
    raw_export_formats: tuple[str, ...] = ()
    # per export format, the kinds this engine renders in it exactly as the decoded path
    # reads them (a format not listed: every kind)
    raw_export_kinds: dict[str, frozenset] = {}
    raw_import_format: str | None = None
    raw_import_kinds: frozenset = frozenset()
    native_digest: str | None = None  # engines sharing a server-side row digest verify in SQL
    # declared type (as `declared_types` spells it) -> the domain verification compares its
    # values in, where the neutral kind alone would compare wrongly (sluice.verify.canonical)
    verify_domains: dict[str, str] = {}
    probe_before_delete = False  # see clear_range
    # neutral kind -> (fidelity, note) when this engine cannot store the kind exactly
    fidelity_notes: dict[Any, tuple[str, str]] = {}

    # --- naming -----------------------------------------------------------------------------
    def quote(self, ident: str) -> str:
        """Quote an identifier; embedded quote characters are doubled, so names stay inert."""
        left, right = self.quote_chars
        return left + ident.replace(right, right + right) + right

    def qualified(self, table: Table | str, schema: str | None = None) -> str:
        name = table if isinstance(table, str) else table.name
        schema = schema if schema is not None or isinstance(table, str) else table.schema
        return f"{self.quote(schema)}.{self.quote(name)}" if schema else self.quote(name)

    # --- types and DDL ----------------------------------------------------------------------
    def render_type(self, t: SqlType) -> str:
        raise NotImplementedError

    def column_ddl(self, table: Table, column_name: str) -> str:
        """A column's definition: name, type, identity (of the source's kind), DEFAULT and
        COLLATE where it has them and this engine renders them (`Definitions`), NULL-ness."""
        col = table.column(column_name)
        keyed = col.identity or col.name in table.primary_key  # SQLite reports these nullable
        null = "NULL" if col.nullable and not keyed else "NOT NULL"
        ident = f" {self.identity_clause(col.identity_kind)}" if col.identity else ""
        default = "" if col.identity else self.default_clause(col)  # None: not carried
        default = f" DEFAULT {default}" if default else ""
        collate = self.collation_clause(col)
        collate = f" {collate}" if collate else ""
        declared = f"{self.quote(col.name)} {self.render_type(col.type)}"
        return f"{declared}{collate}{ident}{default} {null}"

    def identity_clause(self, kind: str = "") -> str:
        """How a column generating its values is declared here, for the source's identity
        `kind` (core.definition: ALWAYS, BY_DEFAULT, SERIAL; "": not known)."""
        raise NotImplementedError

    def fidelity(self, t: SqlType) -> tuple[str, str]:
        """("exact" | "widening" | "lossy", why) for storing a value of type `t` here."""
        return self.fidelity_notes.get(t.kind, ("exact", ""))

    def same_type(self, source_type: str, target_type: str) -> bool:
        """Whether two declarations in this engine's words store identical bytes."""
        return " ".join(source_type.upper().split()) == " ".join(target_type.upper().split())

    def is_identity(self, info: dict[str, Any]) -> bool:
        """Whether a reflected column (SQLAlchemy's column dict) generates its own values."""
        if info.get("identity"):
            return True
        return self.autoincrement_is_identity and info.get("autoincrement") is True

    def reflected_name(self, name: str) -> str:
        """A column, key or index name as SQLAlchemy's inspector reported it, as stored."""
        return name

    def refine_columns(self, bind: Any, schema: str | None, table: str, columns: list) -> list:
        """Fix what the SQLAlchemy inspector cannot see; one catalog query per table at most."""
        return columns

    def url_schema(self, url: DbUrl) -> str | None:
        """The default schema of this database: where a table of no named schema lives."""
        return self.caps.default_schema

    def create_table_sql(self, table: Table, *, primary_key: bool = True) -> list[str]:
        """CREATE TABLE statements (several where an engine needs them) for `table`."""
        cols = [self.column_ddl(table, c.name) for c in table.columns]
        if primary_key and table.primary_key:
            cols.append(self.primary_key_clause(table))
        cols += [c for c in map(self.check_constraint, table.checks) if c]  # None: not carried
        body = ",\n  ".join(cols)
        return [f"CREATE TABLE {self.qualified(table)} (\n  {body}\n){self.table_options()}"]

    def primary_key_clause(self, table: Table) -> str:
        keys = ", ".join(self.quote(k) for k in table.primary_key)
        name = table.primary_key_name or f"PK_{table.name}"
        return f"CONSTRAINT {self.quote(name)} PRIMARY KEY ({keys})"

    def add_primary_key_sql(self, table: Table) -> list[str]:
        """Statements adding the primary key to a table created without it (keys after data)."""
        return [f"ALTER TABLE {self.qualified(table)} ADD {self.primary_key_clause(table)}"]

    def table_options(self) -> str:
        return ""

    def drop_table_sql(self, table: Table | str) -> str:
        return f"DROP TABLE IF EXISTS {self.qualified(table)}"

    def align_identity_sql(self, table: Table, next_value: int) -> list[str]:
        """Statements making the identity column hand out `next_value` next."""
        raise NotImplementedError

    # --- connections and loading ------------------------------------------------------------
    def connect(self, url: DbUrl) -> Any:
        """A DB-API connection; driver errors become `ConnectError` with the password masked."""
        raise NotImplementedError

    def ensure_database(self, url: DbUrl) -> bool:
        """Create the URL's database when missing; True when it was created."""
        raise NotImplementedError

    def require_database(self, url: DbUrl) -> None:
        """Stop with `ConnectError` when the URL's database does not exist, creating nothing:
        asked before reading one (a source, a replica to verify or sync). Servers refuse a
        connection to a missing database by themselves; an engine whose connect would
        create it instead (SQLite creates the file) checks here."""

    def bulk_load(self, conn: Any, table: Table, rows: Iterable[tuple]) -> int:
        """Write rows (tuples in `table.columns` order) through the engine's bulk path."""
        return self.insert_rows(conn, table, rows)

    def insert_rows(self, conn: Any, table: Table, rows: Iterable[tuple]) -> int:
        """The plain INSERT path: multi-row statements sized from the bind-parameter limit."""
        names = ", ".join(self.quote(c) for c in table.column_names)
        width = len(table.columns)
        per_stmt = max(1, min(1000, self.caps.max_bind_parameters // width))
        one = self.values_group(table)
        total = 0
        cur = conn.cursor()
        for batch in batched_by_bytes(rows, per_stmt, 4 << 20):
            values = ", ".join([one] * len(batch))
            sql = self.finalize(f"INSERT INTO {self.qualified(table)} ({names}) VALUES {values}")
            cur.execute(sql, [v for row in batch for v in row])
            total += len(batch)
        return total

    def values_group(self, table: Table) -> str:
        """One row's `(...)` of parameters in an INSERT (an engine may wrap some in a CONVERT)."""
        return "(" + ", ".join([PARAM] * len(table.columns)) + ")"

    paramstyle_marker = "%s"

    def bind(self, params: Sequence[Any]) -> list[Any]:
        """Parameters for execute() of SQL made by `finalize`: always a list, even an empty one,
        so "%s"-style drivers always run their format step and turn '%%' back into '%'."""
        return list(params)

    def finalize(self, sql: str) -> str:
        """Turn parameter tokens into the driver's markers. With "%s"-style drivers a literal
        '%' (possible inside a quoted identifier such as "50% off") must be doubled first."""
        if self.paramstyle_marker == "%s":
            sql = sql.replace("%", "%%")
        return sql.replace(PARAM, self.paramstyle_marker)

    def select_expr(self, column) -> str:
        """How a column is read; engines override it where the plain value loses information."""
        return self.quote(column.name)

    # --- reading ----------------------------------------------------------------------------
    # One source instant for a whole run where connections can share it (PostgreSQL exports
    # a snapshot that other sessions adopt); elsewhere every read transaction has its own.
    shares_snapshots = False

    def begin_read(self, conn: Any, snapshot: str | None = None) -> None:
        """Open a read-only transaction with one consistent view of the data on a fresh
        connection, before its first read (ADR 0010). `snapshot` (from `export_snapshot`)
        makes it see that instant where `shares_snapshots`; other engines ignore it."""

    def export_snapshot(self, conn: Any) -> str:
        """Open a read-only transaction on `conn` and name its snapshot for `begin_read`;
        the snapshot lives while `conn` keeps the transaction open."""
        raise NotImplementedError(f"{self.name} cannot share a snapshot between connections")

    def raw_import_ready(self, url: DbUrl) -> bool:
        """Whether `raw_import_format` can be used against this server (e.g. a server setting
        that allows it); asked once per plan."""
        return self.raw_import_format is not None

    def raw_read(self, conn: Any, table: Table, lo: Any, hi: Any, fmt: str) -> Iterator[bytes]:
        raise NotImplementedError

    def raw_write(self, conn: Any, table: Table, data: Iterable[bytes], fmt: str) -> int:
        raise NotImplementedError

    def range_predicate(self, key: Sequence[str], lo: Any, hi: Any) -> tuple[str, list[Any]]:
        """`WHERE` text and parameters for `lo < key <= hi` (open ends omitted)."""
        conds, params = [], []
        if key and lo is not None:
            conds.append(f"{self.quote(key[0])} > {PARAM}")
            params.append(lo)
        if key and hi is not None:
            conds.append(f"{self.quote(key[0])} <= {PARAM}")
            params.append(hi)
        return (" WHERE " + " AND ".join(conds) if conds else ""), params

    def read_predicate(self, table: Table, lo: Any, hi: Any) -> tuple[str, list[Any]]:
        """`range_predicate` ANDed with `Table.where` (`--where`): for source reads only."""
        where, params = self.range_predicate(table.primary_key, lo, hi)
        cond = self.row_filter_sql(table.where) if table.where else ""
        return (f"{where} AND {cond}" if where else f" WHERE {cond}") if cond else where, params

    def row_filter_sql(self, condition: str) -> str:
        """A `--where` condition (the user's SQL) as one term: parenthesised, ORs inside."""
        return f"({condition})"

    def select_range_sql(
        self, table: Table, lo: Any, hi: Any, name: str | None = None, ordered: bool = True
    ) -> tuple[str, list[Any]]:
        """The keyset query for one chunk: columns in table order, ordered by the key unless
        the caller takes the rows as a set (a copy does: on PostgreSQL the ORDER BY of a range
        read through a bitmap scan is a sort, spilled to disk for a wide chunk)."""
        cols = ", ".join(self.select_expr(c) for c in table.columns)
        where, params = self.read_predicate(table, lo, hi)
        order = ""
        if table.primary_key and ordered:
            order = " ORDER BY " + ", ".join(self.quote(k) for k in table.primary_key)
        source = self.qualified(name, table.schema) if name else self.relation_sql(table)
        sql = f"SELECT {cols} FROM {source}{where}{order}"
        return self.finalize(sql), params

    def read_range(
        self, conn: Any, table: Table, lo: Any, hi: Any, fetch: Any, ordered: bool = True
    ) -> Iterator[list[tuple]]:
        """Stream one chunk in batches (never the whole result). `fetch` is an int or a
        `buffer.FetchSize`, asked before every fetch, so batch sizes follow row width; rows
        come in key order unless `ordered` is False."""
        sql, params = self.select_range_sql(table, lo, hi, ordered=ordered)
        cur = conn.cursor()
        cur.execute(sql, self.bind(params))
        while batch := cur.fetchmany(int(fetch)):
            yield [tuple(r) for r in batch]

    def range_digest_sql(self, table: Table, lo: Any, hi: Any) -> tuple[list[str], str, list]:
        """Session setup, then one query returning (row count, digest sum) of a key range,
        computed by the server. Only for `native_digest` engines; see sluice.verify."""
        raise NotImplementedError(f"{self.name} has no server-side range digest")

    def row_digests(self, conn: Any, table: Table, lo: Any, hi: Any) -> Iterator[tuple]:
        """Per row of a key range, in key order: key values, the row's digest and each
        column's, by the server (the native method naming keys and columns)."""
        raise NotImplementedError(f"{self.name} has no server-side row digests")

    def declared_types(self, conn: Any, table: Table) -> dict[str, str] | None:
        """Column name -> the type as the engine's catalog spells it (None: not known here).
        Verification reads it on both sides: native digests need identical types."""
        return None

    def database_checks(self, url: DbUrl, table: Table) -> list[tuple[int, Any]]:
        """(column index, check) of what this database refuses beyond the engine's own
        limits (`core.hostile.value_checks`): asked on the failure path only, to name the
        rows of a refused chunk."""
        return []

    def text_encoding(self, conn: Any) -> str | None:
        """The encoding of the server's text forms, which its row digests hash: two servers
        digest alike only in the same one. None where each column declares its own (in
        `declared_types`) or the engine has no server-side digest."""
        return None

    def decode_converters(self, table: Table) -> list[Converter | None]:
        """Per-column functions turning this driver's values into sluice's canonical values."""
        return [None] * len(table.columns)

    def encode_converters(self, table: Table) -> list[Converter | None]:
        """Per-column functions turning canonical values into what this driver writes."""
        return [None] * len(table.columns)

    # --- writing ----------------------------------------------------------------------------
    def clear_range(self, conn: Any, table: Table, lo: Any, hi: Any) -> None:
        """Remove what an earlier try of the same chunk left, inside the chunk's transaction.

        Where a range DELETE locks rows beyond its range while scanning (`probe_before_delete`:
        InnoDB locks the first key past `hi`; SQL Server scans the whole staging heap), it
        would wait for the neighbouring chunks' open load transactions: a lock-free read
        first checks that an earlier try really left rows."""
        cur = conn.cursor()
        if self.probe_before_delete:
            sql, params = self.range_probe_sql(table, lo, hi)
            cur.execute(sql, self.bind(params))
            if cur.fetchone() is None:
                return
        sql, params = self.delete_range_sql(table, lo, hi)
        cur.execute(sql, self.bind(params))

    def range_probe_sql(self, table: Table, lo: Any, hi: Any) -> tuple[str, list[Any]]:
        """One row of the range if there is any, read without taking row locks."""
        where, params = self.range_predicate(table.primary_key, lo, hi)
        return self.finalize(f"SELECT 1 FROM {self.relation_sql(table)}{where} LIMIT 1"), params

    def delete_range_sql(self, table: Table, lo: Any, hi: Any) -> tuple[str, list[Any]]:
        """Remove what an earlier try of the same chunk left (whole table when unkeyed); of
        the table's own rows only (a repair into a live parent leaves its children's)."""
        where, params = self.range_predicate(table.primary_key, lo, hi)
        return self.finalize(f"DELETE FROM {self.relation_sql(table)}{where}"), params

    def swap_sql(self, staging: Table, live: Table, live_exists: bool) -> list[str]:
        """Statements replacing `live` by `staging` inside one transaction."""
        stmts = [f"DROP TABLE {self.qualified(live)}"] if live_exists else []
        stmts.append(f"ALTER TABLE {self.qualified(staging)} RENAME TO {self.quote(live.name)}")
        return stmts

    def publish_lock_sql(self) -> list[str]:
        """Statements opening a swap transaction that serialise swaps across processes (mapped
        Airflow tasks publish in parallel; two tables joined by a key must not interleave)."""
        return []

    def rename_constraint_sql(self, table: Table, old: str, new: str) -> list[str]:
        return [
            f"ALTER TABLE {self.qualified(table)} RENAME CONSTRAINT {self.quote(old)} "
            f"TO {self.quote(new)}"
        ]

    def create_index_sql(
        self, table: Table, name: str, columns: Sequence[str], unique: bool, kind: str = ""
    ) -> str:
        """An index; `kind` ("fulltext", "spatial") only where `caps.index_kinds` has it."""
        cols = ", ".join(self.quote(c) for c in columns)
        what = f"{kind.upper()} INDEX" if kind else "UNIQUE INDEX" if unique else "INDEX"
        return f"CREATE {what} {self.quote(name)} ON {self.qualified(table)} ({cols})"

    def rename_index_sql(self, table: Table, old: str, index) -> list[str]:
        """Give the index built under a temporary name its final name (`index`, an Index)."""
        raise NotImplementedError

    def rename_identity_sql(self, conn: Any, table: Table) -> list[str]:
        """Statements, run in the swap's transaction right after it, giving objects named
        after the staging table (PostgreSQL's identity sequences) the live table's name."""
        return []

    def drop_referencing_foreign_keys_sql(self, conn: Any, table: Table) -> list[str]:
        """Statements dropping foreign keys that point at `table`, so it can be replaced."""
        return []

    def add_foreign_key_sql(self, fk, name: str) -> list[str]:
        """Add a declared foreign key; engines that can, add it unchecked and validate after."""
        cols = ", ".join(self.quote(c) for c in fk.columns)
        refs = ", ".join(self.quote(c) for c in fk.ref_columns)
        child = self.qualified(fk.table, fk.schema)
        parent = self.qualified(fk.ref_table, fk.ref_schema)
        return [f"ALTER TABLE {child} ADD CONSTRAINT {self.quote(name)} FOREIGN KEY ({cols}) "
                f"REFERENCES {parent} ({refs}){self.foreign_key_actions(fk)}"]  # fmt: skip

    # --- incremental sync (sluice.sync) ---------------------------------------------------
    def upsert_sql(self, live: Table, staging: Table) -> list[str]:
        """Statements merging every staged row into `live` by its primary key, in one set."""
        raise TerminalError(f"{self.name}: incremental sync cannot write here (no upsert form)")

    def null_safe_equal(self, a: str, b: str) -> str:
        """SQL that is true when two expressions hold the same value, two NULLs included."""
        return f"({a} = {b} OR ({a} IS NULL AND {b} IS NULL))"

    def key_sum_sql(self, column: str) -> str:
        """A sum of integer keys that cannot overflow on this engine."""
        return f"SUM({column})"

    def rowversion_ceiling_sql(self) -> str | None:
        """A query for the lowest rowversion a transaction in flight may still commit."""
        return None

    def add_column_sql(self, table: Table, column_name: str) -> list[str]:
        return [f"ALTER TABLE {self.qualified(table)} ADD {self.column_ddl(table, column_name)}"]

    def alter_column_type_sql(self, table: Table, column_name: str) -> list[str]:
        """Statements widening a column to the type `table` gives it."""
        raise TerminalError(f"{self.name} cannot change a column's type in place")

    def table_exists(self, conn: Any, name: Table | str) -> bool:  # a Table: in its schema
        cur = conn.cursor()
        try:
            cur.execute(f"SELECT 1 FROM {self.qualified(name)} WHERE 1 = 0")
            ok = True
        except Exception:
            ok = False
        conn.rollback()
        return ok

    def rejects_value(self, exc: BaseException) -> bool:
        """Whether a driver error means a value was refused (then the chunk is diagnosed on
        the failure path to name its key); text no encoding can carry is one everywhere."""
        return isinstance(exc, UnicodeError)

    def value_bounds(self, t: SqlType) -> tuple[Any, Any] | None:
        """(lowest, highest) value a column of type `t` holds here, where that is narrower
        than Python's own range (SQL Server `datetime` starts in 1753); None otherwise."""
        return None

    def locate_unreadable(self, conn: Any, table: Table, lo: Any, hi: Any) -> list[tuple]:
        """(column, key, why) of values in a range the driver cannot hand over as Python
        values (PostgreSQL 'infinity' dates); asked only after a read failed."""
        return []

    def classify_fault(self, exc: BaseException) -> Fault:
        """What a driver exception means (`sluice.core.faults`); engines map their codes."""
        return faults.network(exc) or OTHER

    def classify_error(self, exc: BaseException) -> type[SluiceError]:
        """TransientError (retry) for a retryable fault, else TerminalError (stop)."""
        return TransientError if self.classify_fault(exc).retryable else TerminalError

    def lock_timeout_sql(self, seconds: float) -> list[str]:
        """Statements bounding this session's lock waits by `seconds` (never raising a
        stricter limit the URL set), run before the publish takes its locks."""
        return []

    def lock_holders(self, conn: Any, table: Table) -> list[str]:
        """The sessions holding a lock on `table`, one phrase each, after a lock timeout."""
        return []

    @contextmanager
    def identity_insert(self, conn: Any, table: Table) -> Iterator[None]:
        """Allow explicit values in the identity column for the duration (SQL Server needs it)."""
        yield
