"""SQL Server change capture through Change Tracking (docs/cdc-sqlserver.md).

Change Tracking keeps, per tracked table, a side table of the keys changed and the version
(a database-wide counter, one step per committing transaction) of each key's last change.
`CHANGETABLE(CHANGES t, v)` lists every key changed after version `v` once, with its net
effect: it is not a log of transactions. A batch is therefore the whole interval from the
replica's position to the version read when the batch starts, as one Commit: the values are
the rows as they are at that batch's snapshot, read in the same SNAPSHOT transaction as the
changed keys, so the replica lands on one instant of the source.

Position: CHANGE_TRACKING_CURRENT_VERSION() as decimal text. The source keeps nothing per
capture (tracking is the database's, switched on by its owner): `capture_confirm` and
`capture_stop` have nothing to free; the history is bounded by the retention the owner set
(CHANGE_RETENTION), and a replica that falls further behind is told to copy again.

Where the database owner switched SQL Server CDC on for every captured table (a capture
instance in cdc.change_tables), the capture reads CDC instead (`mssql_cdc`): per transaction,
in commit order, positions as LSNs. Otherwise Change Tracking is read.

No SQL Server runs in CI: every statement here is compiled by tests/unit/test_mssql_capture.py
with sqlglot's T-SQL parser; tests/capture/test_mssql_change_tracking.py runs it live only
when SLUICE_TEST_MSSQL_URL is set.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import suppress
from typing import Any, NamedTuple

from sluice.core.changes import CaptureStatus, Change, Commit
from sluice.core.errors import ConfigError
from sluice.core.schema import Table
from sluice.core.urls import DbUrl
from sluice.dialects.capture import ChangeCapture
from sluice.dialects.mssql_cdc import MssqlCdc, is_lsn

# One row: what the database allows, where its history stands, and the session's user (for
# the GRANT a message may suggest). `c` is absent when the database does not track changes.
TRACKING_STATE_SQL = (
    "SELECT DB_NAME(), USER_NAME(), d.snapshot_isolation_state, d.is_cdc_enabled, "
    "CHANGE_TRACKING_CURRENT_VERSION(), "
    "CASE WHEN c.database_id IS NULL THEN 0 ELSE 1 END, "
    "c.retention_period, c.retention_period_units_desc, c.is_auto_cleanup_on, "
    "(SELECT COUNT(*) FROM sys.change_tracking_tables), "
    "(SELECT MAX(CHANGE_TRACKING_MIN_VALID_VERSION(t.object_id)) "
    "FROM sys.change_tracking_tables AS t) "
    "FROM sys.databases AS d "
    "LEFT JOIN sys.change_tracking_databases AS c ON c.database_id = d.database_id "
    "WHERE d.database_id = DB_ID()"
)
SNAPSHOT_SQL = "SET TRANSACTION ISOLATION LEVEL SNAPSHOT"
TABLES_PER_QUERY = 500  # names in one VALUES list of a metadata query


class TrackingState(NamedTuple):
    database: str
    user: str
    snapshot_state: int  # sys.databases.snapshot_isolation_state: 1 is ON
    cdc: bool  # CDC is switched on for the database (sys.sp_cdc_enable_db)
    current: int | None  # NULL while the database does not track changes
    tracking: bool
    retention: int | None
    retention_units: str | None
    auto_cleanup: bool | None
    tracked_tables: int
    oldest_valid: int | None  # positions before it cannot be resumed on every tracked table

    @property
    def snapshot_allowed(self) -> bool:
        return self.snapshot_state == 1


class MssqlCapture(MssqlCdc, ChangeCapture):
    """Change Tracking (or CDC) behind the ChangeCapture methods; mixed into MssqlDialect."""

    # --- statements (compiled by the unit tests) ----------------------------------------------
    def _source_name(self, table: Table) -> str:
        return self.qualified(table.name, table.schema or self.caps.default_schema)

    def _names_values(self, tables: Sequence[Table]) -> str:
        rows = ", ".join(
            f"({i}, {self.literal(self._source_name(t))})" for i, t in enumerate(tables)
        )
        return f"(VALUES {rows}) AS v(n, name)"

    def table_checks_sql(self, tables: Sequence[Table]) -> str:
        """Per table (by its index in `tables`): whether it exists, is tracked, and whether
        this session may SELECT it and VIEW CHANGE TRACKING on it."""
        return (
            "SELECT v.n, CASE WHEN OBJECT_ID(v.name, N'U') IS NULL THEN 0 ELSE 1 END, "
            "CASE WHEN EXISTS (SELECT 1 FROM sys.change_tracking_tables AS t "
            "WHERE t.object_id = OBJECT_ID(v.name, N'U')) THEN 1 ELSE 0 END, "
            "HAS_PERMS_BY_NAME(v.name, N'OBJECT', N'SELECT'), "
            "HAS_PERMS_BY_NAME(v.name, N'OBJECT', N'VIEW CHANGE TRACKING') "
            f"FROM {self._names_values(tables)} ORDER BY v.n"
        )

    def min_valid_sql(self, tables: Sequence[Table]) -> str:
        """Per table: the oldest version its changes can still be read after (NULL when the
        table is not tracked or not visible to this session)."""
        return (
            "SELECT v.n, CHANGE_TRACKING_MIN_VALID_VERSION(OBJECT_ID(v.name, N'U')) "
            f"FROM {self._names_values(tables)} ORDER BY v.n"
        )

    def changetable_sql(self, table: Table, after: int) -> str:
        """The CHANGETABLE(CHANGES ...) source of `changes_sql` (its version is a literal:
        the function takes no expression)."""
        return f"CHANGETABLE(CHANGES {self._source_name(table)}, {int(after)}) AS [ct]"

    def changes_sql(self, table: Table, after: int) -> str:
        """Every key changed after version `after`: the key from the change table, a flag
        telling whether the row is in the table now (and within `--where`), and the row's
        columns read by the very query `read_range` uses (xml as nvarchar(max)), so that a
        value from the log equals the value a copy reads. Unordered: the keys are distinct."""
        rows, params = self.select_range_sql(table, None, None, ordered=False)
        assert not params  # no key range: the only filter is `--where`, in the source's SQL
        key = table.primary_key
        on = " AND ".join(f"[s].{self.quote(k)} = [ct].{self.quote(k)}" for k in key)
        present = f"CASE WHEN [s].{self.quote(key[0])} IS NULL THEN 0 ELSE 1 END"
        cols = [f"[ct].{self.quote(k)}" for k in key] + [present]
        cols += [f"[s].{self.quote(c.name)}" for c in table.columns]
        return (
            f"SELECT {', '.join(cols)} FROM {self.changetable_sql(table, after)} "
            f"LEFT JOIN ({rows}) AS [s] ON {on}"
        )

    def enable_tracking_sql(self, database: str) -> str:
        return (
            f"ALTER DATABASE {self.quote(database)} SET CHANGE_TRACKING = ON "
            "(CHANGE_RETENTION = 2 DAYS, AUTO_CLEANUP = ON)"
        )

    def allow_snapshot_sql(self, database: str) -> str:
        return f"ALTER DATABASE {self.quote(database)} SET ALLOW_SNAPSHOT_ISOLATION ON"

    def track_table_sql(self, table: Table) -> str:
        return f"ALTER TABLE {self._source_name(table)} ENABLE CHANGE_TRACKING"

    def grant_sql(self, table: Table, user: str) -> str:
        on = self._source_name(table)
        return f"GRANT SELECT, VIEW CHANGE TRACKING ON {on} TO {self.quote(user)}"

    # --- reading the server's state -----------------------------------------------------------
    def _tracking_state(self, cur: Any) -> TrackingState:
        cur.execute(TRACKING_STATE_SQL)
        db, user, snap, cdc, current, on, ret, units, cleanup, count, oldest = cur.fetchone()
        return TrackingState(
            db, user, int(snap or 0), bool(cdc), None if current is None else int(current),
            bool(on), ret, units, None if cleanup is None else bool(cleanup), int(count or 0),
            None if oldest is None else int(oldest),
        )  # fmt: skip

    def _per_table(self, cur: Any, sql_of, tables: Sequence[Table]) -> list[tuple]:
        """Rows of a per-table metadata query, in `tables` order, a VALUES list at a time."""
        out: list[tuple] = []
        for start in range(0, len(tables), TABLES_PER_QUERY):
            part = tables[start : start + TABLES_PER_QUERY]
            cur.execute(sql_of(part))
            out += [tuple(r)[1:] for r in cur.fetchall()]  # one small row per table
        return out

    # --- ChangeCapture ------------------------------------------------------------------------
    def capture_start(self, url: DbUrl, name: str, tables: Sequence[Table]) -> str:
        """CDC where the database captures every table with it (the position is then the
        highest LSN captured); otherwise check that the source tracks every table and
        allows SNAPSHOT reads, and return the current Change Tracking version. Every
        problem is named at once, with the statements to run.

        sluice does not switch Change Tracking on by itself: it needs ALTER permission on the
        database and its tables (sluice reads a source with SELECT and VIEW CHANGE TRACKING
        only), it makes every write to a tracked table also write its side table, and its
        retention and cleanup are settings for the whole database that other applications
        may rely on. Those are the database owner's decisions."""
        conn = self.connect(url)
        try:
            cur = conn.cursor()
            state = self._tracking_state(cur)
            instances = self.cdc_instances(cur, tables) if state.cdc and tables else []
            if instances and all(instances):
                problems = self.cdc_problems(tables, instances)
                if problems:
                    raise ConfigError("; ".join(problems))
                return self.cdc_max_lsn(cur)
            keyed = [t for t in tables if t.primary_key]
            checks = self._per_table(cur, self.table_checks_sql, keyed) if keyed else []
            conn.rollback()
        finally:
            conn.close()
        problems = self.start_problems(state, tables, checks)
        if problems:
            raise ConfigError("; ".join(problems))
        return str(state.current or 0)  # 0: tracking switched on, nothing committed since

    def start_problems(
        self, state: TrackingState, tables: Sequence[Table], checks: Sequence[tuple]
    ) -> list[str]:
        """What keeps `tables` from being captured, each with what to run (empty: nothing).
        `checks` are `table_checks_sql`'s rows for the keyed tables, in order."""
        problems = []
        if not state.tracking:
            problems.append(
                f"database {self.quote(state.database)} does not track changes: run "
                f"{self.enable_tracking_sql(state.database)} (as its owner)"
            )
        if not state.snapshot_allowed:
            problems.append(
                f"database {self.quote(state.database)} does not allow SNAPSHOT isolation, "
                "which reading a version and its rows consistently needs: run "
                f"{self.allow_snapshot_sql(state.database)}"
            )
        keyed = [t for t in tables if t.primary_key]
        for t in tables:
            if not t.primary_key:
                problems.append(
                    f"table {self._source_name(t)} has no primary key: Change Tracking "
                    "tracks only tables with one"
                )
        untracked, ungranted = [], []
        for t, (exists, tracked, can_select, can_view) in zip(keyed, checks):
            if not exists:
                problems.append(f"table {self._source_name(t)} does not exist")
                continue
            if not tracked:
                untracked.append(t)
            if 0 in (can_select, can_view):  # NULL: the server could not tell; not refused
                ungranted.append(t)
        if untracked:
            statements = "; ".join(self.track_table_sql(t) for t in untracked)
            names = ", ".join(self._source_name(t) for t in untracked)
            problems.append(f"Change Tracking is off for {names}: run {statements}")
        if ungranted:
            statements = "; ".join(self.grant_sql(t, state.user) for t in ungranted)
            names = ", ".join(self._source_name(t) for t in ungranted)
            problems.append(
                f"{self.quote(state.user)} may not read the changes of {names}: run {statements}"
            )
        return problems

    def capture_changes(
        self, url: DbUrl, name: str, tables: Sequence[Table], after: str, limit: int
    ) -> Iterator[Change | Commit]:
        """The net change of every key changed after version `after`, then one Commit at the
        version V read first; nothing at all when V is `after` (the end of the log).

        Change Tracking keeps the last change per key, not each transaction: the batch is
        the whole interval, and `limit` cannot cut it (the rows of half the keys at one
        instant and the rest at another would not be any state of the source). Memory stays
        bounded all the same: the rows are streamed from the server one at a time.

        V is read before the SNAPSHOT transaction that reads the changes starts, so every
        change up to V is visible to it; a change committed in between is read too (the
        rows are the snapshot's) and read again by the next batch, which is harmless for net
        changes: a key is upserted with its state at the snapshot, or deleted when its row
        is gone (or outside `--where`), whatever operation the change table names.

        A position that is an LSN was started on CDC and is read there (`mssql_cdc`)."""
        if is_lsn(after):
            yield from self.cdc_changes(url, tables, after, limit)
            return
        after_v = self.position_order(after)[0]
        conn = self.connect(url)
        try:
            self.stream_timeouts(conn, url.timeouts)
            cur = conn.cursor()
            state = self._tracking_state(cur)
            if not state.tracking or state.current is None:
                raise ConfigError(
                    f"database {self.quote(state.database)} no longer tracks changes: switch "
                    f"Change Tracking on ({self.enable_tracking_sql(state.database)}) and "
                    "copy again"
                )
            if not state.snapshot_allowed:
                raise ConfigError(
                    f"database {self.quote(state.database)} no longer allows SNAPSHOT "
                    f"isolation: run {self.allow_snapshot_sql(state.database)}"
                )
            if state.current < after_v:
                raise ConfigError(
                    f"database {self.quote(state.database)} is at Change Tracking version "
                    f"{state.current}, before the replica's {after_v} (was it restored or "
                    "tracking switched off and on?): copy again"
                )
            cur.execute(SNAPSHOT_SQL)
            conn.rollback()  # the reading transaction starts now, under SNAPSHOT, after V
            self._check_valid(cur, tables, after_v)
            if state.current == after_v:
                return  # the end of the log: nothing committed since
            for table in tables:
                yield from self._table_changes(cur, table, after_v)
            conn.rollback()
            yield Commit(position=str(state.current))
        finally:
            conn.close()

    def _check_valid(self, cur: Any, tables: Sequence[Table], after: int) -> None:
        """Inside the reading transaction, as Microsoft advises: cleanup may run at any time."""
        for t, (oldest,) in zip(tables, self._per_table(cur, self.min_valid_sql, tables)):
            if oldest is None:
                raise ConfigError(
                    f"table {self._source_name(t)} is not tracked (or this login may not see "
                    f"its changes): run {self.track_table_sql(t)} and copy the table again"
                )
            if int(oldest) > after:
                raise ConfigError(
                    f"table {self._source_name(t)}: changes before version {int(oldest)} "
                    f"were cleaned up (the replica is at {after}): copy the table again"
                )

    def _table_changes(self, cur: Any, table: Table, after: int) -> Iterator[Change]:
        width = len(table.primary_key)
        names = table.column_names
        cur.execute(self.changes_sql(table, after))
        for row in cur:  # pymssql reads each row from the TDS stream as it is asked for
            key = tuple(row[:width])
            if row[width]:
                yield Change(table.key, "upsert", key, dict(zip(names, row[width + 1 :])))
            else:
                yield Change(table.key, "delete", key)

    def capture_confirm(self, url: DbUrl, name: str, position: str) -> None:
        """Nothing to free: Change Tracking's cleanup follows the database's retention."""
        self.position_order(position)

    def capture_status(self, url: DbUrl, name: str, position: str | None = None) -> CaptureStatus:
        """Whether the database still tracks changes, its current version and the oldest
        version every tracked table can still be read after; where only CDC is on, the
        highest LSN it captured. The lag is counted in transactions: the current version
        minus the replica's position. (The status is asked without the capture's tables or
        position: where both are on, `current` is Change Tracking's and the detail gives
        CDC's LSN.)"""
        conn = self.connect(url)
        try:
            cur = conn.cursor()
            state = self._tracking_state(cur)
            lsn = None
            if state.cdc:
                with suppress(ConfigError):  # nothing captured yet
                    lsn = self.cdc_max_lsn(cur)
            conn.rollback()
        finally:
            conn.close()
        cdc = f"CDC has captured up to LSN {lsn}" if lsn else ""
        if position is not None and is_lsn(position):  # a CDC capture: LSNs are its positions
            return CaptureStatus(exists=bool(state.cdc), current=lsn, confirmed=position,
                                 detail=cdc or "CDC is off")  # fmt: skip
        if not state.tracking:
            if state.cdc:
                return CaptureStatus(exists=True, current=lsn, detail=cdc or "CDC is on")
            return CaptureStatus(
                exists=False, detail=f"Change Tracking is off in {self.quote(state.database)}"
            )
        detail = [f"{state.tracked_tables} tracked tables"]
        if state.retention is not None:
            units = (state.retention_units or "").lower()
            cleanup = "auto cleanup" if state.auto_cleanup else "no auto cleanup"
            detail.append(f"retention {state.retention} {units}, {cleanup}")
        if state.oldest_valid is not None:
            detail.append(f"positions before {state.oldest_valid} can no longer be resumed")
        detail.append("lag in transactions: current version minus the replica's position")
        detail += [cdc] if cdc else []
        purged = (position is not None and state.oldest_valid is not None
                  and int(position) < state.oldest_valid)  # fmt: skip
        if purged:
            detail.insert(0, f"the replica's position {position} was cleaned up: copy again")
        return CaptureStatus(
            exists=state.tracked_tables > 0 and not purged,
            current=None if state.current is None else str(state.current),
            confirmed=position,
            detail="; ".join(detail),
        )

    def capture_stop(self, url: DbUrl, name: str) -> bool:
        """Nothing is held per capture: False. Change Tracking (and CDC) are the database
        owner's switches, and other applications may read them; to switch Change Tracking
        off by hand, per table then for the database (which refuses while a table is still
        tracked): ALTER TABLE [dbo].[t] DISABLE CHANGE_TRACKING;
        ALTER DATABASE [db] SET CHANGE_TRACKING = OFF. CDC: EXEC sys.sp_cdc_disable_table
        per table, then EXEC sys.sp_cdc_disable_db."""
        return False

    def position_order(self, position: str) -> tuple:
        """(number,): a Change Tracking version (decimal) or a CDC LSN (0x and 20 hex
        digits), each compared as a number; one capture only ever holds one of the kinds."""
        if isinstance(position, str) and is_lsn(position):
            return (int(position, 16),)
        if not isinstance(position, str) or not re.fullmatch(r"[0-9]+", position):
            raise ConfigError(
                f"{position!r} is not a SQL Server Change Tracking version nor a CDC LSN"
            )
        return (int(position),)
