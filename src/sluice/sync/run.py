"""`sync_database`: keep a replica fresh by moving only what changed since the last run.

For each table, in foreign-key order: reconcile schema drift, read the rows above the table's
watermark (sluice.sync.watermarks) through the copy's own chunk path into a sync staging table
(bulk load, bounded memory, retried like any chunk), then in one transaction drop the staged
rows the target already holds unchanged, upsert the rest with one set-based statement, and
write the new watermark to `sluice_state`. Then, children first, rows deleted in the source
are found by comparing key ranges (sluice.sync.deletes) and deleted in one transaction with their
count. A crash at any point leaves data and state agreeing: the next run redoes the batch.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sluice.copy import DEFAULT_MEMORY_CAP, check_lossy, check_zero_dates
from sluice.copy.buffer import ByteBudget
from sluice.copy.definition import needs_icu, settle, without_icu
from sluice.copy.filters import check_conditions
from sluice.copy.finish import align_identities
from sluice.copy.masks import require_key
from sluice.copy.memory import deferred_collections
from sluice.copy.plan import (
    Chunk,
    Plan,
    TablePlan,
    plan_tables,
    require_tables,
    spatial_for,
)
from sluice.copy.reflect import reflect_tables
from sluice.copy.refusals import Selection, Skipped
from sluice.copy.staging import live_table, sync_staging_table
from sluice.copy.stalls import watched, watched_statements
from sluice.copy.transfer import TransferOptions, copy_chunk
from sluice.core import metrics
from sluice.core.errors import ConfigError, SluiceError
from sluice.core.faults import fault_error
from sluice.core.hostile import NulPolicy
from sluice.core.liveness import DEFAULT_RETRY_DEADLINE, Timeouts
from sluice.core.schema import Table
from sluice.core.urls import DbUrl, redact_all
from sluice.dialects import get_dialect
from sluice.dialects.base import Dialect
from sluice.dialects.raw_paths import raw_import_possible
from sluice.state import store as sync_state
from sluice.sync import watermarks
from sluice.sync.deletes import delete_gone
from sluice.sync.drift import Drift, reconcile, record, recorded
from sluice.sync.watermarks import Watermark

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncOptions:
    tables: Sequence[str] | None = None
    watermarks: Mapping[str, Watermark] | None = None  # over the dataset's defaults
    deletes: bool = True
    memory_cap: int = DEFAULT_MEMORY_CAP
    batch_rows: int = 5_000
    retries: int | None = None  # as CopyOptions: a cap; None, the deadline alone
    retry_deadline: float = DEFAULT_RETRY_DEADLINE
    timeouts: Timeouts | None = None  # as CopyOptions.timeouts (core/liveness)
    allow_lossy: bool = False
    nul: str = "error"  # as CopyOptions.nul (ADR 0011)
    nul_replacement: str = "\ufffd"
    allow_empty: bool = False  # a source without tables syncs nothing instead of failing
    zero_dates: str = "error"  # as CopyOptions.zero_dates
    exclude: Sequence[str] = ()  # as CopyOptions: the same tables left out, the same way
    skip_refused: bool = False
    carry_as_text: bool = False
    # schemas read (names or patterns; none: every schema), left out, and renamed on the
    # target (source -> target); tables above are qualified keys or patterns (copy.scope)
    schemas: Sequence[str] = ()
    exclude_schemas: Sequence[str] = ()
    schema_map: Sequence[tuple[str, str]] = ()
    enums: str = "varchar"  # as CopyOptions.enums
    collations: str = "source"  # as CopyOptions.collations
    identifiers: str = "preserve"  # as CopyOptions.identifiers: the copy's must be given
    # row filters and column choices (copy.filters, docs/selection.md): (table, condition in
    # the source's SQL), "table.column" left out, ("table.column", "hash|null|fixed:VALUE")
    where: Sequence[tuple[str, str]] = ()
    exclude_columns: Sequence[str] = ()
    mask: Sequence[tuple[str, str]] = ()

    @property
    def selection(self) -> Selection:
        return Selection.of(self)

    def validate(self) -> None:
        problems = NulPolicy(self.nul, self.nul_replacement, self.zero_dates).validate()
        problems += Timeouts.options_problems(self.timeouts, self.retry_deadline)
        if self.memory_cap < 1024 * 1024:
            problems.append(f"memory cap must be at least 1MiB, got {self.memory_cap} bytes")
        if self.batch_rows < 1:
            problems.append(f"batch rows must be >= 1, got {self.batch_rows}")
        if problems:
            raise ConfigError("; ".join(problems))


@dataclass
class TableSync:
    table: str
    watermark: str  # how changes are found, e.g. "column(LastActivityDate)"
    read: int = 0  # rows read from the source (the changed ones and the overlap)
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    before: Any = None  # the watermark before and after the run
    after: Any = None
    drift: Drift = field(default_factory=Drift)
    seconds: float = 0.0

    @property
    def moved(self) -> int:
        return self.inserted + self.updated + self.deleted


@dataclass
class SyncResult:
    tables: list[TableSync]
    seconds: float
    skipped: tuple[Skipped, ...] = ()  # tables left out, with their reasons
    plan: Plan | None = field(default=None, repr=False)  # columns and types, for lineage

    def table(self, name: str) -> TableSync:
        return next(t for t in self.tables if t.table == name)

    @property
    def moved(self) -> int:
        return sum(t.moved for t in self.tables)


@deferred_collections()
def sync_database(source: DbUrl, target: DbUrl, options: SyncOptions = SyncOptions()) -> SyncResult:
    """Apply the source's inserts, updates and deletes since the last sync to the replica."""
    options.validate()
    source, target = source.with_timeouts(options.timeouts), target.with_timeouts(options.timeouts)
    check_zero_dates(source, target, options.zero_dates)
    started = time.monotonic()
    plan, marks = plan_sync(source, target, options)
    dst = get_dialect(target.engine)
    live = live_tables(target, plan.tables)  # first: a target without the replica is left untouched
    conn = dst.connect(target)
    try:
        sync_state.ensure(dst, conn)
    finally:
        conn.close()
    results: dict[str, TableSync] = {}
    try:
        for tp in plan.tables:
            results[tp.name] = _upsert(tp, marks[tp.name], live[tp.name], source, target,
                                       options)  # fmt: skip
    except SluiceError as exc:
        state = _sync_state_after(list(results), len(plan.tables))
        raise exc.with_facts(target_state=state) from None
    if options.deletes:
        for tp in reversed(plan.tables):  # children first: a declared key never blocks
            if tp.key:
                try:
                    results[tp.name].deleted = _delete(tp, source, target)
                except SluiceError as exc:
                    state = (f"every table's changes applied; the deletes of {tp.name} not "
                             "applied (the next sync finds them)")  # fmt: skip
                    raise exc.with_facts(target_state=state) from None
    for tp in plan.tables:  # every table's changes (and deletes) applied: fresh as of now
        metrics.succeeded(metrics.table_labels(source, target, tp.target))
    seconds = time.monotonic() - started
    return SyncResult([results[tp.name] for tp in plan.tables], seconds, plan.skipped, plan)


