"""Change capture's servers: a MariaDB of the tests' own writing a binlog in row format with
full row metadata (the MariaDB service on this machine has log_bin off), started once."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.own_mariadb import OwnMariaDB

BINLOG_ARGS = ("--log-bin=binlog", "--binlog-format=ROW", "--server-id=1",
               "--binlog-row-metadata=FULL", "--binlog-row-image=FULL")  # fmt: skip


@pytest.fixture(scope="session")
def binlog_mariadb() -> Iterator[OwnMariaDB]:
    reason = OwnMariaDB.missing()
    if reason:
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="sluice_binlog_mariadb_"))
    server = OwnMariaDB(folder, extra_args=BINLOG_ARGS)
    yield server
    server.close()
    shutil.rmtree(folder, ignore_errors=True)
