"""The memory cap bounds buffering, yet a single value larger than the whole cap still copies:
a batch bigger than the budget is let through when its channel holds nothing."""

from __future__ import annotations

import threading

from sluice.copy import CopyOptions, copy_database
from sluice.copy.buffer import ByteBudget, Channel
from sluice.dialects import get_dialect

BIG = 3 * 1024 * 1024  # three times the 1 MiB cap


def _source_with_big_value(url) -> str:
    value = ("é😀 big value " * (BIG // 14))[:BIG]
    d = get_dialect("postgresql")
    with d.connect(url) as conn:
        conn.execute('CREATE TABLE "big" ("id" integer PRIMARY KEY, "v" text)')
        conn.execute('INSERT INTO "big" VALUES (1, %s), (2, %s), (3, NULL)', (value, "small"))
    return value


def test_value_larger_than_the_cap_copies_on_both_paths(pg_db, sqlite_db, pg_server):
    from tests.conftest import _fresh

    value = _source_with_big_value(pg_db)
    options = CopyOptions(memory_cap=1024 * 1024, workers=2)
    gen = _fresh(pg_server, "sluice_test")
    pg_target = next(gen)
    try:
        for target in (pg_target, sqlite_db):  # raw passthrough, then decoded
            result = copy_database(pg_db, target, options)
            assert result.ok, result.failures
            d = get_dialect(target.engine)
            conn = d.connect(target)
            try:
                cur = conn.cursor()
                cur.execute('SELECT "v" FROM "big" ORDER BY "id"')
                assert [r[0] for r in cur.fetchall()] == [value, "small", None]
            finally:
                conn.close()
    finally:
        next(gen, None)


def test_budget_blocks_until_released_but_admits_an_oversized_item_alone():
    budget = ByteBudget(100)
    channel = Channel(budget)
    channel.put("a", 60)
    done = threading.Event()

    def producer():
        channel.put("b", 60)  # 120 > 100: must wait for "a" to be consumed
        channel.put("huge", 500)  # larger than the budget: admitted once the channel is empty
        channel.close()
        done.set()

    threading.Thread(target=producer, daemon=True).start()
    assert not done.wait(0.3) and budget.used == 60
    assert list(channel) == ["a", "b", "huge"]
    assert done.wait(2) and budget.used == 0 and budget.peak <= 500
