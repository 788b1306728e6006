"""A source connection terminated mid-chunk (pg_terminate_backend from another session): the
chunk is retried and the run completes without duplicates or gaps, on every write path the
PostgreSQL reader feeds (raw COPY passthrough, raw CSV into LOAD DATA, decoded rows).

The kill is deterministic: the reading generator, once it has handed a few batches of the
chunk's rows on, has an admin session terminate its own backend; the server then ends the
stream with a real error. (The target side: test_killed_target_connection_is_retried_...
in tests/integration/test_copy_stackoverflow.py.)"""

from __future__ import annotations

import logging
import threading

import pytest

from sluice.copy import CopyOptions, copy_database
from sluice.core import faults, metrics
from sluice.datasets.stackoverflow.generate import generate, row_counts
from sluice.dialects import get_dialect
from sluice.verify import VerifyOptions, verify_database
from tests.conftest import _fresh
from tests.integration.test_copy_stackoverflow import digest
from tests.recorded_metrics import Recorded

SCALE = 0.01
TABLE = "Votes"
OPTIONS = CopyOptions(tables=[TABLE], chunk_rows=20_000, workers=2, memory_cap=2 << 20)


@pytest.fixture(scope="module")
def so_source(pg_server):
    gen = _fresh(pg_server, "sluice_drop_src")
    url = next(gen)
    generate(url, SCALE, tables=[TABLE])
    yield url
    next(gen, None)


def terminate_own_backend(source, conn) -> int:
    """pg_terminate_backend on `conn`'s server process, from a separate admin session."""
    d = get_dialect("postgresql")
    pid = conn.info.backend_pid
    with d.connect(source, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
    return pid


@pytest.fixture
def killing_reader(so_source, monkeypatch):
    """Patch the PostgreSQL read paths: the first chunk to have read `after` bytes (raw) or
    one batch (decoded) has its backend terminated, then keeps reading from the dead stream."""
    cls = type(get_dialect("postgresql"))
    killed: list[dict] = []
    real_raw, real_range = cls.raw_read, cls.read_range
    paths: set[str] = set()
    once = threading.Lock()  # two workers read at once: only one of them is killed

    def kill(conn, lo) -> None:
        with once:
            if not killed:
                killed.append({"pid": terminate_own_backend(so_source, conn), "lo": lo})

    def raw_read(self, conn, table, lo, hi, *rest):
        paths.add("raw")
        seen = 0
        for block in real_raw(self, conn, table, lo, hi, *rest):
            yield block
            seen += len(block)
            if seen > 256 << 10:  # a few batches already went to the writer
                kill(conn, lo)

    def read_range(self, conn, table, lo, hi, fetch, *rest, **kw):
        paths.add("decoded")
        for batch in real_range(self, conn, table, lo, hi, fetch, *rest, **kw):
            yield batch
            kill(conn, lo)

    monkeypatch.setattr(cls, "raw_read", raw_read)
    monkeypatch.setattr(cls, "read_range", read_range)
    return killed, paths


@pytest.mark.parametrize(
    "target_kind, path", [("postgresql", "raw"), ("mariadb", "raw"), ("sqlite", "decoded")]
)
def test_killed_source_connection_is_retried_without_duplicates(
    target_kind, path, so_source, killing_reader, request, caplog
):
    target = request.getfixturevalue(
        {"postgresql": "pg_db", "mariadb": "mysql_db", "sqlite": "sqlite_db"}[target_kind]
    )
    caplog.set_level(logging.WARNING, logger="sluice")
    with metrics.installed(Recorded()) as recorded:  # what a monitoring system is told
        result = copy_database(so_source, target, OPTIONS)
    assert result.ok, result.failures
    retries = [(labels["table"], labels["fault"]) for _, labels in recorded.values("retries_total")]
    # one retry of the table, by the fault its engine names the kill (PostgreSQL: an admin
    # shutdown of the backend, 57P01)
    assert len(retries) == 1 and retries[0][0] == TABLE, retries
    assert retries[0][1] in {f.name for f in faults.ALL if f.retryable}, retries
    killed, paths = killing_reader
    assert killed, "the source backend was never terminated"
    assert paths == {path}  # PG->PG binary COPY, PG->MariaDB CSV, PG->SQLite decoded rows
    retried = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retried) == 1 and "reading the source" in retried[0], retried
    assert f"{TABLE}#" in retried[0]  # the chunk is named
    expected = row_counts(SCALE)[TABLE]
    assert result.tables[TABLE].rows == expected
    assert digest(target, TABLE) == digest(so_source, TABLE)  # no duplicates, no gaps
    report = verify_database(so_source, target, VerifyOptions(tables=[TABLE], checks=False))
    assert report.ok and report.tables[0].target_rows == expected


def test_killed_mariadb_source_connection_is_retried(mysql_db, pg_db, monkeypatch, caplog):
    """The same on a MariaDB source: KILL CONNECTION from another session after the first
    batch of one chunk; the unbuffered read fails with 'lost connection' and is retried."""
    generate(mysql_db, SCALE, tables=[TABLE])
    d = get_dialect(mysql_db.engine)
    cls, killed, once = type(d), [], threading.Lock()

    def killing(real):  # the read yields its first batch, then its connection is killed
        def read(self, conn, *args, **kw):
            for batch in real(self, conn, *args, **kw):
                yield batch
                with once:
                    if not killed:
                        killed.append(conn.thread_id())
                        admin = d.connect(mysql_db, autocommit=True)
                        try:
                            admin.cursor().execute(f"KILL CONNECTION {int(killed[0])}")
                        finally:
                            admin.close()

        return read

    # rows rendered as CSV (raw_read) or decoded values (read_range): whichever the plan takes
    monkeypatch.setattr(cls, "read_range", killing(cls.read_range))
    monkeypatch.setattr(cls, "raw_read", killing(cls.raw_read))
    caplog.set_level(logging.WARNING, logger="sluice")
    result = copy_database(mysql_db, pg_db, OPTIONS)
    assert result.ok, result.failures
    assert killed, "the source connection was never killed"
    retried = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retried) == 1 and "reading the source" in retried[0], retried
    assert result.tables[TABLE].rows == row_counts(SCALE)[TABLE]
    report = verify_database(mysql_db, pg_db, VerifyOptions(tables=[TABLE], checks=False))
    assert report.ok and report.tables[0].target_rows == row_counts(SCALE)[TABLE]
