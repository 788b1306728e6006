"""Views and sequences (issue 24) where no live server runs here: SQL Server's catalog
queries and statements compiled by sqlglot's T-SQL parser (never run against a live SQL
Server), and SQLite's views copied between two real SQLite files."""

from __future__ import annotations

import re
import sqlite3

import pytest
import sqlglot
from sqlglot import exp

from sluice.copy import CopyOptions, copy_database
from sluice.copy.plan import build_plan
from sluice.core.objects import SequenceDef, View
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect
from sluice.dialects import mssql_objects as mo

MSSQL = get_dialect("mssql")


@pytest.mark.parametrize(
    ("query", "tables", "columns"),
    [
        (mo.VIEWS, {"views", "schemas"}, 3),
        (mo.VIEW_REFERENCES, {"sql_expression_dependencies", "views", "schemas"}, 4),
        (mo.SEQUENCES, {"sequences", "schemas"}, 10),
    ],
)
def test_mssql_catalog_queries_compile(query, tables, columns):
    tree = sqlglot.parse_one(query, read="tsql")
    assert isinstance(tree, exp.Select)
    assert {t.name for t in tree.find_all(exp.Table)} == tables
    assert len(tree.expressions) == columns  # what `Objects.list_*` unpacks per row


def test_mssql_sequence_is_made_if_absent_then_restarted_at_the_next_value():
    seq = SequenceDef("sales", "inv no", "bigint", 1000, 7, 1, 2**63 - 1, False, 1014, True)
    make, restart = MSSQL.create_sequence_sql(seq, "sales")
    tree = sqlglot.parse_one(make, read="tsql")
    assert isinstance(tree, exp.IfBlock)
    create = tree.find(exp.Create)
    assert create is not None and create.kind == "SEQUENCE"
    assert create.this.sql("tsql") == "[sales].[inv no]"
    assert "INCREMENT BY 7" in make and "START WITH 1000" in make and "NO CYCLE" in make
    # sqlglot keeps ALTER SEQUENCE as a command: its exact form instead
    assert re.fullmatch(r"ALTER SEQUENCE \[sales\]\.\[inv no\] RESTART WITH 1021", restart)
    unused = SequenceDef("dbo", "s", "int", 5, 1, 1, 10, True, 5, False)
    assert MSSQL.create_sequence_sql(unused, "dbo")[1].endswith("RESTART WITH 5")


def test_mssql_view_is_made_with_create_or_alter():
    view = View("dbo", "v", "CREATE  VIEW dbo.v AS SELECT 1 AS x")
    (stmt,) = MSSQL.create_view_sql(view, "dbo")
    tree = sqlglot.parse_one(stmt, read="tsql")
    assert isinstance(tree, exp.Create) and tree.kind == "VIEW"
    assert stmt.startswith("CREATE OR ALTER VIEW dbo.v AS")
    assert MSSQL.view_ddl(view) == view.definition  # the source DDL, as written


def test_sqlite_views_are_copied_between_sqlite_files(tmp_path):
    src, dst = tmp_path / "src.db", tmp_path / "dst.db"
    with sqlite3.connect(src) as conn:
        conn.executescript(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"
            "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');"
            "CREATE VIEW odd AS SELECT * FROM t WHERE id % 2 = 1;"
            "CREATE VIEW odd_upper AS SELECT id, upper(v) AS v FROM odd;"
        )
    source, target = DbUrl.parse(f"sqlite:///{src}"), DbUrl.parse(f"sqlite:///{dst}")
    plan = build_plan(source, target)
    assert [v.key for v in plan.views] == ["odd", "odd_upper"] and plan.sequences == ()
    result = copy_database(source, target, CopyOptions())
    assert result.ok, result.failures
    assert sorted(result.objects.views) == ["odd", "odd_upper"]
    for view in ("odd", "odd_upper"):
        query = f"SELECT * FROM {view} ORDER BY id"
        with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
            assert a.execute(query).fetchall() == b.execute(query).fetchall() != []
    again = copy_database(source, target, CopyOptions())  # made again over the old ones
    assert again.ok and sorted(again.objects.views) == ["odd", "odd_upper"]
