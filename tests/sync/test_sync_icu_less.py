"""Sync into a PostgreSQL built without ICU (the embedded one) from a source with a
case-insensitive column: the copy made that column with the target's default collation (listed
as not carried), and the sync's staging table must be made the same way. It used to be made with
`COLLATE public.sluice_ci`, a collation that does not exist there, so every sync of such a table
failed ("the target server refused a statement"); found with a real Stack Exchange site, whose
PostHistory.RevisionGUID is a case-insensitive CHAR(36) on MariaDB."""

from __future__ import annotations

import pytest
from tests.conftest import _fresh
from tests.independent import execute, rows

from sluice.copy import CopyOptions, copy_database
from sluice.sync import sync_database
from sluice.verify import VerifyOptions, verify_database

SOURCE = [
    "CREATE TABLE people (id int PRIMARY KEY, name varchar(40) COLLATE utf8mb4_general_ci "
    "NOT NULL, seen datetime NOT NULL) CHARSET utf8mb4",
    "INSERT INTO people VALUES (1, 'ada', '2020-01-01'), (2, 'bob', '2020-01-02'), "
    "(3, 'cy', '2020-01-03')",
]


@pytest.fixture
def embedded_db(embedded_logical_pg):
    yield from _fresh(embedded_logical_pg, "sluice_iculess")


@pytest.mark.mysql
def test_sync_into_an_icu_less_postgres(mysql_db, embedded_db):
    execute(mysql_db, *SOURCE)
    assert copy_database(mysql_db, embedded_db, CopyOptions(workers=1)).ok
    execute(
        mysql_db,
        "INSERT INTO people VALUES (4, 'dee', '2020-01-04')",
        "UPDATE people SET name = 'Ada' WHERE id = 1",  # case only: a change all the same
        "DELETE FROM people WHERE id = 2",
    )
    result = sync_database(mysql_db, embedded_db)
    moved = {t.table: (t.inserted, t.updated, t.deleted) for t in result.tables}
    assert moved == {"people": (1, 1, 1)}
    assert rows(embedded_db, "SELECT id, name FROM people ORDER BY id") == [
        (1, "Ada"),
        (3, "cy"),
        (4, "dee"),
    ]
    assert verify_database(mysql_db, embedded_db, VerifyOptions(checks=False)).ok
