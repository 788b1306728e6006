"""PostgreSQL's side of verification: row digests computed by the server, and each column's
declared type as the catalog spells it (the same spelling reflection records in
`SqlType.native`, so one reading serves the plan, the native method and the comparison
domains; see sluice.verify.run)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from sluice.core.schema import Table
from sluice.dialects import postgresql_native as native

# the settings that shape a row's text form, pinned for server-side digests on both sides
DIGEST_SETUP = (
    "SET DateStyle = ISO, YMD", "SET TimeZone = 'UTC'", "SET IntervalStyle = postgres",
    "SET extra_float_digits = 1", "SET bytea_output = hex", "SET lc_monetary = 'C'",
)  # fmt: skip

_cursor_ids = itertools.count()


class PostgresDigests:
    """Mixed into PostgresDialect (uses its quote, qualified, range_predicate, finalize, bind)."""

    def range_digest_sql(self, table: Table, lo: Any, hi: Any) -> tuple[list[str], str, list]:
        """The server hashes each row's text form (64 bits) and sums the hashes.

        Used only between two PostgreSQL tables of identical declared column types, where the
        text form is a canonical encoding once the settings that shape it are pinned."""
        cols = ", ".join(self.quote(c) for c in table.column_names)
        where, params = self.read_predicate(table, lo, hi)
        # hashtextextended: the 64-bit hash behind hash partitioning, stable across versions
        # (partitioned data depends on it) and cheaper than md5
        # ROW(r.*), never r: a column named r would be taken for the row (only it hashed)
        row_hash = "hashtextextended(ROW(r.*)::text, 0)::numeric"
        sql = (
            f"SELECT count(*), coalesce(sum({row_hash}), 0)::text "
            f"FROM (SELECT {cols} FROM {self.relation_sql(table)}{where}) AS r"
        )
        return list(DIGEST_SETUP), self.finalize(sql), params

    def row_digests(self, conn: Any, table: Table, lo: Any, hi: Any) -> Iterator[tuple]:
        """(key..., row hash, column hashes...) per row in key order, through a server-side
        cursor; a NULL column's hash is NULL, so NULL and '' differ."""
        for stmt in DIGEST_SETUP:
            conn.execute(stmt)
        cols = [self.quote(c) for c in table.column_names]
        keys = ", ".join(f"r.{self.quote(k)}" for k in table.primary_key)
        per_column = "".join(f", hashtextextended(r.{c}::text, 0)" for c in cols)
        where, params = self.read_predicate(table, lo, hi)
        sql = self.finalize(
            f"SELECT {keys}, hashtextextended(ROW(r.*)::text, 0){per_column} FROM (SELECT "
            f"{', '.join(cols)} FROM {self.relation_sql(table)}{where}) AS r ORDER BY {keys}"
        )
        with conn.cursor(name=f"sluice_digest_{next(_cursor_ids)}") as cur:
            cur.execute(sql, self.bind(params))
            while batch := cur.fetchmany(5_000):
                yield from batch

    def text_encoding(self, conn: Any) -> str | None:
        """The database's encoding: a row's text is hashed in it (UTF8 and LATIN1 spell 'é'
        in different bytes, and the same bytes mean different text)."""
        found = conn.execute("SELECT current_setting('server_encoding')").fetchone()
        conn.rollback()
        return found[0] if found else None

    def database_checks(self, url: Any, table: Table) -> list[tuple[int, Any]]:
        """Text a database in a narrower encoding than UTF-8 cannot hold (LATIN1 lacks
        '€'): the server refuses it on the way in; this names the rows."""
        from psycopg._encodings import pg2pyenc

        from sluice.core.hostile import TEXT_KINDS, encodable

        with self.connect(url) as conn:
            encoding = self.text_encoding(conn)
        if encoding in (None, "UTF8", "SQL_ASCII"):  # all of Unicode, or bytes unchecked
            return []
        check = encodable(encoding, pg2pyenc(encoding.encode()))
        return [(i, check) for i, c in enumerate(table.columns) if c.type.kind in TEXT_KINDS]

    def declared_types(self, conn: Any, table: Table) -> dict[str, str] | None:
        """Column -> `format_type` under search_path pg_catalog (`integer[]`, `public.hstore`):
        what reflection records as `SqlType.native`."""
        return native.declared_types(conn, self.qualified(table))
