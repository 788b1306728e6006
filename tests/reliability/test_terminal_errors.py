"""Errors retrying cannot fix stop the run at once with a terminal error naming the table,
and publish nothing half: statement timeout, lock timeout and a full disk on a PostgreSQL
target, each raised by the real server.

Each test first copies the source completely, then runs `sluice copy` again (the CLI's own
`main`, in this process) into the faulty target: exit code 1, the table named on stderr, no
retries, the previous live tables unchanged and no staging table left behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

from sluice import cli
from sluice.copy import CopyOptions, copy_database
from sluice.core.errors import TerminalError, TransientError
from sluice.core.faults import where
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect
from tests.conftest import _fresh, drop_database

BIG_ROWS = 200_000  # about 14 MB of incompressible text: more than the tiny disk holds
QUICK = 10.0  # seconds: a retry storm (0.5 + 1 + 2 + 4 s of backoff, five tries) takes longer


@pytest.fixture(scope="module")
def source(pg_server):
    gen = _fresh(pg_server, "sluice_term_src")
    url = next(gen)
    fill_source(url)
    yield url
    next(gen, None)


def fill_source(url: DbUrl) -> None:
    """`small` (100 rows) and `big` (BIG_ROWS rows of incompressible text) in PostgreSQL."""
    d = get_dialect("postgresql")
    with d.connect(url) as conn:
        conn.execute('CREATE TABLE "small" (id integer PRIMARY KEY, name text NOT NULL)')
        conn.execute("INSERT INTO \"small\" SELECT g, 'row ' || g FROM generate_series(1, 100) g")
        conn.execute('CREATE TABLE "big" (id integer PRIMARY KEY, payload text NOT NULL)')
        conn.execute(
            'INSERT INTO "big" SELECT g, md5(g::text) || md5(random()::text) '
            f"FROM generate_series(1, {BIG_ROWS}) g"
        )
        conn.execute('ANALYZE "big"')


def digests(url: DbUrl) -> dict[str, tuple | None]:
    """Per live table: (count, sum of row hashes), or None when it does not exist."""
    d = get_dialect("postgresql")
    out: dict[str, tuple | None] = {}
    with d.connect(url) as conn:
        for table in ("small", "big"):
            if conn.execute("SELECT to_regclass(%s)", (d.quote(table),)).fetchone()[0] is None:
                out[table] = None
                continue
            out[table] = tuple(
                conn.execute(
                    "SELECT count(*), sum(hashtextextended(r::text, 0)::numeric)::text "
                    f"FROM {d.quote(table)} AS r"
                ).fetchone()
            )
    return out


def staging_left(url: DbUrl) -> list[str]:
    with get_dialect("postgresql").connect(url) as conn:
        rows = conn.execute("SELECT relname FROM pg_class WHERE relname LIKE '\\_sluice%'")
        return [r[0] for r in rows.fetchall()]


def run_cli(source: DbUrl, target: DbUrl, capsys) -> tuple[int, str, float]:
    """`sluice copy` through the CLI's entry point: exit code, stderr, seconds."""
    started = time.monotonic()
    code = cli.main(["copy", "--source", source.render_secret(), "--target",
                     target.render_secret(), "--workers", "2"])  # fmt: skip
    return code, capsys.readouterr().err, time.monotonic() - started


def assert_failed_cleanly(code, err, seconds, table, reason, before, target) -> None:
    """`table`: the name (or names, any of which) the one error line must give, as
    "table <name>" or "table <name>, chunk #<n>"; `reason`: its plain words."""
    tables = (table,) if isinstance(table, str) else table
    assert code == 1, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err  # one line for a person
    line = errors[0]
    assert line.startswith(f"error: target {where(target)}, "), err
    assert any(f"table {t}" in line for t in tables) and reason in line, err
    assert "; target: " in line and "staging dropped" in line and "; next: " in line, err
    assert "(small), 1 unchanged" in line or "untouched" in line, err
    assert "CONTEXT" not in line and "SQLSTATE" not in line and "(19" not in line, err
    assert "retrying" not in err and "gave up" not in err, err  # stopped at the first try
    print(f"\n{errors[0]} ({seconds:.1f}s)")
    assert seconds < QUICK, f"took {seconds:.1f}s"
    assert digests(target) == before  # the previous replica, whole
    assert staging_left(target) == []


def with_options(url: DbUrl, options: str) -> DbUrl:
    """The URL with libpq `options` (server settings for every session sluice opens)."""
    return DbUrl(url.url.update_query_dict({"options": options}))


