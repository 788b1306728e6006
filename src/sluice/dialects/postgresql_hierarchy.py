"""PostgreSQL's table inheritance and declarative partitioning (issue 26, dialects/hierarchy.py).

Reading: a table that is not partitioned is read as `ONLY t` (its own rows, never its
children's); a partitioned table is read whole (ONLY would read nothing: it has no rows of
its own). Reflection reads each table's parents (pg_inherits) and each partitioned table's
strategy, key and partitions (pg_get_partkeydef, pg_get_expr(relpartbound)); a partition
is copied with its root, never as a table of its own.

Writing: a partitioned table is created partitioned, its partitions named after the
staging table's (copy/staging.py) and renamed to the source's names by the swap, in its
transaction, with the indexes PostgreSQL made on them (a table holding such a name, as an
earlier copy that copied partitions as tables left, is replaced); sub-partitions likewise, to
any depth. A child is created with all its columns
and made to inherit its parents again by finish; a swap replacing a parent first takes its
children out of the inheritance (finish adds it back).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sluice.core.definition import NotCarried, Partitioning
from sluice.core.schema import Table
from sluice.dialects.base import PARAM
from sluice.dialects.hierarchy import Hierarchy, Lineage

# (child, parent's schema, parent) of the schema's tables that inherit (partitions left out)
PARENTS = (
    "SELECT c.relname, pn.nspname, p.relname FROM pg_catalog.pg_inherits h "
    "JOIN pg_catalog.pg_class c ON c.oid = h.inhrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_catalog.pg_class p ON p.oid = h.inhparent "
    "JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace "
    "WHERE n.nspname = %(schema)s AND NOT c.relispartition ORDER BY c.relname, h.inhseqno"
)
# (root, relation, its key definition if partitioned, its parent, its bound) of every
# relation in the partition trees of the schema's partitioned tables that are not partitions
PARTITIONS = (
    "SELECT root.relname, c.relname, CASE WHEN c.relkind = 'p' THEN "
    "pg_catalog.pg_get_partkeydef(c.oid) END, p.relname, "
    "pg_catalog.pg_get_expr(c.relpartbound, c.oid) "
    "FROM pg_catalog.pg_class root "
    "JOIN pg_catalog.pg_namespace n ON n.oid = root.relnamespace "
    "CROSS JOIN LATERAL pg_catalog.pg_partition_tree(root.oid) t "
    "JOIN pg_catalog.pg_class c ON c.oid = t.relid "
    "LEFT JOIN pg_catalog.pg_class p ON p.oid = t.parentrelid "
    "WHERE n.nspname = %(schema)s AND root.relkind = 'p' AND NOT root.relispartition "
    "ORDER BY root.relname, t.level, c.relname"
)
# (partition, its root's schema, its root) of the schema's partitions, at any depth
ROOTS = (
    "SELECT c.relname, rn.nspname, r.relname FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_catalog.pg_class r ON r.oid = pg_catalog.pg_partition_root(c.oid) "
    "JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace "
    "WHERE n.nspname = %(schema)s AND c.relispartition"
)
# the children of a table (its partitions left out), as regclass text
CHILDREN = (
    "SELECT c.oid::regclass::text FROM pg_catalog.pg_inherits h "
    "JOIN pg_catalog.pg_class c ON c.oid = h.inhrelid "
    "WHERE h.inhparent = to_regclass(%s) AND NOT c.relispartition ORDER BY 1"
)
INHERITS = (
    "SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL, EXISTS (SELECT 1 "
    "FROM pg_catalog.pg_inherits WHERE inhrelid = to_regclass(%s) "
    "AND inhparent = to_regclass(%s))"
)
# the relations holding a table's rows (%s twice: the table): itself, or the leaves of its
# partition tree when it is partitioned
_HOLDERS = ("pg_catalog.pg_class c WHERE c.relkind <> 'p' AND c.oid IN (SELECT relid FROM "
            "pg_catalog.pg_partition_tree(to_regclass({p})) WHERE isleaf "
            "UNION ALL SELECT to_regclass({p}))")  # fmt: skip
# heap + TOAST + free-space/visibility maps, without indexes: what a COPY reads
BYTES = "SELECT sum(pg_catalog.pg_table_size(c.oid))::bigint FROM " + _HOLDERS
# the planner's own estimate: tuples per page at the last ANALYZE/VACUUM, times the pages the
# table has now; NULL before the first one (then COUNT(*) is used); summed over partitions
ESTIMATE = (
    "SELECT CASE WHEN bool_or(c.reltuples < 0 OR c.relpages = 0) THEN NULL ELSE "
    "sum(round(c.reltuples / NULLIF(c.relpages, 0) * (pg_relation_size(c.oid) / "
    "current_setting('block_size')::int)))::bigint END FROM " + _HOLDERS
)
# Renames the indexes PostgreSQL made on a partition (named after its staging name) after
# the partition's live name, as PostgreSQL would have named them: {pairs} is a VALUES list
# of (staging name, live name), {schema} the schema as a literal.
_INDEX_RENAMES = """DO $sluice$ DECLARE r record; wanted text; BEGIN
FOR r IN SELECT i.relname AS ix, v.stage, v.live FROM (VALUES {pairs}) AS v(stage, live)
  JOIN pg_catalog.pg_class c ON c.relname = v.live
   AND c.relnamespace = to_regnamespace({schema})
  JOIN pg_catalog.pg_index x ON x.indrelid = c.oid
  JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
  WHERE left(i.relname, length(v.stage)) = v.stage LOOP
  wanted := r.live || substr(r.ix, length(r.stage) + 1);
  IF to_regclass(format('%I.%I', {schema}, wanted)) IS NULL THEN
    EXECUTE format('ALTER INDEX %I.%I RENAME TO %I', {schema}, r.ix, wanted);
  END IF;
