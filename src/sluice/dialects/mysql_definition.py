"""MariaDB's (and MySQL's) side of a table's whole definition (issue 26, `dialects.definition`).

Reading: a column's default as SHOW CREATE TABLE or information_schema spells it, classified
(`classify_default`); ON UPDATE CURRENT_TIMESTAMP, each text column's collation and the
AUTO_INCREMENT identity's kind from one information_schema query per schema
(`column_facts`, `with_facts`).

Writing: the source's own text on this engine; from another engine a neutral default as this
engine's (CURRENT_TIMESTAMP at the column's precision, a quoted constant), a case-insensitive
collation as `CI_COLLATION` (MariaDB 10.10 and later), a CHECK translated by sqlglot when its
meaning is certain (`dialects.translation`). None where nothing is equivalent: the plan lists
it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sluice.core.definition import BY_DEFAULT, EXPRESSION, LITERAL, NOW, SEQUENCE, Check, Default
from sluice.core.schema import Column, Table
from sluice.core.types import Kind
from sluice.dialects.definition import case_insensitive_name
from sluice.dialects.translation import (
    MOMENT_KINDS,
    NUMBER,
    TEXT_KINDS,
    boolean_of,
    literal_sql,
    translate_expression,
    unwrap,
)

# Case-insensitive, accent-sensitive and NO PAD ('a ' and 'a' stay two values), as a
# PostgreSQL nondeterministic 'und-u-ks-level2' collation compares: MariaDB 10.10's UCA 14
# collation, in a comment only MariaDB 10.10 and later execute. An older server (or MySQL)
# keeps the table's binary collation: an accent-folding utf8mb4_unicode_nopad_ci would refuse
# 'é' beside 'e' in a unique key the source holds both in.
CI_COLLATION = "utf8mb4_uca1400_nopad_as_ci"
CI_CLAUSE = f"/*M!101000 COLLATE {CI_COLLATION} */"
_NOW = re.compile(
    r"(?i)(current_timestamp|now|localtimestamp|localtime)\s*(\(\s*\d*\s*\))?"
)  # fmt: skip
_TODAY = re.compile(r"(?i)(curdate|current_date)\s*(\(\s*\))?")
_CLOCK = re.compile(r"(?i)(curtime|current_time)\s*(\(\s*\d*\s*\))?")
_ON_UPDATE = re.compile(r"(?i)\s+on\s+update\s+.*$")
_ESCAPES = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}
_STRING = re.compile(r"'((?:[^'\\]|''|\\.)*)'", re.S)
_TEXT_TYPES = ("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set")

# per schema, what the catalog says beyond SQLAlchemy: default, EXTRA, collation
_COLUMNS_SQL = (
    "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_DEFAULT, EXTRA, COLLATION_NAME, DATA_TYPE, "
    "@@version FROM information_schema.COLUMNS "
    "WHERE TABLE_SCHEMA = COALESCE(%(s)s, DATABASE()) AND TABLE_NAME IN ({names})"
)

# per schema on MariaDB, each column-level CHECK (named after its column; SQLAlchemy reads
# only table constraints). MySQL 8 makes a column's CHECK a table constraint (`t_chk_1`).
_COLUMN_CHECKS_SQL = (
    "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
    "WHERE CONSTRAINT_SCHEMA = COALESCE(%(s)s, DATABASE()) AND TABLE_NAME IN ({names}) "
    "AND LEVEL = 'Column'"
)
# the longest comment MariaDB and MySQL keep, in characters: on a table, on a column
_COMMENT_LIMITS = (2048, 1024)


def string_literal(text: str) -> str:
    """`text` as a MariaDB/MySQL string constant: quotes doubled, each backslash doubled (the
    session runs without NO_BACKSLASH_ESCAPES), NUL as \\0."""
    body = text.replace("\\", "\\\\").replace("'", "''").replace("\0", "\\0")
    return f"'{body}'"


def _unquote(body: str) -> str:
    body = body.replace("''", "'")
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body, flags=re.S)


def classify_default(text: str | None, engine: str = "mysql") -> Default | None:
    """A default as MariaDB or MySQL spells it (SHOW CREATE TABLE, or information_schema:
    MariaDB quotes strings there since 10.2.7): CURRENT_TIMESTAMP / NOW() / current_timestamp(3)
    -> NOW; CURDATE() -> NOW of a date; a quoted string or a number -> LITERAL (unquoted);
    NULL (or none) -> None; anything else -> this engine's EXPRESSION. A trailing ON UPDATE
    clause (SQLAlchemy keeps it in the default's text) is no part of the default."""
    if text is None:
        return None
    own = _ON_UPDATE.sub("", text.strip())
    if not own or own.upper() == "NULL":
        return None
    bare = unwrap(own)  # MySQL 8 keeps an expression default in parentheses: (curdate())
    if _NOW.fullmatch(bare):
        return Default(NOW, "timestamp", engine, own)
    if _TODAY.fullmatch(bare):
        return Default(NOW, "date", engine, own)
    if _CLOCK.fullmatch(bare):
        return Default(NOW, "time", engine, own)
    if m := _STRING.fullmatch(bare):
        return Default(LITERAL, _unquote(m.group(1)), engine, own)
    if NUMBER.fullmatch(bare):
        return Default(LITERAL, bare, engine, own)
    return Default(EXPRESSION, own, engine, own)


def catalog_default(default: str | None, extra: str, data_type: str, mariadb: bool) -> str | None:
    """information_schema's COLUMN_DEFAULT in the spelling `classify_default` reads: MariaDB's
    as is ('NULL' for a NULL default); MySQL's strings come unquoted (an expression is marked
    DEFAULT_GENERATED in EXTRA), so they are quoted here."""
    if default is None or mariadb:
        return default
    if "DEFAULT_GENERATED" in extra.upper():
        return default if _NOW.fullmatch(default) else f"({default})"
    if NUMBER.fullmatch(default) and data_type not in _TEXT_TYPES:
        return default
    return "'" + default.replace("\\", "\\\\").replace("'", "''") + "'"


def column_facts(bind: Any, schema: str | None, tables: Sequence[str]) -> dict:
    """{(table, column): (default text, EXTRA, collation)} of `tables` of one schema, in one
    query."""
    if not tables:
        return {}
    marks = ", ".join(f"%(t{i})s" for i in range(len(tables)))
    params: dict[str, Any] = {"s": schema, **{f"t{i}": t for i, t in enumerate(tables)}}
    found: dict = {}
    mariadb = False
    with bind.connect() as conn:
        rows = conn.exec_driver_sql(_COLUMNS_SQL.format(names=marks), params)
        for table, column, default, extra, collation, data_type, version in rows:
            mariadb = "mariadb" in str(version).lower()
            text = catalog_default(default, extra or "", str(data_type).lower(), mariadb)
            found[(table, column)] = (text, extra or "", collation)
        if mariadb:
            checks = conn.exec_driver_sql(_COLUMN_CHECKS_SQL.format(names=marks), params)
            for table, column, clause in checks:
                found.setdefault(("column checks", table), []).append((column, clause))
    return found


def with_facts(column: Column, facts: tuple | None) -> Column:
    """`column` with its default (where reflection gave none), ON UPDATE, collation, case
    sensitivity and identity kind from its `column_facts`."""
    default, extra, collation = facts or (None, "", None)
    changes: dict[str, Any] = {}
    if column.default is None and not column.identity:
        changes["default"] = classify_default(default)
    if "on update" in extra.lower():
        changes["on_update"] = "now"
    if collation:
        changes["collation"] = collation
        changes["case_insensitive"] = case_insensitive_name(collation)
    if column.identity:
        changes["identity_kind"] = BY_DEFAULT  # AUTO_INCREMENT takes explicit ids
    return replace(column, **changes) if changes else column


class MysqlDefinitions:
    """Mixed into MysqlDialect: `dialects.definition.Definitions` for MariaDB and MySQL."""

    constraint_names_per_schema = True  # a foreign key's name is its schema's

    name: str
    carries_on_update = True  # the column's own ON UPDATE CURRENT_TIMESTAMP

    def render_type(self, t: Any) -> str:  # Dialect's
        raise NotImplementedError

    def identity_clause(self, kind: str = "") -> str:
        return "AUTO_INCREMENT"  # takes an explicit id whatever the source's kind

    def column_facts(self, bind: Any, schema: str | None, tables: Sequence[str]) -> dict:
        return column_facts(bind, schema, tables)

    def read_column(self, column: Column, info: dict[str, Any], facts: Any = None) -> Column:
        return with_facts(super().read_column(column, info, facts), facts)  # type: ignore[misc]

    def table_checks(self, table: str, checks: list[Check], facts: dict) -> list[Check]:
        """With MariaDB's column-level CHECKs, named `<table>_<column>_check` (PostgreSQL's
        own name for one; on this engine they are made in their column again)."""
        out = list(checks)
        for column, clause in facts.get(("column checks", table), ()):
            if not any(c.expression == clause and c.name in (column, "") for c in checks):
                out.append(Check(f"{table}_{column}_check", clause, self.name, column=column))
        return out

    def read_default(self, text: str | None, column: Column) -> Default | None:
        if column.identity:
            return None  # AUTO_INCREMENT is the identity, not a default
        return classify_default(text, self.name)

    def default_clause(self, column: Column) -> str | None:
        """The default; with ON UPDATE CURRENT_TIMESTAMP (MySQL's own, carried on this
        engine from its source) appended, at the column's precision."""
        clause = self._default(column)
        if clause is None or column.on_update != "now" or column.type.kind not in MOMENT_KINDS:
            return clause
        return f"{clause or 'NULL'} ON UPDATE {self._now(column)}"

    def _default(self, column: Column) -> str | None:
        d = column.default
        if d is None:
            return ""
        if d.engine == self.name:
            return d.text
        kind = column.type.kind
        if d.kind == NOW:
            return self._now(column) if kind in MOMENT_KINDS else None
        if d.kind == SEQUENCE:
            return "" if column.identity else None  # a serial: AUTO_INCREMENT here
        if d.kind == LITERAL:
            if kind is Kind.BOOLEAN:
                truth = boolean_of(d.value)
                return None if truth is None else str(int(truth))
            text = literal_sql(d.value, kind, backslash=True)
            long = kind in (Kind.JSON, Kind.XML) or self.render_type(column.type).endswith("TEXT")
            return f"({text})" if text is not None and long else text  # TEXT: MySQL's form
        translated = translate_expression(d.value, d.engine, self.name)
        return None if translated is None else f"({translated})"

    def _now(self, column: Column) -> str:
        kind, p = column.type.kind, column.type.precision
        declared = self.render_type(column.type).lower()
        if kind is Kind.DATE:
            return "(CURRENT_DATE)"
        if kind in (Kind.TIME, Kind.TIME_TZ):
            return (
                "(CURRENT_TIME)" if "(" not in declared else f"(CURRENT_TIME({_digits(declared)}))"
            )
        # a DATETIME(p) or TIMESTAMP(p) takes CURRENT_TIMESTAMP of its own precision only
        p = _digits(declared) if "(" in declared else (p or 0)
        return f"CURRENT_TIMESTAMP({p})" if p else "CURRENT_TIMESTAMP"

    def collation_clause(self, column: Column) -> str | None:
        """The source's own declaration carries its collation on this engine; from another,
        a case-insensitive column gets `CI_COLLATION`, the rest the table's binary one."""
        if column.type.kind not in TEXT_KINDS or column.type.engine == self.name:
            return ""
        return CI_CLAUSE if column.case_insensitive else ""

    def column_ddl(self, table: Table, column_name: str) -> str:
        """With the column's COMMENT and, from this engine, its own column-level CHECKs."""
        ddl = super().column_ddl(table, column_name)  # type: ignore[misc]
        comment = table.column(column_name).comment
        if comment:
            ddl += f" COMMENT {string_literal(comment)}"
        for check in table.checks:
            if check.column == column_name and check.engine == self.name:
                ddl += f" CHECK ({check.expression})"
        return ddl

    def check_constraint(self, check: Check) -> str | None:
        if check.column and check.engine == self.name:
            return None  # in its column's definition (`column_ddl`)
        return super().check_constraint(check)  # type: ignore[misc]

    def comment_refused(self, text: str, column: bool) -> str:
        limit = _COMMENT_LIMITS[column]
        if len(text) <= limit:
            return ""
        return f"{len(text)} characters: {self.name} keeps at most {limit} on a " + (
            "column" if column else "table"
        )

    def definition_sql(self, table: Table, live: Table) -> list[str]:
        """The table's COMMENT (it stays with the staging table through RENAME TABLE)."""
        out = list(super().definition_sql(table, live))  # type: ignore[misc]
        if table.comment:
            out.append(f"ALTER TABLE {self.qualified(table)} COMMENT = "
                       f"{string_literal(table.comment)}")  # fmt: skip
        return out

    def check_clause(self, check: Check) -> str | None:
        if check.engine == self.name:
            return check.expression
        return translate_expression(check.expression, check.engine, self.name)


def _digits(declared: str) -> int:
    m = re.search(r"\((\d+)\)", declared)
    return int(m.group(1)) if m else 0
