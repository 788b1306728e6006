"""Quality checks against real databases: duplicate and NULL keys, NULLs in required columns,
orphans (single and multi-column), row-count drift, and errors that name the table."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sluice.core.errors import SluiceError
from sluice.core.schema import Column, ForeignKey, Table
from sluice.core.types import INTEGER, string
from sluice.core.urls import DbUrl
from sluice.datasets.stackoverflow import FOREIGN_KEYS, TABLES
from sluice.dialects import get_dialect
from sluice.verify.quality import (
    OrphanRule,
    QualityRules,
    TableRules,
    failed,
    rules_for,
    run_checks,
    summary_lines,
)


def _table(name: str, key: tuple[str, ...], *cols: str) -> Table:
    columns = tuple(Column(c, string(20) if c == "name" else INTEGER) for c in cols)
    return Table(name, columns, primary_key=key)


PARENT = _table("Parent", ("id",), "id", "name")
CHILD = _table("Child", ("id",), "id", "parent_id")
PAIR = _table("Pair", ("a", "b"), "a", "b", "v")
PAIR_REF = _table("PairRef", ("id",), "id", "a", "b")
LOOSE = _table("Loose", (), "x")
CLEAN = _table("Clean", ("id",), "id", "name")

ROWS = {
    # id 2 twice, id 4 three times: 3 surplus rows; one NULL key; one NULL name
    "Parent": [
        (1, "a"),
        (2, "b"),
        (2, "dup"),
        (3, None),
        (None, "k"),
        (4, "x"),
        (4, "y"),
        (4, "z"),
    ],
    # 13, 14, 15 point nowhere; NULL references are not orphans
    "Child": [(10, 1), (11, 2), (12, None), (13, 99), (14, 98), (15, 99)],
    # (1,2) twice, (2,1) three times: 3 surplus rows; one NULL in the key
    "Pair": [(1, 1, 0), (1, 2, 0), (1, 2, 0), (2, 1, 0), (2, 1, 0), (2, 1, 0), (None, 1, 0)],
    # (1,3) and (3,3) are orphans; a NULL part means no reference at all
    "PairRef": [(1, 1, 1), (2, 1, 3), (3, 3, 3), (4, None, 1)],
    "Loose": [(1,), (1,), (None,)],
    "Clean": [(1, "a"), (2, "b")],
}

RULES = QualityRules(
    {
        "Parent": TableRules(required=("name",), drift_tolerance=0.0),
        "Child": TableRules(
            orphans=(OrphanRule(ForeignKey("Child", ("parent_id",), "Parent", ("id",)), "error"),),
            drift_tolerance=0.1,
        ),
        "Pair": TableRules(drift_tolerance=0.25),
        "PairRef": TableRules(
            orphans=(
                OrphanRule(ForeignKey("PairRef", ("a", "b"), "Pair", ("a", "b")), max_orphans=2),
            ),
        ),
        "Clean": TableRules(required=("name",), drift_tolerance=0.5),  # not in source_rows
    }
)

# source rows: Parent exact, Child 6 vs 5 (20% > 10%), Pair 7 vs 8 (12.5% <= 25%)
SOURCE_ROWS = {"Parent": 8, "Child": 5, "Pair": 8}

EXPECTED = [
    ("primary_key_unique", "Parent", "id", "error", False, 3.0),
    ("primary_key_not_null", "Parent", "id", "error", False, 1.0),
    ("not_null", "Parent", "name", "error", False, 1.0),
    ("row_count_drift", "Parent", None, "error", True, 0.0),
    ("primary_key_unique", "Child", "id", "error", True, 0.0),
    ("primary_key_not_null", "Child", "id", "error", True, 0.0),
    ("orphans", "Child", "parent_id", "error", False, 3.0),
    ("row_count_drift", "Child", None, "error", False, 0.2),
    ("primary_key_unique", "Pair", "a, b", "error", False, 3.0),
    ("primary_key_not_null", "Pair", "a, b", "error", False, 1.0),
    ("row_count_drift", "Pair", None, "error", True, 0.125),
    ("primary_key_unique", "PairRef", "id", "error", True, 0.0),
    ("primary_key_not_null", "PairRef", "id", "error", True, 0.0),
    ("orphans", "PairRef", "a, b", "warning", True, 2.0),
    # Loose has no primary key and no rules: no results at all
    ("primary_key_unique", "Clean", "id", "error", True, 0.0),
    ("primary_key_not_null", "Clean", "id", "error", True, 0.0),
    ("not_null", "Clean", "name", "error", True, 0.0),
]

TABLE_LIST = [PARENT, CHILD, PAIR, PAIR_REF, LOOSE, CLEAN]


def load(url: DbUrl, tables: list[Table], rows: dict[str, list[tuple]]) -> None:
    """Create each table WITHOUT its key constraint (so duplicates and NULL keys load), then
    insert through the dialect's plain INSERT path."""
    d = get_dialect(url.engine)
    conn = d.connect(url)
    try:
        cur = conn.cursor()
        for t in tables:
            for stmt in d.create_table_sql(replace(t, primary_key=()), primary_key=False):
                cur.execute(stmt)
            d.insert_rows(conn, t, rows[t.name])
        conn.commit()
    finally:
        conn.close()


