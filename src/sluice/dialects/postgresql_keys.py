"""PostgreSQL's side of `dialects.keys`: foreign keys read from pg_constraint, re-made from
pg_get_constraintdef (actions, MATCH, DEFERRABLE kept) unchecked (NOT VALID) and validated
after the swap; a referencable key is a unique index without a predicate or expressions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sluice.core.schema import ForeignKey, Table
from sluice.dialects.keys import Keys, LiveKey

_COLUMNS = (
    "ARRAY(SELECT a.attname::text FROM unnest(k.{keys}) WITH ORDINALITY AS u(n, i) "
    "JOIN pg_attribute a ON a.attrelid = k.{rel} AND a.attnum = u.n ORDER BY u.i)"
)
REFERENCING = (
    "SELECT n.nspname, c.relname, k.conname, pg_get_constraintdef(k.oid), k.convalidated, "
    f"{_COLUMNS.format(keys='conkey', rel='conrelid')}, "
    f"{_COLUMNS.format(keys='confkey', rel='confrelid')} "
    "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE k.contype = 'f' AND k.confrelid = to_regclass(%s) AND k.conrelid <> k.confrelid "
    "ORDER BY n.nspname, c.relname, k.conname"
)
DECLARED = ("SELECT conname, convalidated FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = to_regclass(%s)")  # fmt: skip
KEYED = (
    "SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = to_regclass(%s) "
    "AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL "
    "AND ARRAY(SELECT a.attname::text FROM unnest(i.indkey) AS u(n) JOIN pg_attribute a "
    "ON a.attrelid = i.indrelid AND a.attnum = u.n "
    'ORDER BY a.attname::text COLLATE "C") = %s::text[])'
)

INDEXES = (
    "SELECT c.relname, i.indisprimary FROM pg_index i "
    "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass(%s)"
)


class PostgresKeys(Keys):
    def drop_referencing_foreign_keys_sql(self, conn: Any, table: Table) -> list[str]:
        rows = conn.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid = to_regclass(%s) AND conrelid <> confrelid",
            (self.qualified(table),),
        ).fetchall()
        return [
            f"ALTER TABLE {owner} DROP CONSTRAINT IF EXISTS {self.quote(name)}"
            for owner, name in rows
        ]

    def foreign_keys_to(self, conn: Any, table: Table) -> list[LiveKey]:
        rows = conn.execute(REFERENCING, (self.qualified(table),)).fetchall()
        return [
            LiveKey(
                ForeignKey(owner, tuple(cols), table.name, tuple(refs), schema, table.schema, name),
                definition,
                validated,
            )  # fmt: skip
            for schema, owner, name, definition, validated, cols, refs in rows
        ]

    def foreign_keys_of(self, conn: Any, table: Table) -> dict[str, bool]:
        return dict(conn.execute(DECLARED, (self.qualified(table),)).fetchall())

    def has_key_on(self, conn: Any, table: Table, columns: Sequence[str]) -> bool:
        found = conn.execute(KEYED, (self.qualified(table), sorted(columns))).fetchone()
        return bool(found and found[0])

    def built_indexes(self, conn: Any, table: Table) -> tuple[bool, set[str]]:
        rows = conn.execute(INDEXES, (self.qualified(table),)).fetchall()
        return any(primary for _, primary in rows), {name for name, _ in rows}

    def readd_foreign_key_sql(self, key: LiveKey) -> list[str]:
        fk = key.fk
        owner, name = self.qualified(fk.table, fk.schema), self.quote(fk.name)
        text = key.definition.removesuffix(" NOT VALID")
        return [f"ALTER TABLE {owner} ADD CONSTRAINT {name} {text} NOT VALID",
                f"ALTER TABLE {owner} VALIDATE CONSTRAINT {name}"]  # fmt: skip
