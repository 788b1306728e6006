"""Change capture across engines: PostgreSQL -> MariaDB (the embedded PostgreSQL 18 with
wal_level=logical as the source, the MariaDB at SLUICE_TEST_MYSQL_URL as the target). The
source is written during `sluice copy --cdc`; `sluice sync --cdc` then makes the replica
equal to it by an independent read of both; a second sync moves nothing."""

from __future__ import annotations

import random

import pytest

from sluice.capture import sync_changes
from tests.capture.test_capture_postgres import (
    SEED,
    _ends,
    captured_pair,
    copy_while_written,
    sluice,
)
from tests.capture.workload import seed, snapshot
from tests.independent import execute, rows


@pytest.fixture
def pg_to_mariadb(embedded_logical_pg, mariadb_server):
    yield from captured_pair(embedded_logical_pg, mariadb_server)


def test_postgres_to_mariadb_while_written(pg_to_mariadb):
    src, dst = pg_to_mariadb
    copy_while_written(src, dst, SEED + 3)
    result = sync_changes(src, dst, batch_changes=200)
    assert result.batches > 1 and result.moved > 0
    assert snapshot(dst) == snapshot(src)
    assert "MISMATCH" not in sluice("verify", *_ends(src, dst), "--no-checks").stdout
    assert sync_changes(src, dst).changes == 0


def test_unchanged_toasted_value_keeps_the_replicas(pg_to_mariadb):
    """An update that leaves a TOASTed text alone is logged without it: the replica keeps
    its own value and takes the columns the log carried; a row the replica lacks is left
    for the log's later delete."""
    src, dst = pg_to_mariadb
    seed(src, random.Random(SEED + 4))
    sluice("copy", "--cdc", *_ends(src, dst))
    execute(src, "UPDATE parent SET name = 'only the name' WHERE id = 3",  # body TOASTed
            "UPDATE parent SET amount = 1.5 WHERE id = 6")  # fmt: skip
    logged = rows(src, "SELECT count(*) FROM parent WHERE body IS NOT NULL AND id IN (3, 6)")
    assert logged == [(2,)]
    result = sync_changes(src, dst)
    assert result.tables["parent"].updated == 2
    assert snapshot(dst) == snapshot(src)
