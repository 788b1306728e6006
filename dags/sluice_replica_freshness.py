"""The freshness alert: every 15 minutes, each replica's newest verified run (from the run
indexes the replication DAGs' verify tasks write beside their reports) is compared with
`SLUICE_FRESHNESS_MAX_MINUTES`. One alert, through the notifier `SLUICE_FAILURE_NOTIFIER`
names, lists every replica older than that (its DAG, last verified run and age), and the
task fails, so the run shows red until a verified run makes the replica fresh again. With
the variable unset the task only logs that nothing was checked. The check reads small files
only (`sluice.airflow.alerts.check_freshness`): no database is touched.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from sluice.airflow import alerts


@dag(
    dag_id="sluice_replica_freshness",
    description="Alert when a replica's newest verified run is older than the limit",
    schedule="*/15 * * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={
        "owner": "data-engineering",
        "retries": 2,  # a notifier that could not send (stale replicas fail at once)
        "retry_delay": timedelta(minutes=1),
        "on_failure_callback": [alerts.on_task_failure],  # a check that itself broke
    },
    tags=["sluice", "replication", "alerts"],
    doc_md=__doc__,
)
def sluice_replica_freshness():
    @task(multiple_outputs=False)  # one XCom: the findings, whole
    def check_freshness(**context) -> dict:
        return alerts.check_freshness(context)

    check_freshness()


sluice_replica_freshness()
