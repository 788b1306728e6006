"""`replicate_stackoverflow_postgres_to_postgres` and its incremental twin run with the
`identifiers: snake` param (ADR 0017) through dag.test() on real PostgreSQL: the replica's
tables and columns are snake_case (read with psycopg), the verify task's report names each
table's target name and matches, each table's Asset is the renamed table, and the twin syncs
a source change into the renamed replica and verifies it."""

from __future__ import annotations

import psycopg
import pytest

pytest.importorskip("airflow")

from tests.conftest import _fresh  # noqa: E402
from tests.dags import test_dag_run  # noqa: E402
from tests.dags.conftest import asset_events  # noqa: E402
from tests.dags.test_dag_run import run_dag  # noqa: E402
from tests.sync.test_sync import change_source  # noqa: E402

from sluice.airflow.reports import read_latest  # noqa: E402
from sluice.core.naming import snake  # noqa: E402
from sluice.datasets.stackoverflow import TABLE_NAMES, TABLES  # noqa: E402
from sluice.datasets.stackoverflow.generate import generate, row_counts  # noqa: E402

SCALE = 0.005
FULL = "replicate_stackoverflow_postgres_to_postgres"
TWIN = f"{FULL}_incremental"
airflow_env = test_dag_run.airflow_env  # the same module-scoped fixture: a migrated home


def latest_report(env: dict, dag_id: str) -> dict:
    return read_latest(dag_id, env)[0]


def test_snake_identifiers_through_the_dags(airflow_env, pg_server):
    src_gen, dst_gen = _fresh(pg_server, "sluice_dagn_src"), _fresh(pg_server, "sluice_dagn_dst")
    source, target = next(src_gen), next(dst_gen)
    try:
        generate(source, SCALE)
        run_dag(airflow_env, source, target, {"chunk_rows": 5000, "identifiers": "snake"})
        with psycopg.connect(target.render_secret()) as conn:
            for table in TABLE_NAMES:
                cols = conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                    "ORDER BY ordinal_position", (snake(table),)
                ).fetchall()  # fmt: skip
                assert [c for (c,) in cols] == [snake(c.name) for c in TABLES[table].columns]
                (n,) = conn.execute(f"SELECT count(*) FROM {snake(table)}").fetchone()
                assert n == row_counts(SCALE)[table], table
        report = latest_report(airflow_env, FULL)
        assert report["ok"]
        assert {t["table"]: t["target_table"] for t in report["tables"]} == {
            t: snake(t) for t in TABLE_NAMES
        }
        uris = {uri for uri, _ in asset_events(airflow_env, FULL)}
        assert uris == {f"sluice://stackoverflow_postgres_target/{snake(t)}" for t in TABLE_NAMES}
        expected = change_source(source)
        run_dag(airflow_env, source, target, {"identifiers": "snake"}, TWIN)
        report = latest_report(airflow_env, TWIN)
        assert report["ok"], report
        with (
            psycopg.connect(target.render_secret()) as conn,
            psycopg.connect(source.render_secret()) as src,
        ):
            for table in expected:
                (theirs,) = src.execute(f'SELECT count(*) FROM "{table}"').fetchone()
                (ours,) = conn.execute(f"SELECT count(*) FROM {snake(table)}").fetchone()
                assert ours == theirs, table
    finally:
        next(src_gen, None)
        next(dst_gen, None)
