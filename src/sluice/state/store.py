"""The `sluice_state` table in the target database: one row per synced table.

It is written in the transaction that applies the rows it describes, so after a crash the
watermark and the data agree: the next run neither skips nor applies a batch twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sluice.core.schema import Column, Table
from sluice.core.types import BIGINT, Kind, SqlType, string
from sluice.dialects.base import PARAM, Dialect

STATE = Table(
    "sluice_state",
    (
        Column("table_name", string(255), False),
        Column("kind", string(20), False),
        Column("watermark_column", string(255)),
        Column("watermark", string(None)),
        Column("last_run", SqlType(Kind.DATETIME, precision=6), False),
        Column("rows_inserted", BIGINT, False),
        Column("rows_updated", BIGINT, False),
        Column("rows_deleted", BIGINT, False),
        Column("runs", BIGINT, False),
        Column("source_columns", string(None)),  # sluice.sync.drift.record()
    ),
    ("table_name",),
    primary_key_name="PK_sluice_state",
)


@dataclass(frozen=True)
class State:
    table_name: str
    kind: str
    watermark_column: str | None
    watermark: str | None  # sluice.sync.watermarks.encode()
    last_run: dt.datetime
    rows_inserted: int = 0  # the last run's figures
    rows_updated: int = 0
    rows_deleted: int = 0
    runs: int = 0
    source_columns: str | None = None

    def row(self) -> tuple[Any, ...]:
        return (self.table_name, self.kind, self.watermark_column, self.watermark,
                self.last_run, self.rows_inserted, self.rows_updated, self.rows_deleted,
                self.runs, self.source_columns)  # fmt: skip


def state_table(dst: Dialect) -> Table:
    from dataclasses import replace

    return replace(STATE, schema=dst.caps.default_schema)


def ensure(dst: Dialect, conn: Any) -> None:
    """Create the state table when missing (its own transaction: DDL commits on MySQL)."""
    create_missing(dst, conn, state_table(dst))


def read(dst: Dialect, conn: Any, table_name: str) -> State | None:
    row = select_row(dst, conn, state_table(dst), "table_name", table_name)
    return None if row is None else State(*row)


def forget(dst: Dialect, conn: Any, table_name: str) -> None:
    """Drop the table's state inside the caller's transaction: a copy replaced the replica,
    so the next sync starts from what it holds (and records the source's types anew)."""
    delete_rows(dst, conn, state_table(dst), "table_name", table_name)


# --- one-row-per-key tables of sluice's own (this one, and positions.py's) ------------------
def create_missing(dst: Dialect, conn: Any, table: Table) -> None:
    """Create `table` when missing, committed (DDL commits on MySQL anyway)."""
    if dst.table_exists(conn, table.name):
        return
    cur = conn.cursor()
    for stmt in dst.create_table_sql(table, primary_key=True):
        cur.execute(stmt)
    conn.commit()


def select_row(dst: Dialect, conn: Any, table: Table, key: str, value: Any) -> tuple | None:
    """Every column of the row whose `key` column is `value`, or None."""
    cols = ", ".join(dst.quote(c) for c in table.column_names)
    sql = f"SELECT {cols} FROM {dst.qualified(table)} WHERE {dst.quote(key)} = {PARAM}"
    cur = conn.cursor()
    cur.execute(dst.finalize(sql), dst.bind([value]))
    return cur.fetchone()


def delete_rows(dst: Dialect, conn: Any, table: Table, key: str, value: Any) -> None:
    """Delete the rows whose `key` column is `value`, in the caller's transaction."""
    sql = f"DELETE FROM {dst.qualified(table)} WHERE {dst.quote(key)} = {PARAM}"
    conn.cursor().execute(dst.finalize(sql), dst.bind([value]))


def write(dst: Dialect, conn: Any, state: State) -> None:
    """Replace the table's state row inside the caller's open transaction (no commit)."""
    forget(dst, conn, state.table_name)
    dst.insert_rows(conn, state_table(dst), [state.row()])
