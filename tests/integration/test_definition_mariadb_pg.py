"""A table's definition across engines (issue 26), MariaDB -> PostgreSQL, through the real
servers and the `sluice copy` command.

The MariaDB source declares constant and CURRENT_TIMESTAMP defaults, ON UPDATE
CURRENT_TIMESTAMP, a CHECK, a foreign key ON DELETE CASCADE, case-insensitive UNIQUE columns
(utf8mb3_general_ci, utf8mb4_unicode_ci) and AUTO_INCREMENT keys. On the replica, read and
written with psycopg directly (never sluice), the same statements must behave as on the
source: defaults applied, explicit ids taken, the CHECK and the CI keys refusing, the cascade
deleting, the ON UPDATE column moving unless the UPDATE sets it.
"""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
import sqlglot
from sqlglot import exp
from tests.conformance.test_mariadb_pg import query, run_sql

from sluice.cli.main import main
from sluice.copy.plan import build_plan
from sluice.copy.refusals import Selection
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect

SOURCE = [
    "CREATE TABLE parent ("
    " id int AUTO_INCREMENT PRIMARY KEY,"
    " code varchar(20) CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci NOT NULL,"
    " label varchar(30) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,"
    " exact varchar(10) COLLATE utf8mb4_bin,"
    " status varchar(10) NOT NULL DEFAULT 'new',"
    " note varchar(20) DEFAULT 'it''s',"
    " qty int NOT NULL DEFAULT 0,"
    " price decimal(8,2) DEFAULT 1.50,"
    " active tinyint(1) NOT NULL DEFAULT 1,"
    " born date DEFAULT (curdate()),"
    " created datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
    " updated timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,"
    " UNIQUE KEY uq_code (code), UNIQUE KEY uq_label (label),"
    " CONSTRAINT ck_qty CHECK (qty >= 0 AND qty < 1000)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
    "CREATE TABLE child ("
    " id int AUTO_INCREMENT PRIMARY KEY, parent_id int NOT NULL, tag varchar(10),"
    " CONSTRAINT fk_child_parent FOREIGN KEY (parent_id) REFERENCES parent (id)"
    " ON DELETE CASCADE) ENGINE=InnoDB",
    "INSERT INTO parent (id, code, label, updated) VALUES"
    " (1, 'a', 'Alpha', '2020-01-01 00:00:00'), (2, 'b', 'Beta', '2020-01-01 00:00:00'),"
    " (5, 'c', 'Gamma', '2020-01-01 00:00:00')",
    "INSERT INTO child (parent_id, tag) VALUES (1, 'x'), (1, 'y'), (2, 'z')",
    # a case-insensitive text key: chunked, copied and verified in two engines' orders
    "CREATE TABLE tags (name varchar(20) COLLATE utf8mb4_general_ci PRIMARY KEY, n int)",
    "INSERT INTO tags VALUES ('apple', 1), ('Banana', 2), ('_under', 3), ('Zebra', 4),"
    " ('zoo', 5), ('Éclair', 6), ('a b', 7), ('a-b', 8), ('10', 9), ('9', 10)",
    # what has no equivalent elsewhere: listed by the plan, the rest of the table made
    "CREATE TABLE extras (id int PRIMARY KEY, s varchar(10) DEFAULT 'x',"
    " u varchar(36) DEFAULT (uuid()), flag tinyint(1) NOT NULL DEFAULT 0,"
    " CONSTRAINT ck_len CHECK (char_length(s) > 0),"
    # a boolean on PostgreSQL: `flag IN (0, 1)` there would refuse the whole table
    " CONSTRAINT ck_flag CHECK (flag IN (0, 1)))",
]
OLD = dt.datetime(2020, 1, 1)


@pytest.fixture(scope="module")
def ends(mysql_server: DbUrl, pg_server: DbUrl):
    from tests.conftest import _fresh

    src_gen, dst_gen = _fresh(mysql_server, "xeng_src"), _fresh(pg_server, "xeng_dst")
    source, target = next(src_gen), next(dst_gen)
    run_sql(source, SOURCE)
    argv = ["copy", "--source", source.render_secret(), "--target", target.render_secret(),
            "--chunk-rows", "3"]  # fmt: skip
    assert main(argv) == 0
    yield source, target
    next(dst_gen, None)
    next(src_gen, None)


@pytest.fixture(scope="module")
def replica(ends):
    return ends[1]


def test_a_case_insensitive_text_key_verifies(ends, capsys):
    source, target = ends
    argv = [
        "verify",
        "--source",
        source.render_secret(),
        "--target",
        target.render_secret(),
        "--tables",
        "tags",
        "--chunk-rows",
        "3",
    ]  # ranges cut in the source's order; fmt: skip
    assert main(argv) == 0, capsys.readouterr()
    assert "MATCH" in capsys.readouterr().out
    assert pg(target, "SELECT n FROM tags WHERE name = 'BANANA'") == [(2,)]


