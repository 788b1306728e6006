"""Comments and MariaDB column-level CHECKs as each target writes them (issue 26). MariaDB and
PostgreSQL run them live in tests/integration/test_definition_comments.py; SQL Server's
statements are compile-checked with sqlglot's T-SQL parser here, never run."""

from __future__ import annotations

from dataclasses import asdict

import sqlglot
from sqlglot import exp

from sluice.core.definition import Check
from sluice.core.plain import plain, table_from
from sluice.core.schema import Column, Table
from sluice.core.types import Kind, SqlType
from sluice.dialects import get_dialect

TEXT = "it's a \\ path: C:\\new"  # a quote and backslashes
COLUMN_CHECK = Check("noted_qty_check", "`qty` > 0", "mysql", column="qty")
TABLE = Table(
    "noted",
    (
        Column("id", SqlType(Kind.INTEGER), False, identity=True, comment="the key"),
        Column("qty", SqlType(Kind.INTEGER), False, comment=TEXT),
    ),
    ("id",),
    checks=(COLUMN_CHECK, Check("ck_qty", "`qty` < 100", "mysql")),
    comment=TEXT,
)


def test_mariadb_writes_comments_escaped_and_a_column_check_in_its_column():
    my = get_dialect("mysql")
    (ddl,) = my.create_table_sql(TABLE)
    assert "`qty` INT NOT NULL COMMENT 'it''s a \\\\ path: C:\\\\new' CHECK (`qty` > 0)" in ddl
    assert "CONSTRAINT `ck_qty` CHECK (`qty` < 100)" in ddl
    assert "noted_qty_check" not in ddl  # MariaDB names it after its column itself
    assert my.definition_sql(TABLE, TABLE) == [
        "ALTER TABLE `noted` COMMENT = 'it''s a \\\\ path: C:\\\\new'"
    ]
    assert my.comment_refused("x" * 1024, column=True) == ""
    assert "at most 1024" in my.comment_refused("x" * 1025, column=True)
    assert my.comment_refused("x" * 2048, column=False) == ""


def test_postgresql_names_a_mariadb_column_check_as_it_names_its_own():
    pg = get_dialect("postgresql")
    assert pg.check_constraint(COLUMN_CHECK) == 'CONSTRAINT "noted_qty_check" CHECK ("qty" > 0)'
    assert pg.comment_refused("x" * 100_000, column=True) == ""


def test_sql_server_writes_comments_as_ms_description_properties():
    ms = get_dialect("mssql")
    stmts = ms.definition_sql(TABLE, TABLE)
    assert len(stmts) == 3  # the table's, then each commented column's
    for stmt, (column, text) in zip(stmts, [(None, TEXT), ("id", "the key"), ("qty", TEXT)]):
        tree = sqlglot.parse_one(stmt, read="tsql")
        assert isinstance(tree, exp.Execute)
        assert tree.this.sql("tsql") == "sys.sp_addextendedproperty"
        args = {a.this.this.this: a.expression for a in tree.expressions}
        assert {k: v.this for k, v in args.items()} == {
            "name": "MS_Description", "value": text, "level0type": "SCHEMA",
            "level0name": "dbo", "level1type": "TABLE", "level1name": "noted",
            **({"level2type": "COLUMN", "level2name": column} if column else {}),
        }  # fmt: skip
        assert all(isinstance(v, exp.National) for v in args.values())
    assert ms.comment_refused("é" * 3750, column=False) == ""
    assert "at most 7500" in ms.comment_refused("x" * 3751, column=True)


def test_mariadb_column_checks_join_reflected_ones_once():
    my = get_dialect("mysql")
    facts = {("column checks", "noted"): [("qty", "`qty` > 0"), ("id", "`id` > 0")]}
    reflected = [Check("qty", "`qty` > 0", "mysql"), Check("ck_qty", "`qty` < 100", "mysql")]
    got = my.table_checks("noted", reflected, facts)
    assert got == [*reflected, Check("noted_id_check", "`id` > 0", "mysql", column="id")]
    assert my.table_checks("other", reflected, facts) == reflected


def test_a_column_check_survives_the_plan_json():
    assert table_from(plain(asdict(TABLE))) == TABLE
