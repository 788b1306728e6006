"""PostgreSQL replicas name their identity sequences after the table, not after the staging
table they were loaded into (issue 13, item 18), copy after copy."""

from __future__ import annotations

import sqlite3

from sluice.copy import CopyOptions, copy_database
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect


def _source(path) -> DbUrl:
    conn = sqlite3.connect(path)
    conn.execute('CREATE TABLE "Colours" ("Id" INTEGER PRIMARY KEY, "Name" TEXT NOT NULL)')
    conn.executemany('INSERT INTO "Colours" ("Name") VALUES (?)', [("red",), ("green",)])
    conn.commit()
    conn.close()
    return DbUrl.parse(f"sqlite:///{path}")


def test_identity_sequence_is_named_after_the_table(pg_db, tmp_path):
    source = _source(tmp_path / "src.db")
    for _ in range(2):  # the first copy, then one replacing the replica
        result = copy_database(source, pg_db, CopyOptions(workers=2))
        assert result.ok, result.failures
        with get_dialect("postgresql").connect(pg_db, autocommit=True) as conn:
            seq = conn.execute("""SELECT pg_get_serial_sequence('"public"."Colours"', 'Id')""")
            assert seq.fetchone()[0] == 'public."Colours_Id_seq"'
            leftovers = conn.execute(
                "SELECT relname FROM pg_class WHERE relname LIKE '\\_sluice%'"
            ).fetchall()
            assert leftovers == []
    with get_dialect("postgresql").connect(pg_db, autocommit=True) as conn:
        row = conn.execute('INSERT INTO "Colours" ("Name") VALUES (%s) RETURNING "Id"', ("blue",))
        assert row.fetchone()[0] == 3  # no Id given: the sequence hands out max + 1
