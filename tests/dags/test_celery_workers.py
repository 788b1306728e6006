"""The replication DAG on CeleryExecutor with two workers, as `make airflow EXECUTOR=celery
WORKERS=2` starts them (sluice.airflow.local.launch), on real databases and a real Redis:
the mapped copy spreads over both workers within the pool's limit and the replica verifies
equal; then a worker SIGKILLed while it holds a chunk costs a retry on the other one, and the
replica is still equal, with no row twice. Skipped, with the reason, when Redis does not
answer at $SLUICE_CELERY_BROKER_URL (default redis://127.0.0.1:6379/0).

Where this machine allows it (root, iproute2's `ip`), the two workers run as separate hosts
(tests/dags/hosts.py): each in a network namespace and a hostname of its own, reaching the
databases, Redis and the API server only over its veth, through relays on the machine's side
of it; the first test proves it (other namespace, the machine's 127.0.0.1 out of reach).
Elsewhere the workers run on this machine, as `make airflow` starts them, and that first test
is skipped naming the reason: the run's output says which mode ran.

Everything is read independently: task instances from the metadata database with psycopg,
the replica by comparing each table's rows as text on both sides.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import psutil
import pytest
from tests.conftest import _fresh, stackoverflow_db
from tests.dags.api_server import admin_token
from tests.dags.hosts import Host, Unavailable, made
from tests.independent import connect, rows
from tests.ports import free_port

from sluice.airflow import local
from sluice.airflow.components import Running, components, kill_tree, stop
from sluice.airflow.deployment import DEFAULT_BROKER, Deployment, check_broker
from sluice.core.errors import ConnectError
from sluice.core.urls import DbUrl
from sluice.datasets.stackoverflow import TABLE_NAMES

DAG_ID = "replicate_stackoverflow_postgres_to_postgres"
POOL_SLOTS = 3  # below the workers' 2 x 2 slots: the pool, not the workers, is the limit
CONF = {"chunk_rows": 4000}  # about 30 chunks at scale 0.01


@dataclass
class Cluster:
    env: dict[str, str]
    running: list[Running]
    source: DbUrl
    target: DbUrl
    metadata: DbUrl
    base_url: str
    token: str
    hosts: list[Host]  # worker N's host is hosts[N - 1]; none: the workers run on this machine
    mode: str

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            self.base_url + path, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}",
                     "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def worker(self, name: str) -> Running:
        return next(r for r in self.running if r.component.name == name)


@pytest.fixture(scope="module")
def cluster(pg_server: DbUrl, tmp_path_factory) -> Iterator[Cluster]:
    pytest.importorskip("airflow.providers.celery")
    broker = os.environ.get("SLUICE_CELERY_BROKER_URL") or DEFAULT_BROKER
    try:
        check_broker(broker, timeout=2)
    except ConnectError as exc:
        pytest.skip(f"needs Redis for the Celery broker: {exc}")
    source_gen = stackoverflow_db(pg_server, "sluice_celery_src")
    target_gen = _fresh(pg_server, "sluice_celery_dst")
    metadata_gen = _fresh(pg_server, "sluice_celery_airflow")
    source, target, metadata = next(source_gen), next(target_gen), next(metadata_gen)
    d = Deployment(executor="celery", workers=2, concurrency=2, port=free_port(),
                   broker_url=broker, queue=f"sluice-test-{uuid.uuid4().hex[:8]}",
                   heartbeat_timeout=20)  # fmt: skip
    where = {"home": tmp_path_factory.mktemp("celery-airflow"), "source_db": source.database,
             "target_db": target.database, "metadata_db": metadata.database}  # fmt: skip
    with contextlib.ExitStack() as hosts_made:
        try:
            hosts = hosts_made.enter_context(made(2))
            mode = "each worker a host of its own: network namespaces, veths, relays"
        except Unavailable as exc:
            hosts, mode = [], f"the workers on this machine ({exc})"
        print(f"\ntest_celery_workers: {mode}", flush=True)
        env = local.setup(pg_server, d, **where)
        # a task a vanished worker had taken but not started is queued again after this
        env["AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT"] = "90"
        local.airflow(env, "pools", "set", "stackoverflow_replication", str(POOL_SLOTS), "test")
        found = components(d)
        if hosts:
            places = iter(hosts)
            found = [c if c.essential else next(places).worker(c, pg_server, d, **where)
                     for c in found]  # fmt: skip
        running = local.launch(env, d, found)
        try:
            base_url = env["AIRFLOW__API__BASE_URL"]
            yield Cluster(env, running, source, target, metadata, base_url, admin_token(base_url),
                          hosts, mode)  # fmt: skip
        finally:
            stop(running, grace=20)
            for gen in (metadata_gen, target_gen, source_gen):
                next(gen, None)


def _trigger(c: Cluster) -> str:
    deadline = time.monotonic() + 180
    while True:  # the DAG processor registers the DAG shortly after it starts
        try:
            c.api("GET", f"/api/v2/dags/{DAG_ID}")
            break
        except urllib.error.HTTPError:
            assert time.monotonic() < deadline, "the DAG was never registered"
            time.sleep(2)
    run = c.api("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": CONF})
    return run["dag_run_id"]


def _wait(c: Cluster, run_id: str, timeout: float = 900) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = c.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}")["state"]
        if state in ("success", "failed"):
            return state
        time.sleep(2)
    return "timed out"


def _copies(c: Cluster, run_id: str) -> list[tuple]:
    """(map_index, state, try_number, hostname, start, end) of the run's copy tasks."""
    return rows(c.metadata, "SELECT map_index, state, try_number, hostname, start_date, end_date "
                "FROM task_instance WHERE dag_id = %s AND run_id = %s AND task_id = 'copy' "
                "AND map_index >= 0 ORDER BY map_index", (DAG_ID, run_id))  # fmt: skip


