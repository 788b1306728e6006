"""What makes a published table complete, done inside its publish (ADR 0021).

A table is swapped in with its identity already aligned (on the staging table, before the
rename: MAX(key) + 1) and with its foreign keys: its own, to a table already in the target
(or to itself); the plan's keys of tables already in the target that point at it; the
target's own keys that pointed at the table it replaces (read before the swap drops them,
made again after it); and keys to a table outside the copy, when the target has that table
with a key on the referenced columns. Where DDL is transactional (PostgreSQL, SQL Server)
each is added unchecked inside the swap's transaction, under a savepoint so that one key the
target refuses never undoes the swap; the finish step validates them (NOT VALID ->
VALIDATE; WITH NOCHECK -> WITH CHECK CHECK). Where it is not (MySQL) they are added, checked,
right after the atomic RENAME in the same publish, and whatever fails there is left to the
finish step, which every run ends with. A key unchecked is still enforced on every new row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from sluice.copy.plan import Plan, TablePlan
from sluice.copy.staging import live_table
from sluice.core.schema import ForeignKey, Table, qualified_key
from sluice.core.types import Kind
from sluice.core.urls import redact_all
from sluice.dialects.keys import LiveKey

log = logging.getLogger(__name__)
_HIGHEST = {Kind.SMALLINT: 2**15 - 1, Kind.INTEGER: 2**31 - 1, Kind.BIGINT: 2**63 - 1}


@dataclass
class Completion:
    """What a publish made of its table's keys: `added` (the keys, as landed, still to be
    validated where the engine adds them unchecked), `not_created` (qualified key name ->
    why: a key the target refused, or an outside table absent or without a matching key)."""

    identity: int | None = None  # the next identity value, where the table has one
    added: list[ForeignKey] = field(default_factory=list)
    not_created: dict[str, str] = field(default_factory=dict)
    failed: bool = False  # a key the target refused: the finish step must try it again


def landed(plan: Plan, fk: ForeignKey, default: str | None) -> ForeignKey:
    """`fk` between the two tables as they land: each end in its target schema, named even
    when it is the `default` one (MySQL takes an unqualified referenced table for one in the
    referencing table's database), with the target's names (`--identifiers`). An outside
    key's referenced end was placed by the plan (`copy.outside`)."""
    schemas = {tp.name: tp.target_schema for tp in plan.tables}
    ref_schema = schemas.get(fk.ref_key) if fk.ref_key in schemas else fk.ref_schema
    return replace(plan.target_foreign_key(fk), schema=schemas.get(fk.table_key) or default,
                   ref_schema=ref_schema or default)  # fmt: skip


def key_name(plan: Plan, fk: ForeignKey) -> str:
    """How results name a plan key: schema.FK_... outside the default schema."""
    return qualified_key(plan.table(fk.table_key).target_schema, plan.target_foreign_key(fk).name)


def next_identity(dst, cur, table: Table) -> int | None:
    """MAX(key) + 1 of `table`'s identity (at least 1: identities start there, and a table may
    hold only keys below it, as StackOverflow's Community user -1); None without an identity
    or at its type's maximum (the source's identity is exhausted too)."""
    col = table.identity
    if col is None:
        return None
    cur.execute(f"SELECT MAX({dst.quote(col.name)}) FROM {dst.qualified(table)}")
    top = cur.fetchone()[0]
    next_value = max(1, (top or 0) + 1)
    if next_value > _HIGHEST.get(col.type.kind, next_value):
        log.warning("%s: identity %r is at its type's maximum (%s): not aligned",
                    table.name, col.name, top)  # fmt: skip
        return None
    return next_value


def align_staging(dst, cur, stage: Table) -> int | None:
    """The staging table's identity made to hand out MAX(key) + 1 next, before it is renamed
    to the live table (in the swap's transaction where DDL is transactional)."""
    value = next_identity(dst, cur, stage)
    if value is not None:
        for stmt in dst.align_identity_sql(stage, value):
            cur.execute(stmt)
    return value


def _place(dst, default: str | None, schema: str | None, name: str) -> tuple:
    return ((schema or default or "").lower(), name.lower())


def keys_with(plan: Plan, tp: TablePlan, dst, default: str | None,
              present: set[str]) -> list[tuple[str, ForeignKey, bool]]:  # fmt: skip
    """The plan's keys a publish of `tp` adds: (name, key as landed, outside?) for its own
    keys (to itself, to a table of the plan in `present`, or outside the copy) and the keys
    of tables in `present` that point at it. `present`: plan keys of the tables the target
    has now (asked before the swap's transaction: the check rolls back)."""
    out = []
    here = present | {tp.name}
    for fk in plan.foreign_keys:
        if tp.name in (fk.table_key, fk.ref_key) and {fk.table_key, fk.ref_key} <= here:
            out.append((key_name(plan, fk), landed(plan, fk, default), False))
    for fk in plan.outside_foreign_keys:
        if fk.table_key == tp.name:
            out.append((key_name(plan, fk), landed(plan, fk, default), True))
    return out


def add_keys(dst, conn, plan: Plan, tp: TablePlan, default: str | None, present: set[str],
             incoming: list[LiveKey], done: Completion) -> list[str]:  # fmt: skip
    """Add the keys of `keys_with` and the target's own `incoming` keys (those the plan does
    not make itself) to the just swapped-in table, each under a savepoint where DDL is
    transactional; returns the statements validating them (run after the swap commits)."""
    live = live_table(dst, tp.target)
    validate: list[str] = []
    planned = keys_with(plan, tp, dst, default, present)
    made = {_place(dst, default, fk.schema, fk.table) + (fk.name.lower(),)
            for _, fk, _ in planned}  # fmt: skip
    todo = [(name, fk, dst.add_foreign_key_sql(fk, fk.name)) for name, fk, _ in planned]
    for key in incoming:
        fk = key.fk
        if _place(dst, default, fk.schema, fk.table) + (fk.name.lower(),) in made:
            continue  # the plan makes it
        fk = replace(fk, ref_schema=live.schema)
        todo.append((qualified_key(fk.schema if fk.schema != default else None, fk.name), fk,
                     dst.readd_foreign_key_sql(replace(key, fk=fk))))  # fmt: skip
    mark, undo = dst.savepoint_sql("sluice_key")
    transactional = dst.caps.transactional_ddl
    cur = conn.cursor()
    for name, fk, stmts in todo:
        parent = Table(fk.ref_table, (), schema=fk.ref_schema)
        try:
            for stmt in mark:
                cur.execute(stmt)
            if not dst.has_key_on(conn, parent, fk.ref_columns):
                cols = ", ".join(fk.ref_columns)
                done.not_created[name] = (f"the target has no table {dst.qualified(parent)} "
                                          f"with a key on ({cols})")  # fmt: skip
                continue
            for stmt in stmts[:1] if transactional else stmts:
                cur.execute(stmt)
        except Exception as exc:
            if dst.classify_fault(exc).retryable:
                raise  # a lost connection: the publish is retried, its keys with it
            for stmt in undo:
                cur.execute(stmt)
            done.failed = True
            done.not_created[name] = "the target refused it: " + redact_all(
                " ".join(str(exc).split())
            )
            log.warning("%s: foreign key %s not added: %s", tp.name, name,
                        done.not_created[name])  # fmt: skip
            continue
        done.added.append(fk)
        if transactional:
            validate += stmts[1:]
    return validate
