"""The copy's chunk ledger in the target database, what `sluice copy --resume` continues from
(ADR 0018).

Two sluice-owned tables next to `sluice_state`:
- `sluice_copy_tables`: one row per table of the copy under way: the run's plan fingerprint,
  the table's own fingerprint, its chunk bounds (JSON) and, once swapped in, its row count.
- `sluice_copy_chunks`: one row per chunk committed into a staging table, written in the
  chunk's own transaction, so a chunk is committed with its ledger row or not at all.

A copy clears its tables' rows before it (re)creates their staging tables and again when it
completes; a publish marks its table in the swap's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sluice.core.schema import Column, Table
from sluice.core.types import BIGINT, Kind, SqlType, string
from sluice.dialects.base import PARAM, Dialect

_WHEN = SqlType(Kind.DATETIME, precision=6)
_NAMES = 500  # table names per DELETE: well inside every engine's bind limit (SQL Server: 2,100)
TABLES = Table(
    "sluice_copy_tables",
    (
        Column("table_name", string(255), False),
        Column("run", string(64), False),
        Column("fingerprint", string(64), False),
        Column("chunks", string(None), False),  # JSON: [[index, lo, hi], ...]
        Column("published_rows", BIGINT),  # NULL until the table is swapped in
        Column("recorded", _WHEN, False),
    ),
    ("table_name",),
    primary_key_name="PK_sluice_copy_tables",
)
CHUNKS = Table(
    "sluice_copy_chunks",
    (
        Column("table_name", string(255), False),
        Column("chunk_index", BIGINT, False),
        Column("run", string(64), False),
        Column("rows_copied", BIGINT, False),
        Column("committed", _WHEN, False),
    ),
    ("table_name", "chunk_index"),
    primary_key_name="PK_sluice_copy_chunks",
)


@dataclass
class Entry:
    """What the ledger holds for one table: its plan row and the chunks committed."""

    table_name: str
    run: str
    fingerprint: str
    chunks: str
    published_rows: int | None
    committed: dict[int, int] = field(default_factory=dict)  # chunk index -> rows


def _of(dst: Dialect, table: Table) -> Table:
    return replace(table, schema=dst.caps.default_schema)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def ensure(dst: Dialect, conn: Any) -> None:
    """Create the ledger tables when missing, each committed (`table_exists` rolls back, and
    DDL commits on MySQL anyway)."""
    for table in (TABLES, CHUNKS):
        if not dst.table_exists(conn, table.name):
            cur = conn.cursor()
            for stmt in dst.create_table_sql(_of(dst, table), primary_key=True):
                cur.execute(stmt)
            conn.commit()


def _delete(dst: Dialect, conn: Any, table: Table, where: dict[str, Any]) -> None:
    cond = " AND ".join(f"{dst.quote(k)} = {PARAM}" for k in where)
    sql = f"DELETE FROM {dst.qualified(_of(dst, table))} WHERE {cond}"
    conn.cursor().execute(dst.finalize(sql), dst.bind(list(where.values())))


def forget(dst: Dialect, conn: Any, tables: Sequence[str]) -> None:
    """Drop the tables' plan and chunk rows inside the caller's transaction (no commit): one
    DELETE per ledger table for up to `_NAMES` tables, not two per table."""
    names = list(tables)
    for i in range(0, len(names), _NAMES):
        part = names[i : i + _NAMES]
        marks = ", ".join([PARAM] * len(part))
        for table in (CHUNKS, TABLES):
            sql = f"DELETE FROM {dst.qualified(_of(dst, table))} WHERE {dst.quote('table_name')} "
            conn.cursor().execute(dst.finalize(f"{sql}IN ({marks})"), dst.bind(part))


def record_tables(dst: Dialect, conn: Any, run: str, rows: Sequence[tuple[str, str, str]]) -> None:
    """Plan rows ((table, fingerprint, chunks JSON) each) of run `run` (no commit)."""
    now = _now()
    dst.insert_rows(conn, _of(dst, TABLES), [(t, run, f, c, None, now) for t, f, c in rows])


def record_chunk(dst: Dialect, conn: Any, run: str, table: str, index: int, rows: int,
                 again: bool) -> None:  # fmt: skip
    """The chunk's ledger row, inside the transaction that commits its rows (no commit).
    `again`: a retry, whose earlier try may have committed the row before its connection
    was lost (a first try only inserts: no delete to take a lock a sibling chunk waits on)."""
    if again:
        _delete(dst, conn, CHUNKS, {"table_name": table, "chunk_index": index})
    dst.insert_rows(conn, _of(dst, CHUNKS), [(table, index, run, rows, _now())])


def mark_published(dst: Dialect, conn: Any, run: str, table: tuple[str, str, str],
                   rows: int) -> None:  # fmt: skip
    """In the swap's transaction: the table ((name, fingerprint, chunks JSON)) is live, its
    chunk rows describe nothing now. Delete and insert, no UPDATE: a target login needs no
    privilege beyond what the copy's chunks use (docs/reliability.md, Security)."""
    name, fingerprint, chunks = table
    forget(dst, conn, [name])
    dst.insert_rows(conn, _of(dst, TABLES), [(name, run, fingerprint, chunks, rows, _now())])


def read(dst: Dialect, conn: Any) -> dict[str, Entry]:
    """Every table the ledger holds, with its committed chunks (a few rows per chunk of the
    copy under way: small, read whole)."""
    if not dst.table_exists(conn, TABLES.name) or not dst.table_exists(conn, CHUNKS.name):
        return {}
    cur = conn.cursor()
    cols = ", ".join(dst.quote(c) for c in TABLES.column_names[:5])
    cur.execute(f"SELECT {cols} FROM {dst.qualified(_of(dst, TABLES))}")
    entries = {r[0]: Entry(r[0], r[1], r[2], r[3], r[4]) for r in cur}
    cols = ", ".join(dst.quote(c) for c in ("table_name", "chunk_index", "run", "rows_copied"))
    cur.execute(f"SELECT {cols} FROM {dst.qualified(_of(dst, CHUNKS))}")
    for name, index, run, rows in cur:
        entry = entries.get(name)
        if entry is not None and entry.run == run:
            entry.committed[int(index)] = int(rows)
    conn.rollback()
    return entries
