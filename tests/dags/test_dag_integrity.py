"""The DAG file parses cleanly (with no connections and no database reachable), and every
DAG has the shape the project promises: tags, owner, retries, mapping, pool, flow; every full
DAG has an hourly incremental twin (sync -> verify)."""

from __future__ import annotations

from datetime import timedelta

import pytest

pytest.importorskip("airflow")

from tests.dags.conftest import ROOT  # noqa: E402

from sluice.airflow.alerts import on_task_failure  # noqa: E402

DAG_IDS = {
    "replicate_stackoverflow_to_target",
    "replicate_stackoverflow_to_postgres",
    "replicate_stackoverflow_postgres_to_postgres",
}
TWIN_IDS = {f"{dag_id}_incremental" for dag_id in DAG_IDS}
FRESHNESS = "sluice_replica_freshness"
POOL = "stackoverflow_replication"


@pytest.fixture(scope="module")
def dagbag():
    # Airflow 3.3: DagBag lives in airflow.dag_processing.dagbag and no longer loads examples;
    # known_pools turns a task in an undeclared pool into an import error.
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"), known_pools={POOL, "default_pool"})


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == DAG_IDS | TWIN_IDS | {FRESHNESS}


@pytest.mark.parametrize("dag_id", sorted(DAG_IDS))
def test_tags_owner_retries(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert {"sluice", "stackoverflow"} <= set(dag.tags)
    assert dag.max_active_runs == 1 and not dag.catchup and dag.schedule is None
    for task in dag.tasks:
        assert task.owner == "data-engineering"
        assert task.retries >= 2, task.task_id
        assert on_task_failure in task.on_failure_callback, task.task_id  # the alert


@pytest.mark.parametrize("dag_id", sorted(DAG_IDS))
def test_flow_mapping_and_pool(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    copy, publish = dag.get_task("copy"), dag.get_task("publish")
    assert copy.is_mapped and publish.is_mapped
    assert copy.partial_kwargs["pool"] == POOL
    assert copy.partial_kwargs["retries"] == 3
    assert copy.partial_kwargs["retry_exponential_backoff"] == 2.0
    assert copy.partial_kwargs["max_retry_delay"] == timedelta(minutes=10)

    def downstream(task_id: str) -> set[str]:
        return set(dag.get_task(task_id).downstream_task_ids)

    assert {"prepare", "chunks", "tables", "finish"} <= downstream("plan")
    assert "copy" in downstream("prepare") and "copy" in downstream("chunks")
    assert "publish" in downstream("copy") and "publish" in downstream("tables")
    assert "finish" in downstream("publish") and "verify" in downstream("finish")
    assert "verify" in downstream("tables")  # it verifies the tables the plan holds
    # the tables that published are finished even when another's publish failed (ADR 0021);
    # verify waits for every publish
    assert dag.get_task("finish").trigger_rule == "all_done"
    assert "verify" in downstream("publish") and dag.get_task("verify").trigger_rule == (
        "all_success"
    )
    assert set(dag.params) >= {"tables", "memory_cap_mib", "chunk_rows", "chunk_mib"}
    from sluice.airflow.tasks import VALUE_PARAMS

    # the CLI's selection and value options, with the CLI's defaults
    assert {k: dag.params[k] for k in VALUE_PARAMS} == VALUE_PARAMS


def test_freshness_dag(dagbag):
    """Every 15 minutes, never catching up, one task calling the library, the alert callback
    kept for a check that breaks (a stale replica is alerted by the check itself)."""
    dag = dagbag.dags[FRESHNESS]
    assert dag.schedule == "*/15 * * * *" and not dag.catchup
    assert dag.max_active_runs == 1 and {"sluice", "alerts"} <= set(dag.tags)
    (task,) = dag.tasks
    assert task.task_id == "check_freshness" and task.owner == "data-engineering"
    assert task.retries >= 2 and on_task_failure in task.on_failure_callback


def test_verify_updates_each_target_table_asset(dagbag):
    """Table Assets get their events (with the verification figures) from the verify task, so
    consumers scheduled on them never see an unverified replica."""
    from airflow.sdk import AssetAlias

    for dag in dagbag.dags.values():
        if dag.dag_id == FRESHNESS:
            continue
        outlets = dag.get_task("verify").outlets or []
        assert [o.name for o in outlets if isinstance(o, AssetAlias)] == [
            f"{dag.dag_id}.verified"
        ], dag.dag_id
        if dag.dag_id in DAG_IDS:
            assert not (dag.get_task("publish").partial_kwargs.get("outlets") or [])
        else:
            assert not dag.get_task("sync").outlets


@pytest.mark.parametrize("dag_id", sorted(DAG_IDS))
def test_incremental_twin(dagbag, dag_id):
    """Each full DAG (manual) has a twin that syncs hourly, never catches up, never overlaps
    itself, and ends with the same verify callable over the tables the sync reports."""
    full, twin = dagbag.dags[dag_id], dagbag.dags[f"{dag_id}_incremental"]
    assert full.schedule is None
    assert twin.schedule == "@hourly" and not twin.catchup and twin.max_active_runs == 1
    assert twin.is_paused_upon_creation is True  # no hourly failures before a full run
    assert set(twin.tags) == set(full.tags) | {"incremental"}
    assert twin.task_ids == ["sync", "verify"]
    sync, verify = twin.get_task("sync"), twin.get_task("verify")
    assert sync.downstream_task_ids == {"verify"}
    assert sync.pool == POOL and sync.multiple_outputs
    assert verify.python_callable.__code__ is full.get_task("verify").python_callable.__code__
    for task in (sync, verify):
        assert task.owner == "data-engineering"
        assert task.retries == 3 and task.retry_exponential_backoff == 2.0
        assert task.max_retry_delay == timedelta(minutes=10)
    assert twin.on_failure_callback and twin.on_failure_callback == full.on_failure_callback
    assert sync.on_failure_callback == full.get_task("plan").on_failure_callback  # the alert
    from sluice.airflow.tasks import VALUE_PARAMS

    assert set(twin.params) == {"tables", "memory_cap_mib", "deletes", *VALUE_PARAMS}


def test_parsing_touches_no_database(tmp_path):
    """The file parses with no connections defined and every database URL unreachable."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    env.update({"SLUICE_SOURCE_URL": "postgresql://x@127.0.0.1:1/x",
                "SLUICE_TARGET_URL": "postgresql://x@127.0.0.1:1/x",
                "AIRFLOW_HOME": str(tmp_path)})  # fmt: skip
    code = (
        "from airflow.dag_processing.dagbag import DagBag; "
        f"b = DagBag(dag_folder={str(ROOT / 'dags')!r}); "
        "assert not b.import_errors, b.import_errors; print(len(b.dags))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("7")


def test_value_params_become_the_cli_options():
    """The DAG params carry what the CLI's flags carry, to the same option values; a value the
    CLI would refuse fails the task as a ConfigError."""
    from sluice.airflow.tasks import value_options
    from sluice.core.errors import ConfigError

    given = {"exclude_tables": ["Votes"], "skip_refused": True, "carry_as_text": True,
             "allow_lossy": True, "zero_dates": "-infinity", "nul": "strip", "enums": "type",
             "identifiers": "snake", "tables": ["ignored here"]}  # fmt: skip
    o = value_options(given)
    assert (o.exclude, o.skip_refused, o.carry_as_text, o.allow_lossy) == (("Votes",), True,
                                                                           True, True)  # fmt: skip
    assert (o.zero_dates, o.nul, o.enums) == ("-infinity", "strip", "type")
    assert o.selection.enums == "type" and o.selection.exclude == ("Votes",)
    assert o.identifiers == o.selection.identifiers == "snake"
    assert value_options(None) == value_options({})
    with pytest.raises(ConfigError, match="zero-dates policy"):
        value_options({"zero_dates": "zero"})
    with pytest.raises(ConfigError, match="identifiers must be one of preserve, lower, snake"):
        value_options({"identifiers": "camel"})
