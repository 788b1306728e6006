"""Backends terminated at seeded random instants of `sluice copy` (the command, in a process of
its own), on the source or on the target, PostgreSQL -> PostgreSQL, PostgreSQL -> MariaDB and
MariaDB -> PostgreSQL: every run exits 0 after retries, or prints exactly one clear line (side,
host, table, what happened, the target's state, what next; no driver text, no traceback).
Either way no live target table differs from the source and no staging table is left.

Only the copy's own sessions are ended: those connected to the test's uniquely named
databases (`pg_terminate_backend` on PostgreSQL, `KILL CONNECTION` on MariaDB), from an admin
session that spares itself. Nothing of sluice is patched: the faults are the servers'."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import threading
import time

import pytest

from sluice.core.faults import where
from sluice.core.urls import DbUrl
from sluice.datasets.stackoverflow.schema import TABLE_NAMES
from tests.conftest import stackoverflow_db
from tests.independent import connect, rows
from tests.integration.test_copy_stackoverflow import digest

SCALE = 0.01
RUNS = int(os.environ.get("SLUICE_FAULT_RUNS", "3"))  # kills per (pair, side); make soak: more
SEED = 20261205
BOUND = 120.0  # seconds a run may take at most (retries included)
LINE = re.compile(
    r"^error: (source|target) \S+(, table \w+(, chunk #\d+ \(\S+, \S+\])?)?: [^;]+"
    r"; target: (untouched|\d+ of \d+ table\(s\) published|all \d+ table\(s\) published)"
    r"[^\n]*; next: [^\n]+$"
)
DRIVER_TEXT = ("Traceback", "NoneType", "(2013", "(0, ''", "SQLSTATE", "psycopg", "pymysql",
               "CONTEXT:", "internal error")  # fmt: skip


@pytest.fixture(scope="module")
def so_source(pg_server):
    yield from stackoverflow_db(pg_server, "sluice_faultline_src", SCALE)


@pytest.fixture(scope="module")
def so_mariadb_source(mysql_server):
    yield from stackoverflow_db(mysql_server, "sluice_faultline_src", SCALE)


def end_sessions(url: DbUrl) -> int:
    """End every session connected to `url`'s database but the one doing it: the copy's."""
    if url.engine == "postgresql":
        ended = rows(url.with_database("postgres"),
                     "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = %s AND pid <> pg_backend_pid()", (url.database,))  # fmt: skip
        return sum(1 for (ok,) in ended if ok)
    admin = connect(url)
    try:
        cur = admin.cursor()
        cur.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = %s "
                    "AND ID <> CONNECTION_ID()", (url.database,))  # fmt: skip
        count = 0
        for (sid,) in cur.fetchall():
            try:
                cur.execute(f"KILL CONNECTION {int(sid)}")
                count += 1
            except Exception:  # it ended meanwhile
                pass
        return count
    finally:
        admin.close()


def run_copy(source: DbUrl, target: DbUrl, kill: DbUrl | None = None, at: float = 0.0):
    """`sluice copy` in a process of its own; with `kill`, that database's sessions are ended
    `at` seconds after the start. Returns (exit code, stderr, seconds, sessions ended)."""
    cmd = [sys.executable, "-m", "sluice.cli", "copy", "--source", source.render_secret(),
           "--target", target.render_secret(), "--workers", "2",
           "--chunk-rows", "5000"]  # fmt: skip
    ended = []
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def killer():
        time.sleep(at)
        if proc.poll() is None:
            ended.append(end_sessions(kill))

    thread = threading.Thread(target=killer, daemon=True) if kill else None
    if thread:
        thread.start()
    try:
        _, err = proc.communicate(timeout=BOUND)
    finally:
        if proc.poll() is None:
            proc.kill()
    if thread:
        thread.join()
    return proc.returncode, err, time.monotonic() - started, sum(ended)


STAGING = {  # engine -> its staging tables (PostgreSQL: tables only, a published identity
    # keeps its sequence's staging-time name)
    "postgresql": "SELECT relname FROM pg_class WHERE relkind IN ('r', 'p') "
                  "AND relname LIKE '\\_sluice\\_stage%'",
    "mysql": "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
             "DATABASE() AND TABLE_NAME LIKE '\\_sluice\\_stage%'",
}  # fmt: skip


def staging_left(url: DbUrl) -> list[str]:
    return [name for (name,) in rows(url, STAGING[url.engine])]


_SOURCE_DIGESTS: dict[tuple[str, str], tuple[int, str]] = {}


def source_digest(source: DbUrl, table: str) -> tuple[int, str]:
    """`digest` of a source table, read once per module: the sources are module-scoped and
    only ever read (by the copies and by these digests), so their rows cannot change."""
    key = (source.render_secret(), table)
    if key not in _SOURCE_DIGESTS:
        _SOURCE_DIGESTS[key] = digest(source, table)
    return _SOURCE_DIGESTS[key]


def assert_live_tables_equal_source(source: DbUrl, target: DbUrl) -> None:
    """Every live table the target has is the source's, whole (a publish is all or nothing)."""
    for table in TABLE_NAMES:
        try:
            got = digest(target, table)
        except Exception:  # not published by any run yet
            continue
        assert got == source_digest(source, table), f"{table}: target differs from source"


PAIRS = {  # name: (source fixture, target fixture)
    "postgresql": ("so_source", "pg_db"),  # the target's engine, from PostgreSQL
    "mariadb": ("so_source", "mysql_db"),
    "mariadb-to-postgresql": ("so_mariadb_source", "pg_db"),
}


@pytest.mark.parametrize("side", ["source", "target"])
@pytest.mark.parametrize("target_kind", list(PAIRS))
def test_backends_terminated_at_random_instants(target_kind, side, request):
    so_source = request.getfixturevalue(PAIRS[target_kind][0])
    target = request.getfixturevalue(PAIRS[target_kind][1])
    code, err, clean, _ = run_copy(so_source, target)
    assert code == 0, err
    rng = random.Random(f"{SEED}-{target_kind}-{side}")
    outcomes = []
    for _ in range(RUNS):
        at = rng.uniform(0.25 * clean, 0.95 * clean)  # after planning, before the end
        code, err, seconds, ended = run_copy(so_source, target, kill=so_source if side ==
                                             "source" else target, at=at)  # fmt: skip
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        retries = err.count("retrying in")
        outcomes.append((round(at, 1), ended, code, retries, errors[0] if errors else ""))
        assert seconds < BOUND
        if code == 0:
            assert errors == [], err
        else:
            assert len(errors) == 1, err
            line = errors[0]
            assert LINE.match(line), line
            assert not any(t in line for t in DRIVER_TEXT), line
            assert line.split(",")[0].split(" ", 1)[1].startswith(("source", "target")), line
            host = where(so_source if line.startswith("error: source") else target)
            assert line.startswith(f"error: {'source' if 'source' in line[:14] else 'target'} "
                                   f"{host}"), line  # fmt: skip
            assert "Traceback" not in err, err
        assert_live_tables_equal_source(so_source, target)
        assert staging_left(target) == []
    print(f"\n{target_kind} {side}: clean {clean:.1f}s; (at, sessions ended, exit, retries, "
          f"line): {outcomes}")  # fmt: skip
    # the run after the faults completes: a failure left nothing in the way
    code, err, _, _ = run_copy(so_source, target)
    assert code == 0, err
    for table in TABLE_NAMES:
        assert digest(target, table) == source_digest(so_source, table), table
