"""Schema changes during change capture, on the embedded PostgreSQL (wal_level=logical): a new
column or a widened type is followed as watermark sync follows it (the replica's table
altered; a table with a new column read once whole, the log replayed on top); a captured
table dropped, or its primary key changed, stops `sync --cdc` with an error naming it."""

from __future__ import annotations

import pytest

from sluice.capture import start_capture, stop_capture, sync_changes
from sluice.copy import CopyOptions, copy_database
from sluice.core.errors import SluiceError
from tests.conftest import _fresh
from tests.independent import execute, rows

TABLES = [
    "CREATE TABLE a (id int PRIMARY KEY, name varchar(20), n int)",
    "CREATE TABLE b (id int PRIMARY KEY, code varchar(10) NOT NULL)",
    "INSERT INTO a SELECT g, 'a' || g, g FROM generate_series(1, 50) g",
    "INSERT INTO b SELECT g, 'b' || g FROM generate_series(1, 20) g",
]


@pytest.fixture
def captured(embedded_logical_pg):
    src_gen = _fresh(embedded_logical_pg, "cdc_ddl_src")
    dst_gen = _fresh(embedded_logical_pg, "cdc_ddl_dst")
    src, dst = next(src_gen), next(dst_gen)
    execute(src, *TABLES)
    start_capture(src, dst)
    copy_database(src, dst, CopyOptions())
    yield src, dst
    stop_capture(src, dst)
    next(dst_gen, None)
    next(src_gen, None)


def _all(url, table: str) -> list[tuple]:
    return rows(url, f"SELECT * FROM {table} ORDER BY id")


def test_new_column_and_widened_type_are_followed(captured):
    src, dst = captured
    execute(src, "UPDATE a SET n = n + 100 WHERE id <= 5",
            "ALTER TABLE a ADD COLUMN extra text DEFAULT 'x'",
            "ALTER TABLE a ALTER COLUMN name TYPE varchar(200)",
            "UPDATE a SET extra = 'set', name = repeat('w', 150) WHERE id = 7",
            "INSERT INTO a VALUES (51, 'new', 51, 'y')", "DELETE FROM a WHERE id = 2")  # fmt: skip
    sync_changes(src, dst)
    assert _all(dst, "a") == _all(src, "a")
    columns = rows(dst, "SELECT column_name, character_maximum_length FROM "
                        "information_schema.columns WHERE table_name = 'a' ORDER BY 1")  # fmt: skip
    assert ("extra", None) in columns and ("name", 200) in columns
    execute(src, "UPDATE a SET extra = 'later' WHERE id = 9")
    assert sync_changes(src, dst).tables["a"].updated == 1
    assert _all(dst, "a") == _all(src, "a")


def test_dropped_table_stops_naming_it(captured):
    src, dst = captured
    execute(src, "INSERT INTO b VALUES (21, 'x')", "DROP TABLE b")
    with pytest.raises(SluiceError, match=r"\bb\b"):
        sync_changes(src, dst)


def test_changed_key_stops_naming_the_table(captured):
    src, dst = captured
    execute(src, "ALTER TABLE b DROP CONSTRAINT b_pkey", "ALTER TABLE b ADD PRIMARY KEY (code)",
            "UPDATE b SET code = 'z' WHERE id = 3")  # fmt: skip
    with pytest.raises(SluiceError, match=r"table b: its primary key changed"):
        sync_changes(src, dst)
