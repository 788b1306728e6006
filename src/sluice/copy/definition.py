"""What of each table's definition beyond its columns the target makes, and what it cannot
(issue 26, ADR 0020): defaults, collations, CHECK constraints and foreign-key behaviour the
target's dialect has no rendering for are listed in `Plan.not_carried` with the source's
text, never dropped unsaid. Items whose text would make the target refuse the table (a
CHECK reading a column renamed by `--identifiers` or left out by `--exclude-columns`, a
default taking the next value of a sequence the copy does not make) are taken out of the
planned table as well, so the rest of it is still created."""

from __future__ import annotations

import re
from dataclasses import replace

from sluice.core.definition import BY_DEFAULT, SEQUENCE, NotCarried
from sluice.core.schema import Column, ForeignKey, Table
from sluice.dialects import get_dialect


def settle(plan, collations: str = "source"):
    """`plan` with each table's definition settled for its target: what cannot be made
    taken out and listed, with everything else the dialect renders left in place."""
    src, dst = get_dialect(plan.source_engine), get_dialect(plan.target_engine)
    sequences = {_bare(s.name) for s in plan.sequences if not s.reason}
    items: list[NotCarried] = []
    tables = []
    for tp in plan.tables:
        table = tp.table
        renamed = bool(tp.names) and any(s != d for s, d in tp.names.columns)
        excluded = set(tp.excluded)
        table = _sequence_key(dst, table)
        if table.comment and (why := dst.comment_refused(table.comment, column=False)):
            items.append(NotCarried("comment", table.key, why, _comment_ddl(table.comment)))
            table = replace(table, comment=None)
        columns = tuple(_column(src, dst, table, _collated(c, collations, table, items),
                                sequences, items) for c in table.columns)  # fmt: skip
        checks = []
        for check in table.checks:
            key = f"{table.key}.{check.name or 'check'}"
            ddl = f"CHECK ({check.expression})"
            gone = [c for c in excluded if _mentions(check.expression, c)]
            if check.needs:
                why = f"it calls {check.needs}, which the copy does not make"
                items.append(NotCarried("check", key, why + _BY_HAND, ddl))
                continue
            if renamed or gone:
                why = (
                    f"it reads column {gone[0]}, left out by --exclude-columns"
                    if gone
                    else f"--identifiers {plan.identifiers} renames the columns it reads"
                )
                items.append(NotCarried("check", key, why, ddl))
                continue
            if dst.check_clause(check) is None:
                items.append(NotCarried("check", key, _no_equivalent(src, dst, "CHECK"), ddl))
            checks.append(check)
        if table is not tp.table or columns != table.columns or tuple(checks) != table.checks:
            tp = replace(tp, table=replace(table, columns=columns, checks=tuple(checks)))
        tables.append(tp)
    for fk in plan.foreign_keys:
        items += _key_options(dst, fk)
    keys = _unique_key_names(dst, plan, items)
    return replace(plan, tables=tuple(tables), foreign_keys=keys,
                   not_carried=plan.not_carried + tuple(items))  # fmt: skip


def _unique_key_names(dst, plan, items: list) -> tuple[ForeignKey, ...]:
    """The plan's foreign keys, where the target names constraints once per schema and two
    source keys landing in one schema share a name (PostgreSQL names them per table): the
    later ones named by sluice (`FK_<table>_<columns>`), each listed with the source's name."""
    if not dst.constraint_names_per_schema:
        return plan.foreign_keys
    landing = {tp.name: tp.target_schema for tp in plan.tables}
    seen: set[tuple] = set()
    out = []
    for fk in plan.foreign_keys:
        where = landing.get(fk.table_key)
        if (where, fk.name.lower()) in seen and fk.constraint:
            ours = replace(fk, constraint=None)
            why = (f"another key in its schema has this name, unique per schema on "
                   f"{dst.name}: made as {ours.name}")  # fmt: skip
            items.append(NotCarried("foreign key name", f"{fk.table_key}.{fk.name}", why, fk.name))
            fk = ours
        seen.add((where, fk.name.lower()))
        out.append(fk)
    return tuple(out)


def _sequence_key(dst, table: Table) -> Table:
    """A table whose single integer key takes its values from a sequence default the target
    cannot render (a PostgreSQL `nextval()` on MariaDB): the key becomes an identity BY
    DEFAULT there (values still generated, explicit ids still accepted), as sluice made
    such keys before defaults were read."""
    if table.identity is not None or len(table.primary_key) != 1:
        return table
    key = table.column(table.primary_key[0])
    d = key.default
    kinds = dst.caps.identity_kinds
    if d is None or d.kind != SEQUENCE or (kinds is not None and key.type.kind not in kinds):
        return table
    if dst.default_clause(key) is not None:
        return table
    made = replace(key, identity=True, identity_kind=BY_DEFAULT)
    return replace(table, columns=tuple(made if c is key else c for c in table.columns))


