"""Planning reads row counts from PostgreSQL's statistics when it has them (no scan of every
table), scaled to the table's current size, and counts exactly when it has none."""

from __future__ import annotations

from sluice.core.schema import Column, Table
from sluice.core.types import Kind, SqlType
from sluice.dialects import get_dialect

T = Table("t", (Column("Id", SqlType(Kind.INTEGER), False), Column("v", SqlType(Kind.STRING))),
          ("Id",))  # fmt: skip


def _insert(conn, d, lo: int, hi: int) -> None:
    d.insert_rows(conn, T, [(i, f"value {i}") for i in range(lo, hi)])
    conn.commit()


def test_row_counts_come_from_statistics_once_analyzed(pg_db):
    d = get_dialect("postgresql")
    conn = d.connect(pg_db, autocommit=False)
    for stmt in d.create_table_sql(T, primary_key=True):
        conn.execute(stmt)
    conn.commit()
    _insert(conn, d, 1, 20_001)
    # never analyzed: an exact count, and the key's bounds
    assert d.key_stats(pg_db, [T]) == {"t": (1, 20_000, 20_000)}
    conn.autocommit = True
    conn.execute('ANALYZE "t"')
    conn.autocommit = False
    assert d.key_stats(pg_db, [T])["t"] == (1, 20_000, 20_000)
    # rows added since: the estimate follows the pages the table has now, not the old figure
    _insert(conn, d, 20_001, 40_001)
    conn.execute('DELETE FROM "t" WHERE "Id" > 39000')  # an exact figure would say 39,000
    conn.commit()
    lo, hi, rows = d.key_stats(pg_db, [T])["t"]
    assert (lo, hi) == (1, 39_000)
    assert 38_000 <= rows <= 42_000 and rows != 39_000
    conn.close()
