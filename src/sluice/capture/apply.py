"""Applying captured changes to the replica, set-based, inside the caller's transaction.

Changes are netted per key while they arrive (the last state of a row wins; a partial row
image is merged into the one before it), within a byte budget: past it, what is held is
written and netting starts again, still inside the same target transaction. Writing goes
through each table's sync staging tables with the copy's own converters and bulk load:
whole rows are upserted (parents first), rows missing some columns (PostgreSQL's unchanged
TOASTed values, MySQL minimal row images) update only the columns they carry, and deleted
keys are deleted (children first). A row missing columns whose key the replica lacks is
dropped: the log deletes it later (the copy read it after it was gone).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sluice.copy.masks import masked
from sluice.copy.plan import TablePlan
from sluice.copy.staging import live_table, sync_staging_table
from sluice.core.changes import Change
from sluice.core.errors import ConfigError
from sluice.core.hostile import NulPolicy, WriteGuard
from sluice.core.schema import Table
from sluice.core.values import converter
from sluice.dialects.base import Dialect

log = logging.getLogger(__name__)

# what a held change costs in Python beyond its text and bytes, on the safe side: tracemalloc
# gave 1,146 bytes for a Posts row of 19 values (CPython 3.11), this estimate 1,530
CHANGE_OVERHEAD = 250
VALUE_OVERHEAD = 64


@dataclass
class Applied:
    """What one table received."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    truncated: int = 0

    @property
    def moved(self) -> int:
        return self.inserted + self.updated + self.deleted


class _Target:
    """One table's places on the replica and its row path (source row -> target row)."""

    def __init__(self, src: Dialect, dst: Dialect, tp: TablePlan, nul: NulPolicy):
        self.tp, self.columns = tp, tp.table.column_names
        self.names = frozenset(self.columns)
        self.live = live_table(dst, tp.target)
        stage = sync_staging_table(dst, tp.target)
        loose = tuple(replace(c, nullable=True, identity=False) for c in stage.columns)
        self.stage = replace(stage, columns=loose)
        self.partial = replace(self.stage, name=_suffixed(dst, stage.name, "p"))
        keys = [c for c in loose if c.name in tp.target.primary_key]
        self.keys = replace(self.stage, name=_suffixed(dst, stage.name, "k"), columns=tuple(keys),
                            primary_key=())  # fmt: skip
        decode = masked(converter(src.decode_converters(tp.table)), tp, src)
        encode = converter(dst.encode_converters(tp.table))
        guard = WriteGuard(src, dst, tp.table, nul)
        steps = [f for f in (decode, guard if guard.active else None, encode) if f is not None]

        def convert(row: tuple) -> tuple:
            for f in steps:
                row = f(row)
            return row

        self.convert = convert
        self.key_positions = [self.columns.index(k) for k in tp.table.primary_key]

    def whole(self, values: dict[str, Any]) -> bool:
        """Whether the log carried every column the replica has (a column left out of the
        copy, or one the plan does not know yet, may be carried too and is ignored)."""
        return self.names <= values.keys()

    def row(self, values: dict[str, Any]) -> tuple:
        return self.convert(tuple(values.get(c) for c in self.columns))

    def key_row(self, key: tuple) -> tuple:
        """A deleted key through the same path as a copied row's (a masked key is masked as
        the copy masked it: the hash is keyed and deterministic), by converting a row that
        holds only the key."""
        row = [None] * len(self.columns)
        for i, v in zip(self.key_positions, key):
            row[i] = v
        done = self.convert(tuple(row))
        return tuple(done[i] for i in self.key_positions)


def _suffixed(dst: Dialect, name: str, suffix: str) -> str:
    limit = dst.caps.max_identifier_length
    return f"{name[: limit - len(suffix) - 1]}_{suffix}"


