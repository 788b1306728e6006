"""The engine's metrics leave sluice both ways (issue 25, docs/monitoring.md), read back
independently of sluice: from a real Pushgateway's own JSON API after `sluice copy
--metrics-push` and `sluice verify` (the URL from $SLUICE_METRICS_PUSH_URL), and from the
/metrics endpoint `--metrics-port` serves while a copy runs. A push that fails never fails
the copy, and its URL's password is in no log line."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator

import pytest
from tests.independent import execute, rows
from tests.ports import free_port

from sluice.cli.main import main
from sluice.core import metrics
from sluice.core.urls import DbUrl

PUSHGATEWAY = "/usr/bin/prometheus-pushgateway"


@pytest.fixture(scope="module")
def pushgateway() -> Iterator[str]:
    """A Pushgateway of this test's own, in memory only (Debian's default persistence file
    is shared by every gateway started on the machine)."""
    if not os.path.exists(PUSHGATEWAY):
        pytest.skip(f"{PUSHGATEWAY} is missing (Debian's prometheus-pushgateway)")
    port = free_port()
    proc = subprocess.Popen([PUSHGATEWAY, f"--web.listen-address=127.0.0.1:{port}",
                             "--persistence.file="],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/-/ready", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the Pushgateway did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def so_source(pg_server) -> Iterator[DbUrl]:
    from tests.conftest import stackoverflow_db

    yield from stackoverflow_db(pg_server, "sluice_metrics", 0.01)


def pushed(gateway: str, job: str) -> dict:
    """The Pushgateway's one group of `job`: metric name -> its samples, as the gateway
    itself reports them (/api/v1/metrics)."""
    with urllib.request.urlopen(f"{gateway}/api/v1/metrics", timeout=5) as r:
        groups = [g for g in json.load(r)["data"] if g["labels"]["job"] == job]
    assert len(groups) == 1, [g["labels"] for g in groups]
    return groups[0]


def by_table(group: dict, name: str) -> dict[str, float]:
    return {m["labels"]["table"]: float(m["value"]) for m in group[name]["metrics"]}


def test_copy_and_verify_push_their_figures(pushgateway, so_source, pg_db, tmp_path,
                                            monkeypatch):  # fmt: skip
    summary = tmp_path / "copy.json"
    assert main(["copy", "--source", so_source.render_secret(), "--target",
                 pg_db.render_secret(), "--workers", "2", "--metrics-push", pushgateway,
                 "--json", str(summary)]) == 0  # fmt: skip
    copied = {name: t["rows"] for name, t in json.loads(summary.read_text())["tables"].items()}
    group = pushed(pushgateway, "copy")
    assert group["labels"]["run"]  # grouped by job and run
    assert by_table(group, "sluice_rows_copied_total") == copied
    for name, n in copied.items():  # and what the target holds, counted without sluice
        assert rows(pg_db, f'SELECT count(*) FROM "{name}"')[0][0] == n
    assert all(v > 0 for v in by_table(group, "sluice_bytes_copied_total").values())
    fresh = by_table(group, "sluice_replica_last_success_timestamp_seconds")
    assert set(fresh) == set(copied)
    assert all(time.time() - 600 < t <= time.time() for t in fresh.values())
    chunks = group["sluice_chunk_duration_seconds"]["metrics"]
    assert sum(int(m["count"]) for m in chunks) >= len(copied)
    labels = chunks[0]["labels"]
    assert labels["source_engine"] == labels["target_engine"] == "postgresql"
    assert labels["database"] == pg_db.database and labels["schema"] == ""
    assert not any("://" in v or "@" in v for m in chunks for v in m["labels"].values())

    execute(pg_db, 'UPDATE "Users" SET "DisplayName" = \'damaged\' '
                   'WHERE "Id" = (SELECT max("Id") FROM "Users")')  # fmt: skip
    monkeypatch.setenv("SLUICE_METRICS_PUSH_URL", pushgateway)
    assert main(["verify", "--source", so_source.render_secret(), "--target",
                 pg_db.render_secret(), "--workers", "2", "--no-checks"]) == 1  # fmt: skip
    group = pushed(pushgateway, "verify")
    mismatched = by_table(group, "sluice_verify_mismatched_ranges")
    assert mismatched["Users"] > 0
    assert all(v == 0 for name, v in mismatched.items() if name != "Users")
    verified = by_table(group, "sluice_replica_last_success_timestamp_seconds")
    assert "Users" not in verified and set(verified) == set(copied) - {"Users"}


def test_a_failed_push_never_fails_the_copy_nor_shows_its_password(so_source, pg_db, caplog):
    dead = f"http://metrics:hunter2-not-shown@127.0.0.1:{free_port()}"
    with caplog.at_level(logging.WARNING):
        assert main(["copy", "--source", so_source.render_secret(), "--target",
                     pg_db.render_secret(), "--tables", "Badges",
                     "--metrics-push", dead]) == 0  # fmt: skip
    failed = [r.getMessage() for r in caplog.records if "could not push" in r.getMessage()]
    assert failed and all("127.0.0.1" in m for m in failed)
    assert "hunter2-not-shown" not in caplog.text


class _Scraper:
    """A second sink: at the first table published, mid-run, it reads /metrics as a
    Prometheus server would."""

    def __init__(self, port: int) -> None:
        self.port, self.body = port, ""

    def record(self, metric, value, labels) -> None:
        if metric.name == "replica_last_success_timestamp_seconds" and not self.body:
            url = f"http://127.0.0.1:{self.port}/metrics"
            with urllib.request.urlopen(url, timeout=5) as r:
                self.body = r.read().decode()


def test_metrics_port_answers_during_a_copy(so_source, pg_db):
    port = free_port()
    scraper = _Scraper(port)
    with metrics.installed(scraper):
        assert main(["copy", "--source", so_source.render_secret(), "--target",
                     pg_db.render_secret(), "--tables", "Badges,Users",
                     "--metrics-port", str(port)]) == 0  # fmt: skip
    assert "# TYPE sluice_rows_copied_total counter" in scraper.body
    assert "sluice_rows_copied_total{" in scraper.body and 'table="' in scraper.body
    assert "sluice_chunk_duration_seconds_bucket{" in scraper.body
    with pytest.raises(OSError):  # the endpoint lives as long as the command
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)


def test_a_long_run_pushes_on_the_way_not_only_at_the_end(pushgateway):
    """The pusher's own thread pushes every interval while the work goes on (15 s in a run;
    0.2 s here): the gateway holds the figures so far before the run ends."""
    from sluice.core import metrics
    from sluice.core.prometheus import exported

    labels = metrics.labels_for("postgresql", "postgresql", "db", None, "T")
    with exported("long", push=pushgateway, grouping={"run": "r"}, interval=0.2):
        metrics.count("rows_copied_total", 100, labels)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # no end of run yet: only the thread pushed
            with contextlib.suppress(AssertionError, KeyError):
                if by_table(pushed(pushgateway, "long"), "sluice_rows_copied_total") == {"T": 100}:
                    break
            time.sleep(0.1)
        else:
            pytest.fail("nothing was pushed while the run went on")
        metrics.count("rows_copied_total", 50, labels)
    assert by_table(pushed(pushgateway, "long"), "sluice_rows_copied_total") == {"T": 150}