def pg(url: DbUrl, sql: str, params: tuple = ()) -> list[tuple]:
    """One statement on the replica through psycopg, committed; its rows when it has some."""
    with psycopg.connect(url.render_secret().replace("postgresql+psycopg", "postgresql")) as c:
        cur = c.execute(sql, params or None)
        return cur.fetchall() if cur.description else []


def refused(url: DbUrl, sql: str) -> str:
    with pytest.raises(psycopg.Error) as caught:
        pg(url, sql)
    return type(caught.value).__name__


def test_defaults_apply_to_an_insert_that_leaves_them_out(replica):
    pg(replica, "INSERT INTO parent (code) VALUES ('d')")
    row = pg(replica, "SELECT status, note, qty, price, active, born, created, updated, id "
                      "FROM parent WHERE code = 'd'")[0]  # fmt: skip
    status, note, qty, price, active, born, created, updated, new_id = row
    assert (status, note, qty, str(price), active) == ("new", "it's", 0, "1.50", True)
    today = pg(replica, "SELECT CURRENT_DATE")[0][0]
    assert born == today and created.date() == today and updated.date() == today
    assert new_id == 6  # after the source's highest id (5), no collision
    pg(replica, "DELETE FROM parent WHERE code = 'd'")


def test_an_explicit_id_is_accepted_and_the_next_generated_one_does_not_collide(replica):
    pg(replica, "INSERT INTO parent (id, code) VALUES (100, 'e')")
    pg(replica, "INSERT INTO parent (code) VALUES ('f')")
    ids = dict(pg(replica, "SELECT code, id FROM parent WHERE code IN ('e', 'f')"))
    assert ids["e"] == 100 and ids["f"] not in (1, 2, 5, 100)
    pg(replica, "DELETE FROM parent WHERE code IN ('e', 'f')")
    kind = pg(replica, "SELECT identity_generation FROM information_schema.columns "
                       "WHERE table_name = 'parent' AND column_name = 'id'")  # fmt: skip
    assert kind == [("BY DEFAULT",)]


def test_the_check_refuses_what_the_source_refuses(replica):
    assert refused(replica, "INSERT INTO parent (code, qty) VALUES ('g', -1)") == "CheckViolation"
    names = pg(replica, "SELECT conname FROM pg_constraint WHERE contype = 'c'")
    assert ("ck_qty",) in names


def test_a_case_insensitive_unique_key_refuses_a_value_differing_only_in_case(replica):
    assert refused(replica, "INSERT INTO parent (code) VALUES ('A')") == "UniqueViolation"
    assert refused(replica, "INSERT INTO parent (code, label) VALUES ('h', 'ALPHA')") == (
        "UniqueViolation"
    )
    collations = pg(replica, "SELECT a.attname, n.nspname, c.collname, c.collisdeterministic "
                             "FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation "
                             "JOIN pg_namespace n ON n.oid = c.collnamespace "
                             "WHERE a.attrelid = 'parent'::regclass AND a.attnum > 0")  # fmt: skip
    by_column = {name: (schema, coll, det) for name, schema, coll, det in collations}
    assert by_column["code"] == by_column["label"] == ("public", "sluice_ci", False)
    assert by_column["exact"][1] == "default"
    # a binary column stays case-sensitive; the CI one compares equal in a WHERE
    assert pg(replica, "SELECT count(*) FROM parent WHERE code = 'B'") == [(1,)]
    pg(replica, "INSERT INTO parent (code, exact) VALUES ('i', 'X'), ('j', 'x')")
    pg(replica, "DELETE FROM parent WHERE code IN ('i', 'j')")


def test_on_update_moves_the_timestamp_unless_the_update_sets_it(replica):
    assert pg(replica, "SELECT updated FROM parent WHERE id = 2") == [(OLD,)]
    pg(replica, "UPDATE parent SET qty = 7 WHERE id = 2")
    moved = pg(replica, "SELECT updated FROM parent WHERE id = 2")[0][0]
    assert moved > OLD and moved.date() == pg(replica, "SELECT CURRENT_DATE")[0][0]
    given = dt.datetime(2021, 6, 1, 12, 0)
    pg(replica, "UPDATE parent SET qty = 8, updated = %s WHERE id = 2", (given,))
    assert pg(replica, "SELECT updated FROM parent WHERE id = 2") == [(given,)]
    pg(replica, "UPDATE parent SET qty = 8 WHERE id = 2")  # nothing changes: nothing moves
    assert pg(replica, "SELECT updated FROM parent WHERE id = 2") == [(given,)]


def test_a_cascade_deletes_the_children(replica):
    assert pg(replica, "SELECT count(*) FROM child WHERE parent_id = 1") == [(2,)]
    pg(replica, "DELETE FROM parent WHERE id = 1")
    assert pg(replica, "SELECT count(*) FROM child WHERE parent_id = 1") == [(0,)]
    assert pg(replica, "SELECT count(*) FROM child") == [(1,)]


