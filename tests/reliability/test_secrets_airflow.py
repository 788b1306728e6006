"""The PostgreSQL -> PostgreSQL DAG, run with dag.test() on connections whose password is the
recognisable one, never shows it: not in the run's output, the task logs, any file under
AIRFLOW_HOME (reports included), nor anywhere in Airflow's metadata database (XComs, rendered
fields, task instances, asset events), on a run that succeeds, on a run of its incremental twin
(sync), and on one whose verify task fails (a required column holds NULL: the failure callback
logs the error)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("airflow")

from sluice.datasets.stackoverflow.generate import generate  # noqa: E402
from sluice.dialects import get_dialect  # noqa: E402
from tests.conftest import _fresh, airflow_home  # noqa: E402
from tests.dags.conftest import ROOT  # noqa: E402
from tests.dags.test_dag_run import connection as dag_connection  # noqa: E402
from tests.reliability.secrets import PASSWORD, files_under, found_in  # noqa: E402

DAG_ID = "replicate_stackoverflow_postgres_to_postgres"


def connection(url) -> str:
    """The DAG tests' connection for `url` (socket folders as the host), with PASSWORD."""
    return json.dumps({**json.loads(dag_connection(url)), "password": PASSWORD})


def run_dag(home: Path, source, target, dag_id: str = DAG_ID) -> tuple[int, str]:
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
           "SLUICE_REPORT_URL": f"file://{home}/reports",
           "AIRFLOW_CONN_STACKOVERFLOW_POSTGRES_SOURCE": connection(source),
           "AIRFLOW_CONN_STACKOVERFLOW_POSTGRES_TARGET": connection(target)}  # fmt: skip
    cmd = [sys.executable, str(ROOT / "tests" / "dags" / "run_dag.py"), dag_id,
           json.dumps({"chunk_rows": 1500})]  # fmt: skip
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    return out.returncode, out.stdout + out.stderr


def metadata_leaks(db: Path) -> dict[str, list[str]]:
    """Every text value of every table of Airflow's metadata database, searched."""
    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        leaks = {}
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                text = " ".join(
                    v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row
                )
                if found_in(text):
                    leaks[table] = found_in(text)
        return leaks
    finally:
        conn.close()


def test_dag_runs_keep_the_password_out_of_logs_xcoms_and_reports(pg_server, tmp_path, airflow_db):
    home = airflow_home(airflow_db, tmp_path / "airflow")
    src_gen, dst_gen = _fresh(pg_server, "sluice_leak_src"), _fresh(pg_server, "sluice_leak_dst")
    source, target = next(src_gen), next(dst_gen)
    try:
        generate(source, 0.002)
        code, ok_output = run_dag(home, source, target)
        assert code == 0 and ok_output.strip().endswith("state=success"), ok_output[-3000:]

        # the hourly incremental twin: its sync task reads and writes through the same logins
        conn = get_dialect("postgresql").connect(source)
        conn.execute('UPDATE "Tags" SET "Count" = "Count" + 1')  # Tags sync whole
        conn.commit()
        conn.close()
        code, twin_output = run_dag(home, source, target, f"{DAG_ID}_incremental")
        assert code == 0 and twin_output.strip().endswith("state=success"), twin_output[-3000:]
        ok_output += twin_output

        # the next run's verify task fails: a required column holds NULL on both sides
        conn = get_dialect("postgresql").connect(source)
        conn.execute('ALTER TABLE "Users" ALTER COLUMN "DisplayName" DROP NOT NULL')
        cur = conn.execute(
            'UPDATE "Users" SET "DisplayName" = NULL WHERE "Id" IN '
            '(SELECT "Id" FROM "Users" ORDER BY "Id" LIMIT 5)'
        )
        assert cur.rowcount == 5
        conn.commit()
        conn.close()
        code, failed_output = run_dag(home, source, target)
        assert code == 1 and "sluice replication failed" in failed_output, failed_output[-3000:]
        assert "verification failed for Users" in failed_output
    finally:
        next(src_gen, None)
        next(dst_gen, None)

    files = files_under(home)
    reports = [f for f in files if f.startswith(str(home / "reports"))]
    assert len(reports) >= 6  # two runs' JSON and HTML, and latest.*
    xcoms = sqlite3.connect(home / "airflow.db").execute("SELECT count(*) FROM xcom").fetchone()
    assert xcoms[0] >= 10  # the plan, the chunk list, every mapped task's summary
    leaks = {where: found_in(text) for where, text in files.items() if found_in(text)}
    leaks.pop(str(home / "airflow.db"), None)  # searched table by table below
    leaks.update({"run output": found_in(ok_output + failed_output)} if found_in(
        ok_output + failed_output) else {})  # fmt: skip
    leaks.update({f"metadata {t}": f for t, f in metadata_leaks(home / "airflow.db").items()})
    assert leaks == {}
