"""The `Dialect` methods the plan sizes chunks with: key ranges and row counts per table,
and relation sizes where the engine keeps them. Read on the plan's connection when given
(`copy.statistics`: each statement watched for a stall), else on one of their own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sluice.core.schema import Table
from sluice.core.urls import DbUrl


class Statistics:
    """Mixed into `Dialect`; an engine overrides `row_estimate_sql` and `relation_bytes_sql`."""

    def connect(self, url: DbUrl) -> Any:  # Dialect's
        raise NotImplementedError

    def key_stats(
        self, url: DbUrl, tables: Sequence[Table], conn: Any = None
    ) -> dict[str, tuple[Any, Any, int]]:
        """(min key, max key, row count) per table; min/max only for a single-column key.
        Read on `conn` when given (the plan's, watched for a stall), else on one of its own.

        MIN and MAX alone are answered from the key's index. The row count only sizes chunks
        and progress bars, so the engine's own estimate (`row_estimate_sql`) is used where it
        has one: an exact COUNT(*) scans every table, about a second at StackOverflow2010's
        full scale that the copy would then wait for."""
        stats = {}
        own = conn is None
        conn = self.connect(url) if own else conn
        try:
            self.begin_read(conn)  # read-only: a --where condition is the user's own SQL
            cur = conn.cursor()
            for t in tables:
                lo = hi = None
                where, params = self.read_predicate(t, None, None)  # the --where filter
                if len(t.primary_key) == 1:
                    k = self.quote(t.primary_key[0])
                    sql = f"SELECT MIN({k}), MAX({k}) FROM {self.relation_sql(t)}{where}"
                    cur.execute(self.finalize(sql), self.bind(params))
                    lo, hi = cur.fetchone()
                n = None
                estimate = None if t.where else self.row_estimate_sql(t)  # a filter: counted
                if estimate is not None:
                    cur.execute(self.finalize(estimate[0]), self.bind(estimate[1]))
                    n = cur.fetchone()[0]
                if n is None:
                    sql = f"SELECT COUNT(*) FROM {self.relation_sql(t)}{where}"
                    cur.execute(self.finalize(sql), self.bind(params))
                    n = cur.fetchone()[0]
                stats[t.key] = (lo, hi, int(n))
            conn.rollback()
        finally:
            if own:
                conn.close()
        return stats

    def row_estimate_sql(self, table: Table) -> tuple[str, list[Any]] | None:
        """A query for the table's row count as the engine's statistics know it (NULL when
        they do not), or None where the engine keeps no such figure."""
        return None

    def relation_bytes_sql(self, table: Table) -> tuple[str, list[Any]] | None:
        """A query for the table's size on disk (data and out-of-line values), if the engine
        can tell cheaply; the plan cuts wide tables into more chunks by it."""
        return None

    def relation_bytes(
        self, url: DbUrl, tables: Sequence[Table], conn: Any = None
    ) -> dict[str, int]:
        """Size in bytes per table where `relation_bytes_sql` knows it (an estimate: the
        engine's own bookkeeping, never a scan); on `conn` when given, as `key_stats`."""
        queries = {t.key: self.relation_bytes_sql(t) for t in tables}
        if not any(queries.values()):
            return {}
        sizes = {}
        own = conn is None
        conn = self.connect(url) if own else conn
        try:
            cur = conn.cursor()
            for name, query in queries.items():
                if query:
                    sql, params = query
                    cur.execute(self.finalize(sql), self.bind(params))
                    row = cur.fetchone()
                    sizes[name] = int(row[0]) if row and row[0] is not None else 0
            conn.rollback()
        finally:
            if own:
                conn.close()
        return sizes
