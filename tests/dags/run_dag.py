"""Run one DAG with dag.test() in a fresh process (Airflow's configuration is read at import).

    python tests/dags/run_dag.py DAG_ID '{"chunk_rows": 5000}'

Expects AIRFLOW_HOME (migrated), AIRFLOW__CORE__DAGS_FOLDER and AIRFLOW_CONN_* in the
environment; prints the final state on the last line and exits 0 only on success.

Airflow validates every param value each time a task resolves its params (over a hundred
times per task), and jsonschema's `validate` first checks the param's schema itself against
the JSON Schema metaschema: 96% of that cost, a fifth of a run's time here. The schemas do not
change within a run, so each distinct schema is checked once; every value is still validated
against its schema every time, and a wrong value fails the run as before.
"""

import json
import sys

import jsonschema
from airflow.dag_processing.dagbag import DagBag

_checked: set = set()


def _validate(instance, schema, cls=None, *args, **kwargs):
    """jsonschema.validate, with the schema's own check done once per distinct schema."""
    if cls is None:
        cls = jsonschema.validators.validator_for(schema)
    key = (cls, json.dumps(schema, sort_keys=True, default=repr))
    if key not in _checked:
        cls.check_schema(schema)
        _checked.add(key)
    error = jsonschema.exceptions.best_match(cls(schema, *args, **kwargs).iter_errors(instance))
    if error is not None:
        raise error


jsonschema.validate = _validate  # Airflow's Param.resolve imports it at each call

dag_id, conf = sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")
bag = DagBag()
run = bag.dags[dag_id].test(run_conf=conf)
print(f"state={run.state}")
sys.exit(0 if str(run.state) in ("success", "DagRunState.SUCCESS") else 1)
