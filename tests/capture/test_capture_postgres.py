"""Change capture from PostgreSQL on real servers (the embedded PostgreSQL 18 and a PostgreSQL
15 of the test's own, both with wal_level=logical): a source written during `sluice copy
--cdc`, then `sluice sync --cdc`, equals the replica by an independent read; a second sync
moves nothing; `cdc stop` drops the slot (kill -9 during a sync: test_capture_kill9)."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from sluice.capture import capture_status, stop_capture, sync_changes
from sluice.core.urls import DbUrl
from tests.capture.workload import seed, snapshot
from tests.conftest import _fresh
from tests.independent import execute, rows

SEED = 20261206


def sluice(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "sluice.cli", *args], capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def captured_pair(source_server: DbUrl, target_server: DbUrl,
                  prefix: str = "cdc") -> Iterator[tuple[DbUrl, DbUrl]]:  # fmt: skip
    """A fresh source and target database (a fixture's body): the capture stopped and both
    dropped afterwards. Every capture test of a pair of servers stands on it."""
    src_gen = _fresh(source_server, f"{prefix}_src")
    dst_gen = _fresh(target_server, f"{prefix}_dst")
    src, dst = next(src_gen), next(dst_gen)
    yield src, dst
    stop_capture(src, dst)
    next(dst_gen, None)
    next(src_gen, None)


def copy_while_written(src: DbUrl, dst: DbUrl, seed_: int) -> None:
    """Seed the source, then `sluice copy --cdc` it while a writer process changes it: from
    a second before the copy until 3 s after it, so changes come before, during and after it
    however long the copy takes on a loaded machine (a fixed 5 s once left a slow copy with
    too few changes after it)."""
    seed(src, random.Random(seed_))
    writer = subprocess.Popen([sys.executable, "-m", "tests.capture.workload",
                               src.render_secret(), "120", str(seed_)], stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    time.sleep(1)
    sluice("copy", "--cdc", *_ends(src, dst), "--workers", "2", "--chunk-rows", "100")
    time.sleep(3)
    writer.terminate()  # the workload's "enough": it ends its transaction and prints its count
    committed = int(writer.communicate(timeout=60)[0])
    assert writer.returncode == 0 and committed > 50  # the source was written throughout


@pytest.fixture
def pair(logical_pg: DbUrl):
    yield from captured_pair(logical_pg, logical_pg)


def _ends(src: DbUrl, dst: DbUrl) -> list[str]:
    return ["--source", src.render_secret(), "--target", dst.render_secret()]


def test_copy_while_written_then_sync_equals_source(pair):
    src, dst = pair
    copy_while_written(src, dst, SEED)

    result = sync_changes(src, dst)
    assert result.transactions > 0 and result.moved > 0
    assert snapshot(dst) == snapshot(src)
    assert "MISMATCH" not in sluice("verify", *_ends(src, dst), "--no-checks").stdout

    again = sync_changes(src, dst)
    assert (again.changes, again.moved, again.batches) == (0, 0, 0)

    status = sluice("cdc", "status", *_ends(src, dst), "--json")
    assert '"on_source": "present"' in status.stdout
    sluice("cdc", "stop", *_ends(src, dst))
    assert rows(src, "SELECT slot_name FROM pg_replication_slots WHERE database = %s",
                (src.database,)) == []  # fmt: skip
    assert rows(src, "SELECT pubname FROM pg_publication") == []


def test_status_names_a_missing_slot_and_stop_is_idempotent(pair):
    src, dst = pair
    seed(src, random.Random(SEED))
    sluice("copy", "--cdc", *_ends(src, dst))
    here, status = capture_status(src, dst)
    assert here is not None and status.exists and status.lag_bytes is not None
    warned = sluice("cdc", "status", *_ends(src, dst), "--lag-warning", "1", check=False)
    assert warned.returncode == 3 and "a forgotten slot holds WAL forever" in warned.stderr
    execute(src, f"SELECT pg_drop_replication_slot('{here.name}')")  # dropped by hand
    done = sluice("cdc", "status", *_ends(src, dst), check=False)
    assert done.returncode == 1 and "missing" in done.stdout
    done = sluice("sync", "--cdc", *_ends(src, dst), check=False)
    assert done.returncode != 0 and "no replication slot" in done.stderr
    assert stop_capture(src, dst) is True  # the publication and the target's row
    assert stop_capture(src, dst) is False