class Applier:
    """Nets and writes changes for the planned tables through one target connection."""

    def __init__(self, src: Dialect, dst: Dialect, conn: Any, plans: Sequence[TablePlan],
                 budget: int, nul: NulPolicy) -> None:  # fmt: skip
        self.dst, self.conn, self.budget = dst, conn, budget
        self.order = [tp.table.key for tp in plans]  # parents first (the plan's order)
        self.targets = {tp.table.key: _Target(src, dst, tp, nul) for tp in plans}
        self.applied = {tp.table.key: Applied() for tp in plans}
        self.held: dict[str, dict[tuple, Change]] = {k: {} for k in self.targets}
        self.size = 0

    # --- staging tables: made before, dropped after (DDL commits on some engines) ----------
    def prepare(self) -> None:
        cur = self.conn.cursor()
        for t in self.targets.values():
            for table in (t.stage, t.partial, t.keys):
                cur.execute(self.dst.drop_table_sql(table))
                for stmt in self.dst.create_table_sql(table, primary_key=False):
                    cur.execute(stmt)
        self.conn.commit()

    def drop(self) -> None:
        cur = self.conn.cursor()
        for t in self.targets.values():
            for table in (t.stage, t.partial, t.keys):
                cur.execute(self.dst.drop_table_sql(table))
        self.conn.commit()

    # --- netting ---------------------------------------------------------------------------
    def add(self, change: Change) -> None:
        held = self.held.get(change.table)
        if held is None:
            return  # a table the publication still lists but the plan leaves out
        if change.op == "truncate":
            self.flush()
            t = self.targets[change.table]
            cur = self.conn.cursor()
            cur.execute(f"DELETE FROM {self.dst.qualified(t.live)}")
            self.applied[change.table].truncated += 1
            self.applied[change.table].deleted += max(0, cur.rowcount or 0)
            return
        before = held.get(change.key)
        if change.op == "upsert" and before is not None and before.op == "upsert":
            change = replace(change, values={**before.values, **change.values})
        held[change.key] = change
        self.size += _size(change)
        if self.size > self.budget:
            self.flush()

    # --- writing ---------------------------------------------------------------------------
    def flush(self) -> None:
        """Write what is held, inside the open transaction."""
        for key in self.order:
            self._upserts(key)
        for key in reversed(self.order):  # children first: a declared key never blocks
            self._deletes(key)
        for held in self.held.values():
            held.clear()
        self.size = 0

    def _upserts(self, key: str) -> None:
        t, held = self.targets[key], self.held[key]
        whole = [c for c in held.values() if c.op == "upsert" and t.whole(c.values)]
        if whole:
            self._load(t.stage, (t.row(c.values) for c in whole))
            inserted = self._new_rows(t)
            for stmt in self.dst.upsert_sql(t.live, t.stage):
                self.conn.cursor().execute(stmt)
            self.applied[key].inserted += inserted
            self.applied[key].updated += len(whole) - inserted
        groups: dict[frozenset, list[Change]] = {}
        for c in held.values():
            if c.op == "upsert" and not t.whole(c.values):
                groups.setdefault(frozenset(c.values) & t.names, []).append(c)
        for carried, changes in groups.items():
            self._load(t.partial, (t.row(c.values) for c in changes))
            self.applied[key].updated += self._update_carried(t, carried)

    def _deletes(self, key: str) -> None:
        t = self.targets[key]
        gone = [c.key for c in self.held[key].values() if c.op == "delete"]
        if not gone:
            return
        self._load(t.keys, (t.key_row(k) for k in gone))
        cur = self.conn.cursor()
        cur.execute(f"DELETE FROM {self.dst.qualified(t.live)} WHERE EXISTS (SELECT 1 FROM "
                    f"{self.dst.qualified(t.keys)} s WHERE {_same_key(self.dst, t)})")  # fmt: skip
        self.applied[key].deleted += max(0, cur.rowcount or 0)

    def _load(self, table: Table, rows) -> None:
        cur = self.conn.cursor()
        cur.execute(f"DELETE FROM {self.dst.qualified(table)}")
        self.dst.bulk_load(self.conn, table, rows)

    def _new_rows(self, t: _Target) -> int:
        cur = self.conn.cursor()
        cur.execute(f"SELECT COUNT(*) FROM {self.dst.qualified(t.stage)} s WHERE NOT EXISTS "
                    f"(SELECT 1 FROM {self.dst.qualified(t.live)} l WHERE "
                    f"{_same_key(self.dst, t, 'l')})")  # fmt: skip
        return int(cur.fetchone()[0])

    def _update_carried(self, t: _Target, carried: frozenset) -> int:
        """UPDATE the live rows of the partial stage's keys, only the carried columns; a
        key the live table lacks is dropped (see the module's docstring)."""
        names = [t.tp.target_column(c) for c in t.columns if c in carried]
        rest = [c for c in names if c not in t.live.primary_key]
        if not rest:
            return 0
        d, p = self.dst, self.dst.qualified(t.partial)
        same = _same_key(d, t, stage=p)
        sets = ", ".join(f"{d.quote(c)} = (SELECT {p}.{d.quote(c)} FROM {p} WHERE {same})"
                         for c in rest)  # fmt: skip
        cur = self.conn.cursor()
        cur.execute(f"UPDATE {d.qualified(t.live)} SET {sets} WHERE EXISTS (SELECT 1 FROM {p} "
                    f"WHERE {same})")  # fmt: skip
        log.debug("%s: %d row(s) updated in the carried columns %s", t.tp.name, cur.rowcount,
                  ", ".join(rest))  # fmt: skip
        return max(0, cur.rowcount or 0)


def _same_key(d: Dialect, t: _Target, live: str | None = None, stage: str = "s") -> str:
    """The key equality between a stage's row (alias `stage`) and the live table's (alias
    `live`, or its qualified name in a correlated statement)."""
    outer = live or d.qualified(t.live)
    return " AND ".join(f"{stage}.{d.quote(k)} = {outer}.{d.quote(k)}"
                        for k in t.live.primary_key)  # fmt: skip


def _size(change: Change) -> int:
    total = CHANGE_OVERHEAD + VALUE_OVERHEAD * (len(change.values) + len(change.key))
    for v in change.values.values():
        if isinstance(v, (str, bytes, bytearray, memoryview)):
            total += len(v)
    return total


def check_selection(plans: Sequence[TablePlan]) -> None:
    """What change capture cannot follow, refused before anything starts."""
    filtered = [tp.name for tp in plans if tp.table.where]
    if filtered:
        raise ConfigError("change capture applies every change of a table; a row filter "
                          "(--where) on " + ", ".join(filtered) + " would need each change "
                          "checked against it: sync those tables by watermark instead")  # fmt: skip
    keyless = [tp.name for tp in plans if not tp.table.primary_key]
    if keyless:
        raise ConfigError("change capture needs a primary key on every table; none on: "
                          + ", ".join(keyless))  # fmt: skip
