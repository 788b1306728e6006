"""`sluice copy --resume` after a kill -9 (issue 24, ADR 0018): a StackOverflow2010 copy,
PostgreSQL -> PostgreSQL, killed once about half of its chunks (and rows) are committed, then
resumed: the resumed run copies only what was not committed (its summary's figure equals the
sum of its own chunk-commit log lines and the kept rows equal what the ledger held, read with
psycopg), exits 0, and every table equals the source's by count and by an md5 over every row's
text, both read with psycopg. A resume after the source's schema changed is refused with one
line; one case runs into MariaDB.

Scale: $SLUICE_RESUME_SCALE, 0.02 in make test (about 15 s); make soak runs 0.1 (about 90 s,
generation included); the schema-change and MariaDB cases run at 0.01.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest

from sluice.datasets.stackoverflow import TABLE_NAMES
from tests.conftest import _fresh, stackoverflow_db

SCALE = float(os.environ.get("SLUICE_RESUME_SCALE", "0.02"))
CHUNK_ROWS = 4000 if SCALE < 0.05 else 20000
_COMMITTED = re.compile(r"DEBUG (\w+)#(\d+) .*: committed (\d+) rows")


class Copy:
    """One `sluice -v copy` subprocess whose output lines are collected as they arrive."""

    def __init__(self, source, target, *extra: str):
        cmd = [sys.executable, "-m", "sluice.cli", "-v", "copy", "--source",
               source.render_secret(), "--target", target.render_secret(), "--workers", "2",
               "--chunk-rows", str(CHUNK_ROWS), *extra]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1)  # fmt: skip
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())

    def committed(self) -> list[tuple[str, int, int]]:
        return [(m[1], int(m[2]), int(m[3])) for m in map(_COMMITTED.search, list(self.lines))
                if m]  # fmt: skip

    def kill_when(self, chunks: int, rows: int, timeout: float = 120) -> None:
        """SIGKILL once at least `chunks` chunks and `rows` rows are logged as committed."""
        deadline = time.monotonic() + timeout
        while True:
            done = self.committed()
            if len(done) >= chunks and sum(r for *_, r in done) >= rows:
                break
            assert self.proc.poll() is None, "the copy ended before it could be killed"
            assert time.monotonic() < deadline, "the copy never got half way"
            time.sleep(0.01)
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self.reader.join(10)

    def finish(self, timeout: float = 300) -> int:
        rc = self.proc.wait(timeout)
        self.reader.join(10)
        return rc


def pg_tables(url) -> dict[str, tuple[int, str]]:
    """Per table: its row count and the md5 of every row's text in key order (psycopg)."""
    out = {}
    with psycopg.connect(url.render_secret()) as conn:
        for name in TABLE_NAMES:
            row = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY \"Id\"), '')) "
                f'FROM "{name}" t'
            ).fetchone()
            out[name] = (row[0], row[1])
    return out


def pg_ledger(url) -> tuple[int, int]:
    """(chunk rows in the ledger, rows they and the published tables hold), read directly."""
    with psycopg.connect(url.render_secret()) as conn:
        chunks, chunk_rows = conn.execute(
            "SELECT count(*), coalesce(sum(rows_copied), 0) FROM sluice_copy_chunks"
        ).fetchone()
        published = conn.execute(
            "SELECT coalesce(sum(published_rows), 0) FROM sluice_copy_tables"
        ).fetchone()[0]
    return int(chunks), int(chunk_rows) + int(published)


def pg_total_chunks(source, target) -> int:
    from sluice.copy.plan import build_plan

    return len(build_plan(source, target, chunk_rows=CHUNK_ROWS).chunks)


@pytest.fixture
def so_source(pg_server):
    yield from stackoverflow_db(pg_server, "resume_src", SCALE)


@pytest.fixture
def small_source(pg_server):
    yield from stackoverflow_db(pg_server, "resume_src", 0.01)


@pytest.fixture
def pg_target(pg_server):
    yield from _fresh(pg_server, "resume_dst")


