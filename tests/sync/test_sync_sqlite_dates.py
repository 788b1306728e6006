"""A SQLite source whose application writes datetimes with fractional digits that are zero
('2020-01-02 11:00:00.000', SQLite's own strftime('%Y-%m-%d %H:%M:%f')): the row holding a
column watermark's maximum is synced. SQLite compares that text as text, and the bound used to be
written '2020-01-02 11:00:00', which sorts below it: `changed <= hi` left out the very row that
set `hi`, run after run, while the sync reported success. Found syncing a real Stack Exchange site
edited in SQLite."""

from __future__ import annotations

from tests.independent import execute, rows

from sluice.copy import CopyOptions, copy_database
from sluice.core.urls import DbUrl
from sluice.sync import SyncOptions, sync_database
from sluice.sync.watermarks import Watermark


def at(when: str) -> str:
    """`when` as the application writes it: SQLite's strftime with %f (milliseconds)."""
    return f"strftime('%Y-%m-%d %H:%M:%f', '{when}')"


MARKS = {"items": Watermark("column", "changed", 300)}


def test_the_row_at_the_maximum_is_synced(tmp_path):
    source = DbUrl.parse(f"sqlite:///{tmp_path / 'source.db'}")
    target = DbUrl.parse(f"sqlite:///{tmp_path / 'target.db'}")
    execute(
        source,
        "CREATE TABLE items (id INTEGER PRIMARY KEY, note TEXT NOT NULL, "
        "changed DATETIME NOT NULL)",
        f"INSERT INTO items VALUES (1, 'a', {at('2020-01-01 10:00:00')}), "
        f"(2, 'b', {at('2020-01-01 10:30:00.250')})",
    )
    assert rows(source, "SELECT changed FROM items WHERE id = 1") == [("2020-01-01 10:00:00.000",)]
    assert copy_database(source, target, CopyOptions(workers=1)).ok
    execute(
        source,
        f"UPDATE items SET note = 'edited', changed = {at('2020-01-02 11:00:00')} WHERE id = 1",
        f"INSERT INTO items VALUES (3, 'c', {at('2020-01-02 11:00:00')})",
    )
    options = SyncOptions(watermarks=MARKS)
    moved = {
        t.table: (t.inserted, t.updated) for t in sync_database(source, target, options).tables
    }
    assert moved == {"items": (1, 1)}
    assert rows(target, "SELECT id, note FROM items ORDER BY id") == [
        (1, "edited"),
        (2, "b"),
        (3, "c"),
    ]
