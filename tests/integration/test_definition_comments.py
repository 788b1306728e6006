"""Comments on tables and columns, and MariaDB's column-level CHECKs, arrive (issue 26):
MariaDB -> MariaDB, MariaDB -> PostgreSQL, PostgreSQL -> MariaDB, through `sluice copy` and
the real servers. Each end is read with its own driver (PyMySQL, psycopg), never through
sluice; a comment holds a quote and a backslash, which MariaDB reads as an escape.
"""

from __future__ import annotations

import psycopg
import pymysql
import pytest
from tests.conformance.test_mariadb_pg import run_sql

from sluice.cli.main import main
from sluice.copy.plan import build_plan
from sluice.core.urls import DbUrl

TABLE_COMMENT = "tab's \\ comment"  # one backslash
QTY_COMMENT = "it's a \\ path: C:\\new"

MARIADB_SOURCE = [
    "CREATE TABLE noted ("
    " id int AUTO_INCREMENT PRIMARY KEY COMMENT 'the key',"
    r" qty int NOT NULL COMMENT 'it''s a \\ path: C:\\new' CHECK (qty > 0),"
    " note varchar(20) DEFAULT 'n',"
    " CONSTRAINT ck_note CHECK (note <> 'x')"
    r") COMMENT = 'tab''s \\ comment'",
    "INSERT INTO noted (qty) VALUES (1), (2)",
]

WIDE_COMMENT = "w" * 1025  # one more than a MariaDB column keeps

PG_SOURCE = [
    "CREATE TABLE noted (id int PRIMARY KEY, qty int NOT NULL CHECK (qty > 0), wide text)",
    f"COMMENT ON TABLE noted IS '{TABLE_COMMENT.replace(chr(39), chr(39) * 2)}'",
    f"COMMENT ON COLUMN noted.qty IS '{QTY_COMMENT.replace(chr(39), chr(39) * 2)}'",
    f"COMMENT ON COLUMN noted.wide IS '{WIDE_COMMENT}'",
    "INSERT INTO noted VALUES (1, 1, 'x')",
]


def my(url: DbUrl, sql: str) -> list[tuple]:
    """One statement through PyMySQL itself, committed; its rows."""
    u = url.url
    conn = pymysql.connect(host=u.host, port=u.port or 3306, user=u.username or "root",
                           password=url.password or "", database=u.database)  # fmt: skip
    try:
        cur = conn.cursor()
        cur.execute(sql)
        rows = [tuple(r) for r in cur.fetchall()]
        conn.commit()
        return rows
    finally:
        conn.close()


def pg(url: DbUrl, sql: str) -> list[tuple]:
    """One statement through psycopg itself, committed; its rows."""
    text = url.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(text) as c:
        cur = c.execute(sql)
        return cur.fetchall() if cur.description else []


def mariadb_definition(url: DbUrl) -> tuple:
    """The table's comment, each column's comment, each CHECK (name, level, clause), as the
    server's information_schema reports them."""
    where = "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'noted'"
    return (
        my(url, f"SELECT TABLE_COMMENT FROM information_schema.TABLES {where}"),
        my(url, f"SELECT COLUMN_NAME, COLUMN_COMMENT FROM information_schema.COLUMNS {where} "
                "ORDER BY ORDINAL_POSITION"),
        my(url, "SELECT CONSTRAINT_NAME, LEVEL, CHECK_CLAUSE FROM "
                "information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() "
                "AND TABLE_NAME = 'noted' ORDER BY CONSTRAINT_NAME"),
    )  # fmt: skip


def _copy(source: DbUrl, target: DbUrl) -> None:
    argv = ["copy", "--source", source.render_secret(), "--target", target.render_secret()]
    assert main(argv) == 0


@pytest.fixture(scope="module")
def mariadb_source(mysql_server: DbUrl):
    from tests.conftest import _fresh

    gen = _fresh(mysql_server, "mariadef_src")
    source = next(gen)
    run_sql(source, MARIADB_SOURCE)
    yield source
    next(gen, None)


