"""Prepare staging tables, then publish each one: key it, index it, swap it in atomically.

A reader of the target sees either the previous table or the complete new one:
the swap (drop live, rename staging) runs in one transaction on engines with
transactional DDL, and as one atomic RENAME TABLE on MySQL. A crash at any
moment leaves the previous replica intact; leftover staging tables are dropped
by the next run's prepare.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sluice.copy.completion import Completion, add_keys, align_staging
from sluice.copy.objects import drop_views_sql, sequences_first_sql
from sluice.copy.plan import Plan, TablePlan
from sluice.copy.staging import live_table, staging_table, temp_name
from sluice.copy.stalls import end_abandoned, settle, watched
from sluice.copy.writers import writer_slot
from sluice.core import faults, metrics
from sluice.core.errors import SluiceError, TerminalError
from sluice.core.faults import where
from sluice.core.interrupt import Cancel
from sluice.core.urls import DbUrl, redact_all
from sluice.dialects import get_dialect
from sluice.state import store as sync_state

log = logging.getLogger(__name__)

DEFAULT_LOCK_TIMEOUT = 60.0  # seconds a publish waits for another session's lock on a table


@dataclass(frozen=True)
class PublishResult:
    table: str
    rows: int
    # its identity and keys, made with the swap (copy.completion); None: an earlier try's
    # swap, found committed (what it made is not known here: the finish step checks)
    completion: Completion | None = None

    @property
    def finished(self) -> bool:
        """Published complete: identity aligned, every key it could have, added."""
        return self.completion is not None and not self.completion.failed


def prepare(plan: Plan, target: DbUrl, tables: Sequence[str] | None = None) -> None:
    """Create the target database if missing and a fresh, empty staging table per table."""
    dst = get_dialect(target.engine)
    dst.ensure_database(target)
    chosen = [tp for tp in plan.tables if not tables or tp.name in tables]
    dst.ensure_schemas(target, [tp.target_schema for tp in chosen if tp.target_schema])
    conn = dst.connect(target)
    try:
        # the source engine's enums, domains, composites and extensions, before the tables
        dst.create_native_types(conn, plan.native_types)
        cur = conn.cursor()
        for stmt in dst.prelude_sql([tp.target for tp in chosen]):  # collations the tables use
            cur.execute(stmt)
        for stmt in sequences_first_sql(dst, target, plan):  # a default's nextval needs it
            cur.execute(stmt)
        conn.commit()
        for tp in chosen:
            stage = staging_table(dst, tp.target)
            cur.execute(dst.drop_table_sql(stage))
            for stmt in dst.create_table_sql(stage, primary_key=not dst.caps.key_after_load):
                cur.execute(stmt)
            for stmt in dst.definition_sql(stage, tp.target):  # comments, ON UPDATE triggers
                cur.execute(stmt)
            conn.commit()
    except SluiceError:
        raise
    except Exception as exc:
        raise target_fault(dst, exc, f"preparing {target}", target) from None
    finally:
        conn.close()


def publish_table(
    plan: Plan,
    name: str,
    target: DbUrl,
    rows: int | None = None,
    swap_lock: AbstractContextManager | None = None,
    cancel: Cancel | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    on_swap: Callable[[Any, int], None] | None = None,
    earlier: dict | None = None,
) -> PublishResult:
    """Build keys and indexes on the staging table, then swap it for the live table.

    `rows`: the rows the chunks loaded, when the caller counted them (else the staging table
    is counted: a full scan). `swap_lock` is held around the swap only, so that one run's
    tables build their keys in parallel but replace live tables (and the foreign keys between
    them) one at a time. The whole publish (index build and swap) writes, so it runs in the
    target's writer slot: alone where the engine allows one writer at a time. A `cancel` set
    before the swap starts stops the publish there (the live table untouched, the staging
    table left for the caller to drop); a swap once begun commits or rolls back as one
    transaction. The swap waits at most `lock_timeout` seconds for another session's lock on
    the live table, then fails naming that session. `on_swap(conn, rows)` writes in the swap's
    transaction (the chunk ledger's mark, copy.resume). `earlier`, kept across the tries of
    one publish (`retried.publish_retried`), records the key and index statements that
    committed (a retry goes on from there) and that a try was made: its swap may have
    committed before its connection was lost, so a staging table gone with the live table
    present is that swap, done (the swap is one transaction: whole or not at all)."""
    with writer_slot(target):
        result = _publish_table(plan, name, target, rows, swap_lock, cancel, lock_timeout,
                                on_swap, {} if earlier is None else earlier)  # fmt: skip
    metrics.succeeded(metrics.table_labels(plan.source_engine, target, plan.table(name).target))
    return result


def _publish_table(plan, name, target, rows, swap_lock, cancel, lock_timeout,
                   on_swap=None, earlier: dict | None = None) -> PublishResult:  # fmt: skip
    earlier = {} if earlier is None else earlier
    again = earlier.get("tried", False)
    earlier["tried"] = True
    tp = plan.table(name)
    stop = cancel.check if cancel is not None else (lambda what: None)
    stop(name)
    dst = get_dialect(target.engine)
    stage, live = staging_table(dst, tp.target), live_table(dst, tp.target)
    waiting_on = live
    try:
        conn = dst.connect(target)
    except SluiceError as exc:
        raise exc.with_facts(side="target", host=where(target), table=name) from None
    settle(target, target.timeouts.connect)  # sessions earlier tries abandoned: ended
    try:
        with watched(dst, target, conn, "target", name) as watch:
            if not dst.table_exists(conn, stage):
                if again and dst.table_exists(conn, live):
                    log.info("%s: the swap of the earlier try had committed: published", name)
                    return PublishResult(name, _count(dst, conn, live) if rows is None else rows)
                raise TerminalError(f"{name}: no staging table to publish (was prepare run?)")
            log.debug("%s: building the key and indexes on the staging table", name)
            waiting_on = stage
            renames = _build(dst, conn, target, stage, tp, stop, lock_timeout, earlier)
            waiting_on = live
            if rows is None:
                rows = _count(dst, conn, stage)
            present = _present(dst, conn, plan, tp)  # before the swap's transaction
            done = Completion()
            with contextlib.ExitStack() as swapping:
                with watch.waiting("target"):  # another table's swap: not this server's time
                    swapping.enter_context(swap_lock or contextlib.nullcontext())
                stop(name)
                log.debug("%s: swapping the staging table in", name)
                views = drop_views_sql(dst, target, plan.views)  # made again after publish
                keys = SwapKeys(plan, present, dst.url_schema(target), done)
                keys = keys if dst.alters_foreign_keys else None
                _swap(dst, conn, stage, live, tp, renames, lock_timeout,
                      on_swap and (lambda c: on_swap(c, rows)), views, keys)  # fmt: skip
        log.info("%s: published %s rows", name, f"{rows:,}")
        return PublishResult(name, rows, done)
    except SluiceError as exc:
        raise exc.with_facts(side="target", host=where(target), table=name) from None
    except Exception as exc:
        with contextlib.suppress(Exception):  # a lost connection has nothing to roll back
            conn.rollback()
            conn.close()  # not among the sessions named as holding the lock
        if dst.classify_fault(exc) is faults.LOCK_TIMEOUT:
            raise lock_timed_out(dst, exc, target, [waiting_on], "publishing", name) from None
        raise target_fault(dst, exc, f"{name}: publishing failed", target, table=name) from None
    finally:
        with contextlib.suppress(Exception):
            conn.close()


def _count(dst, conn, table) -> int:
    cur = conn.cursor()
    cur.execute(f"SELECT COUNT(*) FROM {dst.relation_sql(table)}")
    rows = int(cur.fetchone()[0])
    conn.rollback()
    return rows


def target_fault(dst, exc: Exception, doing: str, target: DbUrl, **facts) -> SluiceError:
    """A driver error on the target as a sluice error: its fault, side and host; the driver's
    text in the message (the log) only."""
    detail = redact_all(" ".join(str(exc).split()))
    fault = dst.classify_fault(exc)
    return faults.fault_error(fault, f"{doing}: {detail}", side="target", url=target, **facts)


def lock_timed_out(dst, exc: Exception, target: DbUrl, tables, doing: str,
                   name: str | None = None) -> SluiceError:  # fmt: skip
    """A lock wait past the lock timeout, as the error naming the sessions holding a lock on
    `tables` (the first that has one; a dict names each table by its qualified key)."""
    found, on = "the session holding it let go before it could be named", None
    named = tables.items() if isinstance(tables, dict) else [(t.name, t) for t in tables]
    for key, table in named:
        found = holders(dst, target, table)
        if found.startswith("held by"):
            on = key
            break
    name = name or on
    err = target_fault(dst, exc, f"{name or doing}: {doing} failed", target, table=name)
    err.what = f"{err.fault.what} while {doing}: {found}"
    return err


def holders(dst, target: DbUrl, table) -> str:
    """Who holds a lock on `table`, asked on a connection of its own after a lock timeout."""
    try:
        conn = dst.connect(target)
        try:
            found = dst.lock_holders(conn, table)
        finally:
            with contextlib.suppress(Exception):
                conn.close()
    except Exception as exc:  # the failure is reported either way
        log.warning("could not look up who holds the lock: %s", redact_all(str(exc)))
        return "the session holding it could not be looked up"
    if not found:
        return "the session holding it let go before it could be named"
    return "held by " + "; ".join(found)


def _build(dst, conn, target: DbUrl, stage, tp: TablePlan, stop, lock_timeout: float,
           earlier: dict):  # fmt: skip
    """The staging table's key and indexes, each statement waiting at most `lock_timeout`
    for a lock. Only this run writes its staging table, so a lock on it is held by a session
    an earlier try abandoned (the caller waited for those to be ended: `stalls.settle`); if
    the wait still times out, the ones that could not be ended then are ended and the build
    goes on once more. Returns the (temporary name, index) pairs the swap renames. A later
    try of the same publish starts after the statements an earlier one committed
    (`earlier["done"]`)."""
    steps: list[tuple[str, object]] = []
    if tp.key and dst.caps.key_after_load:
        steps += [(stmt, None) for stmt in dst.add_primary_key_sql(stage)]
    for ix in tp.target.indexes:
        # the staging table's name in it: two tables may publish indexes of one name at once
        tmp = temp_name(dst, "ix", f"{tp.name}_{ix.name}")
        steps.append((dst.create_index_sql(stage, tmp, ix.columns, ix.unique, ix.kind), (tmp, ix)))
    renames = [rename for _, rename in steps if rename is not None]
    # statements committed (DDL commits at once where it is not transactional)
    done = earlier.get("done", 0)
    if earlier.get("building") and done < len(steps):
        steps, done = _still_to_build(dst, conn, stage, steps), 0
    earlier["building"] = True
    for last_try in (False, True):
        cur = conn.cursor()
        try:
            for stmt in dst.lock_timeout_sql(lock_timeout):
                cur.execute(stmt)
            for i in range(done, len(steps)):
                stop(tp.name)
                cur.execute(steps[i][0])
                done = done if dst.caps.transactional_ddl else i + 1
                earlier["done"] = done
            conn.commit()
            earlier["done"] = len(steps)
            return renames
        except Exception as exc:
            if last_try or dst.classify_fault(exc) is not faults.LOCK_TIMEOUT:
                raise
            with contextlib.suppress(Exception):
                conn.rollback()
            if not end_abandoned(dst, target):
                raise
            log.warning("%s: the staging table was locked by a session an earlier try "
                        "abandoned; it was ended, building again", tp.name)  # fmt: skip
    raise AssertionError("unreachable")


def _still_to_build(dst, conn, stage, steps: list[tuple[str, object]]) -> list:
    """The build steps whose key or index the staging table lacks. An earlier try's last
    statement (or its commit) may have been done by the server with the reply lost to a
    dropped connection: running it again would fail ("multiple primary keys")."""
    built = dst.built_indexes(conn, stage)
    conn.rollback()
    if built is None:
        return steps
    has_key, names = built
    return [(stmt, rename) for stmt, rename in steps
            if not (has_key if rename is None else rename[0] in names)]  # fmt: skip


@dataclass(frozen=True)
class SwapKeys:
    """What a swap needs to complete its table (copy.completion): the plan, the plan keys of
    the tables the target has, the target's default schema, and where to say what it made."""

    plan: Plan
    present: set[str]
    default: str | None
    done: Completion


def _present(dst, conn, plan: Plan, tp: TablePlan) -> set[str]:
    """The plan's tables joined to `tp` by a key that the target has now."""
    ends = {e for fk in plan.foreign_keys if tp.name in (fk.table_key, fk.ref_key)
            for e in (fk.table_key, fk.ref_key)} - {tp.name}  # fmt: skip
    return {e for e in ends if dst.table_exists(conn, live_table(dst, plan.table(e).target))}


def _swap(dst, conn, stage, live, tp: TablePlan, index_renames, lock_timeout: float,
          also=None, drop_views: Sequence[str] = (),
          keys: SwapKeys | None = None) -> None:  # fmt: skip
    """Replace `live` by `stage` (one transaction where DDL is), its identity aligned on
    `stage` first and, with `keys`, its foreign keys made (copy.completion); the keys added
    unchecked are validated by the finish step."""
    cur = conn.cursor()
    exists = dst.table_exists(conn, live)
    synced = dst.table_exists(conn, sync_state.state_table(dst).name)
    for stmt in dst.lock_timeout_sql(lock_timeout) + dst.publish_lock_sql():
        cur.execute(stmt)
    identity = align_staging(dst, cur, stage)  # MAX(key) + 1 before the rename
    incoming = []
    if exists:
        if keys is not None:  # the target's own keys to the table replaced: made again
            incoming = dst.foreign_keys_to(conn, live)
        for stmt in dst.drop_referencing_foreign_keys_sql(conn, live):
            cur.execute(stmt)
        for stmt in dst.detach_children_sql(conn, live):  # inheriting tables: finish re-adds
            cur.execute(stmt)
        for stmt in drop_views:  # the source's views, dropped with the swap (they read it)
            cur.execute(stmt)
    for stmt in dst.swap_sql(stage, live, exists):
        cur.execute(stmt)
    if tp.key:
        final = tp.target.primary_key_name or f"PK_{tp.target.name}"
        for stmt in dst.rename_constraint_sql(live, stage.primary_key_name, final):
            cur.execute(stmt)
    for tmp, index in index_renames:
        for stmt in dst.rename_index_sql(live, tmp, index):
            cur.execute(stmt)
    for stmt in dst.rename_identity_sql(conn, live):
        cur.execute(stmt)
    for stmt in dst.rename_staged_constraints_sql(conn, live, stage.name):  # PostgreSQL 18
        cur.execute(stmt)
    if keys is not None:
        keys.done.identity = identity
        if dst.caps.transactional_ddl:  # unchecked, in the swap (validated by finish)
            add_keys(dst, conn, keys.plan, tp, keys.default, keys.present, incoming, keys.done)
    if synced:  # a new replica: the incremental state of the old one describes it no more
        sync_state.forget(dst, conn, tp.name)
    if also is not None:
        also(conn)
    conn.commit()
    if keys is not None and not dst.caps.transactional_ddl:  # right after the RENAME
        add_keys(dst, conn, keys.plan, tp, keys.default, keys.present, incoming, keys.done)
        conn.commit()


def drop_leftovers(plan: Plan, target: DbUrl) -> None:
    """Drop staging tables a failed run left behind (after the sessions its tries abandoned
    were ended: they may hold locks on them; a lock held elsewhere is waited for at most
    DEFAULT_LOCK_TIMEOUT)."""
    dst = get_dialect(target.engine)
    settle(target, target.timeouts.connect)
    conn = dst.connect(target)
    try:
        cur = conn.cursor()
        for stmt in dst.lock_timeout_sql(DEFAULT_LOCK_TIMEOUT):
            cur.execute(stmt)
        for tp in plan.tables:
            cur.execute(dst.drop_table_sql(staging_table(dst, tp.target)))
        conn.commit()
    finally:
        conn.close()
