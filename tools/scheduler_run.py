"""Trigger a replication DAG on the running `make airflow` (any executor) and report it.

    python tools/scheduler_run.py [DAG_ID] [--conf '{"chunk_rows": 5000}'] [--timeout 900]

Waits for the run to finish, then prints its state, wall time, the number of mapped copy
tasks, how many of them ran at the same time, the copy phase's span and each worker's share
(from the task instances in the metadata database).
Exits 0 only when the run succeeded.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import datetime

from sluice.airflow import local
from sluice.core import embedded


def cli(env, *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "airflow", *args], env=env, capture_output=True,
                         text=True, check=True)  # fmt: skip
    return out.stdout


def json_in(text: str):
    """The JSON document in a CLI's output (Airflow prints warnings around it)."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(("[{", "[]", "{")):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return []


def max_overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    best = cur = 0
    for _, step in events:
        cur += step
        best = max(best, cur)
    return best


def copy_tasks(server, dag_id: str, run_id: str) -> list[tuple]:
    """(hostname, start, end) of the run's mapped copy tasks, from the metadata database."""
    import psycopg

    from sluice.airflow.deployment import METADATA_DB

    u = server.url
    with psycopg.connect(host=u.query.get("host") or u.host, port=u.port or 5432,
                         user=u.username, dbname=METADATA_DB) as conn:  # fmt: skip
        return conn.execute(
            "SELECT hostname, start_date, end_date FROM task_instance WHERE dag_id = %s "
            "AND run_id = %s AND task_id = 'copy' AND map_index >= 0",
            (dag_id, run_id),
        ).fetchall()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dag_id", nargs="?", default="replicate_stackoverflow_postgres_to_postgres")
    ap.add_argument("--conf", default='{"chunk_rows": 5000}')
    ap.add_argument("--timeout", type=float, default=900)
    args = ap.parse_args()
    url = embedded.url()
    if url is None:
        sys.exit("the embedded PostgreSQL is not running: start `make airflow` first")
    env = local.environment(url)
    run_id = f"scheduler_check_{int(time.time())}"
    started = time.monotonic()
    cli(env, "dags", "trigger", args.dag_id, "--run-id", run_id, "--conf", args.conf)
    state = "queued"
    while time.monotonic() - started < args.timeout:
        # runs triggered without a logical date are found by run id, not by `dags state`
        runs = json_in(cli(env, "dags", "list-runs", args.dag_id, "-o", "json"))
        state = next((r["state"] for r in runs if r["run_id"] == run_id), "queued")
        if state in ("success", "failed"):
            break
        time.sleep(3)
    wall = time.monotonic() - started
    copies = copy_tasks(url, args.dag_id, run_id)
    spans = [(s, e) for _, s, e in copies if s and e]
    print(f"dag={args.dag_id} run={run_id} state={state} wall={wall:.1f}s")
    print(f"mapped copy tasks={len(copies)} max concurrent={max_overlap(spans)}")
    if spans:
        phase = (max(e for _, e in spans) - min(s for s, _ in spans)).total_seconds()
        busy = sum((e - s).total_seconds() for s, e in spans)
        print(
            f"copy phase (first copy start to last copy end)={phase:.1f}s, "
            f"task time summed={busy:.1f}s"
        )
    hosts: dict[str, int] = {}
    for host, _, _ in copies:
        hosts[host] = hosts.get(host, 0) + 1
    print("copy tasks per worker: " + ", ".join(f"{h}={n}" for h, n in sorted(hosts.items())))
    return 0 if state == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