@pytest.fixture
def mariadb_target(mysql_server: DbUrl):
    from tests.conftest import _fresh

    gen = _fresh(mysql_server, "mariadef_dst")
    yield next(gen)
    next(gen, None)


@pytest.fixture
def pg_target(pg_server: DbUrl):
    from tests.conftest import _fresh

    gen = _fresh(pg_server, "mariadef_dst")
    yield next(gen)
    next(gen, None)


def test_mariadb_to_mariadb_keeps_comments_and_the_column_check(mariadb_source, mariadb_target):
    _copy(mariadb_source, mariadb_target)
    want = mariadb_definition(mariadb_source)
    assert want == (
        [(TABLE_COMMENT,)],
        [("id", "the key"), ("qty", QTY_COMMENT), ("note", "")],
        [("ck_note", "Table", "`note` <> 'x'"), ("qty", "Column", "`qty` > 0")],
    )
    assert mariadb_definition(mariadb_target) == want
    with pytest.raises(pymysql.err.OperationalError, match="qty"):
        my(mariadb_target, "INSERT INTO noted (qty) VALUES (0)")
    my(mariadb_target, "INSERT INTO noted (qty) VALUES (3)")  # the rest still takes rows


def test_mariadb_to_postgresql_keeps_comments_and_the_column_check(mariadb_source, pg_target):
    _copy(mariadb_source, pg_target)
    assert pg(pg_target, "SELECT obj_description('noted'::regclass, 'pg_class')") == [
        (TABLE_COMMENT,)
    ]
    got = pg(pg_target, "SELECT a.attname, col_description(a.attrelid, a.attnum) "
                        "FROM pg_attribute a WHERE a.attrelid = 'noted'::regclass "
                        "AND a.attnum > 0 ORDER BY a.attnum")  # fmt: skip
    assert got == [("id", "the key"), ("qty", QTY_COMMENT), ("note", None)]
    checks = pg(pg_target, "SELECT conname FROM pg_constraint WHERE contype = 'c' "
                           "AND conrelid = 'noted'::regclass ORDER BY conname")  # fmt: skip
    assert checks == [("ck_note",), ("noted_qty_check",)]
    with pytest.raises(psycopg.errors.CheckViolation, match="noted_qty_check"):
        pg(pg_target, "INSERT INTO noted (id, qty) VALUES (9, 0)")


def test_postgresql_to_mariadb_keeps_comments(pg_server: DbUrl, mariadb_target):
    from tests.conftest import _fresh

    gen = _fresh(pg_server, "mariadef_pgsrc")
    source = next(gen)
    try:
        run_sql(source, PG_SOURCE)
        listed = [(n.kind, n.key, n.ddl) for n in build_plan(source, mariadb_target).not_carried]
        assert listed == [("comment", "noted.wide", f"COMMENT '{WIDE_COMMENT}'")]
        _copy(source, mariadb_target)  # the over-long comment, listed, does not fail the table
        table, columns, checks = mariadb_definition(mariadb_target)
        assert table == [(TABLE_COMMENT,)]
        assert columns == [("id", ""), ("qty", QTY_COMMENT), ("wide", "")]
        assert checks == [("noted_qty_check", "Table", "`qty` > 0")]
    finally:
        next(gen, None)


def test_a_target_without_comments_lists_each_one(mariadb_source, tmp_path):
    target = DbUrl.parse(f"sqlite:///{tmp_path / 'replica.db'}")
    plan = build_plan(mariadb_source, target)
    listed = [(n.kind, n.key, n.ddl) for n in plan.not_carried if n.kind == "comment"]
    assert listed == [
        ("comment", "noted", "COMMENT 'tab''s \\ comment'"),
        ("comment", "noted.id", "COMMENT 'the key'"),
        ("comment", "noted.qty", "COMMENT 'it''s a \\ path: C:\\new'"),
    ]
    assert plan.tables[0].table.comment is None
    assert all(c.comment is None for c in plan.tables[0].table.columns)
