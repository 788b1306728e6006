"""Run one DAG with dag.test() in a fresh process (Airflow's configuration is read at import).

    python tests/dags/run_dag.py DAG_ID '{"chunk_rows": 5000}'

Expects AIRFLOW_HOME (migrated), AIRFLOW__CORE__DAGS_FOLDER and AIRFLOW_CONN_* in the
environment; prints the final state on the last line and exits 0 only on success.
"""

import json
import sys

from airflow.dag_processing.dagbag import DagBag

dag_id, conf = sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")
bag = DagBag()
run = bag.dags[dag_id].test(run_conf=conf)
print(f"state={run.state}")
sys.exit(0 if str(run.state) in ("success", "DagRunState.SUCCESS") else 1)
