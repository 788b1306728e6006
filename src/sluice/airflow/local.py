"""Run the replication DAGs on this machine, without Docker: an Airflow home under
`.sluice/airflow`, the metadata database `airflow` and the replicated databases on the
embedded PostgreSQL (or any server given), connections pointing at them, the pool created.

Used by `sluice demo` (one DAG run through Airflow's own `dag.test()` runner) and by
`make airflow` (API server with the UI, scheduler, DAG processor, triggerer and, under
CeleryExecutor, Celery workers: `sluice.airflow.components`). Every Airflow command runs in a
child process, because Airflow reads its configuration when first imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sluice.airflow.components import Component, Running, components, start, stop, supervise
from sluice.airflow.deployment import (
    EXECUTORS,
    METADATA_DB,
    Deployment,
    check_broker,
    ensure_database,
    from_environment,
    metadata_url,
)
from sluice.airflow.deployment import environment as deployment_environment
from sluice.core import embedded
from sluice.core.errors import TerminalError
from sluice.core.urls import DbUrl

ROOT = Path(__file__).resolve().parents[3]
SOURCE_DB = embedded.SOURCE_DB  # the CLI's defaults too: `sluice plan` follows the demo
TARGET_DB = embedded.TARGET_DB
POOL = ("stackoverflow_replication", "16", "chunks copied at once by the replication DAGs")


def airflow_home() -> Path:
    return embedded.home() / "airflow"


def connection_json(url: DbUrl) -> str:
    u = url.url
    return json.dumps({"conn_type": "postgres", "host": u.host or u.query.get("host"),
                       "port": u.port, "login": u.username, "password": url.password,
                       "schema": u.database})  # fmt: skip


def environment(server: DbUrl, deployment: Deployment | None = None, *,
                home: Path | None = None, source_db: str = SOURCE_DB, target_db: str = TARGET_DB,
                metadata_db: str = METADATA_DB) -> dict[str, str]:  # fmt: skip
    """Airflow settings and connections for `server` (the embedded PostgreSQL by default):
    the metadata database `metadata_db` there, the executor and UI of `deployment`.

    `stackoverflow_source` (the seed's SQL Server source) and `stackoverflow_postgres_source`
    both point at the source database; both targets at the target database."""
    d = deployment or from_environment()
    source = connection_json(server.with_database(source_db))
    target = connection_json(server.with_database(target_db))
    home = home or airflow_home()
    bin_dir = str(Path(sys.executable).parent)  # components start `airflow` subcommands by name
    return {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),  # the Replication page
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW_CONN_STACKOVERFLOW_SOURCE": source,
        "AIRFLOW_CONN_STACKOVERFLOW_POSTGRES_SOURCE": source,
        "AIRFLOW_CONN_STACKOVERFLOW_POSTGRES_TARGET": target,
        "AIRFLOW_CONN_STACKOVERFLOW_TARGET": target,
        **deployment_environment(d, metadata_url(server, metadata_db)),
    }


def airflow(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "airflow", *args]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if check and out.returncode != 0:
        raise TerminalError(f"airflow {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return out


def setup(server: DbUrl, deployment: Deployment | None = None, **where) -> dict[str, str]:
    """Create and migrate Airflow's metadata database, write the admin password, create the
    pool; the environment every component runs with (`where`: as `environment` takes it)."""
    ensure_database(server, where.get("metadata_db", METADATA_DB))
    env = environment(server, deployment, **where)
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "passwords.json").write_text(json.dumps({"admin": "admin"}))
    airflow(env, "db", "migrate")
    airflow(env, "pools", "set", *POOL)
    return env


def run_dag(env: dict[str, str], dag_id: str, conf: dict | None = None) -> None:
    """One run of `dag_id` through Airflow's dag.test() runner; raises when it fails."""
    code = (
        "import json, sys\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"run = DagBag().dags[{dag_id!r}].test(run_conf=json.loads({json.dumps(conf or {})!r}))\n"
        "sys.exit(0 if str(run.state).endswith(('success', 'SUCCESS')) else 1)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, text=True, capture_output=True)
    log = Path(env["AIRFLOW_HOME"]) / f"{dag_id}.log"
    log.write_text(out.stdout + out.stderr)
    if out.returncode != 0:
        raise TerminalError(f"DAG {dag_id} failed; its log: {log}\n{out.stderr[-2000:]}")


def ensure_source(server: DbUrl, scale: float) -> None:
    """Generate the source dataset once; later calls reuse it."""
    from sluice.datasets.loader import count_rows
    from sluice.datasets.stackoverflow import TABLES
    from sluice.datasets.stackoverflow.generate import generate, row_counts

    source = server.with_database(SOURCE_DB)
    try:
        if count_rows(source, list(TABLES.values())) == row_counts(scale):
            return
    except TerminalError:
        pass  # database missing: generate creates it
    generate(source, scale, replace=True)


def launch(env: dict[str, str], deployment: Deployment,
           found: list[Component] | None = None) -> list[Running]:  # fmt: skip
    """Start every component of `deployment` (or `found`, those components as the caller
    placed them) after checking its broker, and wait until the API server answers; logs
    under AIRFLOW_HOME/components/."""
    if deployment.celery:
        check_broker(deployment.broker_url)
    found = components(deployment) if found is None else found
    running = start(env, found, Path(env["AIRFLOW_HOME"]) / "components")
    try:
        wait_ready(env["AIRFLOW__API__BASE_URL"], running)
    except BaseException:
        stop(running, grace=10)
        raise
    return running


def wait_ready(base_url: str, running: list[Running], timeout: float = 180.0) -> None:
    """Until the API server's health endpoint answers; an early exit names its log."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for r in running:
            if not r.alive:
                tail = r.log.read_text(errors="replace")[-1500:]
                raise TerminalError(f"Airflow {r.component.name} exited at start; its log: "
                                    f"{r.log}\n{tail}")  # fmt: skip
        try:
            with urllib.request.urlopen(base_url + "/api/v2/monitor/health", timeout=5):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(1)
    raise TerminalError(f"the Airflow API server did not answer at {base_url} within "
                        f"{timeout:.0f}s; logs in {running[0].log.parent}")  # fmt: skip


def serve(scale: float, deployment: Deployment) -> int:
    """`make airflow`: every component on the embedded PostgreSQL until Ctrl-C or SIGTERM,
    then all of them stopped; the exit code."""
    server = embedded.start()
    ensure_source(server, scale)
    env = setup(server, deployment)
    running = launch(env, deployment)
    d = deployment
    workers = f", {d.workers} Celery worker(s) x {d.concurrency} slots" if d.celery else ""
    print(f"Airflow UI: {d.ui_url}  (user admin, password admin); {EXECUTORS[d.executor]}"
          f"{workers}; logs in {running[0].log.parent}; Ctrl-C stops it")  # fmt: skip
    if d.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: the UI listens on {d.host}, reachable from the network with the "
              "well-known admin/admin login", file=sys.stderr)  # fmt: skip
    sys.stdout.flush()
    return supervise(running)
