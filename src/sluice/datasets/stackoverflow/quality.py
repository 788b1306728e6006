"""Quality rules for StackOverflow2010, derived from the schema rather than retyped.

Required columns are the NOT NULL columns outside the primary key. Every logical foreign key
gets an orphan rule of severity "warning": the real database has orphans (votes and comments on
deleted posts, badges of deleted users), so they are worth showing but not worth failing on.
Row counts are compared exactly elsewhere (full copies), so no drift tolerance here.
"""

from __future__ import annotations

from sluice.datasets.stackoverflow.schema import FOREIGN_KEYS, TABLES
from sluice.quality import OrphanRule, QualityRules, TableRules
from sluice.schema import Table


def _required(table: Table) -> tuple[str, ...]:
    return tuple(
        c.name for c in table.columns if not c.nullable and c.name not in table.primary_key
    )


RULES: QualityRules = QualityRules(
    {
        name: TableRules(
            required=_required(table),
            orphans=tuple(
                OrphanRule(fk, severity="warning", max_orphans=0)
                for fk in FOREIGN_KEYS
                if fk.table == name
            ),
        )
        for name, table in TABLES.items()
    }
)
