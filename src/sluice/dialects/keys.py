"""What a publish needs to know about the keys already in the target (issue 26, ADR 0021):
the foreign keys of other tables that point at a table about to be replaced (read before the
swap drops them, so that they are made again right after it), which keys of a table exist
and whether they were validated, and whether a table has a primary key or unique key on
exactly some columns (a foreign key can reference it).

One catalogue query each; the engine modules fill them in (postgresql_keys, mysql_keys,
mssql_keys). An engine without them (SQLite: no ALTER TABLE ... ADD CONSTRAINT) answers
"none", and its keys stay as the finish step leaves them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sluice.core.schema import ForeignKey, Table


@dataclass(frozen=True)
class LiveKey:
    """A foreign key as the target holds it: `fk` (both ends placed in their schemas, named),
    `definition` (the engine's own text after ADD CONSTRAINT name, when the engine can give
    it whole: PostgreSQL's pg_get_constraintdef; "" to render `fk`), `validated` (checked
    against every row; a key added unchecked and never validated is False)."""

    fk: ForeignKey
    definition: str = ""
    validated: bool = True


def grouped_keys(rows: Iterable[tuple], table: Table,
                 action: Callable[[Any], str]) -> list[LiveKey]:  # fmt: skip
    """The keys pointing at `table` from catalogue rows of one column pair each:
    (schema, owner table, name, on delete, on update, validated, column, referenced column),
    the actions in the engine's words (`action` turns them into ForeignKey's)."""
    found: dict[tuple, list] = {}
    for *key, col, ref in rows:
        found.setdefault(tuple(key), []).append((col, ref))
    return [
        LiveKey(
            ForeignKey(
                owner,
                tuple(c for c, _ in cols),
                table.name,
                tuple(r for _, r in cols),
                schema,
                table.schema,
                name,
                action(on_delete),
                action(on_update),
            ),
            validated=bool(validated),
        )  # fmt: skip
        for (schema, owner, name, on_delete, on_update, validated), cols in found.items()
    ]


class Keys:
    # whether foreign keys are added to existing tables here (SQLite: no ALTER TABLE ... ADD
    # CONSTRAINT; its keys are left to the finish step, as they always were)
    alters_foreign_keys = True

    def add_foreign_key_sql(self, fk: ForeignKey, name: str) -> list[str]:  # Dialect's
        raise NotImplementedError

    def foreign_keys_to(self, conn: Any, table: Table) -> list[LiveKey]:
        """The foreign keys of other tables that reference `table` (its own self-references
        excluded: they go with it). Read inside the swap's transaction, before they are
        dropped."""
        return []

    def foreign_keys_of(self, conn: Any, table: Table) -> dict[str, bool]:
        """The foreign keys declared on `table`: name -> validated."""
        return {}

    def has_key_on(self, conn: Any, table: Table, columns: Sequence[str]) -> bool:
        """Whether `table` has a primary key or a unique key (a unique index without a
        predicate) on exactly `columns`, in any order: a foreign key can reference them."""
        return False

    def built_indexes(self, conn: Any, table: Table) -> tuple[bool, set[str]] | None:
        """(whether `table` has a primary key, the names of its indexes), read from the
        catalogue: what a publish's earlier try built when the reply to its last statement
        was lost. None where the engine cannot say (the build then starts where the earlier
        try last heard it get to)."""
        return None

    def readd_foreign_key_sql(self, key: LiveKey) -> list[str]:
        """Statements making `key` again after its referenced table was replaced: the first
        adds it (unchecked where the engine can: it runs in the swap's transaction), the
        rest validate it (after the swap). Its ON DELETE / ON UPDATE actions are kept."""
        stmts = self.add_foreign_key_sql(key.fk, key.fk.name)
        return [with_actions(stmts[0], key.fk), *stmts[1:]] if stmts else stmts

    def savepoint_sql(self, name: str) -> tuple[list[str], list[str]]:
        """(set, roll back to) a savepoint, so that one key failing inside the swap's
        transaction leaves the swap itself whole; ([], []) where DDL is not transactional."""
        return [f"SAVEPOINT {name}"], [f"ROLLBACK TO SAVEPOINT {name}"]


def with_actions(stmt: str, fk: ForeignKey) -> str:
    """`stmt` (an ADD CONSTRAINT ... FOREIGN KEY) with `fk`'s actions, where it has none."""
    for what, action in (("DELETE", fk.on_delete), ("UPDATE", fk.on_update)):
        if action and f" ON {what} " not in stmt:
            stmt += f" ON {what} {action}"
    return stmt
