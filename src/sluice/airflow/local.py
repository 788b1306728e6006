"""Run the replication DAGs on this machine, without Docker: an Airflow home under
`.sluice/airflow`, connections pointing at the embedded PostgreSQL, the pool created.

Used by `sluice demo` (one DAG run through Airflow's own `dag.test()` runner) and by
`make airflow` (Airflow standalone: API server with the UI, scheduler, DAG processor).
Every Airflow command runs in a child process, because Airflow reads its configuration when
first imported.

Standalone runs in a process group of its own: a terminal's Ctrl-C reaches only sluice,
which stops every Airflow component at once with one SIGTERM to that group (a SIGINT to each
component, as the terminal sends it, left some of them running or shutting down slowly).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sluice.core import embedded
from sluice.core.errors import TerminalError
from sluice.core.urls import DbUrl

ROOT = Path(__file__).resolve().parents[3]
SOURCE_DB = embedded.SOURCE_DB  # the CLI's defaults too: `sluice plan` follows the demo
TARGET_DB = embedded.TARGET_DB
POOL = ("stackoverflow_replication", "16", "chunks copied at once by the replication DAGs")


def airflow_home() -> Path:
    return embedded.home() / "airflow"


def ui_url(env: dict[str, str] | None = None) -> str:
    """Where the API server (the UI) listens: $AIRFLOW__API__PORT when set, else 8080."""
    port = (env if env is not None else os.environ).get("AIRFLOW__API__PORT") or "8080"
    return f"http://localhost:{port}"


def connection_json(url: DbUrl) -> str:
    u = url.url
    return json.dumps({"conn_type": "postgres", "host": u.host or u.query.get("host"),
                       "port": u.port, "login": u.username, "password": url.password,
                       "schema": u.database})  # fmt: skip


def environment(server: DbUrl) -> dict[str, str]:
    """Airflow settings and connections for the embedded PostgreSQL.

    `stackoverflow_source` (the seed's SQL Server source) and `stackoverflow_postgres_source`
    both point at the generated source database; both targets at the target database."""
    source = connection_json(server.with_database(SOURCE_DB))
    target = connection_json(server.with_database(TARGET_DB))
    home = airflow_home()
    bin_dir = str(Path(sys.executable).parent)  # standalone starts `airflow` subcommands by name
    moved = {}
    if os.environ.get("AIRFLOW__API__PORT") and not os.environ.get("AIRFLOW__API__BASE_URL"):
        # workers reach the execution API through the base URL (default: port 8080)
        moved["AIRFLOW__API__BASE_URL"] = ui_url()
    return {
        **os.environ,
        **moved,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW_CONN_STACKOVERFLOW_SOURCE": source,
        "AIRFLOW_CONN_STACKOVERFLOW_POSTGRES_SOURCE": source,
        "AIRFLOW_CONN_STACKOVERFLOW_POSTGRES_TARGET": target,
        "AIRFLOW_CONN_STACKOVERFLOW_TARGET": target,
    }


def airflow(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "airflow", *args]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if check and out.returncode != 0:
        raise TerminalError(f"airflow {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return out


def setup(server: DbUrl) -> dict[str, str]:
    """Migrate Airflow's metadata database, write the admin password, create the pool."""
    env = environment(server)
    home = airflow_home()
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
    log = airflow_home() / f"{dag_id}.log"
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


def standalone(scale: float) -> int:
    """Run `airflow standalone` until Ctrl-C or SIGTERM, then stop all of it; the exit code."""
    server = embedded.start()
    ensure_source(server, scale)
    env = setup(server)
    for dag_id in ("replicate_stackoverflow_to_target", "replicate_stackoverflow_to_postgres",
                   "replicate_stackoverflow_postgres_to_postgres"):  # fmt: skip
        airflow(env, "dags", "unpause", dag_id, check=False)  # registered on first parse
    print(f"Airflow UI: {ui_url(env)}  (user admin, password admin); Ctrl-C stops it")
    sys.stdout.flush()
    cmd = [sys.executable, "-m", "airflow", "standalone"]
    return supervise(subprocess.Popen(cmd, env=env, start_new_session=True))


def supervise(proc: subprocess.Popen, grace: float = 30.0) -> int:
    """Wait for `proc`, leader of its own process group. At SIGINT or SIGTERM, send SIGTERM
    once to the whole group; SIGKILL what is left after `grace` seconds or at a second signal.
    Returns once no process of the group is left: 130 when stopped, else `proc`'s code."""
    received: list[int] = []
    handlers = {s: signal.signal(s, lambda n, f: received.append(n))
                for s in (signal.SIGINT, signal.SIGTERM)}  # fmt: skip
    group, termed = proc.pid, None
    try:
        while True:
            ended = proc.poll() is not None
            if termed is None and (received or (ended and _group_alive(group))):
                # asked to stop, or standalone ended and left components behind
                if received:
                    print("stopping Airflow (every component) ...", file=sys.stderr, flush=True)
                _signal_group(group, signal.SIGTERM)
                termed = time.monotonic()
            if termed is not None and (len(received) > 1 or time.monotonic() - termed > grace):
                _signal_group(group, signal.SIGKILL)
            if ended and not _group_alive(group):
                break
            time.sleep(0.2)
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
    if received:
        print("interrupted: Airflow stopped", file=sys.stderr)
        return 130
    return proc.returncode


def _signal_group(group: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, sig)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
