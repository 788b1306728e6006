"""Sources are read in read-only transactions with one consistent view (ADR 0010), proven on
real servers while another session writes to the source.

PostgreSQL: one `sluice copy` reads every chunk of every table in the snapshot it exported at
the start, so rows inserted, updated or deleted after it (here: while the first chunk is still
being read) appear in no chunk; a retried chunk adopts the same snapshot. MariaDB: a chunk's
read view is taken when its transaction starts, not at its first read. Everywhere: a write
inside the reader's transaction is refused."""

from __future__ import annotations

import logging
import sqlite3
import threading

import psycopg
import pymysql
import pytest

from sluice.copy import CopyOptions, copy_database
from sluice.copy.buffer import ByteBudget
from sluice.copy.plan import build_plan
from sluice.copy.publish import prepare
from sluice.copy.snapshot import shared_snapshot
from sluice.copy.staging import staging_table
from sluice.copy.transfer import TransferOptions, copy_chunk
from sluice.core.progress import Reporter
from sluice.core.schema import Column, Table
from sluice.core.types import Kind, SqlType
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect
from tests.conftest import _fresh

PG = get_dialect("postgresql")
T = Table("t", (Column("id", SqlType(Kind.INTEGER)), Column("v", SqlType(Kind.STRING))), ("id",))


def pg_rows(url, table: str) -> list[tuple]:
    with PG.connect(url) as conn:
        return conn.execute(f'SELECT id, v FROM "{table}" ORDER BY id').fetchall()


def fill_pg(url) -> None:
    """Two tables; even keys only, so every chunk's range has free keys to insert into."""
    with PG.connect(url) as conn:
        for name, n in (("a", 3000), ("b", 800)):
            conn.execute(f'CREATE TABLE "{name}" (id int PRIMARY KEY, v text NOT NULL)')
            conn.execute(
                f"INSERT INTO \"{name}\" SELECT 2 * g, 'before' FROM generate_series(1, {n}) g"
            )
            conn.execute(f'ANALYZE "{name}"')


def write_everywhere(url) -> None:
    """Insert into every range, update every row, delete some: all committed at once."""
    with PG.connect(url, autocommit=True) as conn:
        for name in ("a", "b"):
            conn.execute(f"UPDATE \"{name}\" SET v = 'after'")
            conn.execute(
                f"INSERT INTO \"{name}\" SELECT 2 * g + 1, 'new' FROM generate_series(1, 3100) g"
            )
            conn.execute(f'DELETE FROM "{name}" WHERE id % 10 = 0')


class WritesDuringFirstChunk(Reporter):
    """The other session's writes, committed while the run's first chunk is being copied."""

    def __init__(self, source):
        super().__init__(live=False)
        self.source, self.wrote_at = source, None
        self.once = threading.Lock()

    def advance(self, name: str, rows: int, nbytes: int = 0) -> None:
        with self.once:  # chunks run in parallel: write once, before any other chunk goes on
            if self.wrote_at is None:
                write_everywhere(self.source)
                self.wrote_at = name
        super().advance(name, rows, nbytes)


@pytest.mark.parametrize("workers", [1, 2])
def test_postgres_copy_reads_every_chunk_in_the_runs_snapshot(pg_server, workers):
    src_gen, dst_gen = _fresh(pg_server, "sluice_snap_src"), _fresh(pg_server, "sluice_snap_dst")
    source, target = next(src_gen), next(dst_gen)
    try:
        fill_pg(source)
        before = {t: pg_rows(source, t) for t in ("a", "b")}
        reporter = WritesDuringFirstChunk(source)
        options = CopyOptions(workers=workers, chunk_rows=400)
        result = copy_database(source, target, options, reporter)
        assert result.ok and reporter.wrote_at is not None
        assert sum(result.tables[t].chunks for t in ("a", "b")) == 10  # 8 + 2
        after = {t: pg_rows(source, t) for t in ("a", "b")}
        assert after != before  # the writes really landed, during the copy
        assert {t: pg_rows(target, t) for t in ("a", "b")} == before
    finally:
        next(src_gen, None)
        next(dst_gen, None)


def test_postgres_retry_adopts_the_same_snapshot_and_falls_back_when_it_is_gone(
    pg_db, tmp_path, caplog
):
    source = pg_db
    fill_pg(source)
    sqlite = get_dialect("sqlite")
    target = DbUrl.parse(f"sqlite:///{tmp_path / 'replica.db'}")
    plan = build_plan(source, target, tables=["a"], chunk_rows=400)
    tp, chunk = plan.tables[0], plan.chunks[1]
    prepare(plan, target)
    stage = staging_table(sqlite, tp.table)

    def staged() -> list[tuple]:
        conn = sqlite3.connect(target.database)
        try:
            return conn.execute(f'SELECT id, v FROM "{stage.name}" ORDER BY id').fetchall()
        finally:
            conn.close()

    lo, hi = chunk.lo, chunk.hi
    expected = [r for r in pg_rows(source, "a") if lo < r[0] <= hi]
    with shared_snapshot(source) as snapshot:
        assert snapshot
        write_everywhere(source)
        for _ in range(2):  # the first try, then a retry of the same range
            copy_chunk(tp, chunk, source, target, ByteBudget(1 << 20),
                       TransferOptions(snapshot=snapshot))  # fmt: skip
            assert staged() == expected
    caplog.set_level(logging.WARNING)
    copy_chunk(tp, chunk, source, target, ByteBudget(1 << 20), TransferOptions(snapshot=snapshot))
    assert "snapshot is gone" in caplog.text
    assert staged() == [r for r in pg_rows(source, "a") if lo < r[0] <= hi] != expected


