"""MySQL's and MariaDB's side of `dialects.keys`, from information_schema. DDL is not
transactional here: a key is added after the RENAME that swaps its table in, checked as it
is added (a failure names the rows that break it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sluice.core.schema import Table
from sluice.dialects.keys import Keys, LiveKey, grouped_keys
from sluice.dialects.schemas import MYSQL_REFERENCING_FKS

REFERENCING = (
    "SELECT r.CONSTRAINT_SCHEMA, r.TABLE_NAME, r.CONSTRAINT_NAME, r.DELETE_RULE, "
    "r.UPDATE_RULE, k.COLUMN_NAME, k.REFERENCED_COLUMN_NAME "
    "FROM information_schema.REFERENTIAL_CONSTRAINTS r "
    "JOIN information_schema.KEY_COLUMN_USAGE k ON k.CONSTRAINT_SCHEMA = r.CONSTRAINT_SCHEMA "
    "AND k.TABLE_NAME = r.TABLE_NAME AND k.CONSTRAINT_NAME = r.CONSTRAINT_NAME "
    "WHERE r.UNIQUE_CONSTRAINT_SCHEMA = COALESCE(%s, DATABASE()) "
    "AND r.REFERENCED_TABLE_NAME = %s AND k.REFERENCED_TABLE_NAME IS NOT NULL "
    "AND NOT (r.TABLE_NAME = r.REFERENCED_TABLE_NAME "
    "AND r.CONSTRAINT_SCHEMA = r.UNIQUE_CONSTRAINT_SCHEMA) "
    "ORDER BY r.CONSTRAINT_SCHEMA, r.TABLE_NAME, r.CONSTRAINT_NAME, k.ORDINAL_POSITION"
)
DECLARED = ("SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS "
            "WHERE CONSTRAINT_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s")  # fmt: skip
UNIQUE = ("SELECT INDEX_NAME, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS "
          "WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s "
          "AND NON_UNIQUE = 0")  # fmt: skip

INDEXES = ("SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS "
           "WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s")  # fmt: skip


def _action(rule: str) -> str:
    return "" if rule in (None, "", "NO ACTION") else rule


class MysqlKeys(Keys):
    def drop_referencing_foreign_keys_sql(self, conn: Any, table: Table) -> list[str]:
        cur = conn.cursor()
        cur.execute(MYSQL_REFERENCING_FKS, (table.schema, table.name))
        return [
            f"ALTER TABLE {self.qualified(t, s)} DROP FOREIGN KEY {self.quote(n)}"
            for s, t, n in cur.fetchall()
        ]

    def foreign_keys_to(self, conn: Any, table: Table) -> list[LiveKey]:
        cur = conn.cursor()
        cur.execute(REFERENCING, (table.schema, table.name))
        rows = (
            (schema, owner, name, on_delete, on_update, True, col, ref)  # added checked
            for schema, owner, name, on_delete, on_update, col, ref in cur.fetchall()
        )
        return grouped_keys(rows, table, _action)

    def foreign_keys_of(self, conn: Any, table: Table) -> dict[str, bool]:
        cur = conn.cursor()
        cur.execute(DECLARED, (table.schema, table.name))
        return {name: True for (name,) in cur.fetchall()}  # added checked: always valid

    def has_key_on(self, conn: Any, table: Table, columns: Sequence[str]) -> bool:
        cur = conn.cursor()
        cur.execute(UNIQUE, (table.schema, table.name))
        indexes: dict[str, list] = {}
        for index, column, part in cur.fetchall():
            indexes.setdefault(index, []).append(None if part else column.lower())
        wanted = sorted(c.lower() for c in columns)  # MySQL column names ignore case
        return any(None not in cols and sorted(cols) == wanted for cols in indexes.values())

    def built_indexes(self, conn: Any, table: Table) -> tuple[bool, set[str]]:
        cur = conn.cursor()
        cur.execute(INDEXES, (table.schema, table.name))
        names = {name for (name,) in cur.fetchall()}
        return "PRIMARY" in names, names - {"PRIMARY"}

    def savepoint_sql(self, name: str) -> tuple[list[str], list[str]]:
        return [], []  # DDL commits at once: each key is added (or not) on its own
