"""Quality rules for StackOverflow2010, derived from the schema rather than retyped.

Required columns are the NOT NULL columns outside the primary key. Every logical foreign key
gets an orphan rule of severity "warning": the real database has orphans (votes and comments on
deleted posts, badges of deleted users), so they are worth showing but not worth failing on.
Row counts are compared exactly elsewhere (full copies), so no drift tolerance here.

The rules are plain data in the rules-file format users write (docs/verification.md), so this
dataset needs nothing from the verification package that reads them.
"""

from __future__ import annotations

from sluice.core.schema import Table
from sluice.datasets.stackoverflow.schema import FOREIGN_KEYS, TABLES


def _required(table: Table) -> list[str]:
    return [c.name for c in table.columns if not c.nullable and c.name not in table.primary_key]


RULES: dict = {
    "tables": {
        name: {
            "required": _required(table),
            "orphans": [
                {
                    "columns": list(fk.columns),
                    "ref_table": fk.ref_table,
                    "ref_columns": list(fk.ref_columns),
                    "severity": "warning",
                    "max_orphans": 0,
                }
                for fk in FOREIGN_KEYS
                if fk.table == name
            ],
        }
        for name, table in TABLES.items()
    }
}
