"""Sluice's figures through Airflow's own metrics interface: `replicate_stackoverflow_postgres_
to_postgres` run once with dag.test() on real PostgreSQL, Airflow's [metrics] set to plain
StatsD aimed at a UDP listener of the test's own. The rows copied that arrive, summed per
table, equal an independent count(*) of each target table, and verify's verdicts arrive for
every table, all zero. Plain StatsD carries no tags, so the labels are in the names
(`sluice.airflow.metrics`); Airflow's own metrics arrive beside them through the same client.
The same run has $SLUICE_METRICS_PUSH_URL set: each task pushes its own group to a real
Pushgateway (`sluice.airflow.push`), and the copy tasks' groups hold every row."""

from __future__ import annotations

import socket
import threading
import time
from collections import defaultdict

import pytest

pytest.importorskip("airflow")
pytest.importorskip(
    "statsd", reason="Airflow's StatsD client: pip install 'apache-airflow[statsd]'"
)  # fmt: skip

from tests.conftest import _fresh  # noqa: E402
from tests.dags import test_dag_run  # noqa: E402
from tests.dags.test_dag_run import run_dag  # noqa: E402
from tests.independent import rows  # noqa: E402
from tests.integration import test_metrics_push  # noqa: E402

from sluice.datasets.stackoverflow import TABLE_NAMES  # noqa: E402
from sluice.datasets.stackoverflow.generate import generate  # noqa: E402

SCALE = 0.01
PREFIX = "sluicetest"  # Airflow's statsd_prefix, set here to tell our datagrams apart
airflow_env = test_dag_run.airflow_env  # the same module-scoped fixture: a migrated home
pushgateway = test_metrics_push.pushgateway  # a Pushgateway of the module's own


class Listener:
    """A StatsD server's receiving end: every datagram on a free UDP port of 127.0.0.1."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.lines: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65535)
            except TimeoutError:
                continue
            self.lines.extend(data.decode().splitlines())  # a client may batch lines

    def close(self) -> None:
        time.sleep(0.5)  # the last datagrams of the run's process
        self._stop.set()
        self._thread.join()
        self.sock.close()


def parsed(lines: list[str]) -> list[tuple[str, float, str]]:
    """(name, value, type) of StatsD lines `name:value|type[|@rate]`."""
    out = []
    for line in lines:
        name, _, rest = line.partition(":")
        value, _, kind = rest.partition("|")
        out.append((name, float(value), kind.split("|")[0]))
    return out


@pytest.fixture(scope="module")
def statsd_run(airflow_env, pg_server, pushgateway):
    """One DAG run with StatsD on and $SLUICE_METRICS_PUSH_URL set; the datagrams, the target
    and counts of the target's rows by the test's own SQL."""
    src_gen, dst_gen = _fresh(pg_server, "sluice_sd_src"), _fresh(pg_server, "sluice_sd_dst")
    source, target = next(src_gen), next(dst_gen)
    listener = Listener()
    env = {**airflow_env, "AIRFLOW__METRICS__STATSD_ON": "True",
           "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
           "AIRFLOW__METRICS__STATSD_PORT": str(listener.port),
           "AIRFLOW__METRICS__STATSD_PREFIX": PREFIX,
           "SLUICE_METRICS_PUSH_URL": pushgateway}  # fmt: skip
    try:
        generate(source, SCALE)
        run_dag(env, source, target, {"chunk_rows": 3000})
        listener.close()
        counted = {t: rows(target, f'SELECT count(*) FROM "{t}"')[0][0] for t in TABLE_NAMES}
        yield parsed(listener.lines), target, counted
    finally:
        next(src_gen, None)
        next(dst_gen, None)


def test_rows_copied_arrive_per_table_and_sum_to_the_target(statsd_run):
    figures, target, counted = statsd_run
    labels = f"postgresql.postgresql.{target.database}._."  # engines, database, default schema
    name = f"{PREFIX}.sluice.rows_copied.{labels}"
    copied: dict[str, float] = defaultdict(float)
    for stat, value, kind in figures:
        if stat.startswith(name):
            assert kind == "c"
            copied[stat.removeprefix(name)] += value
    assert dict(copied) == {t: float(n) for t, n in counted.items()}
    assert sum(counted.values()) > 0
    sizes = [v for s, v, k in figures if s.startswith(f"{PREFIX}.sluice.bytes_copied.{labels}")]
    assert sizes and all(v > 0 for v in sizes)


def test_verify_verdicts_arrive_for_every_table(statsd_run):
    figures, target, counted = statsd_run
    labels = f"postgresql.postgresql.{target.database}._."
    for metric in ("verify_mismatched_ranges", "quality_checks_failed"):
        name = f"{PREFIX}.sluice.{metric}.{labels}"
        seen = {s.removeprefix(name): v for s, v, k in figures if s.startswith(name)}
        assert {k for s, _, k in figures if s.startswith(name)} == {"g"}
        assert seen == dict.fromkeys(TABLE_NAMES, 0.0), metric


def test_airflow_own_metrics_share_the_client(statsd_run):
    """The same client carries Airflow's own figures: our wiring is Airflow's, not a side
    channel of sluice's."""
    figures, _, _ = statsd_run
    assert any(s.startswith(f"{PREFIX}.") and ".sluice." not in s for s, _, _ in figures)


def test_the_tasks_push_their_own_groups_to_the_pushgateway(statsd_run, pushgateway):
    """$SLUICE_METRICS_PUSH_URL in the tasks' environment: each task instance pushes its own
    group (job the DAG, then run, task and map index), so the copy tasks' groups, summed,
    hold every row of every table."""
    import json
    import urllib.request

    _, _, counted = statsd_run
    with urllib.request.urlopen(f"{pushgateway}/api/v1/metrics", timeout=5) as r:
        groups = [g["labels"] | {"_metrics": g} for g in json.load(r)["data"]]
    ours = [g for g in groups if g["job"] == test_dag_run.DAG_ID]
    copies = [g for g in ours if g.get("task") == "copy"]
    assert copies and all(g.get("run") and g.get("map_index") for g in copies), groups
    assert len({g["map_index"] for g in copies}) == len(copies)  # never one group for two
    copied: dict[str, float] = defaultdict(float)
    for g in copies:
        for m in g["_metrics"]["sluice_rows_copied_total"]["metrics"]:
            copied[m["labels"]["table"]] += float(m["value"])
    assert dict(copied) == {t: float(n) for t, n in counted.items()}
    assert {g.get("task") for g in ours} >= {"copy", "publish", "verify"}
