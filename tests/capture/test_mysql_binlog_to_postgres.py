"""MariaDB -> PostgreSQL change capture end to end: the source is a MariaDB of the tests'
own writing a binlog (conftest's `binlog_mariadb`), the target the PostgreSQL service. The
source is written during `sluice copy --cdc`; `sluice sync --cdc` then makes the replica
equal to it by an independent read of both; a second sync moves nothing."""

from __future__ import annotations

import random
import subprocess
import sys
import time

import pytest

from sluice.capture import stop_capture, sync_changes
from tests.capture.test_capture_postgres import SEED, _ends, sluice
from tests.capture.workload import seed, snapshot
from tests.conftest import _fresh


@pytest.fixture
def mariadb_to_pg(binlog_mariadb, pg_server):
    src_gen = _fresh(binlog_mariadb.url, "cdc_my")
    dst_gen = _fresh(pg_server, "cdc_pg")
    src, dst = next(src_gen), next(dst_gen)
    yield src, dst
    stop_capture(src, dst)
    next(dst_gen, None)
    next(src_gen, None)


def test_mariadb_to_postgres_while_written(mariadb_to_pg):
    src, dst = mariadb_to_pg
    seed(src, random.Random(SEED + 7))
    writer = subprocess.Popen([sys.executable, "-m", "tests.capture.workload",
                               src.render_secret(), "5", str(SEED + 7)], text=True,
                              stdout=subprocess.PIPE)  # fmt: skip
    time.sleep(1)
    sluice("copy", "--cdc", *_ends(src, dst), "--workers", "2", "--chunk-rows", "100")
    assert int(writer.communicate(timeout=60)[0]) > 50 and writer.returncode == 0
    result = sync_changes(src, dst, batch_changes=200)
    assert result.batches > 1 and result.moved > 0
    got, want = snapshot(dst), snapshot(src)
    for t in want:  # the rows that differ, per table
        assert sorted(set(got[t]) - set(want[t]))[:5] == sorted(set(want[t]) - set(got[t]))[:5], t
    assert got == want
    assert "MISMATCH" not in sluice("verify", *_ends(src, dst), "--no-checks").stdout
    again = sync_changes(src, dst)
    assert again.changes == 0 and again.moved == 0
