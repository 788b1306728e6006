"""How an engine reads and writes the rest of a table's definition (issue 26): defaults,
collations, CHECK constraints, identity kinds, comments, ON UPDATE.

The source's dialect reads (`read_default`); the target's renders. A render returning None
means "no equivalent here": the plan lists the item under "not carried" (core.definition)
instead of dropping it. The same engine carries the source's own text as is; other engines
translate what they can (each dialect module overrides these)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sluice.core.definition import EXPRESSION, Check, Default
from sluice.core.schema import Column, Table


class Definitions:
    name: str  # Dialect's

    def quote(self, ident: str) -> str:  # Dialect's
        raise NotImplementedError

    def qualified(self, table: Any, schema: str | None = None) -> str:  # Dialect's
        raise NotImplementedError

    # --- reading (the source's side) --------------------------------------------------------
    def read_default(self, text: str | None, column: Column) -> Default | None:
        """A column's default as SQLAlchemy reflected its text: neutral (LITERAL, NOW,
        SEQUENCE) where this engine's text says so, else this engine's EXPRESSION."""
        if text is None:
            return None
        return Default(EXPRESSION, text, self.name, text)

    # --- writing (the target's side) --------------------------------------------------------
    def default_clause(self, column: Column) -> str | None:
        """The expression after DEFAULT for `column` here; "" for none; None when the
        source's default has no equivalent here (listed as not carried)."""
        d = column.default
        if d is None:
            return ""
        return d.text if d.engine == self.name else None

    def collation_clause(self, column: Column) -> str | None:
        """The COLLATE clause for `column` here ("" for the target's default); None when the
        source's collation has no equivalent here (listed as not carried)."""
        return ""

    def check_clause(self, check: Check) -> str | None:
        """The CHECK expression here; None when it cannot be translated (not carried)."""
        return check.expression if check.engine == self.name else None

    def prelude_sql(self, tables: Sequence[Table]) -> list[str]:
        """Statements run on the target before `tables` (as they land) are created: the
        collations their columns need, made if missing."""
        return []

    def definition_sql(self, table: Table, live: Table) -> list[str]:
        """Statements completing the just created `table` (a staging table that becomes
        `live` by a rename): comments, ON UPDATE triggers. Whatever they name (a trigger,
        its function) is named after `live`, as it stays after the swap."""
        return []
