"""The plan's tables the target lacks, each with the source's row count: a count of the rows
the copy would select (through a table's `--where`), not the plan's estimate, so the report
says how many rows the replica is missing."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from sluice.copy.plan import TablePlan
from sluice.copy.staging import live_table
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect


def missing_tables(
    dst, target: DbUrl, tables: Sequence[TablePlan], source: DbUrl
) -> dict[str, int]:
    """The tables the target lacks, each with the source's row count (a count, not the
    plan's estimate: the report says how many rows the replica is missing)."""
    conn = dst.connect(target)
    try:
        gone = [tp for tp in tables if not dst.table_exists(conn, live_table(dst, tp.target))]
    finally:
        with contextlib.suppress(Exception):
            conn.close()
    if not gone:
        return {}
    src = get_dialect(source.engine)
    conn = src.connect(source)
    try:
        src.begin_read(conn)  # read-only: a --where condition is the user's own SQL
        cur, counts = conn.cursor(), {}
        for tp in gone:  # the rows the copy would select (--where)
            where, params = src.read_predicate(tp.table, None, None)
            cur.execute(src.finalize(f"SELECT COUNT(*) FROM {src.relation_sql(tp.table)}{where}"),
                        src.bind(params))  # fmt: skip
            counts[tp.name] = int(cur.fetchone()[0])
        conn.rollback()
        return counts
    finally:
        with contextlib.suppress(Exception):
            conn.close()
