"""PostgreSQL table inheritance and declarative partitioning (issue 26), through real servers.

The source: a parent `city` with rows of its own and a child `capital` INHERITS it with
rows of its own (reading `city` without ONLY returns both); `measure`, range-partitioned by
date into two yearly partitions and a DEFAULT one, with a secondary index; `reading`,
partitioned by list, one partition partitioned itself by range (sub-partitions). Every count
below is an independent read through psycopg or pymysql (`SELECT count(*) FROM ONLY ...`),
never sluice's own.
"""

from __future__ import annotations

import io

import psycopg
import pytest
from tests.conftest import _fresh, seeded_db

from sluice.cli.plan import print_plan
from sluice.copy import CopyOptions, copy_database
from sluice.copy.plan import Plan, build_plan
from sluice.verify import VerifyOptions, verify_database
from sluice.verify.repair import repair

SOURCE_SQL = [
    "CREATE TABLE city (id int PRIMARY KEY, name text NOT NULL)",
    "CREATE TABLE capital (state text) INHERITS (city)",
    "ALTER TABLE capital ADD PRIMARY KEY (id)",
    "INSERT INTO city SELECT g, 'city ' || g FROM generate_series(1, 10) g",
    "INSERT INTO capital SELECT g, 'capital ' || g, 'S' || g FROM generate_series(101, 105) g",
    "CREATE TABLE measure (id int NOT NULL, logdate date NOT NULL, v int, "
    "PRIMARY KEY (id, logdate)) PARTITION BY RANGE (logdate)",
    "CREATE TABLE measure_2020 PARTITION OF measure "
    "FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')",
    "CREATE TABLE measure_2021 PARTITION OF measure "
    "FOR VALUES FROM ('2021-01-01') TO ('2022-01-01')",
    "CREATE TABLE measure_other PARTITION OF measure DEFAULT",
    "CREATE INDEX measure_v ON measure (v)",
    # 12 in 2020, 12 in 2021, 6 in the default partition (2030)
    "INSERT INTO measure SELECT g, date '2020-01-15' + (g - 1) * 30, g "
    "FROM generate_series(1, 24) g",
    "INSERT INTO measure SELECT g, date '2030-01-01' + g, g FROM generate_series(25, 30) g",
    # sub-partitions
    "CREATE TABLE reading (id int NOT NULL, kind varchar(8) NOT NULL, at int NOT NULL, "
    "PRIMARY KEY (id, kind, at)) PARTITION BY LIST (kind)",
    "CREATE TABLE reading_a PARTITION OF reading FOR VALUES IN ('a') PARTITION BY RANGE (at)",
    "CREATE TABLE reading_a_low PARTITION OF reading_a FOR VALUES FROM (0) TO (100)",
    "CREATE TABLE reading_a_high PARTITION OF reading_a FOR VALUES FROM (100) TO (1000)",
    "CREATE TABLE reading_b PARTITION OF reading FOR VALUES IN ('b')",
    "INSERT INTO reading SELECT g, CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END, g * 37 % 1000 "
    "FROM generate_series(1, 20) g",
]
PARTITIONS = {
    "measure_2020": "FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')",
    "measure_2021": "FOR VALUES FROM ('2021-01-01') TO ('2022-01-01')",
    "measure_other": "DEFAULT",
}
OWN_ROWS = {"city": 10, "capital": 5, "measure": 30, "reading": 20}


def _pg(url):
    """An independent connection (psycopg itself, not sluice's dialect)."""
    return psycopg.connect(
        url.url.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True
    )


def one(url, query, params=()):
    with _pg(url) as c:
        return c.execute(query, params).fetchone()[0]


def rows(url, query):
    with _pg(url) as c:
        return c.execute(query).fetchall()


def partitions(url, table):
    """(partition, bound) of `table`, by name."""
    return dict(rows(url, "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM "
                          f"pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid "
                          f"WHERE h.inhparent = '{table}'::regclass"))  # fmt: skip


@pytest.fixture
def source(pg_server):
    yield from seeded_db(pg_server, "part_src", SOURCE_SQL)


@pytest.fixture
def target(pg_server):
    gen = _fresh(pg_server, "part_dst")
    yield next(gen)
    next(gen, None)


def test_the_source_doubles_child_rows_without_only(source):
    # what made the copy store child rows twice: a plain read of the parent includes them
    assert one(source, "SELECT count(*) FROM city") == 15
    assert one(source, "SELECT count(*) FROM ONLY city") == 10


