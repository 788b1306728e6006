"""The `Dialect` methods for tables built on other tables (issue 26): PostgreSQL's table
inheritance (a child INHERITS a parent; reading the parent reads the children's rows too)
and declarative partitioning (a partitioned table holds no rows of its own: its partitions
do, and reading it reads them all).

A read of a table reads its own rows only (`relation_sql`): a child's rows are copied with
the child, never a second time through its parent. A partitioned table is one table: its
partitions are not copied as tables of their own (`partition_roots` names them so the
selection leaves them out, with the reason). The source reads the hierarchy
(`read_hierarchy`); the target recreates what it can (the PostgreSQL override) and the plan
names the rest (`hierarchy_not_carried`). Engines without either keep these defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sluice.core.definition import NotCarried, Partitioning
from sluice.core.schema import Table

# a table's (parents as (schema, name), in declaration order; its partitioning or None)
Lineage = tuple[tuple[tuple[str, str], ...], Partitioning | None]


class Hierarchy:
    """Mixed into `Dialect`; PostgreSQL overrides it (dialects/postgresql_hierarchy.py)."""

    name: str

    def quote(self, ident: str) -> str:  # Dialect's
        raise NotImplementedError

    def qualified(self, table: Any, schema: str | None = None) -> str:  # Dialect's
        raise NotImplementedError

    # --- reading (both sides) -------------------------------------------------------------
    def relation_sql(self, table: Table) -> str:
        """What a read of `table`'s own rows names after FROM: the table here; PostgreSQL
        adds ONLY to a table that may have children (never to a partitioned one, which has
        no rows of its own)."""
        return self.qualified(table)

    # --- the source's side ----------------------------------------------------------------
    def read_hierarchy(self, bind: Any, schema: str | None,
                       names: Sequence[str]) -> dict[str, Lineage]:  # fmt: skip
        """Table name -> (its parents, its partitioning) for the tables of `schema` among
        `names` that inherit or are partitioned, one catalog query (SQLAlchemy `bind`)."""
        return {}

    def partition_roots(self, bind: Any, schema: str | None) -> dict[str, tuple[str, str]]:
        """Partition name -> its partitioned root table (schema, name), for the partitions
        in `schema`: they are copied with their root, not as tables of their own."""
        return {}

    # --- the target's side ----------------------------------------------------------------
    def hierarchy_not_carried(self, table: Table) -> list[NotCarried]:
        """What of `table`'s inheritance and partitioning this engine does not create (the
        rows always arrive: each table with its own rows, a partitioned one as one table)."""
        out = []
        if table.inherits:
            out.append(NotCarried(
                "inheritance", table.key,
                f"{self.name} has no table inheritance: {table.key} is a table of its own "
                f"(its own rows only, not its parents' {', '.join(table.inherits)})"))  # fmt: skip
        if table.partitioning is not None:
            out.append(NotCarried(
                "partitioning", table.key,
                f"{self.name} target: {table.key} is one plain table holding the rows of its "
                f"{len(table.partitioning.partitions)} partition(s)",
                f"PARTITION BY {table.partitioning.strategy.upper()} "
                f"({table.partitioning.key})"))  # fmt: skip
        return out

    def detach_children_sql(self, conn: Any, table: Table) -> list[str]:
        """Statements, in the swap's transaction before the live `table` is dropped, taking
        the tables that inherit it out of the inheritance (finish adds it back)."""
        return []

    def inherit_sql(self, conn: Any, child: Table, parent: Table) -> list[str]:
        """Statements making the live `child` inherit the live `parent` again (none when it
        does already, or where the engine has no inheritance)."""
        return []
