"""MariaDB -> PostgreSQL change capture end to end: the source is a MariaDB of the tests'
own writing a binlog (conftest's `binlog_mariadb`), the target the PostgreSQL service. The
source is written during `sluice copy --cdc`; `sluice sync --cdc` then makes the replica
equal to it by an independent read of both; a second sync moves nothing."""

from __future__ import annotations

import pytest

from sluice.capture import sync_changes
from tests.capture.test_capture_postgres import (
    SEED,
    _ends,
    captured_pair,
    copy_while_written,
    sluice,
)
from tests.capture.workload import snapshot


@pytest.fixture
def mariadb_to_pg(binlog_mariadb, pg_server):
    yield from captured_pair(binlog_mariadb.url, pg_server)


def test_mariadb_to_postgres_while_written(mariadb_to_pg):
    src, dst = mariadb_to_pg
    copy_while_written(src, dst, SEED + 7)
    result = sync_changes(src, dst, batch_changes=200)
    assert result.batches > 1 and result.moved > 0
    got, want = snapshot(dst), snapshot(src)
    for t in want:  # the rows that differ, per table
        assert sorted(set(got[t]) - set(want[t]))[:5] == sorted(set(want[t]) - set(got[t]))[:5], t
    assert got == want
    assert "MISMATCH" not in sluice("verify", *_ends(src, dst), "--no-checks").stdout
    again = sync_changes(src, dst)
    assert again.changes == 0 and again.moved == 0