def test_plan_reads_the_hierarchy_and_leaves_partitions_out(source, target):
    plan = build_plan(source, target)
    assert [tp.name for tp in plan.tables] == ["city", "capital", "measure", "reading"]
    assert {tp.name: tp.rows for tp in plan.tables} == OWN_ROWS  # own rows, never doubled
    assert plan.table("capital").table.inherits == ("city",)
    measure = plan.table("measure").table.partitioning
    assert (measure.strategy, measure.key) == ("range", "logdate")
    assert dict(measure.partitions) == PARTITIONS
    reading = plan.table("reading").table.partitioning
    assert (reading.strategy, reading.key, dict(reading.partitions)) == (
        "list",
        "kind",
        {"reading_a": "FOR VALUES IN ('a')", "reading_b": "FOR VALUES IN ('b')"},
    )
    ((name, sub),) = reading.subpartitions
    assert (name, sub.strategy, sub.key, dict(sub.partitions)) == ("reading_a", "range", "at", {
        "reading_a_low": "FOR VALUES FROM (0) TO (100)",
        "reading_a_high": "FOR VALUES FROM (100) TO (1000)"})  # fmt: skip
    skipped = {s.table: s.reason for s in plan.skipped}
    assert skipped["measure_2020"] == "partition of measure: copied with it"
    assert skipped["reading_a_low"] == "partition of reading: copied with it"
    assert set(skipped) == {*PARTITIONS, "reading_a", "reading_b", "reading_a_low",
                            "reading_a_high"}  # fmt: skip
    assert plan.not_carried == ()  # PostgreSQL makes the inheritance and the partitions
    again = Plan.from_json(plan.to_json())  # the plan travels as JSON (Airflow)
    assert again.tables == plan.tables and again.not_carried == plan.not_carried
    # the planner's estimates once analysed: a parent's own, a partitioned table's summed
    # over its partitions (its own pg_class row holds none), sizes likewise
    with _pg(source) as c:
        c.execute("ANALYZE")
    plan = build_plan(source, target)
    assert {tp.name: tp.rows for tp in plan.tables} == OWN_ROWS
    assert (
        plan.table("measure").bytes
        == one(source, "SELECT sum(pg_table_size(relid)) FROM pg_partition_tree('measure')")
        > 0
    )


def _check_replica(source, target):
    for table, n in OWN_ROWS.items():
        partitioned = table in ("measure", "reading")  # no rows of its own
        assert one(target, f"SELECT count(*) FROM ONLY {table}") == (0 if partitioned else n)
        assert one(target, f"SELECT count(*) FROM {table}") == one(
            source, f"SELECT count(*) FROM {table}"), table  # fmt: skip
    # the child inherits its parent again
    assert rows(target, "SELECT inhrelid::regclass::text, inhparent::regclass::text "
                        "FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid "
                        "WHERE NOT c.relispartition") == [("capital", "city")]  # fmt: skip
    # measure is partitioned as the source is: same partitions, bounds and rows in each
    assert one(target, "SELECT pg_get_partkeydef('measure'::regclass)") == "RANGE (logdate)"
    assert partitions(target, "measure") == partitions(source, "measure") == PARTITIONS
    for name in PARTITIONS:
        query = f"SELECT id, logdate, v FROM ONLY {name} ORDER BY id"
        assert rows(target, query) == rows(source, query) != [], name
    # indexes on the partitions are named after the partitions, as PostgreSQL names them
    names = {r[0] for r in rows(target, "SELECT indexname FROM pg_indexes "
                                        "WHERE schemaname = 'public'")}  # fmt: skip
    assert {"measure_pkey", "measure_v", "measure_2020_pkey", "measure_other_v_idx",
            "reading_a_pkey", "reading_a_low_pkey"} <= names  # fmt: skip
    assert not [n for n in names if n.startswith("_sluice")]
    # reading: sub-partitioned as the source is, each leaf holding the source's rows
    for table in ("reading", "reading_a"):
        assert partitions(target, table) == partitions(source, table) != {}, table
    for leaf in ("reading_a_low", "reading_a_high", "reading_b"):
        query = f"SELECT * FROM ONLY {leaf} ORDER BY 1"
        assert rows(target, query) == rows(source, query) != [], leaf


