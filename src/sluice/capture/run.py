"""Change capture end to end: `start_capture` before a copy, `sync_changes` after it,
`capture_status` and `stop_capture` (docs/cdc.md, ADR 0027).

The copy starts capture first (the position goes into `sluice_capture` on the target), then
reads its chunks at whatever instants it reads them. Every change committed after the
position is then replayed on top, in commit order, idempotently (upserts and deletes by key):
a row changed after its chunk was read gets its later states again, a row deleted before
its chunk was read is deleted again (a no-op), and the last state wins. So once a sync has
applied the log up to a position, the replica equals the source at that position, whatever
the source did during the copy (the argument of Netflix's DBLog and of pgcopydb's follow
mode, without their locks or long snapshot).

Each batch of whole source transactions is applied in one target transaction together with
the new position; the source is told to free its log only after that commit. A crash or a
kill -9 anywhere replays from the last committed position; nothing is applied twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from sluice.capture.apply import Applied, Applier, check_selection
from sluice.copy.finish import align_identities
from sluice.copy.plan import TablePlan
from sluice.core import metrics
from sluice.core.changes import CaptureStatus, Commit
from sluice.core.errors import ConfigError, ConnectError, SluiceError
from sluice.core.faults import fault_error
from sluice.core.hostile import NulPolicy
from sluice.core.urls import DbUrl, redact_all
from sluice.dialects import get_dialect
from sluice.state import positions
from sluice.sync import SyncOptions, sync_database
from sluice.sync.drift import reconcile, record, recorded
from sluice.sync.run import live_tables, plan_sync
from sluice.sync.watermarks import Watermark

log = logging.getLogger(__name__)

BATCH_CHANGES = 10_000
LAG_WARNING_BYTES = 1 << 30  # a slot holding more WAL than this gets a warning


def capture_name(target: DbUrl, name: str | None = None) -> str:
    """The capture's name: given, or made from the target's address and database (never its
    password), so each replica of a source keeps its own position and slot."""
    if name:
        return name
    u = target.url
    where = f"{target.engine}|{u.host}|{u.port}|{u.database}|{sorted(u.query.items())}"
    return "sluice_" + hashlib.sha1(where.encode()).hexdigest()[:12]


@dataclass
class CaptureResult:
    name: str
    before: str
    after: str
    tables: dict[str, Applied] = field(default_factory=dict)
    batches: int = 0
    transactions: int = 0
    changes: int = 0  # changes read from the log (before netting)
    seconds: float = 0.0
    status: CaptureStatus | None = None  # the source's side after the run
    # when the source's position this run catches up to was read (UTC): the replica holds
    # every change committed before it, so now - as_of bounds how far behind it is
    as_of: dt.datetime | None = None
    plans: tuple[TablePlan, ...] = ()  # the captured tables' columns and types, for lineage

    @property
    def lag_seconds(self) -> float | None:
        return None if self.as_of is None else (positions.utcnow() - self.as_of).total_seconds()

    @property
    def moved(self) -> int:
        return sum(a.moved for a in self.tables.values())


def capture_options(options) -> SyncOptions:
    """A copy's options (CopyOptions) as change capture takes them: the same selection and
    value settings, so capture follows exactly the tables and columns the copy makes."""
    from dataclasses import fields

    shared = {f.name for f in fields(SyncOptions)} & {f.name for f in fields(options)}
    return SyncOptions(**{name: getattr(options, name) for name in shared})


def _plan(source: DbUrl, target: DbUrl, options: SyncOptions) -> list[TablePlan]:
    plan, _marks = plan_sync(source, target, replace(options, deletes=False))
    check_selection(plan.tables)
    return list(plan.tables)


def start_capture(source: DbUrl, target: DbUrl, options: SyncOptions | None = None,
                  name: str | None = None) -> positions.Position:  # fmt: skip
    """Start capturing the selected tables' changes and record the position on the target;
    run before a copy reads its first chunk (`sluice copy --cdc`)."""
    options = options or SyncOptions()
    options.validate()
    name = capture_name(target, name)
    plans = _plan(source, target, options)
    src, dst = get_dialect(source.engine), get_dialect(target.engine)
    dst.ensure_database(target)
    at = src.capture_start(source, name, [tp.table for tp in plans])
    started = positions.Position(name, source.engine, at, tuple(tp.table.key for tp in plans),
                                 positions.utcnow()).with_columns(
        {tp.table.key: record(tp.target) for tp in plans})  # fmt: skip
    conn = dst.connect(target)
    try:
        positions.ensure(dst, conn)
        positions.write(dst, conn, started)
        conn.commit()
    finally:
        conn.close()
    log.info("change capture %s started at %s for %d table(s)", name, at, len(plans))
    return started


def sync_changes(source: DbUrl, target: DbUrl, options: SyncOptions | None = None,
                 name: str | None = None, batch_changes: int = BATCH_CHANGES,
                 on_batch: Callable[[CaptureResult], None] | None = None,
                 ) -> CaptureResult:  # fmt: skip
    """Apply the source's log from the replica's recorded position up to the source's
    position as this run starts (changes committed later wait for the next run)."""
    options = options or SyncOptions()
    options.validate()
    src, dst = get_dialect(source.engine), get_dialect(target.engine)
    try:
        return _sync_changes(source, target, options, capture_name(target, name),
                             batch_changes, on_batch)  # fmt: skip
    except SluiceError:
        raise
    except Exception as exc:  # a driver's error: transient when either engine says so
        found = [d.classify_fault(exc) for d in (src, dst)]
        fault = next((f for f in found if f.retryable), found[-1])
        detail = redact_all(" ".join(str(exc).split()))
        raise fault_error(
            fault,
            f"sync --cdc failed: {detail}",
            target_state=(
                "every batch before this one applied with its position; this one rolled back "
                "(the next sync --cdc applies it)"
            ),
        ) from None


def _sync_changes(source: DbUrl, target: DbUrl, options: SyncOptions, name: str,
                  batch_changes: int, on_batch) -> CaptureResult:  # fmt: skip
    started = time.monotonic()
    src, dst = get_dialect(source.engine), get_dialect(target.engine)
    conn = dst.connect(target)
    try:
        here = positions.read(dst, conn, name)
        conn.rollback()
        if here is None:
            raise ConfigError(f"no change capture {name!r} on this target: run sluice copy "
                              "--cdc first (it starts capture and makes the replica)")  # fmt: skip
        plans = _plan(source, target, replace(options, tables=list(here.tables)))
        _check_captured(here, plans)
        here = _follow_drift(source, target, options, plans, dst, conn, here)
        as_of = positions.utcnow()
        stop_at = src.capture_status(source, name, here.position).current
        result = CaptureResult(name, here.position, here.position, as_of=as_of, plans=tuple(plans))
        nul = NulPolicy(options.nul, options.nul_replacement, options.zero_dates)
        applier = Applier(src, dst, conn, plans, max(1 << 20, options.memory_cap // 8), nul)
        result.tables = applier.applied
        applier.prepare()
        try:
            while True:
                here, done = _batch(src, dst, conn, source, target, name, plans, here, applier,
                                    result, batch_changes)  # fmt: skip
                if on_batch:
                    on_batch(result)
                if done or (stop_at and src.position_order(here.position)
                            >= src.position_order(stop_at)):  # fmt: skip
                    break
        finally:
            with contextlib.suppress(Exception):
                conn.rollback()
                applier.drop()
    finally:
        with contextlib.suppress(Exception):
            conn.close()
    result.after = here.position
    result.seconds = time.monotonic() - started
    result.status = src.capture_status(source, name, here.position)
    _caught_up(source, target, plans, result)
    return result


def _batch(src, dst, conn, source: DbUrl, target: DbUrl, name: str,
           plans: Sequence[TablePlan], here, applier: Applier, result: CaptureResult,
           limit: int):  # fmt: skip
    """One batch of whole transactions in one target transaction with the new position.
    Returns the position and whether the log held nothing more."""
    last: Commit | None = None
    changes = transactions = 0
    inserted_before = {k: a.inserted for k, a in applier.applied.items()}
    moved_before = {k: a.moved for k, a in applier.applied.items()}
    for item in src.capture_changes(source, name, [tp.table for tp in plans], here.position,
                                    limit):  # fmt: skip
        if isinstance(item, Commit):
            last, transactions = item, transactions + 1
        else:
            changes += 1
            applier.add(item)
    if last is None:
        conn.rollback()
        return here, True
    applier.flush()
    here = here.advanced(last.position, last.at, changes, transactions)
    positions.write(dst, conn, here)
    conn.commit()
    grew = [
        tp
        for tp in plans
        if tp.table.identity
        and applier.applied[tp.table.key].inserted > inserted_before[tp.table.key]
    ]
    if grew:  # the next value past the rows the log inserted (own transaction)
        align_identities(dst, conn, grew)
        conn.commit()
    src.capture_confirm(source, name, here.position)
    at = here.source_commit if last.at else None  # the newest commit applied, naive UTC
    _applied(source, target, plans, applier, moved_before, at)
    result.batches += 1
    result.transactions += transactions
    result.changes += changes
    log.info("change capture %s: batch %d applied, %d change(s) in %d transaction(s), at %s",
             name, result.batches, changes, transactions, here.position)  # fmt: skip
    return here, False


def _applied(source: DbUrl, target: DbUrl, plans: Sequence[TablePlan], applier: Applier,
             before: dict[str, int], at: dt.datetime | None) -> None:  # fmt: skip
    """A committed batch's figures: the changes each table received, and how old the newest
    commit applied is (`at`, naive UTC, where the log records commit times)."""
    for tp in plans:
        moved = applier.applied[tp.table.key].moved - before.get(tp.table.key, 0)
        if moved:
            labels = metrics.table_labels(source, target, tp.target)
            metrics.count("cdc_changes_applied_total", moved, labels)
    if at is not None:
        behind = (positions.utcnow() - at).total_seconds()
        metrics.gauge("cdc_lag_seconds", max(0.0, behind), metrics.run_labels(source, target))


def _caught_up(source: DbUrl, target: DbUrl, plans: Sequence[TablePlan],
               result: CaptureResult) -> None:  # fmt: skip
    """The run's end: the replica holds every change committed before `result.as_of` (the
    lag), the source keeps `lag_bytes` of log for it, and each table is fresh as of then."""
    labels = metrics.run_labels(source, target)
    metrics.gauge("cdc_lag_seconds", max(0.0, result.lag_seconds or 0.0), labels)
    if result.status is not None and result.status.lag_bytes is not None:
        metrics.gauge("cdc_lag_bytes", result.status.lag_bytes, labels)
    at = result.as_of.replace(tzinfo=dt.timezone.utc).timestamp() if result.as_of else None
    for tp in plans:
        metrics.succeeded(metrics.table_labels(source, target, tp.target), at)


def _check_captured(here: positions.Position, plans: Sequence[TablePlan]) -> None:
    planned = {tp.table.key for tp in plans}
    gone = [t for t in here.tables if t not in planned]
    if gone:
        raise ConfigError(f"change capture {here.name}: table(s) {', '.join(gone)} are no "
                          "longer in the source (dropped or renamed): copy them again with "
                          "--cdc, or stop the capture")  # fmt: skip


def _follow_drift(source: DbUrl, target: DbUrl, options: SyncOptions,
                  plans: Sequence[TablePlan], dst, conn,
                  here: positions.Position) -> positions.Position:  # fmt: skip
    """A new column or a widened type, as sync follows them (sluice.sync.drift); a changed
    key stops, naming the table. A table with a new column is read once whole to fill it
    (a watermark sync of kind full): the log replayed on top converges as after a copy."""
    live = live_tables(target, plans)
    refill, seen = [], {}
    for tp in plans:
        found = live[tp.name]
        if tuple(found.primary_key) != tuple(tp.target.primary_key):
            raise ConfigError(f"change capture: table {tp.name}: its primary key changed "
                              f"({', '.join(found.primary_key)} on the replica, "
                              f"{', '.join(tp.target.primary_key)} on the source): copy the "
                              "table again with --cdc")  # fmt: skip
        drift = reconcile(dst, conn, tp.target, found, recorded(here.columns_of(tp.table.key)))
        if drift.added:
            refill.append(tp.name)
        seen[tp.table.key] = record(tp.target)
    if refill:
        log.info("change capture: new column(s) in %s: reading those tables once whole",
                 ", ".join(refill))  # fmt: skip
        full = {t: Watermark("full") for t in refill}
        sync_database(source, target, replace(options, tables=refill, deletes=False,
                                              watermarks=full))  # fmt: skip
    if seen != {t: here.columns_of(t) for t in seen}:  # the types now, for the next run
        here = here.with_columns(seen)
        positions.write(dst, conn, here)
        conn.commit()
    return here


def capture_status(source: DbUrl, target: DbUrl, name: str | None = None) -> tuple[
        positions.Position | None, CaptureStatus]:  # fmt: skip
    """The replica's recorded position and the source's side of the capture."""
    name = capture_name(target, name)
    dst = get_dialect(target.engine)
    conn = dst.connect(target)
    try:
        here = positions.read(dst, conn, name)
    finally:
        conn.close()
    status = get_dialect(source.engine).capture_status(source, name, here and here.position)
    return here, status


def stop_capture(source: DbUrl, target: DbUrl, name: str | None = None) -> bool:
    """Drop the capture on the source (slot and publication) and its row on the target."""
    name = capture_name(target, name)
    dropped = get_dialect(source.engine).capture_stop(source, name)
    dst = get_dialect(target.engine)
    try:
        conn = dst.connect(target)
    except ConnectError:  # the replica is gone: the source's side was what mattered
        return dropped
    try:
        if positions.read(dst, conn, name) is not None:
            positions.forget(dst, conn, name)
            conn.commit()
            dropped = True
    finally:
        conn.close()
    return dropped