def plan_sync(
    source: DbUrl, target: DbUrl, options: SyncOptions
) -> tuple[Plan, dict[str, Watermark]]:
    """The copy plan of the synced tables (one chunk each) and each table's watermark; every
    watermark problem is reported at once, before any data moves."""
    selection = options.selection
    refused: list = []
    skipped: list[Skipped] = []
    reflected = reflect_tables(source, options.tables, (), refused, selection, skipped)
    if not refused:
        require_tables(reflected, source, options.allow_empty)
    names = {t.key for t in reflected}
    from sluice.datasets.stackoverflow import TABLE_NAMES

    defaults = watermarks.STACKOVERFLOW if names <= set(TABLE_NAMES) else {}
    configured = {**defaults, **(options.watermarks or {})}
    unknown = sorted(set(options.watermarks or {}) - names)
    problems = [f"watermark for unknown table {n!r}" for n in unknown if options.tables is None]
    marks = {}
    for t in reflected:
        marks[t.key] = watermarks.watermark_for(t, configured)
        problems += watermarks.check(t, marks[t.key])
    if problems:
        raise ConfigError("; ".join(problems))
    stats = {t.key: (None, None, 0) for t in reflected}  # one chunk per table: no statistics
    defaults = (get_dialect(source.engine).url_schema(source),
                get_dialect(target.engine).url_schema(target))  # fmt: skip
    plan = plan_tables(reflected, stats, source.engine, target.engine, str(source), str(target),
                       raw_import=raw_import_possible(source, target), selection=selection,
                       refused=refused, spatial=spatial_for(reflected, target),
                       skipped=skipped, defaults=defaults)  # fmt: skip
    plan = settle(plan, selection.collations)  # as the copy settled it (--collations)
    if needs_icu(plan):  # as the copy made the replica: no ICU collation on an ICU-less target
        plan = without_icu(plan, get_dialect(target.engine).icu_ready(target))
    check_lossy(plan, options.allow_lossy)
    check_columns(plan, marks, options.deletes)
    check_conditions(source, [tp.table for tp in plan.tables])
    return plan, marks


