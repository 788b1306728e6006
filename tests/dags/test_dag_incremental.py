"""The incremental twin of `replicate_stackoverflow_postgres_to_postgres` end to end with
dag.test() on real PostgreSQL: after the full DAG, the rows changed in the source are exactly
what the twin's sync task reports (its XCom) and the shared verify task passes; a second run
moves nothing. Before any full run, the twin fails at once and says to run the full DAG."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import pytest

pytest.importorskip("airflow")

from tests.conftest import _fresh  # noqa: E402
from tests.dags import test_dag_run  # noqa: E402
from tests.dags.conftest import ROOT, asset_events  # noqa: E402
from tests.dags.test_dag_run import connection, run_dag  # noqa: E402
from tests.integration.test_copy_stackoverflow import digest  # noqa: E402
from tests.sync.test_sync import change_source  # noqa: E402

from sluice.airflow.reports import read_latest  # noqa: E402
from sluice.core.errors import ConnectError, TransientError  # noqa: E402
from sluice.core.urls import DbUrl  # noqa: E402
from sluice.datasets.stackoverflow import TABLE_NAMES  # noqa: E402
from sluice.datasets.stackoverflow.generate import generate  # noqa: E402

SCALE = 0.01
FULL = "replicate_stackoverflow_postgres_to_postgres"
TWIN = f"{FULL}_incremental"
airflow_env = test_dag_run.airflow_env  # the same module-scoped fixture: a migrated home


@pytest.fixture
def databases(pg_server):
    src_gen, dst_gen = _fresh(pg_server, "sluice_twin_src"), _fresh(pg_server, "sluice_twin_dst")
    source, target = next(src_gen), next(dst_gen)
    try:
        yield source, target
    finally:
        next(src_gen, None)
        next(dst_gen, None)


def run_twin(env: dict, source, target) -> str:
    """One run of the twin in a fresh process (as run_dag does); returns its output, with the
    run's final state as its last line."""
    env = {**env, "AIRFLOW_CONN_STACKOVERFLOW_POSTGRES_SOURCE": connection(source),
           "AIRFLOW_CONN_STACKOVERFLOW_POSTGRES_TARGET": connection(target)}  # fmt: skip
    cmd = [sys.executable, str(ROOT / "tests" / "dags" / "run_dag.py"), TWIN]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    # its state line (the OpenLineage provider, when configured, may log after it)
    states = [line for line in out.stdout.splitlines() if line.startswith("state=")]
    return out.stdout + out.stderr + "\n" + (states[-1] if states else "state=?")


def xcoms(env: dict, task_id: str, key: str = "return_value") -> list:
    """The task's XCom values in the twin's runs, oldest first."""
    db = sqlite3.connect(os.path.join(env["AIRFLOW_HOME"], "airflow.db"))
    try:
        rows = db.execute(
            "SELECT value FROM xcom WHERE dag_id = ? AND task_id = ? AND key = ? "
            "ORDER BY dag_run_id",
            (TWIN, task_id, key),
        ).fetchall()
    finally:
        db.close()
    return [json.loads(value) for (value,) in rows]


def moved(figures: dict) -> dict[str, tuple[int, int, int]]:
    return {
        table: (f["inserted"], f["updated"], f["deleted"])
        for table, f in figures["figures"].items()
        if f["inserted"] or f["updated"] or f["deleted"]
    }


def test_twin_syncs_exactly_what_changed_then_nothing(airflow_env, databases):
    source, target = databases
    generate(source, SCALE)
    # the replica the twin starts from; one chunk a table: chunked DAG copies are
    # test_dag_run's (and test_dag_identifiers') subject, each mapped copy task costs ~0.4 s
    run_dag(airflow_env, source, target, {"chunk_rows": 100_000}, FULL)
    expected = change_source(source)

    log = run_twin(airflow_env, source, target)
    assert log.endswith("state=success"), log[-4000:]
    assert {t: digest(target, t) for t in TABLE_NAMES} == {
        t: digest(source, t) for t in TABLE_NAMES
    }
    [first] = xcoms(airflow_env, "sync")
    assert moved(first) == expected
    assert first["moved"] == sum(sum(v) for v in expected.values())
    assert first["tables"] == list(first["figures"]) and set(first["tables"]) == set(TABLE_NAMES)
    posts = first["figures"]["Posts"]
    assert posts["watermark"] == "column(LastActivityDate)" and posts["after"] > posts["before"]
    votes = first["figures"]["Votes"]
    assert votes["read"] >= 3 and votes["after"] == votes["before"] + 3  # new rows + overlap
    for table, f in first["figures"].items():  # one log line a table
        line = (f"{table}: read {f['read']:,}, inserted {f['inserted']:,}, updated "
                f"{f['updated']:,}, deleted {f['deleted']:,}; {f['watermark']} {f['before']} -> "
                f"{f['after']}")  # fmt: skip
        assert line in log, line
    assert xcoms(airflow_env, "sync", "tables") == [first["tables"]]  # what verify is given
    text = json.dumps(first)
    assert target.database not in text and source.database not in text  # no URLs

    log = run_twin(airflow_env, source, target)
    assert log.endswith("state=success"), log[-4000:]
    second = xcoms(airflow_env, "sync")[-1]
    assert moved(second) == {} and second["moved"] == 0
    assert second["figures"]["Posts"]["before"] == posts["after"]

    verified = xcoms(airflow_env, "verify")
    assert len(verified) == 2 and all(v["ok"] for v in verified)
    assert set(verified[-1]["tables"]) == set(TABLE_NAMES)
    assert_twin_asset_events(airflow_env, runs=2)


