"""The `sluice_capture` table in the target database: one row per change capture, holding
the source position the replica has applied up to.

It is written in the transaction that applies the batch it describes (sluice.capture), so
after a crash the position and the data agree: the next `sync --cdc` reads from exactly
where the replica stands, and nothing is applied twice or skipped.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from typing import Any

from sluice.core.schema import Column, Table
from sluice.core.types import BIGINT, Kind, SqlType, string
from sluice.dialects.base import Dialect
from sluice.state import store

_TIME = SqlType(Kind.DATETIME, precision=6)
POSITIONS = Table(
    "sluice_capture",
    (
        Column("name", string(64), False),
        Column("source_engine", string(20), False),
        Column("position", string(255), False),  # the dialect's text (an LSN, file:offset, ...)
        Column("tables", string(None), False),  # the captured tables' keys, one per line
        Column("started", _TIME, False),  # when the capture started (copy --cdc), UTC
        Column("applied", _TIME),  # the last batch's commit on the replica, UTC
        Column("source_commit", _TIME),  # the source's commit time of `position`, UTC
        Column("changes", BIGINT, False),  # changes applied since the capture started
        Column("transactions", BIGINT, False),
        # JSON: table key -> its source columns' types when last seen (sluice.sync.drift's
        # record), so a widened type is followed as watermark sync follows it
        Column("source_columns", string(None)),
    ),
    ("name",),
    primary_key_name="PK_sluice_capture",
)


@dataclass(frozen=True)
class Position:
    name: str
    source_engine: str
    position: str
    tables: tuple[str, ...]
    started: dt.datetime
    applied: dt.datetime | None = None
    source_commit: dt.datetime | None = None
    changes: int = 0
    transactions: int = 0
    source_columns: str | None = None

    def row(self) -> tuple[Any, ...]:
        return (self.name, self.source_engine, self.position, "\n".join(self.tables),
                self.started, self.applied, self.source_commit, self.changes,
                self.transactions, self.source_columns)  # fmt: skip

    def columns_of(self, table: str) -> str | None:
        return json.loads(self.source_columns or "{}").get(table)

    def with_columns(self, recorded: dict[str, str]) -> Position:
        return replace(self, source_columns=json.dumps(recorded, sort_keys=True))

    def advanced(self, position: str, at: dt.datetime | None, changes: int,
                 transactions: int) -> Position:  # fmt: skip
        return replace(self, position=position, applied=utcnow(),
                       source_commit=_naive(at) if at else self.source_commit,
                       changes=self.changes + changes,
                       transactions=self.transactions + transactions)  # fmt: skip


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _naive(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.timezone.utc).replace(tzinfo=None) if at.tzinfo else at


def positions_table(dst: Dialect) -> Table:
    return replace(POSITIONS, schema=dst.caps.default_schema)


def ensure(dst: Dialect, conn: Any) -> None:
    """Create the table when missing (its own transaction: DDL commits on MySQL)."""
    store.create_missing(dst, conn, positions_table(dst))


def read(dst: Dialect, conn: Any, name: str) -> Position | None:
    table = positions_table(dst)
    if not dst.table_exists(conn, table.name):
        return None
    row = store.select_row(dst, conn, table, "name", name)
    if row is None:
        return None
    values = list(row)
    values[3] = tuple(t for t in (values[3] or "").split("\n") if t)
    return Position(*values)


def forget(dst: Dialect, conn: Any, name: str) -> None:
    """Drop the capture's row inside the caller's transaction (no commit)."""
    store.delete_rows(dst, conn, positions_table(dst), "name", name)


def write(dst: Dialect, conn: Any, position: Position) -> None:
    """Replace the capture's row inside the caller's open transaction (no commit)."""
    forget(dst, conn, position.name)
    dst.insert_rows(conn, positions_table(dst), [position.row()])
