"""Servers of the reliability tests' own, started once per session and shared by the
modules that stop and restart them (never the system's services): a PostgreSQL 15
(`relay.OwnPostgres`) and a MariaDB (`own_mariadb.OwnMariaDB`). Each is skipped with its
reason where this machine cannot run it (no binaries, not root)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.own_mariadb import OwnMariaDB
from tests.reliability.relay import OwnPostgres


@pytest.fixture(scope="session")
def own_pg_server() -> Iterator[OwnPostgres]:
    if not OwnPostgres.available():
        pytest.skip("needs root and Debian's PostgreSQL 15 binaries for a server of our own")
    folder = Path(tempfile.mkdtemp(prefix="sluice_own_pg_"))  # user postgres must reach it
    os.chmod(folder, 0o755)
    server = OwnPostgres(folder)
    yield server
    server.close()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def own_mariadb() -> Iterator[OwnMariaDB]:
    reason = OwnMariaDB.missing()
    if reason:
        pytest.skip(reason)
    server = OwnMariaDB(Path(tempfile.mkdtemp(prefix="sluice_own_mariadb_")))
    yield server
    server.close()
