"""Change capture's neutral vocabulary: what a dialect reads from its engine's change log
(a PostgreSQL logical slot, the MySQL binlog, SQL Server Change Tracking) and what
sluice.capture applies to the replica.

A dialect yields the changes of committed transactions in commit order, each transaction's
changes followed by its `Commit`. Values are what the engine's ordinary reader would return
for the column (before the dialect's `decode_converters`), so one conversion path serves the
copy and the log alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

Op = Literal["upsert", "delete", "truncate"]


@dataclass(frozen=True)
class Change:
    """One row's new state, or its deletion, or a table emptied.

    `table` is the source table's key (`Table.key`, schema-qualified where the engine has
    schemas). For "upsert", `values` holds the columns the log carried, by source column name;
    a column it did not carry (PostgreSQL's unchanged TOASTed value, a MySQL minimal row
    image, a column added after the event) is absent and keeps the replica's value. `key`
    holds the row's primary-key values in primary-key order, for an upsert too (changes are
    netted by it); for "delete", the old key's. "truncate" carries neither.
    """

    table: str
    op: Op
    key: tuple = ()
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Commit:
    """The end of one source transaction: every change before it up to the previous Commit
    belongs to it. `position` is where a later read resumes (the dialect's own text: an LSN,
    a binlog file and offset or GTID set, a Change Tracking version); `at` the commit time
    when the log records it."""

    position: str
    at: dt.datetime | None = None


@dataclass(frozen=True)
class CaptureStatus:
    """A capture's state on the source, as `sluice cdc status` shows it."""

    exists: bool  # the slot (or what the engine keeps) is still there
    current: str | None = None  # the source's position now
    confirmed: str | None = None  # what the source keeps the log from
    lag_bytes: int | None = None  # log the source retains for this capture
    active: bool | None = None  # a reader is attached now (a slot's `active`)
    detail: str = ""  # anything else worth a line: the slot's wal_status, a retention limit
