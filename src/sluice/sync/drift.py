"""Schema drift between a source table and its replica, reconciled before a sync.

A column new in the source is added to the target (nullable: the rows already there get their
values from the sync, which reads the whole table that once). A column whose type grew (longer
text, wider integer, more digits) is widened. Anything else, a narrower type, another kind, or
a column the source no longer has, stops with a message: a sync never loses data to fit.

Types are compared on the source side, between the types the last sync recorded in
`sluice_state` and the source's types now: one engine's reflection against itself. Comparing
against the target's reflected types would see drift that is not there (a UUID stored as
MySQL CHAR(36) reflects back as text).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sluice.core.errors import TerminalError
from sluice.core.schema import Column, Table
from sluice.core.types import Kind, SqlType
from sluice.dialects.base import Dialect

log = logging.getLogger(__name__)

_INTEGERS = (Kind.TINYINT, Kind.SMALLINT, Kind.INTEGER, Kind.BIGINT)


@dataclass
class Drift:
    added: list[str] = field(default_factory=list)
    widened: list[str] = field(default_factory=list)


def widens(old: SqlType, new: SqlType) -> bool:
    """Whether every value of `old` fits `new` unchanged."""
    if old.kind in _INTEGERS and new.kind in _INTEGERS:
        return _INTEGERS.index(new.kind) >= _INTEGERS.index(old.kind)
    if old.kind is not new.kind or old.fixed != new.fixed:
        return False
    if old.kind is Kind.DECIMAL:
        if None in (old.precision, new.precision):
            return new.precision is None
        old_scale, new_scale = old.scale or 0, new.scale or 0
        return new_scale >= old_scale and new.precision - new_scale >= old.precision - old_scale
    if old.kind in (Kind.STRING, Kind.BINARY):
        if old.kind is Kind.STRING and old.unicode and not new.unicode:
            return False
        return new.length is None or (old.length is not None and new.length >= old.length)
    if old.kind in (Kind.TIME, Kind.DATETIME, Kind.DATETIME_TZ):
        return (new.precision or 0) >= (old.precision or 0)
    return old == new


def reconcile(
    dst: Dialect, conn: Any, wanted: Table, live: Table, recorded: dict[str, SqlType] | None
) -> Drift:
    """Bring `live` (the target table as reflected) to the columns of `wanted` (the source
    table in the target's schema), given the source types the last sync `recorded`, or stop
    naming the column that cannot follow."""
    drift = Drift()
    have = set(live.column_names)
    gone = [c for c in live.column_names if c not in wanted.column_names]
    if gone:
        raise TerminalError(
            f"table {wanted.name!r}: column(s) {', '.join(map(repr, gone))} are in the target "
            f"but no longer in the source; a sync never drops a column: run sluice copy "
            f"--tables {wanted.name} to rebuild the replica"
        )
    cur = conn.cursor()
    for col in wanted.columns:
        if col.name not in have:
            added = replace(col, nullable=True, identity=False)
            for stmt in dst.add_column_sql(_with(wanted, added), col.name):
                cur.execute(stmt)
            drift.added.append(col.name)
            continue
        old = (recorded or {}).get(col.name)
        if old is None or old == col.type:
            continue
        if old.native is None and old == replace(col.type, native=None, engine=None):
            continue  # recorded before declarations were (ADR 0013): the same type

        if not widens(old, col.type):
            raise TerminalError(
                f"table {wanted.name!r}, column {col.name!r}: the source's type changed from "
                f"{old.describe()} to {col.type.describe()}, which is narrower or of another "
                f"kind; a sync never narrows a column: run sluice copy --tables {wanted.name} "
                "to rebuild the replica"
            )
        nullable = live.column(col.name).nullable
        for stmt in dst.alter_column_type_sql(_with(wanted, replace(col, nullable=nullable)),
                                              col.name):  # fmt: skip
            cur.execute(stmt)
        drift.widened.append(col.name)
    conn.commit()
    if drift.added or drift.widened:
        log.info("%s: added %s, widened %s", wanted.name, drift.added or "-", drift.widened or "-")
    return drift


def record(table: Table) -> str:
    """The source's column types, as `sluice_state` keeps them for the next comparison."""
    return json.dumps([[c.name, _type_dict(c.type)] for c in table.columns])


def recorded(text: str | None) -> dict[str, SqlType] | None:
    if not text:
        return None
    return {name: SqlType(**{**t, "kind": Kind(t["kind"])}) for name, t in json.loads(text)}


def _type_dict(t: SqlType) -> dict[str, Any]:
    d = asdict(t)
    d["kind"] = t.kind.value
    return d


def _with(table: Table, column: Column) -> Table:
    cols = tuple(column if c.name == column.name else c for c in table.columns)
    if column.name not in table.column_names:
        cols += (column,)
    return replace(table, columns=cols)
