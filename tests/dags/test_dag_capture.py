"""Change capture chosen for `replicate_stackoverflow_postgres_to_postgres` (listed in
SLUICE_CDC_PIPELINES), end to end with dag.test() on the embedded PostgreSQL (wal_level=
logical): the full DAG's plan task starts capture, the twin's sync task applies the source's
log (its XCom and each table's Asset event carry the capture's position and lag; its
OpenLineage event each replica table with the rows changed), the replica equals the source,
and a second twin run moves nothing."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("airflow")

from tests.conftest import _fresh  # noqa: E402
from tests.dags import test_dag_incremental as twin  # noqa: E402
from tests.dags.conftest import asset_events, completed, openlineage_file  # noqa: E402
from tests.dags.test_dag_run import run_dag  # noqa: E402
from tests.dags.test_lineage import by_name, columns, fields  # noqa: E402
from tests.independent import rows  # noqa: E402
from tests.integration.test_copy_stackoverflow import digest  # noqa: E402
from tests.sync.test_sync import change_source  # noqa: E402

from sluice.capture import stop_capture  # noqa: E402
from sluice.datasets.stackoverflow import TABLE_NAMES  # noqa: E402
from sluice.datasets.stackoverflow.generate import generate  # noqa: E402

airflow_env = twin.airflow_env  # the same module-scoped fixture: a migrated home


@pytest.fixture
def captured(airflow_env, embedded_logical_pg, tmp_path):
    src_gen = _fresh(embedded_logical_pg, "sluice_cdc_dag_src")
    dst_gen = _fresh(embedded_logical_pg, "sluice_cdc_dag_dst")
    source, target = next(src_gen), next(dst_gen)
    env = {**airflow_env, "SLUICE_CDC_PIPELINES": twin.FULL, **openlineage_file(tmp_path)}
    try:
        yield env, source, target
    finally:
        stop_capture(source, target)
        next(dst_gen, None)
        next(src_gen, None)


def test_full_dag_starts_capture_and_the_twin_applies_the_log(captured):
    env, source, target = captured
    generate(source, 0.001)
    run_dag(env, source, target, {"chunk_rows": 100_000}, twin.FULL)
    slots = rows(source, "SELECT plugin FROM pg_replication_slots WHERE database = %s",
                 (source.database,))  # fmt: skip
    assert slots == [("pgoutput",)]
    expected = change_source(source)

    log = twin.run_twin(env, source, target)
    assert log.endswith("state=success"), log[-4000:]
    assert {t: digest(target, t) for t in TABLE_NAMES} == {
        t: digest(source, t) for t in TABLE_NAMES
    }
    [first] = twin.xcoms(env, "sync")
    assert twin.moved(first) == expected
    lag = first["capture"]
    assert lag["before"] != lag["after"] and lag["lag_bytes"] is not None
    assert "change capture sluice_" in log and "lag" in log
    extras = [json.loads(extra) for _, extra in asset_events(env, twin.TWIN)]
    assert extras and all(e["cdc_position"] == lag["after"] for e in extras)
    assert all(e["verified"] and e["cdc_lag_seconds"] >= 0 for e in extras)
    [event] = completed(env)[f"{twin.TWIN}.sync"]  # its lineage: the rows each table received
    changed = by_name(event["outputs"], target)
    got = {t: d["outputFacets"]["outputStatistics"]["rowCount"] for t, d in changed.items()}
    assert {t: n for t, n in got.items() if n} == {t: sum(v) for t, v in expected.items()}
    assert all(fields(d) == columns(target, t) for t, d in changed.items())
    assert set(by_name(event["inputs"], source)) == set(changed) == set(TABLE_NAMES)

    log = twin.run_twin(env, source, target)
    assert log.endswith("state=success"), log[-4000:]
    second = twin.xcoms(env, "sync")[-1]
    assert second["moved"] == 0 and twin.moved(second) == {}
