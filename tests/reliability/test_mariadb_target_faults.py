"""A MariaDB target that cannot take the copy: a lock held on a live table at publish, and
a full disk. Each run stops at once with one line naming the side, the host and the table
(and, for the lock, the session holding it), within its bound, the previous replica whole
and no staging table left. (The same faults on a PostgreSQL target: test_terminal_errors.py.)

The lock is the shared server's: another session keeps a transaction open that read the
live table, so it holds the table's metadata lock, which `RENAME TABLE` (the swap) must
wait for; sluice waits `--lock-timeout` seconds at most. The full disk is a MariaDB server
of the test's own (own_mariadb.py) whose tables all live in one 24 MiB tablespace of fixed
size: they really run out of space (InnoDB: 1114 "table is full")."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pytest

from sluice import cli
from sluice.copy import CopyOptions, copy_database
from sluice.core.faults import where
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect
from tests.conftest import _fresh, drop_database
from tests.reliability.own_mariadb import OwnMariaDB
from tests.reliability.test_terminal_errors import QUICK, fill_source

LOCK_TIMEOUT = 2


@pytest.fixture(scope="module")
def source(pg_server):
    gen = _fresh(pg_server, "sluice_mariadb_faults_src")
    url = next(gen)
    fill_source(url)
    yield url
    next(gen, None)


@pytest.fixture(scope="module")
def small_mariadb():
    """A MariaDB of our own whose tables share one tablespace of 24 MiB: `big` (14 MB of
    text, more with InnoDB's pages) does not fit beside the system tables."""
    reason = OwnMariaDB.missing()
    if reason:
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="sluice_small_mariadb_"))
    server = OwnMariaDB(folder, tablespace="24M")
    yield server
    server.close()
    shutil.rmtree(folder, ignore_errors=True)


def fingerprint(url: DbUrl, table: str) -> tuple | None:
    """(count, sum of row CRCs) of a live table, None when it does not exist."""
    d = get_dialect(url.engine)
    conn = d.connect(url)
    try:
        cur = conn.cursor()
        cur.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                    "DATABASE() AND TABLE_NAME = %s", (table,))  # fmt: skip
        if not cur.fetchone()[0]:
            return None
        cur.execute(f"SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, {d.quote(_col(table))}))) "
                    f"FROM {d.quote(table)}")  # fmt: skip
        return tuple(cur.fetchone())
    finally:
        conn.close()


def _col(table: str) -> str:
    return "name" if table == "small" else "payload"


def staging_left(url: DbUrl) -> list[str]:
    d = get_dialect(url.engine)
    conn = d.connect(url)
    try:
        cur = conn.cursor()
        cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                    "DATABASE() AND TABLE_NAME LIKE '\\_sluice%'")  # fmt: skip
        return [r[0] for r in cur.fetchall()]
    finally:
        conn.close()


def run_cli(source: DbUrl, target: DbUrl, capsys, *args: str) -> tuple[int, list[str], str, float]:
    started = time.monotonic()
    code = cli.main(["copy", "--source", source.render_secret(), "--target",
                     target.render_secret(), "--workers", "2", *args])  # fmt: skip
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    return code, lines, err, time.monotonic() - started


def test_lock_held_at_publish_on_mariadb_ends_within_the_lock_timeout(source, mysql_db, capsys):
    """Another session's open transaction read `small`: the swap's RENAME waits for its
    metadata lock at most --lock-timeout, then the run stops naming that session's id."""
    d = get_dialect(mysql_db.engine)
    assert copy_database(source, mysql_db, CopyOptions(tables=["small"])).ok
    before = fingerprint(mysql_db, "small")
    holder = d.connect(mysql_db)
    try:
        cur = holder.cursor()
        cur.execute("SELECT CONNECTION_ID()")
        holder_id = cur.fetchone()[0]
        cur.execute("START TRANSACTION")
        cur.execute(f"SELECT COUNT(*) FROM {d.quote('small')}")  # holds its metadata lock
        cur.fetchall()
        code, lines, err, seconds = run_cli(source, mysql_db, capsys, "--tables", "small",
                                            "--lock-timeout", str(LOCK_TIMEOUT))  # fmt: skip
    finally:
        holder.rollback()
        holder.close()
    print(f"\n{lines[0] if lines else err[-2000:]} ({seconds:.1f}s)")
    assert code == 1, err
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith(f"error: target {where(mysql_db)}, table small: "), line
    assert "another session held a lock on the table longer than the lock timeout" in line
    assert f"id {holder_id} (user root" in line, line  # the blocking session, named
    assert "untouched (no table replaced; staging dropped)" in line, line
    assert "1205" not in line and "Lock wait timeout exceeded" not in line, line
    assert "retrying" not in err, err
    assert LOCK_TIMEOUT <= seconds < LOCK_TIMEOUT + QUICK, seconds
    assert fingerprint(mysql_db, "small") == before  # the previous replica, whole
    assert staging_left(mysql_db) == []
    assert copy_database(source, mysql_db, CopyOptions(tables=["small"])).ok  # lock gone


def test_full_disk_on_a_mariadb_target(source, small_mariadb, capsys):
    """`small` is published first; then `big` meets the full tablespace: one line naming
    the disk, no retry, `small` whole, `big` never published, staging dropped."""
    target = small_mariadb.url.with_database("sluice_full_disk")
    get_dialect(target.engine).ensure_database(target)
    try:
        assert copy_database(source, target, CopyOptions(tables=["small"])).ok
        before = fingerprint(target, "small")
        code, lines, err, seconds = run_cli(source, target, capsys)
        print(f"\n{lines[0] if lines else err[-2000:]} ({seconds:.1f}s)")
        assert code == 1, err
        assert len(lines) == 1, err
        line = lines[0]
        assert line.startswith(f"error: target {where(target)}, table "), line
        assert "the target server's disk is full" in line, line
        assert "staging dropped" in line and "; next: free space on the target" in line, line
        assert "1114" not in line and "is full'" not in line, line
        assert "retrying" not in err, err  # another try would fill the same disk
        assert seconds < QUICK * 3, seconds
        assert fingerprint(target, "small") == before  # republished whole, or untouched
        assert fingerprint(target, "big") is None
        assert staging_left(target) == []
        # the space freed, a copy of the table that fits completes
        assert copy_database(source, target, CopyOptions(tables=["small"])).ok
    finally:
        drop_database(target)
