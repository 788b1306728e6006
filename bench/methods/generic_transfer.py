"""Airflow's GenericTransfer operator as shipped, one table after another (run in the project venv).

    python bench/methods/generic_transfer.py --source URL --target URL --tables A,B

Runs the real `GenericTransfer.execute` from apache-airflow-providers-common-sql with Postgres
connections given as AIRFLOW_CONN_* URIs: the source hook's `get_records` (the whole result in
memory: the operator's default, since its paginated mode pages with LIMIT/OFFSET), then the
target hook's `insert_rows(executemany=True)` in commits of the default 1,000 rows.
"""

from __future__ import annotations

import argparse
import logging
import os


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--tables", required=True)
    args = ap.parse_args()
    os.environ["AIRFLOW_CONN_BENCH_SOURCE"] = args.source
    os.environ["AIRFLOW_CONN_BENCH_TARGET"] = args.target
    logging.basicConfig(level=logging.WARNING)
    from airflow.providers.common.sql.operators.generic_transfer import GenericTransfer

    for table in args.tables.split(","):
        name = '"' + table.replace('"', '""') + '"'
        GenericTransfer(
            task_id=f"copy_{table}",
            source_conn_id="bench_source",
            destination_conn_id="bench_target",
            destination_table=name,
            sql=f"SELECT * FROM {name}",
            insert_args={"executemany": True},
        ).execute(context={})


if __name__ == "__main__":
    main()