def _column(src, dst, table: Table, c: Column, sequences: set[str], items: list) -> Column:
    key = f"{table.key}.{c.name}"
    d = c.default
    if d is not None and not c.identity:
        seq = d.kind == SEQUENCE and d.engine == dst.name
        if d.needs:
            why = f"it calls {d.needs}, which the copy does not make"
            items.append(NotCarried("default", key, why + _BY_HAND, d.text))
            c = replace(c, default=None)
        elif seq and _bare(d.value) not in sequences:
            why = f"the sequence {d.value} it takes values from is not copied"
            items.append(NotCarried("default", key, why, d.text))
            c = replace(c, default=None)
        elif dst.default_clause(c) is None:
            items.append(NotCarried("default", key, _no_equivalent(src, dst, "default"), d.text))
    if c.comment and (why := dst.comment_refused(c.comment, column=True)):
        items.append(NotCarried("comment", key, why, _comment_ddl(c.comment)))
        c = replace(c, comment=None)
    if c.on_update and not dst.carries_on_update:
        why = f"no {dst.name} equivalent made: the column keeps what an UPDATE writes"
        items.append(NotCarried("on update", key, why, "ON UPDATE CURRENT_TIMESTAMP"))
    if c.collation and dst.collation_clause(c) is None:
        why = _no_equivalent(src, dst, "collation")
        if c.case_insensitive:
            why += " (it compares case-insensitively: uniqueness and sorting change)"
        items.append(NotCarried("collation", key, why, f"COLLATE {c.collation}"))
    return c


def _collated(c: Column, collations: str, table: Table, items: list) -> Column:
    """`c` as `--collations` asks: as is ("source"), or with the target's default collation
    ("target"), its own named as not carried."""
    if collations != "target" or not c.collation:
        return c
    why = "--collations target: the column takes the target's default collation"
    if c.case_insensitive:
        why += " (the source compares it case-insensitively: uniqueness and sorting change)"
    items.append(NotCarried("collation", f"{table.key}.{c.name}", why, f"COLLATE {c.collation}"))
    return replace(c, collation=None, case_insensitive=None)


NO_ICU = ("the target PostgreSQL is built without ICU (as the embedded one is): no "
          "case-insensitive or ICU collation can be made there; the column takes the target's "
          "default collation and compares case-sensitively")  # fmt: skip


def without_icu(plan, ready: bool):
    """`plan` for a target that cannot make ICU collations (`ready` False): the ICU
    collations it would make and every column using one, or compared case-insensitively,
    taken out and each column listed as not carried. Unchanged when `ready`."""
    if ready:
        return plan
    icu = [n for n in plan.native_types if n.kind == "collation" and "provider = icu" in n.ddl]
    gone = {f"{n.schema}.{n.name}" for n in icu}
    items, tables = [], []
    for tp in plan.tables:
        columns = []
        for c in tp.table.columns:
            if c.collation and (c.case_insensitive or c.collation.replace('"', "") in gone):
                items.append(NotCarried("collation", f"{tp.table.key}.{c.name}", NO_ICU,
                                        f"COLLATE {c.collation}"))  # fmt: skip
                c = replace(c, collation=None, case_insensitive=None)
            columns.append(c)
        tables.append(replace(tp, table=replace(tp.table, columns=tuple(columns))))
    return replace(plan, tables=tuple(tables), not_carried=plan.not_carried + tuple(items),
                   native_types=tuple(n for n in plan.native_types if n not in icu))  # fmt: skip


def needs_icu(plan) -> bool:
    """Whether the plan makes an ICU collation or a case-insensitive column (then the
    target is asked whether it can)."""
    return any(
        n.kind == "collation" and "provider = icu" in n.ddl for n in plan.native_types
    ) or any(c.collation and c.case_insensitive for tp in plan.tables for c in tp.table.columns)


_BY_HAND = ": make it on the target, then add this by hand"


def _comment_ddl(text: str) -> str:
    """A comment as the plan shows it: its text as a standard string literal."""
    return "COMMENT '" + text.replace("'", "''") + "'"


def _key_options(dst, fk: ForeignKey) -> list[NotCarried]:
    """A foreign key's behaviour the target has no form for (it is created without it)."""
    out = []
    key = f"{fk.table_key}.{fk.name}"
    for what, action in (("DELETE", fk.on_delete), ("UPDATE", fk.on_update)):
        if action and action not in dst.key_actions:
            out.append(NotCarried("foreign key action", key,
                                  f"{dst.name} has no ON {what} {action}: the key is made "
                                  "with NO ACTION", f"ON {what} {action}"))  # fmt: skip
    if fk.deferrable and not dst.deferrable_keys:
        ddl = "DEFERRABLE INITIALLY DEFERRED" if fk.initially_deferred else "DEFERRABLE"
        out.append(NotCarried("foreign key option", key,
                              f"{dst.name} checks every key at once: the key is made "
                              "not deferrable", ddl))  # fmt: skip
    return out


def _no_equivalent(src, dst, what: str) -> str:
    if src.name == dst.name:
        return f"{dst.name} refuses this {what} here"
    return f"no {dst.name} equivalent of this {src.name} {what}"


def _mentions(expression: str, column: str) -> bool:
    """Whether an expression names `column` (as a word, quoted or not)."""
    return re.search(rf'(?<![\w"`\]]){re.escape(column)}(?![\w"`\]])', expression) is not None or (
        any(q + column + e in expression for q, e in ('""', "``", "[]"))
    )


def _bare(name: str) -> str:
    """A sequence's name without its schema or quotes (how a default and the plan's
    sequences are matched)."""
    last = re.findall(r'"((?:[^"]|"")*)"|([^."]+)', name)
    quoted, plain = last[-1] if last else ("", name)
    return quoted.replace('""', '"') if quoted else plain
