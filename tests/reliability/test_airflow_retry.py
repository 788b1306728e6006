"""Airflow: a mapped copy task killed (SIGKILL, as a lost worker) and retried gives the same
replica. Each task callable runs in its own process, as on Airflow's workers
(tests/reliability/airflow_task.py): one chunk is killed mid-COPY with nothing committed,
another right after its transaction committed (the task never reported success, so Airflow
would retry it); running the same callable again, as Airflow's retry does, leaves each range
exactly once; publish, finish and the verify task then pass and every table equals the
source."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sluice.datasets.stackoverflow import TABLE_NAMES
from sluice.datasets.stackoverflow.generate import row_counts
from sluice.dialects import get_dialect
from tests.conftest import stackoverflow_db
from tests.integration.test_copy_stackoverflow import digest

if importlib.util.find_spec("airflow") is None:  # not imported here: it configures itself
    pytest.skip("Airflow is not installed", allow_module_level=True)

SCALE = 0.01
TASK = Path(__file__).with_name("airflow_task.py")
ROOT = Path(__file__).resolve().parents[2]


def connection(url) -> str:
    u = url.url
    return json.dumps({"conn_type": "postgres", "host": u.host or u.query.get("host"),
                       "port": u.port, "login": u.username, "password": url.password,
                       "schema": u.database})  # fmt: skip


class Tasks:
    def __init__(self, source, target, home: Path):
        self.state = str(home / "plan.json")
        self.env = {**os.environ, "AIRFLOW_HOME": str(home), "SLUICE_REPORT_DIR": str(home),
                    "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "PYTHONPATH": str(ROOT),
                    "AIRFLOW_CONN_SOURCE": connection(source),
                    "AIRFLOW_CONN_TARGET": connection(target)}  # fmt: skip

    def run(self, step: str, *args: str):
        cmd = [sys.executable, str(TASK), step, self.state, *args]
        out = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        marked = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
        assert len(marked) == 1, out.stdout[-3000:]
        return json.loads(marked[0][len("RESULT ") :])

    def kill_at(self, when: str, chunk: dict) -> str:
        """Start the chunk's task, SIGKILL it where `when` says; what it printed."""
        cmd = [sys.executable, str(TASK), "chunk", self.state, json.dumps(chunk), "--pause", when]
        proc = subprocess.Popen(cmd, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)  # fmt: skip
        try:
            for line in proc.stdout:  # Airflow's logging may print first
                if line.startswith("PAUSED"):
                    break
            assert line.startswith("PAUSED"), f"the task ended without pausing: {line!r}"
        finally:
            proc.kill()
            proc.wait(30)
        assert proc.returncode == -9
        return line.strip()


def staged(target, chunk: dict) -> int:
    """Rows of the chunk's range in its staging table, as other sessions see them."""
    d = get_dialect("postgresql")
    where, params = d.range_predicate(["Id"], chunk["lo"], chunk["hi"])
    sql = d.finalize(f"SELECT count(*) FROM {d.quote('_sluice_stage_' + chunk['table'])}{where}")
    with d.connect(target) as conn:
        return conn.execute(sql, d.bind(params)).fetchone()[0]


@pytest.fixture(scope="module")
def so_source(pg_server):
    yield from stackoverflow_db(pg_server, "sluice_afkill_src", SCALE)


def test_killed_chunk_tasks_retried_give_the_same_replica(so_source, pg_db, tmp_path):
    tasks = Tasks(so_source, pg_db, tmp_path)
    chunks = tasks.run("plan")
    posts = [c for c in chunks if c["table"] == "Posts"]
    votes = [c for c in chunks if c["table"] == "Votes"]
    assert len(posts) > 1 and len(votes) > 1  # mapped over several ranges per table
    uncommitted, committed = posts[1], votes[1]
    tasks.run("prepare")
    done = tasks.run("chunks", json.dumps([uncommitted, committed]))
    assert len(done) == len(chunks) - 2

    assert tasks.kill_at("uncommitted", uncommitted) == "PAUSED mid-COPY"
    assert staged(pg_db, uncommitted) == 0  # the server rolled the killed COPY back
    assert tasks.kill_at("committed", committed) == "PAUSED after commit"
    rows = staged(pg_db, committed)
    assert rows > 0  # committed, but the task died before reporting success

    # Airflow's retries: the same callable, same arguments, in a new process; then once
    # more for the committed one (a task cleared and re-run after it had succeeded)
    assert tasks.run("chunk", json.dumps(uncommitted))["rows"] == staged(pg_db, uncommitted)
    assert tasks.run("chunk", json.dumps(committed))["rows"] == rows
    assert tasks.run("chunk", json.dumps(committed))["rows"] == rows
    assert staged(pg_db, committed) == rows  # once, not two or three times

    result = tasks.run("publish")
    assert result["verified"]["ok"]
    assert {p["table"]: p["rows"] for p in result["published"]} == row_counts(SCALE)
    for table in TABLE_NAMES:
        assert digest(pg_db, table) == digest(so_source, table), table
