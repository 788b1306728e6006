"""SQL Server's side of a table's whole definition (issue 26, `dialects.definition`).
Compile-checked with sqlglot's T-SQL parser (tests/unit/test_xengine_definitions.py), never
run here: no SQL Server runs where sluice is developed.

Reading: a default as sys.default_constraints keeps it (SQLAlchemy's text: `(getdate())`,
`((0))`, `(N'x')`), classified by `classify_default`; a column's collation from SQLAlchemy's
reflection, case-insensitive when its name says `_CI` (`Definitions.read_column`).

Writing from another engine: NOW -> SYSDATETIME() (GETDATE() for a `datetime`,
SYSDATETIMEOFFSET() for a datetimeoffset, CAST(GETDATE() AS date) for a date), a LITERAL
-> a constant (N'...' for text, 1/0 for bit), an EXPRESSION or a CHECK -> translated by
sqlglot when its meaning is certain; a case-insensitive collation -> `CI_COLLATION`, a
case-sensitive one -> `CS_COLLATION` (the database's default is often case-insensitive),
one not known -> the database's default. ON UPDATE CURRENT_TIMESTAMP is not carried here
(a trigger would have to name the table across the staging swap). Comments on tables and
columns -> the extended property `MS_Description` (`definition_sql`)."""

from __future__ import annotations

import re
from typing import Any

from sluice.core.definition import EXPRESSION, LITERAL, NOW, SEQUENCE, Check, Default
from sluice.core.schema import Column, Table
from sluice.core.types import Kind
from sluice.dialects.translation import (
    NUMBER,
    TEXT_KINDS,
    boolean_of,
    literal_sql,
    translate_expression,
    unwrap,
)

CI_COLLATION = "Latin1_General_100_CI_AS_SC"  # case-insensitive, accent-sensitive, UTF-16
CS_COLLATION = "Latin1_General_100_BIN2"  # equal only when the code points are
_NOW = re.compile(
    r"(?i)(getdate|sysdatetime|current_timestamp|sysdatetimeoffset)(\s*\(\s*\))?"
)  # fmt: skip
_STRING = re.compile(r"(?s)N?'((?:[^']|'')*)'")
_COMMENT_BYTES = 7500  # an extended property's sql_variant value: 3,750 UTF-16 characters


def classify_default(text: str | None, engine: str = "mssql") -> Default | None:
    """SQL Server's default text: GETDATE() / SYSDATETIME() / CURRENT_TIMESTAMP -> NOW; a
    string (N'x', 'x') or a number -> LITERAL; NULL -> None; else this engine's EXPRESSION."""
    if text is None:
        return None
    own = unwrap(text)
    if not own or own.upper() == "NULL":
        return None
    if _NOW.fullmatch(own):
        return Default(NOW, "timestamp", engine, text)
    if m := _STRING.fullmatch(own):
        return Default(LITERAL, m.group(1).replace("''", "'"), engine, text)
    if NUMBER.fullmatch(own):
        return Default(LITERAL, own, engine, text)
    return Default(EXPRESSION, own, engine, text)


class MssqlDefinitions:
    """Mixed into MssqlDialect: `dialects.definition.Definitions` for SQL Server."""

    constraint_names_per_schema = True  # a foreign key's name is its schema's

    name: str

    caps: Any  # Dialect's

    def render_type(self, t: Any) -> str:  # Dialect's
        raise NotImplementedError

    def literal(self, text: str) -> str:  # Dialect's: N'...'
        raise NotImplementedError

    def read_default(self, text: str | None, column: Column) -> Default | None:
        return None if column.identity else classify_default(text, self.name)

    def default_clause(self, column: Column) -> str | None:
        d = column.default
        if d is None:
            return ""
        if d.engine == self.name:
            return d.text
        kind = column.type.kind
        if d.kind == NOW:
            return self._now(column)
        if d.kind == SEQUENCE:
            return "" if column.identity else None
        if d.kind == LITERAL:
            if kind is Kind.BOOLEAN:
                truth = boolean_of(d.value)
                return None if truth is None else f"({int(truth)})"
            quote = "N'" if kind is Kind.STRING and column.type.unicode else "'"
            text = literal_sql(d.value, kind, quote=quote)
            return None if text is None else f"({text})"
        translated = translate_expression(d.value, d.engine, self.name)
        return None if translated is None else f"({translated})"

    def _now(self, column: Column) -> str | None:
        declared = self.render_type(column.type).lower()
        if declared.startswith("datetimeoffset"):
            return "(SYSDATETIMEOFFSET())"
        if declared == "datetime":
            return "(GETDATE())"
        if declared.startswith("datetime2"):
            return "(SYSDATETIME())"
        if declared == "date":
            return "(CAST(GETDATE() AS date))"
        if declared.startswith("time"):
            return "(CAST(SYSDATETIME() AS time))"
        return None

    def collation_clause(self, column: Column) -> str | None:
        if column.type.kind not in TEXT_KINDS or column.type.engine == self.name:
            return ""  # SQL Server's own declaration carries its collation
        if column.case_insensitive is None:
            return ""
        return f"COLLATE {CI_COLLATION if column.case_insensitive else CS_COLLATION}"

    def check_clause(self, check: Check) -> str | None:
        if check.engine == self.name:
            return check.expression
        return translate_expression(check.expression, check.engine, self.name)

    def comment_refused(self, text: str, column: bool) -> str:
        size = len(text.encode("utf-16-le"))
        if size <= _COMMENT_BYTES:
            return ""
        return f"{size} bytes: an extended property holds at most {_COMMENT_BYTES}"

    def definition_sql(self, table: Table, live: Table) -> list[str]:
        """Comments as SQL Server tools read them: the extended property `MS_Description` of
        the table and of each column (it stays with the object through sp_rename)."""
        out = list(super().definition_sql(table, live))  # type: ignore[misc]
        schema = table.schema or self.caps.default_schema
        where = (f"@level0type = N'SCHEMA', @level0name = {self.literal(schema)}, "
                 f"@level1type = N'TABLE', @level1name = {self.literal(table.name)}")  # fmt: skip
        described = [("", table.comment)] + [(c.name, c.comment) for c in table.columns]
        for column, text in described:
            if not text:
                continue
            on = f", @level2type = N'COLUMN', @level2name = {self.literal(column)}"
            on = on if column else ""
            out.append(f"EXEC sys.sp_addextendedproperty @name = N'MS_Description', "
                       f"@value = {self.literal(text)}, {where}{on}")  # fmt: skip
        return out