def test_sync_keeps_the_source_values_of_an_on_update_column(mysql_server, pg_server, tmp_path):
    """`sluice sync` upserts the source's rows: the trigger must leave the ON UPDATE column
    as the source has it (an UPDATE setting it keeps the value given)."""
    from tests.conftest import _fresh

    src_gen, dst_gen = _fresh(mysql_server, "xeng_sync_src"), _fresh(pg_server, "xeng_sync_dst")
    source, target = next(src_gen), next(dst_gen)
    try:
        run_sql(source, [
            "CREATE TABLE stamped (id int PRIMARY KEY, v int, updated datetime(6) NOT NULL"
            " DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6))",
            "INSERT INTO stamped (id, v, updated) VALUES (1, 1, '2020-01-01 00:00:00'),"
            " (2, 1, '2020-01-01 00:00:00'), (3, 1, '2020-01-01 00:00:00')",
        ])  # fmt: skip
        ends = ["--source", source.render_secret(), "--target", target.render_secret()]
        assert main(["copy", *ends]) == 0
        run_sql(source, [
            "UPDATE stamped SET v = 2, updated = '2022-02-02 02:02:02.5' WHERE id = 1",
            "UPDATE stamped SET v = 3 WHERE id = 2",  # the source's own ON UPDATE moves it
        ])  # fmt: skip
        marks = tmp_path / "wm.yaml"
        marks.write_text("tables:\n  stamped: {kind: full}\n")
        assert main(["sync", *ends, "--watermarks", str(marks)]) == 0
        want = query(source, "SELECT id, v, updated FROM stamped ORDER BY id")
        assert want[0][2] == dt.datetime(2022, 2, 2, 2, 2, 2, 500000)
        assert want[1][2] > OLD and want[2][2] == OLD
        assert pg(target, "SELECT id, v, updated FROM stamped ORDER BY id") == want
    finally:
        next(dst_gen, None)
        next(src_gen, None)


def test_what_has_no_equivalent_is_listed_by_the_plan(ends):
    source, target = ends
    items = {(n.kind, n.key): n for n in build_plan(source, target).not_carried}
    assert items[("default", "extras.u")].ddl == "uuid()"
    assert items[("check", "extras.ck_len")].ddl == "CHECK (char_length(`s`) > 0)"
    assert items[("check", "extras.ck_flag")].ddl == "CHECK (`flag` in (0,1))"
    assert not [k for k in items if k[1].startswith(("parent.", "child.", "tags."))]
    # the rest of the table is made: its constant default applies
    pg(target, "INSERT INTO extras (id) VALUES (1)")
    assert pg(target, "SELECT s, u, flag FROM extras") == [("x", None, False)]


def test_sql_server_plan_of_the_same_source_compiles_as_t_sql(ends):
    """SQL Server is not run here: its DDL for the reflected MariaDB tables must parse as
    T-SQL, carry the defaults, CI collations and CHECK, and list ON UPDATE as not carried."""
    source, _ = ends
    plan = build_plan(source, DbUrl.parse("mssql+pymssql://sa@127.0.0.1:1433/xeng_never"))
    dst = get_dialect("mssql")
    tables = {tp.table.name: tp.target for tp in plan.tables}
    (ddl,) = dst.create_table_sql(tables["parent"])
    tree = sqlglot.parse_one(ddl, read="tsql")
    assert len(list(tree.find_all(exp.DefaultColumnConstraint))) == 8  # status .. updated
    assert len(list(tree.find_all(exp.CheckColumnConstraint))) == 1
    assert "[code] nvarchar(20) COLLATE Latin1_General_100_CI_AS_SC" in ddl
    assert "[exact] nvarchar(10) COLLATE Latin1_General_100_BIN2" in ddl
    listed = {(n.kind, n.key) for n in plan.not_carried}
    assert ("on update", "parent.updated") in listed
    for target in tables.values():
        for stmt in dst.create_table_sql(target):
            assert isinstance(sqlglot.parse_one(stmt, read="tsql"), exp.Create)


def test_collations_target_keeps_the_target_default_and_lists_each_column(ends, pg_server):
    """`--collations target`: the CI columns take PostgreSQL's default collation (LIKE works
    on them, PostgreSQL < 18 refuses it on a nondeterministic one), and the plan names each
    column whose collation is not carried."""
    from tests.conftest import _fresh

    source, _ = ends
    dst_gen = _fresh(pg_server, "xeng_dst_coll")
    target = next(dst_gen)
    try:
        plan = build_plan(source, target, selection=Selection(collations="target"))
        listed = {n.key for n in plan.not_carried if n.kind == "collation"}
        assert {"parent.code", "parent.label", "tags.name"} <= listed
        argv = ["copy", "--source", source.render_secret(), "--target", target.render_secret(),
                "--tables", "parent,tags", "--collations", "target"]  # fmt: skip
        assert main(argv) == 0
        coll = pg(target, "SELECT c.collname FROM pg_attribute a JOIN pg_collation c "
                          "ON c.oid = a.attcollation WHERE a.attrelid = 'parent'::regclass "
                          "AND a.attname = 'code'")  # fmt: skip
        assert coll == [("default",)]
        assert pg(target, "SELECT code FROM parent WHERE code LIKE 'a%'") == [("a",)]
        pg(target, "INSERT INTO parent (code) VALUES ('A')")  # case-sensitive now, as asked
    finally:
        next(dst_gen, None)