def test_postgres_reader_is_read_only_and_repeatable(pg_db):
    fill_pg(pg_db)
    with PG.connect(pg_db) as conn:
        PG.begin_read(conn)
        first = conn.execute('SELECT count(*) FROM "b"').fetchone()
        write_everywhere(pg_db)
        assert conn.execute('SELECT count(*) FROM "b"').fetchone() == first
        assert conn.execute("SHOW transaction_isolation").fetchone() == ("repeatable read",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("INSERT INTO \"b\" VALUES (1, 'x')")


MY = get_dialect("mysql")


def test_mariadb_reader_view_starts_at_begin_and_is_read_only(mysql_db):
    setup = MY.connect(mysql_db, autocommit=True)
    cur = setup.cursor()
    cur.execute("CREATE TABLE t (id int PRIMARY KEY, v text) ENGINE=InnoDB")
    cur.execute("INSERT INTO t VALUES (2, 'before'), (4, 'before')")
    reader, plain = MY.connect(mysql_db), MY.connect(mysql_db)
    try:
        MY.begin_read(reader)
        plain.cursor().execute("SELECT 1")  # the session default, for contrast
        cur.execute("INSERT INTO t VALUES (3, 'new')")
        cur.execute("UPDATE t SET v = 'after'")
        # the view was taken at START TRANSACTION, before those writes, not at this first read
        seen = [r for batch in MY.read_range(reader, T, None, None, 100) for r in batch]
        assert sorted(seen) == [(2, "before"), (4, "before")]
        # the session's READ COMMITTED would have shown them
        shown = [r for batch in MY.read_range(plain, T, None, None, 100) for r in batch]
        assert sorted(shown) == [(2, "after"), (3, "after"), (4, "after")]
        with pytest.raises(pymysql.err.MySQLError) as info:
            reader.cursor().execute("INSERT INTO t VALUES (5, 'x')")
        assert info.value.args[0] == 1792  # "Cannot execute statement in a READ ONLY transaction"
    finally:
        for conn in (reader, plain, setup):
            conn.close()


def test_sqlite_reader_holds_one_read_transaction_and_cannot_write(tmp_path):
    url = DbUrl.parse(f"sqlite:///{tmp_path / 'src.db'}")
    lite = get_dialect("sqlite")
    writer = sqlite3.connect(url.database, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")  # a writer may commit while the reader reads
    writer.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    writer.execute("INSERT INTO t VALUES (2, 'before')")
    reader = lite.connect(url)
    try:
        lite.begin_read(reader)
        assert reader.execute("SELECT v FROM t").fetchall() == [("before",)]
        writer.execute("UPDATE t SET v = 'after'")
        assert reader.execute("SELECT v FROM t").fetchall() == [("before",)]
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.execute("INSERT INTO t VALUES (3, 'x')")
    finally:
        reader.close()
        writer.close()


class KillsTheExporter(Reporter):
    """Terminates the session holding the run's snapshot while the first chunk is copied."""

    def __init__(self, source):
        super().__init__(live=False)
        self.source, self.killed = source, None
        self.once = threading.Lock()

    def advance(self, name: str, rows: int, nbytes: int = 0) -> None:
        with self.once:
            if self.killed is None:
                with PG.connect(self.source, autocommit=True) as conn:
                    self.killed = conn.execute(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND query LIKE '%pg_export_snapshot%' "
                        "AND pid <> pg_backend_pid()"
                    ).fetchone()[0]
        super().advance(name, rows, nbytes)


def test_postgres_copy_completes_when_the_snapshot_holder_is_killed(pg_server, caplog):
    """The run goes on; chunks that start afterwards say so and read their own snapshot."""
    src_gen, dst_gen = _fresh(pg_server, "sluice_snap_src"), _fresh(pg_server, "sluice_snap_dst")
    source, target = next(src_gen), next(dst_gen)
    try:
        fill_pg(source)
        caplog.set_level(logging.WARNING)
        reporter = KillsTheExporter(source)
        result = copy_database(source, target, CopyOptions(workers=1, chunk_rows=400), reporter)
        assert result.ok and reporter.killed == 1
        assert "the run's source snapshot is gone" in caplog.text
        assert {t: pg_rows(target, t) for t in ("a", "b")} == {
            t: pg_rows(source, t) for t in ("a", "b")
        }
    finally:
        next(src_gen, None)
        next(dst_gen, None)
