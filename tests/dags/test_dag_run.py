"""`replicate_stackoverflow_postgres_to_postgres` end to end with dag.test() against real
PostgreSQL databases: every table's count and checksum equal the source's, and a second run
gives the same replica (idempotent)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

pytest.importorskip("airflow")

from tests.conftest import _fresh, airflow_home  # noqa: E402
from tests.dags.conftest import ROOT, asset_events, completed, openlineage_file  # noqa: E402
from tests.integration.test_copy_stackoverflow import digest  # noqa: E402

from sluice.airflow.reports import read_latest  # noqa: E402
from sluice.datasets.stackoverflow import TABLE_NAMES  # noqa: E402
from sluice.datasets.stackoverflow.generate import generate, row_counts  # noqa: E402

SCALE = 0.005
DAG_ID = "replicate_stackoverflow_postgres_to_postgres"


def connection(url) -> str:
    """AIRFLOW_CONN_* JSON for a DbUrl (socket folders become the host, as users write them)."""
    u = url.url
    host = u.host or u.query.get("host")
    kind = {"postgresql": "postgres", "mysql": "mysql"}[url.engine]
    return json.dumps({"conn_type": kind, "host": host, "port": u.port, "login": u.username,
                       "password": url.password, "schema": u.database})  # fmt: skip


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory, airflow_db):
    """A migrated Airflow home of the module's own (a copy of the session's database)."""
    home = airflow_home(airflow_db, tmp_path_factory.mktemp("airflow-home"))
    return {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "SLUICE_REPORT_URL": f"file://{home}/reports"}  # fmt: skip


def report_folder(env: dict, dag_id: str) -> str:
    """The local folder behind the env's `file://` report URL, to list what a run wrote."""
    return os.path.join(env["SLUICE_REPORT_URL"].removeprefix("file://"), dag_id)


