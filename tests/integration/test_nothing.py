"""No success on nothing (issue 13, item 4; item 9 for sync): a missing source is an error and
is never created, a source without tables is an error unless --allow-empty, and verification
never says MATCH for target tables it did not compare. Through the real CLI."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect


def sluice(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    return subprocess.run(
        [sys.executable, "-m", "sluice.cli", *args],
        capture_output=True, text=True, timeout=300, cwd=cwd, env=env,
    )  # fmt: skip


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The failure's message: exit code 1 or 2, one `error:` line, no traceback."""
    assert result.returncode in (1, 2), result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    return errors[0]


def small_source(path: Path, tables: tuple[str, ...] = ("Colours", "Shapes")) -> DbUrl:
    conn = sqlite3.connect(path)
    for name in tables:
        conn.execute(f'CREATE TABLE "{name}" ("Id" INTEGER PRIMARY KEY, "Name" TEXT NOT NULL)')
        conn.executemany(f'INSERT INTO "{name}" ("Name") VALUES (?)', [("a",), ("b",), ("c",)])
    conn.commit()
    conn.close()
    return DbUrl.parse(f"sqlite:///{path}")


def pg_tables(url: DbUrl) -> set[str]:
    with get_dialect("postgresql").connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return {r[0] for r in rows}


# --- a source that does not exist --------------------------------------------------------------


@pytest.mark.parametrize("command", ["copy", "plan", "verify", "sync"])
def test_missing_sqlite_source_is_an_error_and_no_file_is_made(tmp_path, command):
    missing, target = tmp_path / "missing.db", tmp_path / "target.db"
    result = sluice(command, "--source", f"sqlite:///{missing}", "--target", f"sqlite:///{target}")
    line = one_error_line(result)
    assert f"no SQLite database at {missing}: the file does not exist" in line
    assert not missing.exists() and not target.exists()


def test_plan_on_a_relative_sqlite_path_leaves_no_file(tmp_path):
    result = sluice("plan", "--source", "sqlite:///relative.db", "--target",
                    "sqlite:///other.db", cwd=tmp_path)  # fmt: skip
    assert "relative.db: the file does not exist" in one_error_line(result)
    assert list(tmp_path.iterdir()) == []


def test_verify_does_not_create_a_missing_sqlite_replica(tmp_path):
    source = small_source(tmp_path / "src.db")
    target = tmp_path / "replica.db"
    result = sluice("verify", "--source", source.render_secret(), "--target", f"sqlite:///{target}")
    assert "replica.db: the file does not exist" in one_error_line(result)
    assert not target.exists()


def test_missing_server_databases_are_clear(pg_server, tmp_path):
    source = pg_server.with_database("sluice_no_such_database_13")
    result = sluice("copy", "--source", source.render_secret(), "--target",
                    f"sqlite:///{tmp_path / 't.db'}")  # fmt: skip
    line = one_error_line(result)
    assert "sluice_no_such_database_13" in line and "does not exist" in line


def test_missing_mysql_database_is_clear(mysql_server, tmp_path):
    source = mysql_server.with_database("sluice_no_such_database_13")
    result = sluice("verify", "--source", source.render_secret(), "--target",
                    f"sqlite:///{tmp_path / 't.db'}")  # fmt: skip
    line = one_error_line(result)
    assert "Unknown database 'sluice_no_such_database_13'" in line


# --- a source without tables -------------------------------------------------------------------


def test_empty_source_is_an_error_unless_allowed(pg_db, tmp_path):
    empty = sqlite3.connect(tmp_path / "empty.db")
    empty.execute("VACUUM")  # a valid SQLite file without a table
    empty.close()
    source = f"sqlite:///{tmp_path / 'empty.db'}"
    for command in ("copy", "plan", "sync", "verify"):
        line = one_error_line(
            sluice(command, "--source", source, "--target", pg_db.render_secret())
        )
        assert f"the source {source} holds no tables" in line and "--allow-empty" in line
    assert pg_tables(pg_db) == set()  # nothing was created in the target (no sluice_state)
    result = sluice("copy", "--source", source, "--target", pg_db.render_secret(), "--allow-empty")
    assert result.returncode == 0, result.stderr
    assert "copy complete" in result.stdout


def test_empty_source_against_a_full_replica_is_no_match(pg_db, tmp_path):
    source = small_source(tmp_path / "src.db")
    copied = sluice("copy", "--source", source.render_secret(), "--target", pg_db.render_secret())
    assert copied.returncode == 0, copied.stderr
    empty = sqlite3.connect(tmp_path / "empty.db")
    empty.execute("VACUUM")
    empty.close()
    result = sluice("verify", "--source", f"sqlite:///{tmp_path / 'empty.db'}",
                    "--target", pg_db.render_secret(), "--allow-empty")  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "MATCH" not in result.stdout.replace("MISMATCH", "")
    assert "the target holds 2 table(s) the source does not (never compared): Colours, Shapes" in (
        result.stdout
    )


def test_verify_names_target_tables_it_never_compared(pg_db, tmp_path):
    """A source with fewer tables than the replica: the extra target table is named and the
    verdict is not MATCH; naming the tables verifies just those."""
    full = small_source(tmp_path / "full.db", ("Colours", "Shapes", "Sizes"))
    assert sluice("copy", "--source", full.render_secret(), "--target",
                  pg_db.render_secret()).returncode == 0  # fmt: skip
    fewer = small_source(tmp_path / "fewer.db", ("Colours", "Shapes"))
    result = sluice("verify", "--source", fewer.render_secret(), "--target", pg_db.render_secret(),
                    "--report", str(tmp_path / "r.md"))  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "MISMATCH" in result.stdout and "(never compared): Sizes" in result.stdout
    report = (tmp_path / "r.md").read_text()
    assert "**MISMATCH**" in report and "1 target table not in the source: Sizes" in report
    named = sluice("verify", "--source", fewer.render_secret(), "--target", pg_db.render_secret(),
                   "--tables", "Colours,Shapes")  # fmt: skip
    assert named.returncode == 0 and "MATCH" in named.stdout, named.stdout + named.stderr


# --- sync into a target without the replica (item 9) -----------------------------------------


def test_failed_sync_leaves_no_state_table(pg_db, tmp_path):
    source = small_source(tmp_path / "src.db")
    result = sluice("sync", "--source", source.render_secret(), "--target", pg_db.render_secret())
    line = one_error_line(result)
    assert "run sluice copy first" in line
    assert pg_tables(pg_db) == set()  # checked first: no sluice_state left behind
    copied = sluice("copy", "--source", source.render_secret(), "--target", pg_db.render_secret())
    assert copied.returncode == 0, copied.stderr
    synced = sluice("sync", "--source", source.render_secret(), "--target", pg_db.render_secret())
    assert synced.returncode == 0, synced.stderr
    assert "sluice_state" in pg_tables(pg_db)
