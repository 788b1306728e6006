"""Finish a copy: align identity values, then add the source's foreign keys.

Identities: the next generated value becomes max(key) + 1. Foreign keys are
added without checking the existing rows where the engine allows it, then
validated; rows that break a key are counted and reported (orphans), and the
key is left unvalidated rather than failing the whole run blindly.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from sluice.copy import hierarchy
from sluice.copy.plan import Plan, TablePlan
from sluice.copy.publish import DEFAULT_LOCK_TIMEOUT, lock_timed_out, target_fault
from sluice.copy.staging import live_table
from sluice.copy.stalls import watched
from sluice.core import faults
from sluice.core.errors import SluiceError
from sluice.core.faults import where
from sluice.core.schema import ForeignKey, qualified_key
from sluice.core.types import Kind
from sluice.core.urls import DbUrl, redact_all
from sluice.dialects import get_dialect

log = logging.getLogger(__name__)
_HIGHEST = {Kind.SMALLINT: 2**15 - 1, Kind.INTEGER: 2**31 - 1, Kind.BIGINT: 2**63 - 1}


@dataclass(frozen=True)
class FinishResult:
    identities: dict[str, int]  # table -> next identity value
    orphans: dict[str, int]  # foreign key name -> rows whose reference is missing


def finish(
    plan: Plan,
    target: DbUrl,
    published: Collection[str] | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    added: dict[str, int] | None = None,
) -> FinishResult:
    """Finish every table of `plan`, or only the `published` ones (a run that stopped early):
    their identities, and the foreign keys with an end among them whose other end exists
    in the target (a key between two tables the run never replaced is still in place).
    Each statement waits at most `lock_timeout` seconds for another session's lock, then
    fails naming that session. `added` (kept across tries by `retried.finish_retried`)
    records each foreign key once added, with its orphans: a later try skips it (aligning
    identities again changes nothing)."""
    dst = get_dialect(target.engine)
    conn = dst.connect(target)
    orphans: dict[str, int] = {} if added is None else added
    tables = plan.tables if published is None else [t for t in plan.tables if t.name in published]
    lives = {tp.name: live_table(dst, tp.target) for tp in plan.tables}
    on = None  # the tables whose lock a statement may be waiting for
    try:
        with watched(dst, target, conn, "target", "finish"):
            log.info("finish: aligning identity values")
            on = {tp.name: lives[tp.name] for tp in tables}
            identities = align_identities(dst, conn, tables, lock_timeout)
            log.debug("finish: %d identity value(s) aligned", len(identities))
            on = lives  # children inherit their parents again (copy.hierarchy)
            hierarchy.attach_children(dst, conn, plan, published, lock_timeout, _bound,
                                      live_table)  # fmt: skip
            keys = (plan.foreign_keys if published is None
                    else _touching(dst, conn, plan, published))  # fmt: skip
            if keys:
                log.info("finish: adding %d foreign key(s)", len(keys))
            default = dst.url_schema(target)
            for fk in keys:  # named as the plan names the table: schema.FK_... outside the default
                on = {n: lives[n] for n in (fk.table_key, fk.ref_key) if n in lives}
                name = qualified_key(
                    plan.table(fk.table_key).target_schema, plan.target_foreign_key(fk).name
                )
                if name in orphans:
                    continue  # an earlier try added it
                orphans[name] = _add_foreign_key(dst, conn, landed(plan, fk, default),
                                                 lock_timeout)  # fmt: skip
    except SluiceError as exc:  # a stall: said as one
        raise exc.with_facts(side="target", host=where(target)) from None
    except Exception as exc:
        if dst.classify_fault(exc) is not faults.LOCK_TIMEOUT:  # a lost connection: retryable
            raise target_fault(dst, exc, "finish failed", target) from None
        with contextlib.suppress(Exception):
            conn.rollback()
            conn.close()  # not among the sessions named as holding the lock
        raise lock_timed_out(dst, exc, target, on or {}, "finishing") from None
    finally:
        conn.close()
    return FinishResult(identities, orphans)


def _bound(dst, cur, lock_timeout: float | None) -> None:
    """Bound the lock waits of the transaction about to start (PostgreSQL's setting is the
    transaction's, MySQL's the session's)."""
    if lock_timeout is not None:
        for stmt in dst.lock_timeout_sql(lock_timeout):
            cur.execute(stmt)


def _touching(dst, conn, plan: Plan, published: Collection[str]) -> list[ForeignKey]:
    """The foreign keys a publish of `published` dropped (the old tables went, and with them
    every key from or to them) that can be added back: both ends present in the target."""
    keys = []
    for fk in plan.foreign_keys:
        ends = (fk.table_key, fk.ref_key)
        if any(e in published for e in ends) and all(
            dst.table_exists(conn, live_table(dst, plan.table(e).target)) for e in ends
        ):
            keys.append(fk)
    return keys


def landed(plan: Plan, fk: ForeignKey, default: str | None) -> ForeignKey:
    """`fk` between the two tables as they land: each end in its target schema, named even
    when it is the `default` one (MySQL takes an unqualified referenced table for one in the
    referencing table's database), with the target's names (`--identifiers`)."""
    schemas = {tp.name: tp.target_schema for tp in plan.tables}
    return replace(plan.target_foreign_key(fk), schema=schemas.get(fk.table_key) or default,
                   ref_schema=schemas.get(fk.ref_key) or default)  # fmt: skip


def align_identities(
    dst, conn, tables: Sequence[TablePlan], lock_timeout: float | None = None
) -> dict[str, int]:
    """Make each identity's next value max(key) + 1; returns table -> next value. With
    `lock_timeout`, no statement waits longer for another session's lock."""
    identities: dict[str, int] = {}
    cur = conn.cursor()
    for tp in tables:
        col = tp.target.identity
        if col is None:
            continue
        live = live_table(dst, tp.target)
        _bound(dst, cur, lock_timeout)
        cur.execute(f"SELECT MAX({dst.quote(col.name)}) FROM {dst.qualified(live)}")
        top = cur.fetchone()[0]
        # at least 1: identities start there (PostgreSQL's MINVALUE), and a table may hold
        # only keys below it (StackOverflow's Community user is -1)
        next_value = max(1, (top or 0) + 1)
        if next_value > _HIGHEST.get(col.type.kind, next_value):
            # the source's identity is exhausted too: its next insert would fail the same way
            log.warning("%s: identity %r is at its type's maximum (%s): not aligned",
                        tp.name, col.name, top)  # fmt: skip
            continue
        for stmt in dst.align_identity_sql(live, next_value):
            cur.execute(stmt)
        conn.commit()
        identities[tp.name] = next_value
    return identities


def count_orphans(dst, conn, fk: ForeignKey) -> int:
    """Rows of `fk.table` whose non-NULL reference has no row in `fk.ref_table`."""
    child, parent = dst.qualified(fk.table, fk.schema), dst.qualified(fk.ref_table, fk.ref_schema)
    on = " AND ".join(
        f"p.{dst.quote(r)} = c.{dst.quote(c)}" for c, r in zip(fk.columns, fk.ref_columns)
    )
    notnull = " AND ".join(f"c.{dst.quote(c)} IS NOT NULL" for c in fk.columns)
    cur = conn.cursor()
    cur.execute(
        f"SELECT COUNT(*) FROM {child} c WHERE {notnull} "
        f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {on})"
    )
    n = int(cur.fetchone()[0])
    conn.rollback()
    return n


def _add_foreign_key(dst, conn, fk: ForeignKey, lock_timeout: float | None = None) -> int:
    cur = conn.cursor()
    try:
        for stmt in dst.add_foreign_key_sql(fk, fk.name):
            _bound(dst, cur, lock_timeout)
            cur.execute(stmt)
            conn.commit()  # a failed validation keeps the key added before it
    except Exception as exc:
        fault = dst.classify_fault(exc)
        if fault is faults.LOCK_TIMEOUT or fault.retryable:
            raise  # not the rows' fault: said as what it is (and a lost connection retried)
        conn.rollback()
        n = count_orphans(dst, conn, fk)
        log.warning("%s not enforced: %s orphan row(s) (%s)", fk.name, n, redact_all(str(exc)))
        return n
    return count_orphans(dst, conn, fk) if not dst.caps.transactional_ddl else 0
