"""The `airflow` command: Airflow standalone on the embedded PostgreSQL."""

from __future__ import annotations

import argparse

from sluice.cli.options import command, scale
from sluice.core.errors import ConfigError


def cmd_airflow(args: argparse.Namespace) -> int:
    import importlib.util

    if importlib.util.find_spec("airflow") is None:
        raise ConfigError("needs Airflow: pip install 'sluice[airflow]' (make airflow does)")
    from sluice.airflow import local

    return local.standalone(args.scale)


def register(sub: argparse._SubParsersAction) -> None:
    af = command(
        sub,
        "airflow",
        cmd_airflow,
        "start Airflow standalone on the embedded PostgreSQL: UI at http://localhost:8080 "
        "(or the port in $AIRFLOW__API__PORT), user admin, password admin; one Ctrl-C stops "
        "all of it",
        "sluice airflow --scale 0.01",
    )
    af.add_argument("--scale", type=scale, default=0.01,
                    help="size of the generated source (default 0.01)")  # fmt: skip