def test_statement_timeout_on_target_is_terminal(source, pg_db, capsys, monkeypatch):
    """A target whose sessions run under `statement_timeout`; a slow source keeps the `big`
    chunk's COPY open past it (the reader is slowed in our own code, the timeout is the
    server's): 57014 query_canceled, not retried."""
    assert copy_database(source, pg_db).ok
    before = digests(pg_db)
    cls = type(get_dialect("postgresql"))
    real_raw = cls.raw_read

    def slow_raw_read(self, conn, table, *rest):
        if table.name == "big":
            time.sleep(2.0)  # a slow source: the target's COPY waits for its first bytes
        yield from real_raw(self, conn, table, *rest)

    monkeypatch.setattr(cls, "raw_read", slow_raw_read)
    target = with_options(pg_db, "-c statement_timeout=500")
    code, err, seconds = run_cli(source, target, capsys)
    assert_failed_cleanly(code, err, seconds, "big, chunk #0", "a statement ran past the "
                          "target server's time limit", before, pg_db)  # fmt: skip

    # the library: the chunk raises TerminalError, naming the table and range
    from sluice.copy.buffer import ByteBudget
    from sluice.copy.plan import build_plan
    from sluice.copy.publish import prepare
    from sluice.copy.transfer import copy_chunk

    plan = build_plan(source, pg_db, tables=["big"])
    prepare(plan, pg_db)
    with pytest.raises(TerminalError, match=r"big#0 .*statement timeout") as info:
        copy_chunk(plan.table("big"), plan.chunks[0], source, target, ByteBudget(8 << 20))
    assert "gave up" not in str(info.value)


def test_lock_timeout_on_live_table_at_publish_is_terminal(source, pg_db, capsys):
    """Another session holds ACCESS EXCLUSIVE on the live `big` table (a long report, a
    migration) while the copy's publish tries to swap it; the target's sessions run under
    `lock_timeout`: 55P03 lock_not_available ends the run instead of queueing forever."""
    assert copy_database(source, pg_db).ok
    before = digests(pg_db)
    d = get_dialect("postgresql")
    holder = d.connect(pg_db)
    pid = holder.info.backend_pid
    try:
        holder.execute('LOCK TABLE "big" IN ACCESS EXCLUSIVE MODE')
        target = with_options(pg_db, "-c lock_timeout=500")
        code, err, seconds = run_cli(source, target, capsys)
    finally:
        holder.rollback()
        holder.close()
    assert_failed_cleanly(code, err, seconds, "big", "lock timeout while publishing", before,
                          pg_db)  # fmt: skip
    assert f"held by pid {pid} (" in err  # the blocking session, named
    assert copy_database(source, pg_db).ok  # the lock gone, the next run completes
    assert digests(pg_db) == digests(source)


def test_temp_file_limit_at_publish_is_terminal(source, pg_db, capsys):
    """A class 53 error (insufficient resources) every server can raise without root: the
    primary key build on the `big` staging table sorts to disk past `temp_file_limit`
    (53400 configuration_limit_exceeded)."""
    assert copy_database(source, pg_db).ok
    before = digests(pg_db)
    target = with_options(pg_db, "-c maintenance_work_mem=1MB -c temp_file_limit=256kB "
                                 "-c max_parallel_maintenance_workers=0")  # fmt: skip
    code, err, seconds = run_cli(source, target, capsys)
    assert_failed_cleanly(code, err, seconds, "big", "configured resource limit", before, pg_db)