@pytest.fixture(params=["pg_db", "mysql_db", "sqlite_db"])
def db(request) -> DbUrl:
    return request.getfixturevalue(request.param)


def test_every_check_counts_exactly(db):
    load(db, TABLE_LIST, ROWS)
    results = run_checks(db, TABLE_LIST, RULES, SOURCE_ROWS)
    got = [(r.check, r.table, r.column, r.severity, r.passed, round(r.value, 9)) for r in results]
    assert got == EXPECTED
    assert [(r.table, r.check) for r in failed(results)] == [
        ("Parent", "primary_key_unique"),
        ("Parent", "primary_key_not_null"),
        ("Parent", "not_null"),
        ("Child", "orphans"),
        ("Child", "row_count_drift"),
        ("Pair", "primary_key_unique"),
        ("Pair", "primary_key_not_null"),
    ]
    lines = summary_lines(results)
    child = "3 Child rows whose parent_id has no Parent row"
    pair_ref = "2 PairRef rows whose a, b has no Pair row (2 allowed)"
    assert f"FAIL error Child orphans parent_id: {child}" in lines
    assert f"PASS warning PairRef orphans a, b: {pair_ref}" in lines
    assert "FAIL error Parent not_null name: 1 Parent row with NULL name" in lines


def test_checks_leave_the_target_untouched(db):
    load(db, [CLEAN], ROWS)
    run_checks(db, [CLEAN], RULES)
    d = get_dialect(db.engine)
    conn = d.connect(db)
    try:
        cur = conn.cursor()
        cur.execute(f"SELECT COUNT(*) FROM {d.qualified(CLEAN)}")
        assert cur.fetchone()[0] == 2
        assert d.table_exists(conn, "Clean")
    finally:
        conn.close()


def test_missing_table_is_a_sluice_error_naming_it(db):
    load(db, [CLEAN], ROWS)
    gone = replace(CLEAN, name="Gone")
    with pytest.raises(SluiceError, match="quality checks on .Gone."):
        run_checks(db, [CLEAN, gone], QualityRules({}))


def test_driver_error_never_shows_a_password(pg_db):
    secret = "Pw_quality_7731"
    with_pw = DbUrl.parse(pg_db.url.set(password=secret).render_as_string(hide_password=False))
    missing = replace(CLEAN, name=secret)  # the driver's message quotes the table name
    try:
        run_checks(with_pw, [missing], QualityRules({}))
    except SluiceError as exc:
        assert secret not in str(exc)
        assert "***" in str(exc)
    else:
        pytest.fail("a missing table must raise")


def test_stackoverflow_rules_on_generated_data(pg_db):
    from sluice.datasets.stackoverflow.generate import generate

    generate(pg_db, 0.001)
    tables = list(TABLES.values())
    results = run_checks(pg_db, tables, rules_for(tables))
    assert failed(results) == []  # keys unique and present, required columns filled
    required = sum(not c.nullable and c.name != "Id" for t in tables for c in t.columns)
    assert len(results) == 2 * len(tables) + required + len(FOREIGN_KEYS)
    checks = {(r.table, r.check, r.column) for r in results}
    assert ("Votes", "orphans", "PostId") in checks
    assert ("Posts", "not_null", "Body") in checks
    assert all(r.severity == "warning" for r in results if r.check == "orphans")
