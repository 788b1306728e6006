"""`copy_database(..., CopyOptions(resume=True))` through SQLite files (ADR 0018): a stopped
resumable run keeps its staging and ledger, the next --resume run copies only the chunks not
committed and the result equals the source (read with sqlite3, not sluice); nothing to resume
copies normally and says so; a source whose key range moved is refused in one line; a plain
run drops what an interrupted one left."""

from __future__ import annotations

import sqlite3
import time

import pytest

from sluice.copy import CopyOptions, copy_database
from sluice.core.errors import ConfigError
from sluice.core.interrupt import Cancel
from sluice.core.progress import Reporter
from sluice.core.urls import DbUrl

ROWS = 6000
OPTIONS = CopyOptions(workers=1, chunk_rows=500, resume=True)


def _source(path) -> DbUrl:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL, n REAL)")
    conn.executemany("INSERT INTO t VALUES (?, ?, ?)",
                     ((i, f"value {i} \u00e9", i / 7) for i in range(1, ROWS + 1)))  # fmt: skip
    conn.commit()
    conn.close()
    return DbUrl.parse(f"sqlite:///{path}")


def _rows(path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.execute("SELECT id, v, n FROM t ORDER BY id"))
    finally:
        conn.close()


def _scalar(path, sql: str):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


class StopAfter(Reporter):
    """A reporter that sets the run's cancel once `rows` rows were written (a stop)."""

    def __init__(self, cancel: Cancel, rows: int):
        super().__init__(live=False)
        self.cancel, self.rows, self.seen = cancel, rows, 0

    def advance(self, table: str, rows: int, nbytes: int) -> None:
        super().advance(table, rows, nbytes)
        self.seen += rows
        if self.seen >= self.rows and not self.cancel.cancelled:
            self.cancel.cancel("test stop")
            time.sleep(0.5)  # the run passes a cancel on to its chunks every 0.2 s


@pytest.fixture
def ends(tmp_path):
    return _source(tmp_path / "src.db"), DbUrl.parse(f"sqlite:///{tmp_path / 'dst.db'}")


def _stopped_run(source: DbUrl, target: DbUrl, rows: int = ROWS // 2):
    cancel = Cancel()
    result = copy_database(source, target, OPTIONS, StopAfter(cancel, rows), cancel)
    assert result.interrupted and result.kept_staging
    assert "--resume" in result.state()
    return result


def test_a_stopped_resumable_run_is_continued_exactly(ends, tmp_path):
    source, target = ends
    _stopped_run(source, target)
    dst = tmp_path / "dst.db"
    kept_chunks = _scalar(dst, "SELECT count(*) FROM sluice_copy_chunks")
    kept_rows = _scalar(dst, "SELECT sum(rows_copied) FROM sluice_copy_chunks")
    assert 0 < kept_chunks < ROWS // 500
    assert _scalar(dst, 'SELECT count(*) FROM "_sluice_stage_t"') == kept_rows
    result = copy_database(source, target, OPTIONS)
    assert result.ok, result.failures
    assert result.rows_kept == kept_rows
    assert result.rows_copied == ROWS - kept_rows
    assert result.tables["t"].kept_chunks == kept_chunks
    assert result.tables["t"].chunks == ROWS // 500 - kept_chunks  # only the rest was copied
    assert "kept from the interrupted copy" in result.resume_note
    assert _rows(dst) == _rows(tmp_path / "src.db")
    assert _scalar(dst, "SELECT count(*) FROM sluice_copy_chunks") == 0
    assert _scalar(dst, "SELECT count(*) FROM sluice_copy_tables") == 0


def test_nothing_to_resume_copies_everything_and_says_so(ends, tmp_path):
    source, target = ends
    result = copy_database(source, target, OPTIONS)
    assert result.ok and result.rows_kept == 0 and result.rows_copied == ROWS
    assert result.resume_note == "nothing to resume: copying every table"
    assert _rows(tmp_path / "dst.db") == _rows(tmp_path / "src.db")


def test_a_moved_key_range_is_refused_in_one_line(ends, tmp_path):
    source, target = ends
    _stopped_run(source, target)
    conn = sqlite3.connect(tmp_path / "src.db")
    conn.execute("INSERT INTO t VALUES (?, 'late', 0)", (ROWS + 10,))
    conn.commit()
    conn.close()
    with pytest.raises(ConfigError) as caught:
        copy_database(source, target, OPTIONS)
    line = str(caught.value)
    assert line.startswith("cannot resume: the source changed since the interrupted copy")
    assert f"t: its key range moved from 1..{ROWS} to 1..{ROWS + 10}" in line
    assert "without --resume" in line
    # the refusal touched nothing: the kept chunks are still there for a later resume
    assert _scalar(tmp_path / "dst.db", "SELECT count(*) FROM sluice_copy_chunks") > 0


def test_a_plain_run_drops_what_an_interrupted_one_left(ends, tmp_path):
    source, target = ends
    _stopped_run(source, target)
    result = copy_database(source, target, CopyOptions(workers=1, chunk_rows=500))
    assert result.ok and result.rows_kept == 0 and not result.resume_note
    dst = tmp_path / "dst.db"
    assert _rows(dst) == _rows(tmp_path / "src.db")
    assert _scalar(dst, "SELECT count(*) FROM sluice_copy_chunks") == 0
    staged = "SELECT count(*) FROM sqlite_master WHERE name LIKE '\\_sluice%' ESCAPE '\\'"
    assert _scalar(dst, staged) == 0
