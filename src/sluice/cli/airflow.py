"""The `airflow` command: Airflow's components on the embedded PostgreSQL (metadata database
`airflow`), with LocalExecutor or CeleryExecutor and N Celery workers."""

from __future__ import annotations

import argparse

from sluice.cli.options import command, scale
from sluice.core.errors import ConfigError


def cmd_airflow(args: argparse.Namespace) -> int:
    import importlib.util

    if importlib.util.find_spec("airflow") is None:
        raise ConfigError("needs Airflow: pip install 'sluice[airflow]' (make airflow does)")
    from sluice.airflow import local
    from sluice.airflow.deployment import from_environment

    deployment = from_environment(executor=args.executor, workers=args.workers,
                                  concurrency=args.concurrency, host=args.host,
                                  port=args.port)  # fmt: skip
    return local.serve(args.scale, deployment)


def register(sub: argparse._SubParsersAction) -> None:
    af = command(
        sub,
        "airflow",
        cmd_airflow,
        "start Airflow (API server and UI, scheduler, DAG processor, triggerer, and Celery "
        "workers with --executor celery) on the embedded PostgreSQL: UI at "
        "http://localhost:8080, user admin, password admin; one Ctrl-C stops all of it",
        "sluice airflow --executor celery --workers 2",
    )
    af.add_argument("--scale", type=scale, default=0.01,
                    help="size of the generated source (default 0.01)")  # fmt: skip
    af.add_argument("--executor", choices=("local", "celery"), default="local",
                    help="LocalExecutor (default) or CeleryExecutor with Redis at "
                    "$SLUICE_CELERY_BROKER_URL (default redis://127.0.0.1:6379/0)")  # fmt: skip
    af.add_argument("--workers", type=int, default=None,
                    help="Celery worker processes, each named workerN (default 1)")  # fmt: skip
    af.add_argument("--concurrency", type=int, default=None,
                    help="task slots per Celery worker (default 4)")  # fmt: skip
    af.add_argument("--host", default=None,
                    help="address the UI listens on (default 127.0.0.1, or "
                    "$AIRFLOW__API__HOST); 0.0.0.0 exposes admin/admin to the network")  # fmt: skip
    af.add_argument("--port", type=int, default=None,
                    help="the UI's port (default 8080, or $AIRFLOW__API__PORT)")  # fmt: skip
