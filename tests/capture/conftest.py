"""Servers whose change log can be read, shared by the change-capture tests.

PostgreSQL: the embedded PostgreSQL 18 (it starts with wal_level=logical, so a fresh
machine's `make test` covers capture) and a PostgreSQL 15 of the test's own with
wal_level=logical (the service's is `replica`: a capture test never changes a shared server).

MariaDB: a server of the tests' own writing a binlog in row format with full row metadata
(the MariaDB service on this machine has log_bin off), started once (`binlog_mariadb`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sluice.core.urls import DbUrl
from tests.reliability.own_mariadb import OwnMariaDB
from tests.reliability.relay import OwnPostgres


@pytest.fixture(scope="session")
def own_logical_pg() -> Iterator[DbUrl]:
    if not OwnPostgres.available():
        pytest.skip(f"needs Debian's PostgreSQL 15 binaries in {OwnPostgres.BIN} and root")
    folder = Path(tempfile.mkdtemp(prefix="sluice_logical_pg_"))  # user postgres must reach it
    os.chmod(folder, 0o755)
    server = OwnPostgres(folder, {"wal_level": "logical", "max_replication_slots": "20"})
    yield DbUrl.parse(server.url)
    server.close()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["embedded-pg18", "pg15"])
def logical_pg(request) -> DbUrl:
    """A PostgreSQL server with wal_level=logical: each capture test runs on both."""
    name = "embedded_logical_pg" if request.param == "embedded-pg18" else "own_logical_pg"
    return request.getfixturevalue(name)


@pytest.fixture(scope="session")
def mariadb_server() -> DbUrl:
    text = os.environ.get("SLUICE_TEST_MYSQL_URL")
    if not text:
        pytest.skip("needs SLUICE_TEST_MYSQL_URL (a MariaDB or MySQL server) as the target")
    return DbUrl.parse(text)


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
