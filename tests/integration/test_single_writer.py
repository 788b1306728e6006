"""A target that allows one writer at a time (SQLite) through the real CLI, with parallel
workers: the copy completes and verifies, and `verify --repair` re-copies several ranges at
once. Before single-writer targets were handled, the default four workers hung: readers
starved on the shared budget while the writer holding SQLite's file lock waited for rows."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest
from tests.conftest import stackoverflow_db

from sluice.core.urls import DbUrl
from sluice.datasets.stackoverflow.generate import row_counts
from sluice.dialects import get_dialect

SCALE = 0.01
BOUND = 180  # seconds: the copy takes a few; the hang it guards against never ended


@pytest.fixture(scope="module")
def source(pg_server: DbUrl):
    yield from stackoverflow_db(pg_server, "sluice_single_writer", SCALE)


def sluice(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "sluice.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=BOUND)


def ends(source: DbUrl, target: DbUrl) -> list[str]:
    return ["--source", source.render_secret(), "--target", target.render_secret()]


def test_sqlite_declares_a_single_writer_and_postgresql_does_not():
    assert get_dialect("sqlite").caps.single_writer
    assert not get_dialect("postgresql").caps.single_writer


@pytest.mark.parametrize(
    "workers",
    [[], ["--workers", "2", "--chunk-rows", "4000"]],
    ids=["default-workers", "two-workers-many-chunks"],
)
def test_copy_into_sqlite_with_parallel_workers_completes_and_verifies(source, tmp_path, workers):
    target = DbUrl.parse(f"sqlite:///{tmp_path / 'so.db'}")
    copied = sluice("copy", *ends(source, target), *workers)
    assert copied.returncode == 0, copied.stdout[-2000:] + copied.stderr[-2000:]
    verified = sluice("verify", *ends(source, target))
    assert verified.returncode == 0, verified.stdout[-2000:] + verified.stderr[-2000:]
    with sqlite3.connect(tmp_path / "so.db") as conn:
        assert (
            conn.execute('SELECT COUNT(*) FROM "Votes"').fetchone()[0] == row_counts(SCALE)["Votes"]
        )
        leftovers = conn.execute(
            "SELECT name FROM sqlite_master WHERE name LIKE '_sluice_stage_%'"
        ).fetchall()
    assert leftovers == []


def test_verify_repair_into_sqlite_rewrites_many_ranges_at_once(source, tmp_path):
    target = DbUrl.parse(f"sqlite:///{tmp_path / 'so.db'}")
    copied = sluice("copy", *ends(source, target))
    assert copied.returncode == 0, copied.stdout[-2000:] + copied.stderr[-2000:]
    with sqlite3.connect(tmp_path / "so.db") as conn:  # one changed row in many key ranges
        ids = [r[0] for r in conn.execute('SELECT "Id" FROM "Votes" ORDER BY "Id"')]
        for key in ids[:: len(ids) // 8]:
            conn.execute('UPDATE "Votes" SET "VoteTypeId" = "VoteTypeId" + 1 WHERE "Id" = ?',
                         (key,))  # fmt: skip
    args = ["verify", *ends(source, target), "--tables", "Votes", "--chunk-rows", "2000"]
    broken = sluice(*args)
    assert broken.returncode != 0, broken.stdout[-2000:]
    repaired = sluice(*args, "--repair")
    assert repaired.returncode == 0, repaired.stdout[-2000:] + repaired.stderr[-2000:]
    assert sluice(*args).returncode == 0
