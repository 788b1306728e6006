"""Create a dataset's tables in a target and fill them from row streams.

Shared by the generator and the dump importer. Each table is loaded the fast
way: created without its primary key, filled through the dialect's bulk path,
then keyed and its identity aligned to max(Id)+1, all before one commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from sluice.core.errors import ConfigError, SluiceError, TerminalError
from sluice.core.progress import Reporter
from sluice.core.schema import Table
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect

ROWS_PER_TICK = 2000


@dataclass(frozen=True)
class LoadResult:
    table: str
    rows: int


def load_tables(
    target: DbUrl,
    tables: Sequence[Table],
    rows_for: Callable[[Table], Iterable[tuple]],
    *,
    totals: dict[str, int | None] | None = None,
    replace: bool = False,
    reporter: Reporter | None = None,
) -> list[LoadResult]:
    """Load every table in order; with `replace=False` an existing table is an error."""
    dialect = get_dialect(target.engine)
    dialect.ensure_database(target)
    reporter = reporter or Reporter(live=False)
    conn = dialect.connect(target)
    results = []
    try:
        existing = [t.name for t in tables if dialect.table_exists(conn, t.name)]
        if existing and not replace:
            raise ConfigError(
                f"{target} already has table(s) {', '.join(existing)}; "
                "pass --replace to drop and recreate them"
            )
        for table in tables:
            total = (totals or {}).get(table.name)
            n = _load_one(target, conn, table, rows_for(table), reporter, total)
            results.append(LoadResult(table.name, n))
    finally:
        conn.close()
    return results


def _load_one(target: DbUrl, conn, table: Table, rows: Iterable[tuple], reporter, total) -> int:
    dialect = get_dialect(target.engine)
    cur = conn.cursor()
    cur.execute(dialect.drop_table_sql(table))
    key_later = dialect.caps.key_after_load
    for stmt in dialect.create_table_sql(table, primary_key=not key_later):
        cur.execute(stmt)
    reporter.start(table.name, total)
    try:
        with dialect.identity_insert(conn, table):
            n = dialect.bulk_load(conn, table, _ticking(rows, reporter, table.name))
        if table.primary_key and key_later:
            for stmt in dialect.add_primary_key_sql(table):
                cur.execute(stmt)
        if table.identity is not None:
            cur.execute(
                f"SELECT MAX({dialect.quote(table.identity.name)}) FROM {dialect.qualified(table)}"
            )
            top = cur.fetchone()[0]
            # at least 1 (PostgreSQL's MINVALUE): a tiny scale's Users hold only Id -1
            for stmt in dialect.align_identity_sql(table, max(1, (top or 0) + 1)):
                cur.execute(stmt)
        conn.commit()
    except SluiceError:
        conn.rollback()
        raise
    except Exception as exc:
        conn.rollback()
        msg = target.redact(str(exc)).strip()
        raise TerminalError(f"loading table {table.name!r} into {target} failed: {msg}") from None
    reporter.finish(table.name)
    return n


def _ticking(rows: Iterable[tuple], reporter: Reporter, name: str) -> Iterator[tuple]:
    pending = 0
    for row in rows:
        yield row
        pending += 1
        if pending == ROWS_PER_TICK:
            reporter.advance(name, pending)
            pending = 0
    reporter.advance(name, pending)


def count_rows(target: DbUrl, tables: Sequence[Table]) -> dict[str, int | None]:
    """Row counts per table; None where the table does not exist."""
    dialect = get_dialect(target.engine)
    conn = dialect.connect(target)
    counts: dict[str, int | None] = {}
    try:
        for table in tables:
            if not dialect.table_exists(conn, table.name):
                counts[table.name] = None
                continue
            cur = conn.cursor()
            cur.execute(f"SELECT COUNT(*) FROM {dialect.qualified(table)}")
            counts[table.name] = int(cur.fetchone()[0])
            conn.rollback()
    finally:
        conn.close()
    return counts
