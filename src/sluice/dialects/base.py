"""The small interface every engine implements, and the capabilities it declares.

Callers never ask which engine they hold: anything that differs between engines
is a method or a `Capabilities` field here. Per-engine modules are mostly data
(type maps, SQL templates); code only where parameters are involved.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sluice.schema import Table
from sluice.types import SqlType
from sluice.urls import DbUrl


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do; batch sizes and code paths derive from these."""

    max_identifier_length: int
    max_bind_parameters: int
    bulk_method: str  # how `bulk_load` writes: "copy", "bcp", "multirow-insert", ...
    transactional_ddl: bool
    timestamp_precision: int  # fractional-second digits of the widest timestamp type
    default_schema: str | None  # None where the engine has no schemas (MySQL, SQLite)
    # Build the primary key after the bulk load (faster); False where the engine cannot add it
    # later (SQLite) or needs it up front (MySQL: an AUTO_INCREMENT column must be a key).
    key_after_load: bool = True


def batched(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of at most `size` items: the only place rows are held together."""
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


class Dialect:
    """One engine. Subclasses set `name`, `caps`, `quote_chars` and implement the hooks."""

    name: str
    caps: Capabilities
    quote_chars: tuple[str, str] = ('"', '"')
    driver_module: str
    extra: str  # the pip extra that installs the driver

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
        col = table.column(column_name)
        null = "NULL" if col.nullable else "NOT NULL"
        ident = f" {self.identity_clause()}" if col.identity else ""
        return f"{self.quote(col.name)} {self.render_type(col.type)}{ident} {null}"

    def identity_clause(self) -> str:
        raise NotImplementedError

    def create_table_sql(self, table: Table, *, primary_key: bool = True) -> list[str]:
        """CREATE TABLE statements (several where an engine needs them) for `table`."""
        cols = [self.column_ddl(table, c.name) for c in table.columns]
        if primary_key and table.primary_key:
            cols.append(self.primary_key_clause(table))
        body = ",\n  ".join(cols)
        return [f"CREATE TABLE {self.qualified(table)} (\n  {body}\n){self.table_options()}"]

    def primary_key_clause(self, table: Table) -> str:
        keys = ", ".join(self.quote(k) for k in table.primary_key)
        return f"CONSTRAINT {self.quote(f'PK_{table.name}__Id')} PRIMARY KEY ({keys})"

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

    def bulk_load(self, conn: Any, table: Table, rows: Iterable[tuple]) -> int:
        """Write rows (tuples in `table.columns` order) through the engine's bulk path."""
        return self.insert_rows(conn, table, rows)

    def insert_rows(self, conn: Any, table: Table, rows: Iterable[tuple]) -> int:
        """The plain INSERT path: multi-row statements sized from the bind-parameter limit."""
        names = ", ".join(self.quote(c) for c in table.column_names)
        width = len(table.columns)
        per_stmt = max(1, min(1000, self.caps.max_bind_parameters // width))
        one = "(" + ", ".join([self.paramstyle_marker] * width) + ")"
        total = 0
        cur = conn.cursor()
        for batch in batched(rows, per_stmt):
            values = ", ".join([one] * len(batch))
            sql = f"INSERT INTO {self.qualified(table)} ({names}) VALUES {values}"
            cur.execute(sql, [v for row in batch for v in row])
            total += len(batch)
        return total

    paramstyle_marker = "%s"

    @contextmanager
    def identity_insert(self, conn: Any, table: Table) -> Iterator[None]:
        """Allow explicit values in the identity column for the duration (SQL Server needs it)."""
        yield
