"""SQL Server change capture through CDC (Change Data Capture), where the database owner
switched it on for every captured table (docs/cdc-sqlserver.md); `mssql_capture` chooses it
and falls back to Change Tracking otherwise.

CDC's capture job (SQL Server Agent) copies each change of each transaction from the log
into a change table per capture instance, in commit order: `__$start_lsn` is the commit's
LSN, `__$seqval` orders the changes within it, `__$operation` is 1 delete, 2 insert, 3 the
row before an update, 4 the row after it. The position is an LSN, as "0x" and 20 hex
digits. A batch reads every table's changes in (start_lsn, seqval) order up to the highest
LSN the job has written (`sys.fn_cdc_get_max_lsn()`: rows at or below it are all there),
merges them, and ends each transaction with its Commit, stopping at the first commit after
`limit` changes.

No SQL Server runs in CI: the statements are compiled by tests/unit/test_mssql_capture.py.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from typing import Any, NamedTuple

from sluice.core.changes import Change, Commit
from sluice.core.errors import ConfigError
from sluice.core.schema import Table
from sluice.core.urls import DbUrl

LSN_TEXT = re.compile(r"0x[0-9A-F]{20}")
MAX_LSN_SQL = "SELECT sys.fn_cdc_get_max_lsn()"
CDC_ENABLED_SQL = "SELECT is_cdc_enabled FROM sys.databases WHERE database_id = DB_ID()"
OPERATIONS = {1: "delete", 2: "upsert", 4: "upsert"}  # 3, the row before an update: not read


def lsn_text(value: bytes) -> str:
    return "0x" + bytes(value).hex().upper()


def is_lsn(position: str) -> bool:
    return bool(LSN_TEXT.fullmatch(position))


class Instance(NamedTuple):
    """A table's newest capture instance: its name, the lowest LSN it still holds, and the
    columns it captures."""

    name: str
    min_lsn: bytes
    columns: tuple[str, ...]


class MssqlCdc:
    """CDC reading, mixed into MssqlCapture (which decides when it is used)."""

    def cdc_instances_sql(self, tables: Sequence[Table]) -> str:
        """Per table (by index): its capture instances, newest first, with their columns."""
        return (
            "SELECT v.n, t.capture_instance, sys.fn_cdc_get_min_lsn(t.capture_instance), "
            "c.column_name FROM " + self._names_values(tables) + " "
            "JOIN cdc.change_tables AS t ON t.source_object_id = OBJECT_ID(v.name, N'U') "
            "JOIN cdc.captured_columns AS c ON c.object_id = t.object_id "
            "ORDER BY v.n, t.create_date DESC, t.capture_instance, c.column_ordinal"
        )

    def cdc_changes_sql(self, table: Table, instance: Instance, lo: str, hi: str) -> str:
        """One table's changes from LSN `lo` to `hi` (both included, as literals), in commit
        order; the columns it captures in the table's order, read as a copy reads them."""
        function = self.qualified(f"fn_cdc_get_all_changes_{instance.name}", "cdc")
        cols = [c for c in table.columns if c.name in instance.columns]
        exprs = ["[__$start_lsn]", "[__$seqval]", "[__$operation]"]
        exprs += [f"{self.select_expr(c)} AS {self.quote(c.name)}" for c in cols]
        return (
            f"SELECT {', '.join(exprs)} FROM {function}({lsn_literal(lo)}, {lsn_literal(hi)}, "
            "N'all') AS [c] WHERE [__$operation] IN (1, 2, 4) "
            "ORDER BY [__$start_lsn], [__$seqval], [__$operation]"
        )

    def cdc_increment_sql(self, lsn: str) -> str:
        return f"SELECT sys.fn_cdc_increment_lsn({lsn_literal(lsn)})"

    # --- reading ------------------------------------------------------------------------------
    def cdc_instances(self, cur: Any, tables: Sequence[Table]) -> list[Instance | None]:
        """The newest capture instance of each table (None: CDC does not capture it)."""
        found: dict[int, tuple[str, bytes, list[str]]] = {}
        for start in range(0, len(tables), 500):
            cur.execute(self.cdc_instances_sql(tables[start : start + 500]))
            for n, name, min_lsn, column in cur.fetchall():  # a few rows per table
                entry = found.setdefault(start + int(n), (name, min_lsn, []))
                if entry[0] == name:
                    entry[2].append(column)
        return [
            Instance(e[0], bytes(e[1] or b""), tuple(e[2])) if (e := found.get(i)) else None
            for i in range(len(tables))
        ]

    def cdc_problems(self, tables: Sequence[Table], instances: Sequence[Instance]) -> list[str]:
        problems = []
        for t, inst in zip(tables, instances):
            missing = [k for k in t.primary_key if k not in inst.columns]
            if not t.primary_key:
                problems.append(f"table {self._source_name(t)} has no primary key")
            elif missing:
                problems.append(
                    f"CDC capture instance {inst.name} of {self._source_name(t)} does not "
                    f"capture its key column(s) {', '.join(map(self.quote, missing))}"
                )
        return problems

    def cdc_max_lsn(self, cur: Any) -> str:
        cur.execute(MAX_LSN_SQL)
        value = cur.fetchone()[0]
        if value is None or not any(bytes(value)):
            raise ConfigError(
                "CDC has captured nothing in this database yet: is SQL Server Agent running "
                "its capture job?"
            )
        return lsn_text(value)

    def cdc_changes(
        self, url: DbUrl, tables: Sequence[Table], after: str, limit: int
    ) -> Iterator[Change | Commit]:
        conn = self.connect(url)
        try:
            cur = conn.cursor()
            cur.execute(CDC_ENABLED_SQL)
            if not cur.fetchone()[0]:
                raise ConfigError(
                    "CDC was switched off in this database since the copy: copy again"
                )
            instances = self.cdc_instances(cur, tables)
            hi = self.cdc_max_lsn(cur)
            cur.execute(self.cdc_increment_sql(after))
            lo = lsn_text(cur.fetchone()[0])
            conn.rollback()
        finally:
            conn.close()
        if hi <= after:  # the end of the log (same-length upper-case hex: text order is LSN's)
            return
        for t, inst in zip(tables, instances):
            if inst is None:
                raise ConfigError(
                    f"table {self._source_name(t)} is no longer captured by CDC: copy it again"
                )
            if lsn_text(inst.min_lsn) > lo:
                raise ConfigError(
                    f"table {self._source_name(t)}: changes before LSN {lsn_text(inst.min_lsn)}"
                    f" were cleaned up (the replica is at {after}): copy the table again"
                )
        with ExitStack() as stack:
            streams = []
            for t, inst in zip(tables, instances):
                streams.append(self._cdc_stream(stack, url, t, inst, lo, hi))
            yield from self._cdc_merge(heapq.merge(*streams, key=_order), limit, hi)

    def _cdc_stream(self, stack: ExitStack, url: DbUrl, table: Table, inst, lo, hi):
        """One table's changes as (start_lsn, seqval, Change), on a connection of its own:
        pymssql reads one result set at a time per connection, and the merge reads all."""
        conn = self.connect(url)
        stack.callback(conn.close)
        self.stream_timeouts(conn, url.timeouts)
        cur = conn.cursor()
        cur.execute(self.cdc_changes_sql(table, inst, lo, hi))
        names = [c.name for c in table.columns if c.name in inst.columns]
        at = [names.index(k) + 3 for k in table.primary_key]
        return _rows(cur, table, names, at)

    def _cdc_merge(self, merged, limit: int, hi: str) -> Iterator[Change | Commit]:
        """Changes in commit order, a Commit after each transaction; stops at the first
        commit after `limit` changes, else ends with a Commit at `hi`."""
        current = None
        for count, (start_lsn, _seqval, change) in enumerate(merged):
            if current is not None and start_lsn != current:
                yield Commit(position=lsn_text(current))
                if count >= limit:  # `count` changes are out, all of whole transactions
                    return
            current = start_lsn
            yield change
        if current is not None:
            yield Commit(position=lsn_text(current))
        if current is None or lsn_text(current) < hi:
            yield Commit(position=hi)  # nothing more up to `hi`: resume after it


def _order(item: tuple) -> tuple[bytes, bytes]:
    return item[0], item[1]


def _rows(cur: Any, table: Table, names: list[str], at: list[int]) -> Iterator[tuple]:
    for row in cur:  # streamed from the TDS stream, one row at a time
        key = tuple(row[i] for i in at)
        op = OPERATIONS[row[2]]
        values = dict(zip(names, row[3:])) if op == "upsert" else {}
        yield bytes(row[0]), bytes(row[1]), Change(table.key, op, key, values)


def lsn_literal(lsn: str) -> str:
    """An LSN as a binary literal; only text of the LSN form gets into SQL."""
    if not is_lsn(lsn):
        raise ConfigError(f"{lsn!r} is not a SQL Server LSN")
    return lsn