def run_dag(env: dict, source, target, conf: dict, dag_id: str = DAG_ID,
            source_conn: str = "STACKOVERFLOW_POSTGRES_SOURCE") -> None:  # fmt: skip
    env = {**env, f"AIRFLOW_CONN_{source_conn}": connection(source),
           "AIRFLOW_CONN_STACKOVERFLOW_POSTGRES_TARGET": connection(target)}  # fmt: skip
    cmd = [sys.executable, str(ROOT / "tests" / "dags" / "run_dag.py"), dag_id, json.dumps(conf)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    # the state line; the OpenLineage provider, when configured, may log after it
    assert "state=success" in out.stdout.splitlines()


def test_postgres_to_postgres_dag_twice(airflow_env, pg_server):
    src_gen, dst_gen = _fresh(pg_server, "sluice_dag_src"), _fresh(pg_server, "sluice_dag_dst")
    source, target = next(src_gen), next(dst_gen)
    try:
        generate(source, SCALE)
        expected = {t: digest(source, t) for t in TABLE_NAMES}
        assert {t: n for t, (n, _) in expected.items()} == row_counts(SCALE)
        run_dag(airflow_env, source, target, {"chunk_rows": 5000})
        assert {t: digest(target, t) for t in TABLE_NAMES} == expected
        run_dag(airflow_env, source, target, {"chunk_rows": 3000})  # other chunks, same data
        assert {t: digest(target, t) for t in TABLE_NAMES} == expected
        assert_verified(airflow_env, runs=2)
    finally:
        next(src_gen, None)
        next(dst_gen, None)


def test_mariadb_to_postgres_dag_verifies_canonically(airflow_env, mysql_db, pg_db, tmp_path):
    """The SQL Server -> PostgreSQL DAG with its source connection pointed at MariaDB: a
    cross-engine run whose verify task digests client-side, inside Airflow (run_dag.py is an
    unguarded script: verification must not spawn processes that re-import it). The run's
    params carry the CLI's options to plan, copy and verify: a table left out by name, one
    refused (INET6) skipped, an ENUM made a PostgreSQL enum. Its copy tasks' OpenLineage
    events name the MariaDB tables as OpenLineage names MySQL's (`mysql://host:port`,
    `database.table`), with the rows read."""
    from tests.conformance.test_mariadb_pg import query, run_sql

    dag_id = "replicate_stackoverflow_to_postgres"
    generate(mysql_db, SCALE)
    run_sql(mysql_db, ["CREATE TABLE moods (id int PRIMARY KEY, m enum('sad','ok'), t text)",
                       "INSERT INTO moods VALUES (1, 'ok', 'a b'), (2, 'sad', NULL)",
                       "CREATE TABLE ips (id int PRIMARY KEY, a inet6)"])  # fmt: skip
    conf = {"chunk_rows": 4000, "exclude_tables": ["Votes"], "skip_refused": True,
            "enums": "type"}  # fmt: skip
    env = {**airflow_env, **openlineage_file(tmp_path)}
    run_dag(env, mysql_db, pg_db, conf, dag_id, "STACKOVERFLOW_SOURCE")
    report = read_latest(dag_id, airflow_env)[0]  # as `sluice demo` reads it
    assert report["ok"] and {t["method"] for t in report["tables"]} == {"canonical"}
    expected = {**row_counts(SCALE), "moods": 2}
    del expected["Votes"]
    assert {t["table"]: t["target_rows"] for t in report["tables"]} == expected
    got = query(pg_db, "SELECT id, m::text, pg_typeof(m)::text, t FROM moods ORDER BY id")
    assert got == [(1, "ok", "moods_m_enum", "a b"), (2, "sad", "moods_m_enum", None)]
    assert query(pg_db, "SELECT to_regclass('ips'), to_regclass('\"Votes\"')") == [(None, None)]
    read: dict[str, int] = defaultdict(int)
    namespace = f"mysql://{mysql_db.url.host}:{mysql_db.url.port or 3306}"
    for event in completed(env)[f"{dag_id}.copy"]:
        [d] = event["inputs"]
        assert d["namespace"] == namespace, d["namespace"]
        table = d["name"].removeprefix(f"{mysql_db.database}.")
        read[table] += d["inputFacets"]["inputStatistics"]["rowCount"]
        assert event["outputs"][0]["name"] == f"{pg_db.database}.public.{table}"
    assert dict(read) == expected


def assert_verified(env: dict, runs: int) -> None:
    """The verify task wrote its reports and gave every table Asset an event with its figures."""
    folder = report_folder(env, DAG_ID)
    report, html = read_latest(DAG_ID, env)
    assert html == f"{env['SLUICE_REPORT_URL']}/{DAG_ID}/latest.html"
    assert report["ok"] and {t["table"] for t in report["tables"]} == set(TABLE_NAMES)
    assert all(t["method"] == "native" and t["ok"] for t in report["tables"])
    assert os.path.exists(os.path.join(folder, "latest.html"))
    assert (
        len([f for f in os.listdir(folder) if f.endswith(".json")]) == runs + 2
    )  # + latest, runs.json
    indexed = json.loads(Path(folder, "runs.json").read_text(encoding="utf-8"))
    assert len(indexed) == runs and all(r["ok"] and r["kind"] == "copy" for r in indexed)
    copied = indexed[-1]["tables"]  # each copy's rows, as the Replication page shows them
    assert {t: f["rows_moved"] for t, f in copied.items()} == {
        t: f["target_rows"] for t, f in copied.items()
    }
    events = asset_events(env, DAG_ID)
    latest: dict[str, dict] = {}
    for uri, extra in events:
        latest[uri] = json.loads(extra)
    expected = row_counts(SCALE)
    for table in TABLE_NAMES:
        figures = latest[f"sluice://stackoverflow_postgres_target/{table}"]
        assert figures["verified"] is True and figures["rows"] == expected[table], table
        assert figures["matching_ranges"] == figures["ranges"] >= 1
    assert len(events) == runs * len(TABLE_NAMES)