def check_columns(plan: Plan, marks: dict[str, Watermark], deletes: bool) -> None:
    """A watermark column left out or masked cannot be compared with the source's, nor a
    masked key found there by the delete pass: each stops the sync by name, up front."""
    problems = []
    for tp in plan.tables:
        column, masked = marks[tp.name].column, dict(tp.masks)
        if column and column not in tp.table.column_names:
            problems.append(f"{tp.name}: the watermark column {column!r} is left out "
                            "(--exclude-columns)")  # fmt: skip
        elif column in masked:
            problems.append(f"{tp.name}: the watermark column {column!r} is masked: its values "
                            "on the target are not the source's")  # fmt: skip
        if deletes and set(tp.key) & set(masked):
            problems.append(f"{tp.name}: its key is masked: the delete pass cannot find masked "
                            "keys in the source (--no-deletes syncs it without deletes)",
                            )  # fmt: skip
    if problems:
        raise ConfigError("; ".join(problems))
    require_key([m for tp in plan.tables for m in tp.masks])


def _failed(what: str, exc: Exception, *dialects: Dialect, table: str | None = None,
            target: DbUrl | None = None, side: str = "target") -> SluiceError:  # fmt: skip
    """A driver error as callers must treat it: transient when an engine says so (a killed
    session, a deadlock: the table's transaction was rolled back, so a rerun is safe and an
    Airflow task retries), else terminal; the message scrubbed of secrets. Its fault is the
    target's reading (the statements here run on the target; source reads go through
    copy_chunk, which names its side itself)."""
    found = [d.classify_fault(exc) for d in dialects]
    fault = next((x for x in found if x.retryable), found[-1])
    detail = redact_all(" ".join(str(exc).split()))
    return fault_error(fault, f"{what}: {detail}", side=side if target else None,
                       url=target, table=table)  # fmt: skip


def _sync_state_after(synced: list[str], total: int) -> str:
    """The target after a sync failed at table number len(synced) + 1."""
    done = f"{len(synced)} table(s) synced ({', '.join(synced)})" if synced else "no table synced"
    return (f"{done}; the failing table unchanged (its changes rolled back), "
            f"{total - len(synced) - 1} not reached")  # fmt: skip


def live_tables(target: DbUrl, tables: Sequence[TablePlan]) -> dict[str, Table]:
    """The replica's tables as the target holds them, by the plan's (source) keys."""
    dst = get_dialect(target.engine)
    names = [glob.escape(tp.target_key) for tp in tables]
    schemas = {tp.target_schema for tp in tables if tp.target_schema}
    default = dst.url_schema(target)
    only = Selection(schemas=tuple(glob.escape(s) for s in [default, *schemas] if s))
    try:
        found = reflect_tables(
            target, names, (), None, only if schemas else Selection(), side="target"
        )
    except ConfigError as exc:
        raise ConfigError(f"{exc}; sync keeps a replica fresh: run sluice copy first") from None
    by_key = {t.key: t for t in found}
    return {tp.name: by_key[tp.target_key] for tp in tables}


