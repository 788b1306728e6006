"""A chunk's first step removes what an earlier try of the same range left, and nothing else;
on MySQL it must not wait for a neighbouring chunk whose load transaction is still open."""

from __future__ import annotations

import time

import pytest

from sluice.core.schema import Column, Table
from sluice.core.types import Kind, SqlType
from sluice.dialects import get_dialect

T = Table("t", (Column("Id", SqlType(Kind.INTEGER), False), Column("v", SqlType(Kind.STRING))),
          ("Id",))  # fmt: skip


def _setup(url):
    d = get_dialect(url.engine)
    table = T
    conn = d.connect(url)
    cur = conn.cursor()
    for stmt in d.create_table_sql(table, primary_key=not d.caps.key_after_load):
        cur.execute(stmt)
    conn.commit()
    d.insert_rows(conn, table, [(i, f"v{i}") for i in (5, 50, 100, 150, 250)])
    conn.commit()
    return d, conn, table


def _keys(d, conn, table) -> list[int]:
    cur = conn.cursor()
    cur.execute(f"SELECT {d.quote('Id')} FROM {d.qualified(table)} ORDER BY 1")
    keys = [r[0] for r in cur.fetchall()]
    conn.rollback()
    return keys


@pytest.mark.parametrize("db", ["pg_db", "mysql_db", "sqlite_db"])
def test_clear_range_removes_only_its_range(request, db):
    d, conn, table = _setup(request.getfixturevalue(db))
    try:
        d.clear_range(conn, table, 50, 150)  # (50, 150]: 100 and 150
        conn.commit()
        assert _keys(d, conn, table) == [5, 50, 250]
        d.clear_range(conn, table, 150, 200)  # an empty range: nothing to do
        d.clear_range(conn, table, 200, None)  # open end
        conn.commit()
        assert _keys(d, conn, table) == [5, 50]
    finally:
        conn.close()


def test_mysql_clear_range_does_not_wait_for_the_next_chunk(mysql_db):
    """Chunk (0, 100] starts while chunk (100, 200] is loading in an open transaction: a bare
    DELETE would lock the neighbour's first key and wait (here: time out after 2 s)."""
    d, conn, table = _setup(mysql_db)
    neighbour = d.connect(mysql_db)
    try:
        conn.cursor().execute("DELETE FROM `t` WHERE `Id` > 5")  # keep (0, 100] empty
        conn.commit()
        neighbour.cursor().execute("INSERT INTO `t` VALUES (101, 'open'), (102, 'open')")
        cur = conn.cursor()
        cur.execute("SET SESSION innodb_lock_wait_timeout = 2")
        started = time.monotonic()
        d.clear_range(conn, table, 5, 100)
        conn.commit()
        assert time.monotonic() - started < 1.5
    finally:
        neighbour.rollback()
        neighbour.close()
        conn.close()