def test_kill9_then_resume_copies_only_the_rest_and_is_exact(so_source, pg_target, tmp_path):
    source_tables = pg_tables(so_source)
    total = sum(n for n, _ in source_tables.values())
    chunks = pg_total_chunks(so_source, pg_target)
    first = Copy(so_source, pg_target)
    first.kill_when(chunks // 2, total // 2)
    logged = first.committed()
    in_ledger, kept = pg_ledger(pg_target)
    # every chunk logged as committed is in the ledger (its line comes after the commit), or
    # its table was swapped in (its chunks' rows then counted in the table's row)
    assert in_ledger > 0
    assert kept >= sum(r for *_, r in logged), (kept, logged)

    summary = tmp_path / "summary.json"
    second = Copy(so_source, pg_target, "--resume", "--json", str(summary))
    rc = second.finish()
    out = "\n".join(second.lines)
    assert rc == 0, out[-3000:]
    facts = json.loads(summary.read_text())
    copied_logged = sum(r for *_, r in second.committed())
    assert facts["resumed"] is True
    assert facts["rows_kept"] == kept, (facts["rows_kept"], kept)
    assert facts["rows_copied"] == copied_logged
    assert facts["rows_copied"] + facts["rows_kept"] == total
    assert facts["rows_copied"] <= 0.6 * total, (facts["rows_copied"], total)
    print(
        f"\nresume at scale {SCALE}: {total:,} rows in {chunks} chunks; killed after "
        f"{len(logged)} chunk commits logged; kept {facts['rows_kept']:,} rows, copied "
        f"{facts['rows_copied']:,} again ({facts['rows_copied'] / total:.0%})"
    )
    assert "kept from the interrupted copy" in out and "sluice verify" in out
    # no chunk the first run committed was copied again
    again = {(t, i) for t, i, _ in second.committed()} & {(t, i) for t, i, _ in logged}
    assert not again, again
    assert pg_tables(pg_target) == source_tables
    assert pg_ledger(pg_target) == (0, 0)
    with psycopg.connect(pg_target.render_secret()) as conn:
        left = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE '\\_sluice%'")
        assert left.fetchone()[0] == 0


def test_resume_after_a_schema_change_is_refused(small_source, pg_target):
    so_source = small_source
    chunks = pg_total_chunks(so_source, pg_target)
    first = Copy(so_source, pg_target)
    first.kill_when(chunks // 2, 0)
    with psycopg.connect(so_source.render_secret(), autocommit=True) as conn:
        conn.execute('ALTER TABLE "Comments" ADD COLUMN "Extra" int')
    second = Copy(so_source, pg_target, "--resume")
    rc = second.finish()
    out = "\n".join(second.lines)
    assert rc != 0
    assert "cannot resume: the source changed since the interrupted copy" in out, out[-2000:]
    assert "Comments: its columns, types or key changed" in out
    assert "without --resume" in out
    # a plain run starts over and completes
    third = Copy(so_source, pg_target)
    assert third.finish() == 0, "\n".join(third.lines)[-2000:]
    assert pg_tables(pg_target) == pg_tables(so_source)


def _aggregates(cur, quote: str) -> dict[str, tuple[int, ...]]:
    out = {}
    for name in TABLE_NAMES:
        q = f"{quote}{name}{quote}"
        cur.execute(f"SELECT count(*), coalesce(sum({quote}Id{quote}), 0), "
                    f"min({quote}Id{quote}), max({quote}Id{quote}) FROM {q}")  # fmt: skip
        out[name] = tuple(int(v or 0) for v in cur.fetchone())
    return out


@pytest.mark.mysql
def test_kill9_then_resume_into_mariadb(pg_server, mysql_db, tmp_path):
    import pymysql

    gen = stackoverflow_db(pg_server, "resume_src", 0.01)
    source = next(gen)
    try:
        with psycopg.connect(source.render_secret()) as conn:
            expected = _aggregates(conn.cursor(), '"')
        chunks = pg_total_chunks(source, mysql_db)
        first = Copy(source, mysql_db)
        first.kill_when(chunks // 2, 0)
        summary = tmp_path / "summary.json"
        second = Copy(source, mysql_db, "--resume", "--json", str(summary))
        rc = second.finish()
        assert rc == 0, "\n".join(second.lines)[-3000:]
        facts = json.loads(summary.read_text())
        assert facts["rows_kept"] > 0
        assert facts["rows_copied"] == sum(r for *_, r in second.committed())
        assert facts["rows_copied"] + facts["rows_kept"] == sum(v[0] for v in expected.values())
        u = mysql_db.url
        conn = pymysql.connect(host=u.host, port=u.port or 3306, user=u.username,
                               password=mysql_db.password or "", database=u.database)  # fmt: skip
        try:
            assert _aggregates(conn.cursor(), "`") == expected
            cur = conn.cursor()
            cur.execute("SELECT count(*) FROM sluice_copy_chunks")
            assert cur.fetchone()[0] == 0
        finally:
            conn.close()
    finally:
        next(gen, None)
