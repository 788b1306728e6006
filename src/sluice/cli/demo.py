"""The `demo` command: the README's first command, end to end through Airflow."""

from __future__ import annotations

import argparse

from sluice.cli.options import command, scale
from sluice.core import embedded
from sluice.core.errors import ConfigError, SluiceError
from sluice.core.urls import DbUrl


def cmd_demo(args: argparse.Namespace) -> int:
    """The README's first command: StackOverflow2010 generated (or, with --data, a real Stack
    Exchange dump imported) into the embedded PostgreSQL, replicated by the
    `replicate_stackoverflow_to_postgres` DAG through Airflow, verified."""
    import importlib.util
    import time

    from sluice.datasets.stackoverflow.generate import row_counts

    if importlib.util.find_spec("airflow") is None:
        raise ConfigError("the demo runs a DAG: pip install 'sluice[airflow]' (make demo does)")
    from sluice.airflow import local

    row_counts(args.scale)
    server = demo_source(args.scale, args.seed, args.data)
    print("setting up Airflow in", local.airflow_home())
    env = local.setup(server)
    dag_id = "replicate_stackoverflow_to_postgres"
    print(f"running DAG {dag_id} (stackoverflow_source -> stackoverflow_postgres_target) ...")
    started = time.monotonic()
    local.run_dag(env, dag_id)
    print(f"DAG run succeeded in {time.monotonic() - started:.1f}s")
    _print_verification(env, dag_id)
    print("stop the embedded PostgreSQL with: .venv/bin/sluice embedded stop")
    return 0


def demo_source(scale: float, seed: int, data: str | None = None) -> DbUrl:
    """The demo's first step: the dataset generated into the embedded PostgreSQL's default
    source database (the one every command reads when given no URL), or the dump at `data`
    (a site's folder or .7z) imported there instead; returns the server."""
    from sluice.core.progress import Reporter
    from sluice.datasets.stackoverflow.dump import find_files, import_dump
    from sluice.datasets.stackoverflow.generate import generate

    if data:
        find_files(data)  # a wrong path stops here, before any server starts
    server = embedded.start()
    print(f"embedded PostgreSQL: {server}")
    with Reporter() as reporter:
        source = server.with_database(embedded.SOURCE_DB)
        if data:
            print(f"importing the Stack Exchange dump {data}")
            import_dump(data, source, replace=True, reporter=reporter)
        else:
            generate(source, scale, seed=seed, replace=True, reporter=reporter)
    return server


def _print_verification(env: dict, dag_id: str) -> None:
    """What the DAG's verify task found (checksums per key range, data-quality checks), read
    from where the task wrote it ($SLUICE_REPORT_URL, else the local report folder)."""
    import logging
    import os

    from sluice.airflow.reports import read_latest
    from sluice.verify.report import summary_lines

    # the reader imports Airflow (ObjectStoragePath): the demo's home, not ~/airflow, and
    # none of Airflow's start-up lines between the DAG run and its verification
    os.environ["AIRFLOW_HOME"] = env["AIRFLOW_HOME"]
    for name in ("airflow.configuration", "airflow.settings"):
        logging.getLogger(name).setLevel(logging.WARNING)
    report, html = read_latest(dag_id, env)
    for line in summary_lines(report):
        print(line)
    print(f"verification report: {html}")
    if not report["ok"]:
        raise SluiceError("verification failed: see the report above")


def register(sub: argparse._SubParsersAction) -> None:
    demo = command(
        sub,
        "demo",
        cmd_demo,
        "generate StackOverflow2010 (or import a real dump with --data) into the embedded "
        "PostgreSQL, replicate it with the replicate_stackoverflow_to_postgres DAG through "
        "Airflow, and verify the replica",
        "sluice demo --scale 0.01",
    )
    demo.add_argument("--scale", type=scale, default=0.01,
                      help="1.0 = StackOverflow2010 row counts (default 0.01)")  # fmt: skip
    demo.add_argument("--seed", type=int, default=2010,
                      help="same seed, same rows (default 2010)")  # fmt: skip
    demo.add_argument(
        "--data",
        metavar="DUMP",
        help="import this Stack Exchange dump (a site's folder or .7z) as the source instead "
        "of generating; --scale and --seed are then unused",
    )