def _max_overlap(spans: list[tuple[datetime, datetime]]) -> int:
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    best = now = 0
    for _, step in events:
        now += step
        best = max(best, now)
    return best


def _assert_replica_equal(c: Cluster) -> None:
    for table in TABLE_NAMES:
        text = "coalesce(string_agg(t::text, '|' ORDER BY \"Id\"), '')"
        digest = f'SELECT count(*), count(DISTINCT "Id"), md5({text}) FROM "{table}" t'

        source, target = rows(c.source, digest)[0], rows(c.target, digest)[0]
        assert target == source, table
        assert target[0] == target[1], f"{table}: a row arrived twice"


SERVICES = ("AIRFLOW__CELERY__BROKER_URL", "AIRFLOW__CELERY__RESULT_BACKEND",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL")  # fmt: skip
CONNECTS = "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 3)"


def _connects(host: Host, address: str, port: int | str) -> bool:
    """Whether a TCP connection from `host` to `address`:`port` is accepted."""
    return host.run(sys.executable, "-c", CONNECTS, address, str(port)).returncode == 0


def test_each_worker_is_a_host_of_its_own(cluster: Cluster) -> None:
    if not cluster.hosts:
        pytest.skip(cluster.mode)
    pids = ("self", *(cluster.worker(f"worker{n}").proc.pid for n in (1, 2)))
    spaces = [os.readlink(f"/proc/{pid}/ns/{kind}") for kind in ("net", "uts") for pid in pids]
    assert len(set(spaces)) == 6, spaces  # this process's, each worker's: all different
    redis_port = str(urlsplit(cluster.env["AIRFLOW__CELERY__BROKER_URL"]).port or 6379)
    for n, host in enumerate(cluster.hosts, 1):
        env = cluster.worker(f"worker{n}").component.env
        keys = [*SERVICES, *(k for k in cluster.env if k.startswith("AIRFLOW_CONN_"))]
        assert not [k for k in keys if host.gateway not in env.get(k, "")]  # all over the veth
        relayed = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
        assert _connects(host, host.gateway, relayed.port)  # Redis, over the veth
        assert not _connects(host, "127.0.0.1", redis_port)  # the machine's loopback: out of reach


def test_mapped_copy_spreads_over_both_workers_within_the_pool(cluster: Cluster) -> None:
    run_id = _trigger(cluster)
    assert _wait(cluster, run_id) == "success"
    copies = _copies(cluster, run_id)
    assert len(copies) > 2 * POOL_SLOTS
    hosts = {h.split("@")[0] for _, state, _, h, _, _ in copies if state == "success"}
    assert hosts == {"worker1", "worker2"}
    if cluster.hosts:  # each under its own host's name
        named = {h for _, state, _, h, _, _ in copies if state == "success"}
        assert named == {f"worker{n}@{host.namespace}" for n, host in enumerate(cluster.hosts, 1)}
    overlap = _max_overlap([(s, e) for *_, s, e in copies])
    assert 2 <= overlap <= POOL_SLOTS
    _assert_replica_equal(cluster)


def test_a_worker_killed_mid_chunk_costs_a_retry_on_the_other(cluster: Cluster) -> None:
    run_id = _trigger(cluster)
    victim = cluster.worker("worker1")
    deadline = time.monotonic() + 300
    while not _copies(cluster, run_id):  # planned: from here on only the copies read
        assert time.monotonic() < deadline, "the copy tasks were never made"
        time.sleep(0.2)
    # the source's tables locked: every chunk begun now waits, so worker1 surely holds one
    # when it is killed (unlocked right after)
    locker = connect(cluster.source)
    locker.execute("BEGIN")
    tables = ", ".join(f'"{t}"' for t in TABLE_NAMES)
    locker.execute(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE")
    try:
        held: list[int] = []
        while not held:  # a chunk worker1 has held for two seconds
            assert time.monotonic() < deadline, (
                f"worker1 never ran a chunk: {_copies(cluster, run_id)}"
            )
            held = [i for i, state, _, host, start, _ in _copies(cluster, run_id)
                    if state == "running" and host.startswith("worker1@")
                    and time.time() - start.timestamp() > 2]  # fmt: skip
            time.sleep(0.2)
        tree = [victim.proc.pid,
                *(p.pid for p in psutil.Process(victim.proc.pid).children(True))]  # fmt: skip
        kill_tree(victim)  # the host is gone: worker, its pool, the task processes
        time.sleep(1)
    finally:
        locker.close()
    assert not [pid for pid in tree if psutil.pid_exists(pid)
                and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]  # fmt: skip
    assert _wait(cluster, run_id) == "success"
    after = {i: (try_number, host) for i, _, try_number, host, _, _ in _copies(cluster, run_id)}
    for index in held:
        try_number, host = after[index]
        assert try_number >= 2 and host.startswith("worker2@"), (index, try_number, host)
        first = rows(cluster.metadata, "SELECT hostname FROM task_instance_history WHERE "
                     "dag_id = %s AND run_id = %s AND task_id = 'copy' AND map_index = %s "
                     "AND try_number = 1", (DAG_ID, run_id, index))  # fmt: skip
        assert first and first[0][0].startswith("worker1@")
    _assert_replica_equal(cluster)
