"""The generator into real databases: counts at two scales, determinism, identity alignment."""

from __future__ import annotations

import pytest

from sluice.core.errors import ConfigError
from sluice.datasets.loader import count_rows
from sluice.datasets.stackoverflow import TABLES
from sluice.datasets.stackoverflow.generate import generate, row_counts
from sluice.dialects import get_dialect


def table_digest(url, table: str) -> str:
    """md5 over every row in key order, computed by PostgreSQL itself."""
    d = get_dialect(url.engine)
    with d.connect(url) as conn:
        q = f"SELECT md5(string_agg(t::text, '|' ORDER BY t.\"Id\")) FROM {d.quote(table)} t"
        return conn.execute(q).fetchone()[0]


@pytest.mark.parametrize("scale", [0.001, 0.005])
def test_postgres_counts_match_scale(pg_db, scale):
    generate(pg_db, scale)
    assert count_rows(pg_db, list(TABLES.values())) == row_counts(scale)


def test_postgres_same_seed_same_checksum(pg_db, pg_server):
    from tests.conftest import _fresh

    generate(pg_db, 0.001, seed=42)
    other = _fresh(pg_server, "sluice_test")
    second = next(other)
    try:
        generate(second, 0.001, seed=42)
        for table in ("Posts", "Users", "PostHistory", "Votes"):
            assert table_digest(pg_db, table) == table_digest(second, table)
    finally:
        next(other, None)


def test_postgres_identity_continues_after_max_and_keys_exist(pg_db):
    generate(pg_db, 0.001, tables=["Users", "VoteTypes"])
    d = get_dialect("postgresql")
    with d.connect(pg_db) as conn:
        top = conn.execute('SELECT max("Id") FROM "VoteTypes"').fetchone()[0]
        new = conn.execute(
            """INSERT INTO "VoteTypes" ("Name") VALUES ('Extra') RETURNING "Id" """
        ).fetchone()[0]
        assert new == top + 1
        pk = conn.execute(
            "SELECT count(*) FROM pg_constraint "
            "WHERE contype = 'p' AND conrelid = '\"Users\"'::regclass"
        ).fetchone()[0]
        assert pk == 1


def test_existing_tables_need_replace(pg_db):
    generate(pg_db, 0.001, tables=["VoteTypes"])
    with pytest.raises(ConfigError, match="--replace"):
        generate(pg_db, 0.001, tables=["VoteTypes"])
    generate(pg_db, 0.001, tables=["VoteTypes"], replace=True)
    assert count_rows(pg_db, [TABLES["VoteTypes"]]) == {"VoteTypes": 15}


def test_unknown_table_is_named(pg_db):
    with pytest.raises(ConfigError, match="Nope"):
        generate(pg_db, 0.001, tables=["Nope"])


def test_mysql_counts_match_scale(mysql_db):
    generate(mysql_db, 0.001)
    assert count_rows(mysql_db, list(TABLES.values())) == row_counts(0.001)
    d = get_dialect(mysql_db.engine)
    conn = d.connect(mysql_db)
    try:
        cur = conn.cursor()
        cur.execute("SELECT `Body` FROM `Posts` ORDER BY `Id` LIMIT 200")
        bodies = [r[0] for r in cur]
        assert any(any(ord(ch) > 0xFFFF for ch in b) for b in bodies)  # utf8mb4 kept emoji
    finally:
        conn.close()


def test_sqlite_counts_match_scale(sqlite_db):
    generate(sqlite_db, 0.001)
    assert count_rows(sqlite_db, list(TABLES.values())) == row_counts(0.001)
