"""StackOverflow2010 (scale 0.01) copied between real databases: every table's count and
content equal, identities continue at max+1, reruns replace atomically, failures leave
the previous replica, and a killed connection is retried without duplicates."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from decimal import Decimal

import pytest
from tests.conftest import stackoverflow_db

from sluice.copy import CopyOptions, copy_database, transfer
from sluice.core.errors import TerminalError, TransientError
from sluice.core.values import converter
from sluice.datasets.stackoverflow import TABLE_NAMES, TABLES
from sluice.datasets.stackoverflow.generate import row_counts
from sluice.dialects import get_dialect

SCALE = 0.01


def canonical(v) -> str:
    """One text form per value, whatever the engine returned (uuid str vs UUID, 1 vs True:
    a boolean that went through MariaDB comes back as smallint 0/1, since TINYINT(1) is an
    integer there, issue 21)."""
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, (uuid.UUID, Decimal, str, int, float)):
        return str(v)
    return repr(v)


def digest(url, table: str) -> tuple[int, str]:
    """Row count and sha256 over every row in key order, read through the dialect."""
    d = get_dialect(url.engine)
    t = TABLES[table]
    conn = d.connect(url)
    try:
        h, n = hashlib.sha256(), 0
        decode = converter(d.decode_converters(t)) or tuple
        for batch in d.read_range(conn, t, None, None, 5000):
            for row in batch:
                h.update("|".join(canonical(v) for v in decode(row)).encode())
                n += 1
        conn.rollback()
        return n, h.hexdigest()
    finally:
        conn.close()


def assert_same(source, target) -> None:
    counts = row_counts(SCALE)
    for table in TABLE_NAMES:
        src, dst = digest(source, table), digest(target, table)
        assert src[0] == counts[table], table
        assert dst == src, f"{table}: target differs from source"


def next_identity_ok(url) -> None:
    d = get_dialect(url.engine)
    conn = d.connect(url)
    try:
        cur = conn.cursor()
        cur.execute(f"SELECT MAX({d.quote('Id')}) FROM {d.quote('VoteTypes')}")
        top = cur.fetchone()[0]
        cur.execute(f"INSERT INTO {d.quote('VoteTypes')} ({d.quote('Name')}) VALUES ('Extra')")
        cur.execute(f"SELECT MAX({d.quote('Id')}) FROM {d.quote('VoteTypes')}")
        assert cur.fetchone()[0] == top + 1
        conn.rollback()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def pg_source(pg_server):
    yield from stackoverflow_db(pg_server, "sluice_src", SCALE)


def test_postgres_to_postgres_is_exact_and_uses_passthrough(pg_source, pg_db):
    result = copy_database(pg_source, pg_db, CopyOptions(chunk_rows=20_000, workers=3))
    assert result.ok, result.failures
    assert all(t.passthrough for t in result.plan.tables)
    assert len(result.plan.table("Votes").chunks) > 1
    # rows reported from the target's COPY counts (raw bytes are never split into rows)
    assert {n: t.rows for n, t in result.tables.items()} == row_counts(SCALE)
    assert_same(pg_source, pg_db)
    next_identity_ok(pg_db)
    assert result.finish.identities["Votes"] > row_counts(SCALE)["Votes"]


def test_rerun_replaces_and_leaves_no_staging(pg_source, pg_db):
    assert copy_database(pg_source, pg_db, CopyOptions(tables=["Users", "Badges"])).ok
    assert copy_database(pg_source, pg_db, CopyOptions(tables=["Users", "Badges"])).ok
    d = get_dialect("postgresql")
    with d.connect(pg_db) as conn:
        left = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE '\\_sluice%'")
        assert left.fetchone()[0] == 0
    assert digest(pg_db, "Users") == digest(pg_source, "Users")


def test_failure_keeps_previous_replica_and_rerun_completes(pg_source, pg_db, monkeypatch):
    tables = ["Users", "Posts"]
    assert copy_database(pg_source, pg_db, CopyOptions(tables=tables)).ok
    before = digest(pg_db, "Posts")
    real_write = transfer._write

    def failing_write(dst, conn, stage, tp, chunk, channel, progress, *rest):
        if tp.name == "Posts":
            # half a chunk lands in staging, then the writer dies
            cur = conn.cursor()
            cur.execute(
                f"INSERT INTO {dst.qualified(stage)} OVERRIDING SYSTEM VALUE "
                'SELECT * FROM "Posts" LIMIT 10'
            )
            raise TerminalError("injected failure while writing Posts")
        return real_write(dst, conn, stage, tp, chunk, channel, progress, *rest)

    monkeypatch.setattr(transfer, "_write", failing_write)
    result = copy_database(pg_source, pg_db, CopyOptions(tables=tables, retries=0))
    assert not result.ok and "injected failure" in result.failures[0]
    assert digest(pg_db, "Posts") == before  # the previous complete replica, not a partial one
    monkeypatch.setattr(transfer, "_write", real_write)
    assert copy_database(pg_source, pg_db, CopyOptions(tables=tables)).ok
    assert digest(pg_db, "Posts") == digest(pg_source, "Posts")


def test_killed_target_connection_is_retried_without_duplicates(pg_source, pg_db, monkeypatch):
    d = get_dialect("postgresql")
    real_raw_write = type(d).raw_write
    killed = []

    def raw_write_then_die(self, conn, table, data, *rest):
        if not killed:
            killed.append(conn.info.backend_pid)
            with d.connect(pg_db, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (killed[0],))
        return real_raw_write(self, conn, table, data, *rest)

    monkeypatch.setattr(type(d), "raw_write", raw_write_then_die)
    result = copy_database(pg_source, pg_db, CopyOptions(tables=["Votes"], chunk_rows=20_000))
    assert result.ok, result.failures
    assert killed, "the target backend was never terminated"
    assert digest(pg_db, "Votes") == digest(pg_source, "Votes")


def test_retry_after_a_committed_try_clears_its_range(pg_source, pg_db, monkeypatch):
    """A first try skips the range delete (fresh staging); a retry never does, so a try that
    committed and then failed (the connection lost before the result came back) leaves no
    duplicate behind."""
    real_write = transfer._write
    failed = set()

    def commit_then_fail(dst, conn, stage, tp, chunk, channel, progress, *rest):
        written = real_write(dst, conn, stage, tp, chunk, channel, progress, *rest)
        if chunk.index not in failed:
            failed.add(chunk.index)
            raise TransientError("injected: lost after commit")
        return written

    monkeypatch.setattr(transfer, "_write", commit_then_fail)
    options = CopyOptions(tables=["Votes"], chunk_rows=20_000, workers=2)
    result = copy_database(pg_source, pg_db, options)
    assert result.ok, result.failures
    assert len(failed) > 1  # every chunk committed once, failed, and was retried
    assert digest(pg_db, "Votes") == digest(pg_source, "Votes")


def test_mariadb_to_postgres_and_back(pg_source, mysql_db, pg_db):
    assert copy_database(pg_source, mysql_db, CopyOptions(chunk_rows=20_000)).ok
    assert_same(pg_source, mysql_db)
    next_identity_ok(mysql_db)
    result = copy_database(mysql_db, pg_db, CopyOptions(chunk_rows=20_000))
    assert result.ok, result.failures
    # every table as rows MariaDB renders as CSV (ADR 0028), none refused on the way
    assert {t.raw_format for t in result.plan.tables} == {"postgresql-csv"}
    assert not any(t.decoded_again for t in result.tables.values())
    assert_same(mysql_db, pg_db)
    next_identity_ok(pg_db)


def test_sqlite_to_postgres(pg_source, sqlite_db, pg_db):
    assert copy_database(pg_source, sqlite_db, CopyOptions(tables=["Users", "Tags"])).ok
    result = copy_database(sqlite_db, pg_db, CopyOptions(tables=["Users", "Tags"]))
    assert result.ok, result.failures
    for table in ("Users", "Tags"):
        assert digest(pg_db, table) == digest(pg_source, table)