def test_postgres_to_postgres_keeps_inheritance_and_partitions(source, target):
    with _pg(target) as c:  # as a copy before issue 26 left it: a partition as a table
        c.execute("CREATE TABLE measure_2020 (id int PRIMARY KEY, logdate date, v int)")
        c.execute("INSERT INTO measure_2020 VALUES (-1, '2020-01-01', 0)")
    result = copy_database(source, target, CopyOptions(chunk_rows=4))
    assert result.ok, result.failures
    _check_replica(source, target)
    # a second copy over the first: the swaps take the child out and finish puts it back
    result = copy_database(source, target, CopyOptions(chunk_rows=4))
    assert result.ok, result.failures
    _check_replica(source, target)
    report = verify_database(source, target, VerifyOptions(checks=False, chunk_rows=4))
    assert report.ok and {t.name for t in report.tables} == set(OWN_ROWS)
    # a row doubled into the parent is caught (a read through the hierarchy would not see
    # it as a difference of the child)
    with _pg(target) as c:
        c.execute("INSERT INTO city SELECT id, name FROM capital WHERE id = 101")
    options = VerifyOptions(checks=False, chunk_rows=4)
    report = verify_database(source, target, options)
    assert not report.ok
    assert [t.name for t in report.tables if t.mismatches or t.error] == ["city"]
    assert report.table("city").target_rows == 11 and report.table("city").source_rows == 10
    # a repair re-copies the parent's differing ranges, its own rows only: the child keeps its
    # rows (a DELETE of the range through the hierarchy would have removed capital's 101)
    fixed = repair(build_plan(source, target, chunk_rows=4), report, source, target,
                   verify=options)  # fmt: skip
    assert fixed.after.ok and fixed.ranges >= 1
    assert one(target, "SELECT count(*) FROM ONLY city") == 10
    assert rows(target, "SELECT * FROM capital ORDER BY 1") == rows(
        source, "SELECT * FROM capital ORDER BY 1")  # fmt: skip


def test_only_the_child_copied_lands_on_its_own(source, target):
    plan = build_plan(source, target, tables=["capital"])
    assert [(n.kind, n.key) for n in plan.not_carried] == [("inheritance", "capital")]
    assert "its parent city is not copied" in plan.not_carried[0].reason
    result = copy_database(source, target, CopyOptions(tables=("capital",)))
    assert result.ok, result.failures
    assert one(target, "SELECT count(*) FROM capital") == 5
    assert one(target, "SELECT count(*) FROM pg_inherits") == 0


def test_postgres_to_mariadb_one_table_each_rows_not_doubled(source, mysql_db):
    import pymysql

    plan = build_plan(source, mysql_db)
    carried = {(n.kind, n.key): n for n in plan.not_carried}
    assert set(carried) == {("inheritance", "capital"), ("partitioning", "measure"),
                            ("partitioning", "reading")}  # fmt: skip
    assert "mysql has no table inheritance" in carried["inheritance", "capital"].reason
    assert carried["partitioning", "measure"].ddl == "PARTITION BY RANGE (logdate)"
    text = io.StringIO()
    print_plan(plan, file=text, width=200)
    assert "partition of measure: copied with it" in text.getvalue()
    result = copy_database(source, mysql_db, CopyOptions(chunk_rows=4))
    assert result.ok, result.failures
    conn = pymysql.connect(host=mysql_db.url.host, port=mysql_db.url.port or 3306,
                           user=mysql_db.url.username, password=mysql_db.url.password or "",
                           database=mysql_db.url.database)  # fmt: skip
    try:
        with conn.cursor() as cur:
            for table, n in OWN_ROWS.items():
                cur.execute(f"SELECT COUNT(*) FROM `{table}`")
                assert cur.fetchone()[0] == n, table
            cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE "
                        "TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'measure%%'")  # fmt: skip
            assert [r[0] for r in cur.fetchall()] == ["measure"]
    finally:
        conn.close()
    report = verify_database(source, mysql_db, VerifyOptions(checks=False, chunk_rows=4))
    assert report.ok and {t.name for t in report.tables} == set(OWN_ROWS)


def test_sync_moves_each_table_own_rows(source, target):
    from sluice.sync import sync_database

    assert copy_database(source, target, CopyOptions(chunk_rows=4)).ok
    assert sync_database(source, target).moved == 0  # the parent does not see child rows
    with _pg(source) as c:
        # a parent row with the key and values of a child's row: its own, still new
        c.execute("INSERT INTO city VALUES (105, 'capital 105')")
        c.execute("INSERT INTO capital VALUES (106, 'capital 106', 'S106')")
        c.execute("DELETE FROM ONLY city WHERE id = 1")
        c.execute("INSERT INTO measure VALUES (31, '2021-06-01', 31)")
    result = sync_database(source, target)
    moved = {t.table: (t.inserted, t.updated, t.deleted) for t in result.tables if t.moved}
    assert moved == {"city": (1, 0, 1), "capital": (1, 0, 0), "measure": (1, 0, 0)}
    for table in ("city", "capital", "measure_2021"):
        query = f"SELECT * FROM ONLY {table} ORDER BY 1"
        assert rows(target, query) == rows(source, query), table
    assert sync_database(source, target).moved == 0
