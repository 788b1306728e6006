"""SQL Server's side of `dialects.keys`, from sys.foreign_keys and sys.indexes (compile-checked
with sqlglot here, never run live). A key is re-made WITH NOCHECK inside the swap's
transaction and checked (WITH CHECK CHECK CONSTRAINT) after it; an unchecked key is
`is_not_trusted`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sluice.core.schema import Table
from sluice.dialects.keys import Keys, LiveKey, grouped_keys

REFERENCING = (
    "SELECT OBJECT_SCHEMA_NAME(fk.parent_object_id), OBJECT_NAME(fk.parent_object_id), "
    "fk.name, fk.delete_referential_action_desc, fk.update_referential_action_desc, "
    "fk.is_not_trusted, pc.name, rc.name "
    "FROM sys.foreign_keys AS fk "
    "JOIN sys.foreign_key_columns AS fc ON fc.constraint_object_id = fk.object_id "
    "JOIN sys.columns AS pc ON pc.object_id = fc.parent_object_id "
    "AND pc.column_id = fc.parent_column_id "
    "JOIN sys.columns AS rc ON rc.object_id = fc.referenced_object_id "
    "AND rc.column_id = fc.referenced_column_id "
    "WHERE fk.referenced_object_id = OBJECT_ID(%s) "
    "AND fk.parent_object_id <> fk.referenced_object_id "
    "ORDER BY 1, 2, 3, fc.constraint_column_id"
)
DECLARED = ("SELECT name, is_not_trusted FROM sys.foreign_keys "
            "WHERE parent_object_id = OBJECT_ID(%s)")  # fmt: skip
UNIQUE = (
    "SELECT i.index_id, c.name FROM sys.indexes AS i "
    "JOIN sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id "
    "JOIN sys.columns AS c ON c.object_id = ic.object_id AND c.column_id = ic.column_id "
    "WHERE i.object_id = OBJECT_ID(%s) AND i.is_unique = 1 AND i.has_filter = 0 "
    "AND ic.is_included_column = 0"
)

INDEXES = ("SELECT name, is_primary_key FROM sys.indexes "
           "WHERE object_id = OBJECT_ID(%s) AND name IS NOT NULL")  # fmt: skip


def _action(desc: str | None) -> str:
    return "" if desc in (None, "", "NO_ACTION") else desc.replace("_", " ")


class MssqlKeys(Keys):
    def foreign_keys_to(self, conn: Any, table: Table) -> list[LiveKey]:
        cur = conn.cursor()
        cur.execute(REFERENCING, (self.qualified(table),))
        rows = ((schema, owner, name, on_delete, on_update, not untrusted, col, ref)
                for schema, owner, name, on_delete, on_update, untrusted, col, ref
                in cur.fetchall())  # fmt: skip
        return grouped_keys(rows, table, _action)

    def foreign_keys_of(self, conn: Any, table: Table) -> dict[str, bool]:
        cur = conn.cursor()
        cur.execute(DECLARED, (self.qualified(table),))
        return {name: not untrusted for name, untrusted in cur.fetchall()}

    def has_key_on(self, conn: Any, table: Table, columns: Sequence[str]) -> bool:
        cur = conn.cursor()
        cur.execute(UNIQUE, (self.qualified(table),))
        indexes: dict[int, list[str]] = {}
        for index, column in cur.fetchall():
            indexes.setdefault(index, []).append(column.lower())
        wanted = sorted(c.lower() for c in columns)  # default collations ignore case
        return any(sorted(cols) == wanted for cols in indexes.values())

    def built_indexes(self, conn: Any, table: Table) -> tuple[bool, set[str]]:
        cur = conn.cursor()
        cur.execute(INDEXES, (self.qualified(table),))
        rows = cur.fetchall()
        return any(primary for _, primary in rows), {name for name, _ in rows}

    def savepoint_sql(self, name: str) -> tuple[list[str], list[str]]:
        return [f"SAVE TRANSACTION {name}"], [f"ROLLBACK TRANSACTION {name}"]
