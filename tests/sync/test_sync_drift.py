"""Schema drift under sync: a new source column is added to the replica and filled, a widened
column is widened, a narrowed one is refused naming it; non-integer keys find their deletes."""

from __future__ import annotations

import pytest

from sluice.copy import CopyOptions, copy_database
from sluice.core.errors import TerminalError
from sluice.dialects import get_dialect
from sluice.state import store as sync_state
from sluice.sync import SyncOptions, sync_database
from sluice.sync.watermarks import Watermark
from sluice.verify import VerifyOptions, verify_database

ITEMS = {"items": Watermark("column", "updated", 0)}


def _exec(url, *sql: str) -> None:
    d = get_dialect(url.engine)
    conn = d.connect(url)
    try:
        for stmt in sql:
            conn.cursor().execute(stmt)
        conn.commit()
    finally:
        conn.close()


@pytest.fixture
def pg_pair(pg_server):
    from tests.conftest import _fresh

    src_gen, dst_gen = _fresh(pg_server, "sluice_driftsrc"), _fresh(pg_server, "sluice_driftdst")
    source, target = next(src_gen), next(dst_gen)
    _exec(
        source,
        'CREATE TABLE items ("Id" integer PRIMARY KEY, name varchar(10), qty integer, '
        "updated timestamp NOT NULL)",
        "INSERT INTO items SELECT g, 'item ' || g, g, TIMESTAMP '2024-01-01' + g * INTERVAL '1 "
        "minute' FROM generate_series(1, 500) g",
    )
    assert copy_database(source, target, CopyOptions(workers=1)).ok
    yield source, target
    next(src_gen, None)
    next(dst_gen, None)


def _verified(source, target) -> bool:
    return verify_database(source, target, VerifyOptions(checks=False)).ok


def test_added_and_widened_columns_follow_the_source(pg_pair):
    source, target = pg_pair
    options = SyncOptions(watermarks=ITEMS)
    first = sync_database(source, target, options)  # records the source's types
    assert first.moved == 0 and first.tables[0].drift.added == []
    _exec(
        source,
        "ALTER TABLE items ADD COLUMN note text",
        'UPDATE items SET note = \'n\' || "Id" WHERE "Id" <= 10',  # old rows, old stamps
        "ALTER TABLE items ALTER COLUMN name TYPE varchar(50)",
        "INSERT INTO items VALUES (501, repeat('x', 40), 1, TIMESTAMP '2030-01-01', 'new')",
    )
    result = sync_database(source, target, options).table("items")
    assert result.drift.added == ["note"] and result.drift.widened == ["name"]
    # the new column is filled from a whole-table read, not only from changed rows
    assert (result.inserted, result.updated) == (1, 10)
    assert _verified(source, target)
    assert sync_database(source, target, options).moved == 0


def test_narrowed_column_is_refused_naming_it(pg_pair):
    source, target = pg_pair
    options = SyncOptions(watermarks=ITEMS)
    sync_database(source, target, options)
    _exec(source, "ALTER TABLE items ALTER COLUMN qty TYPE smallint")
    with pytest.raises(TerminalError, match=r"'items', column 'qty'.*narrow"):
        sync_database(source, target, options)
    # as the message says: a copy rebuilds the replica, and its sync state starts over
    assert copy_database(source, target, CopyOptions(tables=["items"], workers=1)).ok
    again = sync_database(source, target, options)
    assert again.moved == 0 and _verified(source, target)
    d = get_dialect(target.engine)
    conn = d.connect(target)
    assert sync_state.read(d, conn, "items").runs == 1
    conn.close()
    _exec(
        source,
        "ALTER TABLE items ALTER COLUMN qty TYPE integer",
        "ALTER TABLE items DROP COLUMN name",
    )
    with pytest.raises(TerminalError, match=r"'name'.*no longer in the source"):
        sync_database(source, target, options)


def test_text_keys_find_deletes_by_lookup(pg_server):
    from tests.conftest import _fresh

    src_gen, dst_gen = _fresh(pg_server, "sluice_keysrc"), _fresh(pg_server, "sluice_keydst")
    source, target = next(src_gen), next(dst_gen)
    try:
        _exec(
            source,
            "CREATE TABLE codes (code varchar(20) PRIMARY KEY, label text)",
            "INSERT INTO codes SELECT 'c' || g, 'label ' || g FROM generate_series(1, 2500) g",
        )
        assert copy_database(source, target, CopyOptions(workers=1)).ok
        _exec(source, "DELETE FROM codes WHERE code IN ('c7', 'c1999', 'c2500')",
              "UPDATE codes SET label = 'changed' WHERE code = 'c8'")  # fmt: skip
        result = sync_database(source, target).table("codes")
        assert result.watermark == "full"
        assert (result.inserted, result.updated, result.deleted) == (0, 1, 3)
        assert _verified(source, target)
    finally:
        next(src_gen, None)
        next(dst_gen, None)
