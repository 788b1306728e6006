"""`sluice sync --cdc` killed with SIGKILL at several points (at start-up, after its first
batch, further on), then run to the end, for each pair change capture serves here:
PostgreSQL 18 and 15 -> PostgreSQL, PostgreSQL -> MariaDB, MariaDB -> PostgreSQL. The replica
then equals the source by an independent read, and the changes the replica records as
applied are exactly the changes the log holds, counted independently: none applied twice,
none lost."""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
import time

import pytest

from sluice.capture import sync_changes
from tests.capture.test_capture_postgres import SEED, _ends, captured_pair, sluice
from tests.capture.workload import counted_changes, seed, snapshot
from tests.independent import rows
from tests.reliability.own_mariadb import OwnMariaDB

PAIRS = {  # pair -> (source server fixture, target server fixture)
    "pg18-pg18": ("embedded_logical_pg", "embedded_logical_pg"),
    "pg15-pg15": ("own_logical_pg", "own_logical_pg"),
    "pg18-mariadb": ("embedded_logical_pg", "mariadb_server"),
    "mariadb-pg": ("binlog_mariadb", "pg_server"),
}


@pytest.fixture(params=list(PAIRS))
def ends(request):
    servers = [request.getfixturevalue(name) for name in PAIRS[request.param]]
    servers = [s.url if isinstance(s, OwnMariaDB) else s for s in servers]
    yield from captured_pair(*servers, prefix="cdc_k9")


def test_kill9_during_sync_applies_every_change_once(ends):
    src, dst = ends
    rng = random.Random(SEED + 9)
    seed(src, rng)
    sluice("copy", "--cdc", *_ends(src, dst), "--workers", "2")
    logged = counted_changes(src, 40, rng)
    cmd = ["-v", "sync", "--cdc", *_ends(src, dst), "--batch-changes", "18"]
    for batches_seen in (0, 1, 3):  # at start-up, after the first batch, further on
        proc = subprocess.Popen([sys.executable, "-m", "sluice.cli", *cmd], text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
        seen = 0
        for line in proc.stdout:
            seen += bool(re.search(r"batch \d+ applied", line))
            if seen >= batches_seen:
                time.sleep(rng.uniform(0, 0.05))
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    sluice(*cmd)
    assert snapshot(dst) == snapshot(src)
    (applied,) = rows(dst, "SELECT changes FROM sluice_capture")
    assert applied[0] == logged  # every change of the log applied once: none twice, none lost
    assert sync_changes(src, dst).changes == 0