def _upsert(tp: TablePlan, mark: Watermark, live_found: Table, source: DbUrl, target: DbUrl,
            options: SyncOptions) -> TableSync:  # fmt: skip
    started = time.monotonic()
    src, dst = get_dialect(source.engine), get_dialect(target.engine)
    live = live_table(dst, tp.target)
    stage = sync_staging_table(dst, tp.target)
    result = TableSync(tp.name, mark.describe())
    conn = dst.connect(target)
    try:
        with watched(dst, target, conn, "target", tp.name, tp.name):
            state = sync_state.read(dst, conn, tp.name)
            conn.rollback()
            result.drift = reconcile(
                dst, conn, live, live_found, recorded(state and state.source_columns)
            )
            last = _last(dst, conn, live, mark, state, tp.target_column(mark.column or ""))
        if result.drift.added:
            last = None  # new columns: every row is read once to fill them
        result.before = last
        try:
            lo, hi, after = _bounds(src, source, tp.table, mark, last)
        except SluiceError:
            raise
        except Exception as exc:  # the source's watermark query
            raise _failed(f"{tp.name}: reading the source's watermark", exc, src, table=tp.name,
                          target=source, side="source") from None  # fmt: skip
        result.after = after
        with watched(dst, target, conn, "target", tp.name, tp.name):
            _prepare_stage(dst, conn, stage)
        read_key = (mark.column,) if mark.kind != "full" else ()
        landed_key = tuple(tp.target_column(c) for c in read_key)  # its name on the target
        chunk = Chunk(tp.name, 0, lo, hi)
        transfer, channels = TransferOptions.for_budget(
            options.memory_cap, 1, not tp.passthrough,
            batch_rows=options.batch_rows, retries=options.retries,
            retry_deadline=options.retry_deadline,
            nul=NulPolicy(options.nul, options.nul_replacement, options.zero_dates),
        )  # fmt: skip
        log.debug("%s: reading changes in %s", tp.name, chunk.label)
        copied = copy_chunk(
            replace(tp, table=replace(tp.table, primary_key=read_key)), chunk, source, target,
            ByteBudget(channels, metrics.run_labels(source, target)), transfer,
            into=replace(stage, primary_key=landed_key), fresh=True,
        )  # fmt: skip
        result.read = copied.rows
        log.debug("%s: applying %s rows read", tp.name, f"{copied.rows:,}")
        with watched(dst, target, conn, "target", tp.name, tp.name):  # a stall ends (core/liveness)
            result.inserted, result.updated = _apply(dst, conn, live, stage)
            sync_state.write(dst, conn, _state(tp, mark, after, result, state))
            conn.commit()
            if result.inserted and tp.table.identity:
                align_identities(dst, conn, [tp])
        log.info("%s: read %s, inserted %s, updated %s (%s)", tp.name, f"{result.read:,}",
                 f"{result.inserted:,}", f"{result.updated:,}", mark.describe())  # fmt: skip
    except SluiceError:
        raise
    except Exception as exc:
        raise _failed(f"{tp.name}: sync failed", exc, src, dst, table=tp.name,
                      target=target) from None  # fmt: skip
    finally:
        with contextlib.suppress(Exception):
            conn.rollback()
            conn.cursor().execute(dst.drop_table_sql(stage))
            conn.commit()
        conn.close()
    result.seconds = time.monotonic() - started
    return result


def _last(dst: Dialect, conn, live: Table, mark: Watermark, state, column: str) -> Any:
    """The watermark the last run left, or, on the first run after a copy, the highest value
    the replica holds (the copy moved everything up to it) in `column`, the watermark
    column's name on the target (`--identifiers`)."""
    if mark.kind == "full":
        return None
    if state is not None and (state.kind, state.watermark_column) == (mark.kind, mark.column):
        return watermarks.decode(state.watermark)
    value = _max(dst, conn, live, column)
    conn.rollback()
    return value


def _max(d: Dialect, conn, table: Table, column: str) -> Any:
    """MAX(column) as sluice's canonical value: read as the driver returns it (SQLite keeps
    datetimes as text), then through the dialect's decoder."""
    cur = conn.cursor()
    where, params = d.read_predicate(table, None, None)  # a source table's --where
    cur.execute(d.finalize(f"SELECT MAX({d.quote(column)}) FROM {d.relation_sql(table)}{where}"),
                d.bind(params))  # fmt: skip
    value = cur.fetchone()[0]
    decode = d.decode_converters(table)[table.column_names.index(column)]
    if value is not None and decode is not None:
        value = decode(value)
    return bytes(value) if isinstance(value, (bytearray, memoryview)) else value


def _bounds(src: Dialect, source: DbUrl, table: Table, mark: Watermark, last: Any):
    """(lo, hi] of the read, and the watermark to store: the source's maximum as the run
    starts (rows changed later wait for the next run), or for rowversion the lowest value a
    transaction in flight may still commit."""
    if mark.kind == "full":
        return None, None, None
    conn = src.connect(source)
    try:
        src.begin_read(conn)  # read-only (ADR 0010): a --where condition is the user's SQL
        cur = conn.cursor()
        if mark.kind == "rowversion":
            query = src.rowversion_ceiling_sql()
            if query is None:
                raise ConfigError(f"table {table.name!r}: rowversion watermarks need SQL Server")
            cur.execute(query)
            ceiling = bytes(cur.fetchone()[0])
            lo = None if last is None else _step_down(last)
            return lo, _step_down(ceiling), ceiling
        hi = _max(src, conn, table, mark.column)
    finally:
        with contextlib.suppress(Exception):
            conn.rollback()
        conn.close()
    if hi is None:  # an empty source: nothing to read, the watermark stays
        return watermarks.lower_bound(mark, last), None, last
    # never backwards: deleting the row holding the maximum must not lower it
    return watermarks.lower_bound(mark, last), hi, hi if last is None else max(last, hi)


