"""How an engine reads and writes the rest of a table's definition (issue 26): defaults,
collations, CHECK constraints, identity kinds, comments, ON UPDATE, foreign-key actions.

The source's dialect reads (`read_column` over SQLAlchemy's column dict, `read_default`,
`column_facts` for what the inspector cannot see); the target's renders. A render returning
None means "no equivalent here": the plan lists the item under "not carried"
(core.definition, copy.definition) instead of dropping it. The same engine carries the
source's own text as is; other engines translate what they can (each dialect module
overrides these)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sluice.core.definition import ALWAYS, BY_DEFAULT, EXPRESSION, Check, Default
from sluice.core.schema import Column, ForeignKey, Table

# SQLAlchemy's foreign-key 'ondelete'/'onupdate' words that mean the default (no action)
_NO_ACTION = ("", "NO ACTION")


def key_action(word: str | None) -> str:
    """A reflected ON DELETE / ON UPDATE action as ForeignKey keeps it ("": NO ACTION)."""
    action = " ".join((word or "").upper().split())
    return "" if action in _NO_ACTION else action


def case_insensitive_name(collation: str | None) -> bool | None:
    """Whether a collation compares case-insensitively, by the naming MariaDB/MySQL
    (`utf8mb4_general_ci`, `_bin`, `_cs`), SQL Server (`Latin1_General_CI_AS`) and SQLite
    (`NOCASE`) share; None when its name does not say (PostgreSQL reads its catalog)."""
    if not collation:
        return None
    parts = collation.upper().split("_")
    if "CI" in parts or parts == ["NOCASE"]:
        return True
    if {"CS", "BIN", "BIN2"} & set(parts) or collation.upper() in ("BINARY", "RTRIM"):
        return False
    return None


class Definitions:
    name: str  # Dialect's
    autoincrement_is_identity = False  # Dialect's
    # whether foreign keys can be DEFERRABLE [INITIALLY DEFERRED] here (PostgreSQL, SQLite)
    deferrable_keys = False
    # whether a constraint's name is unique in its schema rather than its table (MariaDB's
    # foreign keys, SQL Server's constraints): two source keys of one name get sluice's own
    constraint_names_per_schema = False
    # ON DELETE / ON UPDATE actions this engine has (an action it lacks is not carried)
    key_actions: frozenset = frozenset({"CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT"})

    def quote(self, ident: str) -> str:  # Dialect's
        raise NotImplementedError

    def qualified(self, table: Any, schema: str | None = None) -> str:  # Dialect's
        raise NotImplementedError

    # --- reading (the source's side) --------------------------------------------------------
    def column_facts(self, bind: Any, schema: str | None, tables: Sequence[str]) -> dict:
        """What SQLAlchemy's column dicts lack, read once for all `tables` of `schema`:
        {(table, column): facts} handed to `read_column`, {("check", table, name): facts}
        handed to `read_check` (an engine that needs none: {})."""
        return {}

    def read_column(self, column: Column, info: dict[str, Any], facts: Any = None) -> Column:
        """`column` (name, neutral type, nullability, identity as reflected) with the rest of
        its definition from SQLAlchemy's column dict `info`: the identity's kind (an identity
        dict's 'always'; an AUTO_INCREMENT generates only when no value is given), default,
        comment and collation. `facts`: this column's `column_facts`."""
        kind = ""
        if column.identity:
            ident = info.get("identity")
            kind = BY_DEFAULT if not ident or ident.get("always") is False else ALWAYS
        default = None if column.identity else self.read_default(info.get("default"), column)
        collation = getattr(info.get("type"), "collation", None) or None
        return replace(column, identity_kind=kind, default=default,
                       comment=info.get("comment") or None, collation=collation,
                       case_insensitive=case_insensitive_name(collation))  # fmt: skip

    def read_default(self, text: str | None, column: Column) -> Default | None:
        """A column's default as SQLAlchemy reflected its text: neutral (LITERAL, NOW,
        SEQUENCE) where this engine's text says so, else this engine's EXPRESSION."""
        if text is None:
            return None
        return Default(EXPRESSION, text, self.name, text)

    def read_check(self, info: dict[str, Any], facts: Any = None) -> Check | None:
        """A reflected CHECK constraint (SQLAlchemy's dict: 'name', 'sqltext'), None for one
        this engine makes by itself (not the source's to carry). `facts`: what
        `column_facts` found for it under ("check", table, name)."""
        return Check(info.get("name") or "", str(info["sqltext"]), self.name)

    def table_checks(self, table: str, checks: list[Check], facts: dict) -> list[Check]:
        """`table`'s CHECKs: those `read_check` made of SQLAlchemy's, with any its reflection
        misses that `column_facts` found (MariaDB's column-level ones), none twice."""
        return checks

    # --- writing (the target's side) --------------------------------------------------------
    def comment_refused(self, text: str, column: bool) -> str:
        """Why a comment of `text` on a table (or a `column`) is not made here ("": it is);
        the plan lists a refused one as not carried."""
        return f"{self.name} keeps no comments sluice makes"

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

    def check_constraint(self, check: Check) -> str | None:
        """The table constraint for `check` inside CREATE TABLE (named as the source names
        it), or None when `check_clause` has none."""
        expression = self.check_clause(check)
        if expression is None:
            return None
        named = f"CONSTRAINT {self.quote(check.name)} " if check.name else ""
        return f"{named}CHECK ({expression})"

    def foreign_key_actions(self, fk: ForeignKey) -> str:
        """What follows REFERENCES: ON DELETE / ON UPDATE (the actions this engine has) and,
        where `deferrable_keys`, DEFERRABLE [INITIALLY DEFERRED]."""
        out = ""
        for what, action in (("DELETE", fk.on_delete), ("UPDATE", fk.on_update)):
            if action and action in self.key_actions:
                out += f" ON {what} {action}"
        if fk.deferrable and self.deferrable_keys:
            out += " DEFERRABLE INITIALLY DEFERRED" if fk.initially_deferred else " DEFERRABLE"
        return out

    def icu_ready(self, url: Any) -> bool:
        """Whether the target can make ICU collations (a PostgreSQL built without ICU, as the
        embedded one is, cannot: its case-insensitive columns are then listed, not made)."""
        return True

    def rename_staged_constraints_sql(self, conn: Any, table: Table, staged: str) -> list[str]:
        """Statements giving constraints the engine named after the staging table `staged`
        (PostgreSQL 18's NOT NULL constraints, on the table and its partitions) the names
        it would have chosen for `table`. Asked inside the swap's transaction."""
        return []

    def prelude_sql(self, tables: Sequence[Table]) -> list[str]:
        """Statements run on the target before `tables` (as they land) are created: the
        collations their columns need, made if missing."""
        return []

    def definition_sql(self, table: Table, live: Table) -> list[str]:
        """Statements completing the just created `table` (a staging table that becomes
        `live` by a rename): comments, ON UPDATE triggers. Whatever they name (a trigger,
        its function) is named after `live`, as it stays after the swap."""
        return []

    # whether MySQL's ON UPDATE CURRENT_TIMESTAMP is made here (in the column's definition,
    # or by a trigger `definition_sql` creates); where not, the plan lists it as not carried
    carries_on_update = False
