"""The `Dialect` methods for schemas (ADR 0014): which schemas of a source hold user tables,
and how a target creates one. Every engine but SQLite has them; on MySQL and MariaDB a
schema is a database of the server. The catalog queries are data, one per engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sluice.core.errors import TerminalError
from sluice.core.urls import DbUrl

# Every schema but the system's: catalogs, TOAST and temporary schemas (a session's own)
POSTGRESQL_SCHEMAS = (
    "SELECT nspname FROM pg_catalog.pg_namespace "
    "WHERE nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND nspname !~ '^pg_(toast|temp_|toast_temp_)' ORDER BY nspname"
)
# sys, INFORMATION_SCHEMA and guest, and the fixed database roles' schemas (db_owner ...:
# schema_id 16384 and above), which hold no user tables
MSSQL_SCHEMAS = (
    "SELECT name FROM sys.schemas "
    "WHERE name NOT IN (N'sys', N'INFORMATION_SCHEMA', N'guest') AND schema_id < 16384 "
    "ORDER BY name"
)
# Another schema is another database, made as `ensure_database` makes the URL's
MYSQL_CREATE_SCHEMA = (
    "CREATE DATABASE IF NOT EXISTS {schema} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
)
# (table, constraint) -> the referenced table's schema: SQLAlchemy reads it from the
# constraint's text, where a schema on the search path is left out (and then taken for the
# referring table's own)
POSTGRESQL_FK_SCHEMAS = (
    "SELECT cl.relname, con.conname, rn.nspname FROM pg_catalog.pg_constraint con "
    "JOIN pg_catalog.pg_class cl ON cl.oid = con.conrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = cl.relnamespace "
    "JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid "
    "JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace "
    "WHERE con.contype = 'f' AND n.nspname = %(schema)s"
)
# foreign keys of other tables, in any database, pointing at a table (%s: its database or
# None for the connection's, %s: its name): dropped before the table is replaced
MYSQL_REFERENCING_FKS = (
    "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME "
    "FROM information_schema.REFERENTIAL_CONSTRAINTS "
    "WHERE UNIQUE_CONSTRAINT_SCHEMA = COALESCE(%s, DATABASE()) AND REFERENCED_TABLE_NAME = %s "
    "AND NOT (TABLE_NAME = REFERENCED_TABLE_NAME AND CONSTRAINT_SCHEMA = UNIQUE_CONSTRAINT_SCHEMA)"
)
MYSQL_SCHEMAS = (
    "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN "
    "('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY SCHEMA_NAME"
)


class Schemas:
    """Mixed into `Dialect`: an engine sets `schemas_query` and, where its DDL differs,
    overrides `create_schema_sql`."""

    name: str
    caps: Any
    # a query (no parameters, one column) naming every schema that may hold user tables,
    # system schemas left out; None where the engine has one schema per database (SQLite)
    schemas_query: str | None = None
    create_schema_form = "CREATE SCHEMA IF NOT EXISTS {schema}"  # {schema}: quoted
    # a query (parameter `schema`) of (table, constraint, referenced schema) where
    # SQLAlchemy's reflected `referred_schema` cannot be trusted
    fk_schemas_query: str | None = None

    def quote(self, ident: str) -> str:  # Dialect's
        raise NotImplementedError

    def connect(self, url: DbUrl) -> Any:  # Dialect's
        raise NotImplementedError

    def url_schema(self, url: DbUrl) -> str | None:  # Dialect's
        raise NotImplementedError

    def list_schemas(self, url: DbUrl, bind: Any = None) -> list[str]:
        """The names `schemas_query` finds (the default schema alone without one), read
        through `bind` (a SQLAlchemy engine: reflection's, whose statements are watched for a
        stall) or else a connection of its own."""
        if self.schemas_query is None:
            return [s for s in [self.url_schema(url)] if s]
        if bind is not None:
            with bind.connect() as conn:
                names = [r[0] for r in conn.exec_driver_sql(self.schemas_query).fetchall()]
                conn.rollback()
            return names
        conn = self.connect(url)
        try:
            cur = conn.cursor()
            cur.execute(self.schemas_query)
            names = [r[0] for r in cur.fetchall()]  # a catalog list, never table data
            conn.rollback()
        finally:
            conn.close()
        return names

    def referenced_schemas(self, bind: Any, schema: str | None) -> dict[tuple[str, str], str]:
        """(table, foreign key name) -> the schema of the table it references, from the
        catalog, for the foreign keys of `schema`'s tables; {} where reflection is right."""
        if self.fk_schemas_query is None:
            return {}
        with bind.connect() as conn:
            rows = conn.exec_driver_sql(self.fk_schemas_query, {"schema": schema}).fetchall()
            conn.rollback()
        return {(table, name): ref for table, name, ref in rows}

    def create_schema_sql(self, schema: str) -> list[str]:
        """Statements creating `schema` when it is absent (and nothing when it exists)."""
        return [self.create_schema_form.format(schema=self.quote(schema))]

    def ensure_schemas(self, url: DbUrl, schemas: Iterable[str]) -> None:
        """Create each named schema the target lacks (the default one always exists)."""
        wanted = sorted(set(schemas))
        if not wanted:
            return
        if not self.caps.schemas:
            raise TerminalError(f"{self.name} has no schemas to create {', '.join(wanted)} in")
        conn = self.connect(url)
        try:
            cur = conn.cursor()
            for schema in wanted:
                for stmt in self.create_schema_sql(schema):
                    cur.execute(stmt)
            conn.commit()
        finally:
            conn.close()