def _step_down(value: bytes) -> bytes:
    """The rowversion just below `value` (8 big-endian bytes): `> step_down(v)` is `>= v`."""
    return max(0, int.from_bytes(value, "big") - 1).to_bytes(len(value), "big")


def _prepare_stage(dst: Dialect, conn, stage: Table) -> None:
    cur = conn.cursor()
    cur.execute(dst.drop_table_sql(stage))  # a crashed run's leftover
    for stmt in dst.create_table_sql(stage, primary_key=not dst.caps.key_after_load):
        cur.execute(stmt)
    conn.commit()


def _apply(dst: Dialect, conn, live: Table, stage: Table) -> tuple[int, int]:
    """Inside the open transaction: drop staged rows equal to the live ones, count the rest
    as inserts and updates, upsert them. Returns (inserted, updated)."""
    prune, new_rows = apply_sql(dst, live, stage)
    cur = conn.cursor()
    cur.execute(prune)
    cur.execute(f"SELECT COUNT(*) FROM {dst.qualified(stage)}")
    staged = int(cur.fetchone()[0])
    if not staged:
        return 0, 0
    cur.execute(new_rows)
    inserted = int(cur.fetchone()[0])
    for stmt in dst.upsert_sql(live, stage):
        cur.execute(stmt)
    return inserted, staged - inserted


def apply_sql(dst: Dialect, live: Table, stage: Table) -> tuple[str, str]:
    """The statement deleting staged rows the live table holds unchanged (NULLs compare
    equal), and the query counting staged rows whose key the live table lacks."""
    s, t = dst.quote(stage.name), "l"
    same_key = " AND ".join(f"{t}.{dst.quote(k)} = {s}.{dst.quote(k)}" for k in live.primary_key)
    same_row = " AND ".join(
        [same_key] + [dst.null_safe_equal(f"{t}.{dst.quote(c)}", f"{s}.{dst.quote(c)}")
                      for c in live.column_names if c not in live.primary_key]
    )  # fmt: skip
    prune = (f"DELETE FROM {dst.qualified(stage)} WHERE EXISTS "
             f"(SELECT 1 FROM {dst.relation_sql(live)} {t} WHERE {same_row})")  # fmt: skip
    new_rows = (f"SELECT COUNT(*) FROM {dst.qualified(stage)} WHERE NOT EXISTS "
                f"(SELECT 1 FROM {dst.relation_sql(live)} {t} WHERE {same_key})")  # fmt: skip
    return prune, new_rows


def _state(tp: TablePlan, mark: Watermark, after: Any, result: TableSync,
           before) -> sync_state.State:  # fmt: skip
    """The table's state row: named by the plan's (source) key (ADR 0014) and the source's
    watermark column (its values are read there); the source's column types recorded under
    the target's column names, as drift compares them (`--identifiers`, ADR 0017)."""
    return sync_state.State(
        table_name=tp.table.key,  # the qualified key (ADR 0014)
        kind=mark.kind,
        watermark_column=mark.column,
        watermark=watermarks.encode(after),
        last_run=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
        rows_inserted=result.inserted,
        rows_updated=result.updated,
        rows_deleted=0,
        runs=(before.runs if before else 0) + 1,
        source_columns=record(tp.target),
    )


def _delete(tp: TablePlan, source: DbUrl, target: DbUrl) -> int:
    """Delete the target's rows whose keys the source no longer has; the count goes into the
    table's state row in the same transaction."""
    src, dst = get_dialect(source.engine), get_dialect(target.engine)
    live = live_table(dst, tp.target)
    src_conn = reader = writer = None
    try:
        src_conn, reader, writer = src.connect(source), dst.connect(target), dst.connect(target)
        # each connection watched for a stall inside its own statements only: the pass
        # asks both sides in turn, and a side waiting on the other is not stalled
        with contextlib.ExitStack() as watching:
            ends = [(src, source, src_conn, "source"), (dst, target, reader, "target"),
                    (dst, target, writer, "target")]  # fmt: skip
            src_w, reader_w, writer_w = (
                watching.enter_context(watched_statements(d, url, c, side, tp.name, tp.name))
                for d, url, c, side in ends
            )
            total = delete_gone(tp, src, src_w, dst, reader_w, writer_w, live)
        if total:
            log.info("%s: deleted %s rows gone from the source", tp.name, f"{total:,}")
        return total
    except SluiceError:
        raise
    except Exception as exc:
        raise _failed(f"{tp.name}: deleting rows failed", exc, src, dst, table=tp.name,
                      target=target) from None  # fmt: skip
    finally:
        for c in (src_conn, reader, writer):
            with contextlib.suppress(Exception):
                c.close()
