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
from dataclasses import dataclass, field

from sluice.copy import hierarchy
from sluice.copy.completion import key_name, landed, next_identity
from sluice.copy.plan import Plan, TablePlan
from sluice.copy.publish import DEFAULT_LOCK_TIMEOUT, lock_timed_out, target_fault
from sluice.copy.staging import live_table
from sluice.copy.stalls import watched
from sluice.core import faults
from sluice.core.errors import SluiceError
from sluice.core.faults import where
from sluice.core.schema import ForeignKey, Table
from sluice.core.urls import DbUrl, redact_all
from sluice.dialects import get_dialect

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FinishResult:
    identities: dict[str, int]  # table -> next identity value
    orphans: dict[str, int]  # foreign key name -> rows whose reference is missing
    # keys to tables outside the copy (ADR 0021): name -> "created", or why it was not
    outside: dict[str, str] = field(default_factory=dict)

    @property
    def outside_missing(self) -> dict[str, str]:
        return {k: why for k, why in self.outside.items() if why != "created"}


def finish(
    plan: Plan,
    target: DbUrl,
    published: Collection[str] | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    added: dict[str, int] | None = None,
) -> FinishResult:
    """Finish every table of `plan`, or only the `published` ones (a run that stopped early):
    their identities; the foreign keys with an end among them whose other end exists in the
    target (a key between two tables the run never replaced is still in place), added where
    the publish could not and validated where it added them unchecked; the keys to tables
    outside the copy, where the target has the referenced table with a matching key (else
    said, in `outside`); and every key of another table pointing at them that the publish
    made again unchecked, validated. Safe to run again, on any state of the target: a key
    present and valid is left as it is.
    Each statement waits at most `lock_timeout` seconds for another session's lock, then
    fails naming that session. `added` (kept across tries by `retried.finish_retried`)
    records each foreign key once added, with its orphans: a later try skips it (aligning
    identities again changes nothing)."""
    dst = get_dialect(target.engine)
    conn = dst.connect(target)
    orphans: dict[str, int] = {} if added is None else added
    outside: dict[str, str] = {}
    tables = plan.tables if published is None else [t for t in plan.tables if t.name in published]
    lives = {tp.name: live_table(dst, tp.target) for tp in plan.tables}
    on = None  # the tables whose lock a statement may be waiting for
    try:
        with watched(dst, target, conn, "target", "finish"):
            log.info("finish: aligning identity values")
            # only tables the target has: a DAG's finish runs after a failed publish too
            tables = [tp for tp in tables if dst.table_exists(conn, lives[tp.name])]
            on = {tp.name: lives[tp.name] for tp in tables}
            identities = align_identities(dst, conn, tables, lock_timeout)
            log.debug("finish: %d identity value(s) aligned", len(identities))
            on = lives  # children inherit their parents again (copy.hierarchy)
            hierarchy.attach_children(dst, conn, plan, published, lock_timeout, _bound,
                                      live_table)  # fmt: skip
            keys = _touching(dst, conn, plan, {tp.name for tp in tables})
            away = [fk for fk in plan.outside_foreign_keys
                    if fk.table_key in {tp.name for tp in tables}]  # fmt: skip
            if keys or away:
                log.info("finish: %d foreign key(s)", len(keys) + len(away))
            default = dst.url_schema(target)
            declared: dict[str, dict[str, bool]] = {}
            for fk in (*keys, *away):  # named as the plan names the table
                on = {n: lives[n] for n in (fk.table_key, fk.ref_key) if n in lives}
                name = key_name(plan, fk)
                if name in orphans:
                    continue  # an earlier try added it
                is_out = fk.ref_key not in lives  # outside the copy
                fk = landed(plan, fk, default)
                state = _declared(dst, conn, fk, declared)
                if is_out:
                    why = _why_not(dst, conn, fk, state)
                    outside[name] = why or "created"
                    if why:
                        continue
                stmts = dst.add_foreign_key_sql(fk, fk.name)
                if state is True:
                    orphans[name] = 0
                    continue
                todo = stmts[1:] if state is False else stmts  # validate, or add
                orphans[name] = _add_foreign_key(dst, conn, fk, lock_timeout, todo)
            ours = {((t.schema or default or "").lower(), t.name.lower()) for t in lives.values()}
            for tp in tables:  # the target's own keys made again unchecked by the publish
                on = {tp.name: lives[tp.name]}
                found = dst.foreign_keys_to(conn, lives[tp.name])
                conn.rollback()
                for key in found:
                    owner = ((key.fk.schema or default or "").lower(), key.fk.table.lower())
                    if owner in ours:
                        continue  # a table of the plan: its keys are the plan's, done above
                    if not key.validated and key.fk.name not in orphans:
                        orphans[key.fk.name] = _add_foreign_key(
                            dst, conn, key.fk, lock_timeout, dst.readd_foreign_key_sql(key)[1:]
                        )
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
    for name, why in outside.items():
        if why != "created":
            log.warning("foreign key %s not created: %s", name, why)
    return FinishResult(identities, orphans, outside)


def _declared(dst, conn, fk: ForeignKey, seen: dict) -> bool | None:
    """Whether `fk` (as landed) is in the target: True valid, False unchecked, None absent."""
    child = Table(fk.table, (), schema=fk.schema)
    if fk.table_key not in seen:
        seen[fk.table_key] = {k.lower(): v for k, v in dst.foreign_keys_of(conn, child).items()}
        conn.rollback()
    return seen[fk.table_key].get(fk.name.lower())


def _why_not(dst, conn, fk: ForeignKey, state: bool | None) -> str:
    """Why a key to a table outside the copy cannot be made ("" when it can, or is)."""
    if state is not None:
        return ""
    parent = Table(fk.ref_table, (), schema=fk.ref_schema)
    keyed = dst.has_key_on(conn, parent, fk.ref_columns)
    conn.rollback()
    if keyed:
        return ""
    cols = ", ".join(fk.ref_columns)
    return f"the target has no table {dst.qualified(parent)} with a key on ({cols})"


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


def align_identities(
    dst, conn, tables: Sequence[TablePlan], lock_timeout: float | None = None
) -> dict[str, int]:
    """Make each identity's next value max(key) + 1; returns table -> next value. With
    `lock_timeout`, no statement waits longer for another session's lock."""
    identities: dict[str, int] = {}
    cur = conn.cursor()
    for tp in tables:
        if tp.target.identity is None:
            continue
        live = live_table(dst, tp.target)
        _bound(dst, cur, lock_timeout)
        next_value = next_identity(dst, cur, live)
        if next_value is None:
            conn.rollback()
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


def _add_foreign_key(dst, conn, fk: ForeignKey, lock_timeout: float | None = None,
                     stmts: Sequence[str] | None = None) -> int:  # fmt: skip
    """Add `fk` (or run `stmts`: validating it, where it is there unchecked); returns its
    orphan rows, counted when the key cannot be enforced on them."""
    cur = conn.cursor()
    try:
        for stmt in dst.add_foreign_key_sql(fk, fk.name) if stmts is None else stmts:
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