END LOOP; END $sluice$"""


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _partitioning(name: str, nodes: dict, engine: str) -> Partitioning:
    """`name`'s partitioning from `nodes` (relation -> (key definition, parent, bound))."""
    strategy, _, rest = nodes[name][0].partition(" ")  # "RANGE (logdate)"
    key = rest.strip()[1:-1] if rest.strip().startswith("(") else rest.strip()
    children = [(n, bound) for n, (_, parent, bound) in nodes.items() if parent == name]
    subs = tuple((n, _partitioning(n, nodes, engine)) for n, _ in children if nodes[n][0])
    return Partitioning(strategy.lower(), key, tuple(children), engine, subs)


class PostgresHierarchy(Hierarchy):
    def create_table_sql(self, table: Table, *, primary_key: bool = True) -> list[str]:
        stmts = super().create_table_sql(table, primary_key=primary_key)  # type: ignore[misc]
        p = table.partitioning
        if not self.makes_partitions(p):
            return stmts
        assert p is not None
        stmts[0] += f" PARTITION BY {p.strategy.upper()} ({p.key})"
        return stmts + self._partitions_sql(self.qualified(table), p, table.schema)

    def _partitions_sql(self, parent: str, p: Partitioning, schema: str | None) -> list[str]:
        """Each partition of `parent`, partitioned itself where the source's is, then its own."""
        subs, stmts = dict(p.subpartitions), []
        for name, bound in p.partitions:
            sub, made = subs.get(name), self.qualified(name, schema)
            by = f" PARTITION BY {sub.strategy.upper()} ({sub.key})" if sub else ""
            stmts.append(f"CREATE TABLE {made} PARTITION OF {parent} {bound}{by}")
            stmts += self._partitions_sql(made, sub, schema) if sub else []
        return stmts

    def makes_partitions(self, p: Partitioning | None) -> bool:
        """Whether a table of partitioning `p` is made partitioned here: a PostgreSQL
        source's (another engine's partitioning is its own SQL)."""
        return p is not None and p.engine == self.name

    def relation_bytes_sql(self, table: Table) -> tuple[str, list[Any]] | None:
        return BYTES.format(p=PARAM), [self.qualified(table)] * 2

    def row_estimate_sql(self, table: Table) -> tuple[str, list[Any]] | None:
        return ESTIMATE.format(p=PARAM), [self.qualified(table)] * 2

    def relation_sql(self, table: Table) -> str:
        # ONLY on a table without children changes nothing; on a partitioned one it would
        # read nothing, so that one is read whole (its partitions are its rows)
        q = self.qualified(table)
        return q if table.partitioning is not None else f"ONLY {q}"

    def read_hierarchy(self, bind: Any, schema: str | None,
                       names: Sequence[str]) -> dict[str, Lineage]:  # fmt: skip
        wanted = set(names)
        with bind.connect() as conn:  # catalog rows, a few per table
            parents = conn.exec_driver_sql(PARENTS, {"schema": schema}).fetchall()
            parts = conn.exec_driver_sql(PARTITIONS, {"schema": schema}).fetchall()
            conn.rollback()
        found: dict[str, Lineage] = {}
        for child, pschema, parent in parents:
            if child in wanted:
                found[child] = ((*found.get(child, ((), None))[0], (pschema, parent)), None)
        trees: dict[str, dict] = {}  # root -> relation -> (key definition, parent, bound)
        for root, rel, keydef, parent, bound in parts:
            if root in wanted:
                trees.setdefault(root, {})[rel] = (keydef, parent, bound)
        for name, nodes in trees.items():
            found[name] = (found.get(name, ((), None))[0], _partitioning(name, nodes, self.name))
        return found

    def partition_roots(self, bind: Any, schema: str | None) -> dict[str, tuple[str, str]]:
        with bind.connect() as conn:
            rows = conn.exec_driver_sql(ROOTS, {"schema": schema}).fetchall()
            conn.rollback()
        return {name: (rschema, root) for name, rschema, root in rows}

    def hierarchy_not_carried(self, table: Table) -> list[NotCarried]:
        p = table.partitioning
        if p is None or self.makes_partitions(p):
            return []  # inheritance is made again by finish
        return [NotCarried(
            "partitioning", table.key,
            f"a {p.engine or 'another engine'}'s partitioning: {table.key} is one plain "
            "table holding the rows of every partition",
            f"PARTITION BY {p.strategy.upper()} ({p.key})")]  # fmt: skip

    def swap_sql(self, staging: Table, live: Table, live_exists: bool) -> list[str]:
        stmts = super().swap_sql(staging, live, live_exists)  # type: ignore[misc]
        ps, pl = staging.partitioning, live.partitioning
        if not self.makes_partitions(ps) or pl is None:
            return stmts
        assert ps is not None
        pairs = [(s, n) for s, n in zip(ps.names(), pl.names()) if s != n]
        for stage, name in pairs:  # a table of that name (an earlier copy's) is replaced
            stmts += [f"DROP TABLE IF EXISTS {self.qualified(name, live.schema)}",
                      f"ALTER TABLE {self.qualified(stage, staging.schema)} "
                      f"RENAME TO {self.quote(name)}"]  # fmt: skip
        values = ", ".join(f"({_literal(s)}, {_literal(n)})" for s, n in pairs)
        block = _INDEX_RENAMES.format(pairs=values, schema=_literal(live.schema or "public"))
        if pairs and block.count("$sluice$") == 2:  # a name holding the quote: left as made
            stmts.append(block)
        return stmts

    def detach_children_sql(self, conn: Any, table: Table) -> list[str]:
        parent = self.qualified(table)
        rows = conn.execute(CHILDREN, (parent,)).fetchall()
        return [f"ALTER TABLE {child} NO INHERIT {parent}" for (child,) in rows]

    def inherit_sql(self, conn: Any, child: Table, parent: Table) -> list[str]:
        c, p = self.qualified(child), self.qualified(parent)
        both, already = conn.execute(INHERITS, (c, p, c, p)).fetchone()
        return [f"ALTER TABLE {c} INHERIT {p}"] if both and not already else []
