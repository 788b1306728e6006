"""Chunks are cut by bytes as well as rows: a table of long texts gets as many chunks as its
size asks for, a narrow table keeps its row-count chunks, and the copy is still whole."""

from __future__ import annotations

import hashlib

import pytest
from tests.conftest import drop_database

from sluice.copy import CopyOptions, copy_database
from sluice.copy.plan import build_plan
from sluice.core.schema import Column, Table
from sluice.core.types import Kind, SqlType
from sluice.dialects import get_dialect

KEY = Column("Id", SqlType(Kind.INTEGER), False)
WIDE = Table("wide", (KEY, Column("body", SqlType(Kind.STRING))), ("Id",))
NARROW = Table("narrow", (KEY,), ("Id",))
ROWS = 2_000


def _text(i: int) -> str:
    """4,000 characters that do not compress (PostgreSQL's TOAST would shrink a repeat)."""
    return "".join(hashlib.sha256(f"{i}:{k}".encode()).hexdigest() for k in range(63))[:4000]


def _fill(url) -> None:
    d = get_dialect(url.engine)
    conn = d.connect(url)
    cur = conn.cursor()
    for table in (WIDE, NARROW):
        for stmt in d.create_table_sql(table, primary_key=True):
            cur.execute(stmt)
    conn.commit()
    d.insert_rows(conn, WIDE, [(i, _text(i)) for i in range(1, ROWS + 1)])
    d.insert_rows(conn, NARROW, [(i,) for i in range(1, ROWS + 1)])
    conn.commit()
    if url.engine == "mysql":  # InnoDB refreshes its size estimate on ANALYZE
        cur.execute("ANALYZE TABLE wide, narrow")
        cur.fetchall()
    conn.close()


@pytest.mark.parametrize("db", ["pg_db", "mysql_db"])
def test_wide_tables_are_cut_by_bytes(request, db, pg_server):
    source = request.getfixturevalue(db)
    _fill(source)
    sizes = get_dialect(source.engine).relation_bytes(source, [WIDE, NARROW])
    assert sizes["wide"] >= ROWS * 4000 * 0.5  # an estimate, but of the right size
    assert sizes["narrow"] < sizes["wide"] / 10
    plan = build_plan(source, source, chunk_rows=1_000, chunk_bytes=1024 * 1024)
    wide, narrow = plan.table("wide"), plan.table("narrow")
    assert wide.bytes == sizes["wide"]
    assert len(wide.chunks) >= sizes["wide"] // (1024 * 1024)  # by bytes: many chunks
    assert len(narrow.chunks) == 2  # by rows: 2,000 rows at 1,000 per chunk
    keys = [(c.lo, c.hi) for c in wide.chunks]
    assert keys[0][0] is None and keys[-1][1] is None
    assert all(a[1] == b[0] for a, b in zip(keys, keys[1:]))  # contiguous, no gap, no overlap

    target = pg_server.with_database(f"{source.database}_copy")
    get_dialect("postgresql").ensure_database(target)
    try:
        options = CopyOptions(chunk_rows=1_000, chunk_bytes=1024 * 1024, workers=3)
        result = copy_database(source, target, options)
        assert result.ok
        conn = get_dialect("postgresql").connect(target)
        cur = conn.cursor()
        cur.execute('SELECT count(*), count(DISTINCT "Id"), sum(length(body)) FROM wide')
        assert cur.fetchone() == (ROWS, ROWS, ROWS * 4000)
        conn.close()
    finally:
        drop_database(target)
