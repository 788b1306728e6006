"""Inheritance and partitioning in a copy (issue 26; the engines' side in dialects/hierarchy.py).

Every table is read for its own rows only, so a child's rows arrive once, with the child. A
partitioned table is one table of the plan (its partitions are left out by the selection,
`copy.scope`). The plan says what the target does not make (`not_carried`); finish makes
each copied child inherit its copied parents again (`attach_children`), after the publish
of either end took the inheritance away.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence

from sluice.core.definition import NotCarried
from sluice.core.schema import Table

log = logging.getLogger(__name__)


def not_carried(dst, tables: Sequence[Table]) -> list[NotCarried]:
    """What of the tables' inheritance and partitioning the target `dst` does not make: all
    of it where it has neither (each table lands with its own rows), a parent left out of
    the copy where it has inheritance."""
    keys = {t.key for t in tables}
    out: list[NotCarried] = []
    for t in tables:
        items = dst.hierarchy_not_carried(t)
        if t.inherits and not any(n.kind == "inheritance" for n in items):
            why = "is not copied: {} lands as a table of its own (its own rows only)"
            out += [NotCarried("inheritance", t.key, f"its parent {p} {why.format(t.key)}")
                    for p in t.inherits if p not in keys]  # fmt: skip
        out += items
    return out


def attach_children(dst, conn, plan, published: Collection[str] | None, lock_timeout,
                    bound, live_table) -> list[str]:  # fmt: skip
    """Make every copied child inherit its copied parents on the target, where either end was
    `published` (None: all); returns "child -> parent" of each inheritance added. `bound`
    bounds a statement's lock waits; `live_table` places a plan table on the target."""
    names = {tp.name for tp in plan.tables}
    added = []
    for tp in plan.tables:
        parents = [p for p in tp.table.inherits if p in names]
        if published is not None and not {tp.name, *parents} & set(published):
            continue
        for parent in parents:
            child, of = live_table(dst, tp.target), live_table(dst, plan.table(parent).target)
            cur = conn.cursor()
            bound(dst, cur, lock_timeout)
            for stmt in dst.inherit_sql(conn, child, of):
                cur.execute(stmt)
                added.append(f"{tp.name} -> {parent}")
            conn.commit()
    if added:
        log.info("finish: %d table(s) inherit their parent again", len(added))
    return added
