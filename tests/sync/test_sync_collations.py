"""Sync after `copy --collations target`: the copy gave a case-insensitive MariaDB column the
target's default collation, and the sync's staging table must be made the same way. It used
to be made with the source's collation mapped (`COLLATE public.sluice_ci`), which that copy
never created, so every sync of such a table failed ("the target server refused a
statement"). The key itself is such a column here, so the rows are found by it as well."""

from __future__ import annotations

import pytest
from tests.independent import execute, rows

from sluice.copy import CopyOptions, copy_database
from sluice.sync import SyncOptions, sync_database
from sluice.verify import VerifyOptions, verify_database

SOURCE = [
    "CREATE TABLE codes (code varchar(20) COLLATE utf8mb4_general_ci PRIMARY KEY, "
    "name varchar(40) COLLATE utf8mb4_general_ci NOT NULL, seen datetime NOT NULL) "
    "CHARSET utf8mb4",
    "INSERT INTO codes VALUES ('a', 'Alpha', '2020-01-01'), ('B', 'beta', '2020-01-01'), "
    "('c', 'Gamma', '2020-01-01'), ('D', 'delta', '2020-01-01'), ('_x', 'under', '2020-01-01')",
]


@pytest.mark.mysql
def test_sync_after_a_copy_with_the_targets_collations(mysql_db, pg_db):
    execute(mysql_db, *SOURCE)
    assert copy_database(mysql_db, pg_db, CopyOptions(workers=1, collations="target")).ok
    collated = rows(pg_db, "SELECT count(*) FROM information_schema.columns "
                    "WHERE table_name = 'codes' AND collation_name IS NOT NULL")  # fmt: skip
    assert collated == [(0,)]  # the target's default: no column names a collation
    execute(
        mysql_db,
        "INSERT INTO codes VALUES ('b2', 'new', '2021-01-01'), ('E', 'new2', '2021-01-01')",
        "UPDATE codes SET name = 'ALPHA', seen = '2021-01-01' WHERE code = 'a'",
        "DELETE FROM codes WHERE code = 'D'",
    )
    result = sync_database(mysql_db, pg_db, SyncOptions(collations="target"))
    moved = {t.table: (t.inserted, t.updated, t.deleted) for t in result.tables}
    assert moved == {"codes": (2, 1, 1)}
    assert sorted(rows(pg_db, "SELECT code, name FROM codes")) == sorted(
        rows(mysql_db, "SELECT code, name FROM codes")
    )
    assert verify_database(mysql_db, pg_db, VerifyOptions(checks=False)).ok