@pytest.fixture
def tiny_tablespace(pg_server):
    """A PostgreSQL tablespace on a 2 MiB tmpfs: a real full disk. Needs root (mount) and
    the server on this machine; skipped, saying why, otherwise."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root: the full-disk case cannot run here")
    folder = tempfile.mkdtemp(prefix="sluice-tiny-")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs",
                              folder], capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        os.rmdir(folder)
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    name = f"sluice_tiny_{uuid.uuid4().hex[:8]}"
    d = get_dialect("postgresql")
    try:
        shutil.chown(folder, "postgres", "postgres")
        with d.connect(pg_server.with_database("postgres"), autocommit=True) as admin:
            admin.execute(f"CREATE TABLESPACE {name} LOCATION '{folder}'")
    except Exception as exc:  # no postgres user, or the server runs elsewhere
        subprocess.run(["umount", folder])
        os.rmdir(folder)
        pytest.skip(f"no tablespace on a tmpfs for this server: {exc}")
    yield name
    with d.connect(pg_server.with_database("postgres"), autocommit=True) as admin:
        admin.execute(f"DROP TABLESPACE IF EXISTS {name}")
    subprocess.run(["umount", folder], check=True)
    os.rmdir(folder)


def test_full_disk_on_target_is_terminal(source, pg_db, tiny_tablespace, capsys):
    """New tables (the staging tables) go to a 2 MiB tablespace that `big` does not fit:
    53100 disk_full ("could not extend file ... No space left on device"), not retried:
    another try would fill the same disk."""
    assert copy_database(source, pg_db).ok
    before = digests(pg_db)
    try:
        target = with_options(pg_db, f"-c default_tablespace={tiny_tablespace}")
        code, err, seconds = run_cli(source, target, capsys)
        # whichever statement meets the full disk first fails: big's chunk, or the primary
        # key of small, built while big is still loading
        assert_failed_cleanly(code, err, seconds, ("big, chunk #0", "small"),
                              "the target server's disk is full", before, pg_db)  # fmt: skip
    finally:
        drop_database(pg_db)  # empties the tablespace, so that it can be dropped


@pytest.mark.parametrize(
    "sqlstate, kind",
    [
        ("57014", TerminalError),  # statement timeout, cancel: the same statement times out again
        ("55P03", TerminalError),  # lock timeout: the user asked not to queue behind the holder
        ("53100", TerminalError),  # disk full: another try fills the same disk
        ("53200", TerminalError),  # out of memory
        ("53400", TerminalError),  # temp_file_limit and other configured limits
        ("22001", TerminalError),  # data: value too long
        ("23505", TerminalError),  # data: duplicate key
        ("57P01", TransientError),  # pg_terminate_backend, admin shutdown
        ("40P01", TransientError),  # deadlock
        ("40001", TransientError),  # serialization failure
        ("08006", TransientError),  # connection failure
    ],
)
def test_postgres_sqlstates_retried_or_not(sqlstate, kind):
    """The decision table behind the tests above, on psycopg's own exception classes."""
    import psycopg

    exc = psycopg.errors.lookup(sqlstate)("message")
    assert get_dialect("postgresql").classify_error(exc) is kind


def test_time_limit_waiting_for_a_lock_at_publish_on_mariadb_is_terminal(source, mysql_db,
                                                                         capsys):  # fmt: skip
    """MariaDB: the target login has MAX_STATEMENT_TIME 1 (a per-user limit: nothing changes
    for other sessions of the shared server) and another session holds `LOCK TABLES small
    WRITE`: the publish's RENAME waits for the table's metadata lock until the server aborts
    it (1969), and the run stops, naming the table, with the live table intact."""
    d = get_dialect(mysql_db.engine)
    assert copy_database(source, mysql_db, CopyOptions(tables=["small"])).ok
    user = f"sluice_slow_{uuid.uuid4().hex[:8]}"
    admin = d.connect(mysql_db, autocommit=True)
    holder = d.connect(mysql_db, autocommit=True)
    try:
        cur = admin.cursor()
        for host in ("%", "localhost"):
            cur.execute(f"CREATE USER '{user}'@'{host}' WITH MAX_STATEMENT_TIME 1")
            cur.execute(f"GRANT ALL ON {d.quote(mysql_db.database)}.* TO '{user}'@'{host}'")
        cur.execute(f"SELECT COUNT(*), SUM(CRC32(CONCAT(id, name))) FROM {d.quote('small')}")
        before = cur.fetchone()
        holder.cursor().execute(f"LOCK TABLES {d.quote('small')} WRITE")
        target = DbUrl(mysql_db.url.set(username=user))
        started = time.monotonic()
        code = cli.main(["copy", "--source", source.render_secret(), "--target",
                         target.render_secret(), "--tables", "small"])  # fmt: skip
        err, seconds = capsys.readouterr().err, time.monotonic() - started
        holder.cursor().execute("UNLOCK TABLES")
        assert code == 1, err
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and ", table small: a statement ran past" in errors[0], err
        assert "max_statement_time" not in errors[0] and "1969" not in errors[0], err
        assert "untouched (no table replaced; staging dropped)" in errors[0], err
        assert "retrying" not in err and seconds < QUICK, err
        print(f"\n{errors[0]} ({seconds:.1f}s)")
        cur.execute(f"SELECT COUNT(*), SUM(CRC32(CONCAT(id, name))) FROM {d.quote('small')}")
        assert cur.fetchone() == before  # the previous replica, whole
        cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                    "DATABASE() AND TABLE_NAME LIKE '\\_sluice%'")  # fmt: skip
        assert cur.fetchall() == ()
    finally:
        holder.close()
        for host in ("%", "localhost"):
            admin.cursor().execute(f"DROP USER IF EXISTS '{user}'@'{host}'")
        admin.close()