def assert_twin_asset_events(env: dict, runs: int) -> None:
    """The twin's verify task gives each table Asset an event with its figures, as the full
    DAG's does; its reports go under the twin's own folder."""
    events = asset_events(env, TWIN)
    assert len(events) == runs * len(TABLE_NAMES)
    uris = {uri for uri, _ in events}
    assert uris == {f"sluice://stackoverflow_postgres_target/{t}" for t in TABLE_NAMES}
    assert all(json.loads(extra)["verified"] is True for _, extra in events)
    assert read_latest(TWIN, env)[0]["ok"]


def test_twin_before_the_full_dag_fails_without_retrying(airflow_env, databases):
    """An empty target is not a replica: the sync task fails on its first try, pointing at the
    full DAG, and verify never runs."""
    source, target = databases
    generate(source, 0.001)
    log = run_twin(airflow_env, source, target)
    assert log.endswith("state=failed"), log[-4000:]
    assert f"run the full DAG {FULL!r} first" in log
    db = sqlite3.connect(os.path.join(airflow_env["AIRFLOW_HOME"], "airflow.db"))
    try:
        states = dict(
            db.execute(
                "SELECT ti.task_id, ti.state || ':' || ti.try_number FROM task_instance ti "
                "JOIN dag_run r ON r.run_id = ti.run_id AND r.dag_id = ti.dag_id "
                "WHERE ti.dag_id = ? ORDER BY r.id",
                (TWIN,),
            ).fetchall()
        )
    finally:
        db.close()
    assert states["sync"] == "failed:1"
    assert states["verify"] == "upstream_failed:0"


def direct(source, target):
    """Endpoints given as URLs instead of Airflow connection ids (for the callable alone)."""
    from sluice.airflow import tasks

    @dataclass(frozen=True)
    class Direct(tasks.Endpoints):
        def source_url(self):
            return source

        def target_url(self):
            return target

    return Direct("source", "target")


def test_sync_callable_leaves_an_unreachable_database_to_retries(pg_db):
    """A server that is down may be back by the next try: not an AirflowFailException."""
    from sluice.airflow import tasks

    closed = DbUrl.parse("postgresql://sluice:hunter2secret@127.0.0.1:1/nowhere")
    with pytest.raises(ConnectError) as info:
        tasks.sync_replica(direct(closed, pg_db), [], 64 << 20, False, True, FULL)
    assert "hunter2secret" not in str(info.value)


def test_sync_callable_fails_at_once_on_a_wrong_table(pg_db):
    """A table the source lacks stays missing: fail without retries, naming it."""
    from airflow.sdk.exceptions import AirflowFailException

    from sluice.airflow import tasks

    with pytest.raises(AirflowFailException, match="NoSuchTable"):
        tasks.sync_replica(direct(pg_db, pg_db), ["NoSuchTable"], 64 << 20, False, True, FULL)


def test_sync_callable_leaves_a_terminated_session_to_retries(databases):
    """The target session killed mid-sync (pg_terminate_backend while it waits on a lock) is a
    transient failure: raised for Airflow to retry the task, not an AirflowFailException."""
    from sluice.airflow import tasks
    from sluice.copy import CopyOptions, copy_database
    from sluice.dialects import get_dialect

    source, target = databases
    generate(source, 0.001)
    assert copy_database(source, target, CopyOptions(workers=1)).ok
    d = get_dialect("postgresql")
    locker, admin = d.connect(target), d.connect(target, autocommit=True)
    try:
        locker.execute('LOCK TABLE "Users" IN ACCESS EXCLUSIVE MODE')
        outcome: list[BaseException | dict] = []

        def sync() -> None:
            try:
                outcome.append(tasks.sync_replica(direct(source, target), ["Users"], 64 << 20,
                                                  False, False, FULL))  # fmt: skip
            except BaseException as exc:  # noqa: BLE001 - the outcome under test
                outcome.append(exc)

        worker = threading.Thread(target=sync)
        worker.start()
        waiting = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'"
        deadline = time.monotonic() + 60
        pids: list = []
        while not pids and time.monotonic() < deadline:
            time.sleep(0.2)
            pids = admin.execute(waiting, (target.database,)).fetchall()
        assert pids, "the sync never waited on the lock"
        admin.execute("SELECT pg_terminate_backend(%s)", (pids[0][0],))
        worker.join(60)
    finally:
        locker.rollback()
        locker.close()
        admin.close()
    assert not worker.is_alive()
    [raised] = outcome
    assert isinstance(raised, TransientError), repr(raised)
