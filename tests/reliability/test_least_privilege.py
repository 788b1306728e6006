"""The least privileges each side needs (docs/reliability.md, Security), proven: a source login
that may only connect and SELECT, and a target login that may only create tables in one
schema/database (and so owns what it creates), copy StackOverflow2010 twice (the second run
replaces live tables it owns), verify it, and the source login cannot write.

PostgreSQL: source CONNECT + USAGE on the schema + SELECT on the tables (pg_export_snapshot
needs nothing more); target CONNECT + USAGE, CREATE on the schema. MariaDB: source SELECT on
the database; target SELECT, INSERT, DELETE, CREATE, DROP, ALTER, INDEX, REFERENCES on it."""

from __future__ import annotations

import uuid

import psycopg
import pymysql
import pytest

from sluice.copy import CopyOptions, copy_database
from sluice.core.urls import DbUrl
from sluice.datasets.stackoverflow import TABLE_NAMES
from sluice.datasets.stackoverflow.generate import generate, row_counts
from sluice.dialects import get_dialect
from sluice.verify import VerifyOptions, verify_database
from tests.conftest import _fresh

SCALE = 0.002
PG, MY = get_dialect("postgresql"), get_dialect("mysql")
MARIADB_TARGET_GRANTS = "SELECT, INSERT, DELETE, CREATE, DROP, ALTER, INDEX, REFERENCES"


def as_user(url: DbUrl, user: str, password: str = "least-privilege") -> DbUrl:
    return DbUrl(url.url.set(username=user, password=password))


def admin(url: DbUrl, *statements: str) -> None:
    with PG.connect(url, autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)


@pytest.fixture
def pg_roles(pg_server):
    """A fresh source (filled) and target database, each open to one least-privileged role."""
    tag = uuid.uuid4().hex[:8]
    reader, writer = f"sluice_reader_{tag}", f"sluice_writer_{tag}"
    src_gen, dst_gen = _fresh(pg_server, "sluice_lp_src"), _fresh(pg_server, "sluice_lp_dst")
    source, target = next(src_gen), next(dst_gen)
    generate(source, SCALE)
    for role in (reader, writer):
        admin(pg_server, f"CREATE ROLE {role} LOGIN PASSWORD 'least-privilege'")
    admin(pg_server, *(f"REVOKE ALL ON DATABASE {PG.quote(u.database)} FROM PUBLIC"
                       for u in (source, target)))  # fmt: skip
    admin(pg_server, f"GRANT CONNECT ON DATABASE {PG.quote(source.database)} TO {reader}",
          f"GRANT CONNECT ON DATABASE {PG.quote(target.database)} TO {writer}")  # fmt: skip
    admin(source, "REVOKE ALL ON SCHEMA public FROM PUBLIC",
          f"GRANT USAGE ON SCHEMA public TO {reader}",
          f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {reader}")  # fmt: skip
    admin(target, "REVOKE ALL ON SCHEMA public FROM PUBLIC",
          f"GRANT USAGE, CREATE ON SCHEMA public TO {writer}")  # fmt: skip
    try:
        yield as_user(source, reader), as_user(target, writer)
    finally:
        next(src_gen, None)
        next(dst_gen, None)
        admin(pg_server, *(f"DROP ROLE IF EXISTS {r}" for r in (reader, writer)))


def copied(source: DbUrl, target: DbUrl) -> None:
    """Two copies (the second replaces the first's live tables) and a clean verification."""
    for chunk_rows in (1000, 700):
        result = copy_database(source, target, CopyOptions(chunk_rows=chunk_rows, workers=2))
        assert result.ok, result.failures
        assert {t: s.rows for t, s in result.tables.items()} == row_counts(SCALE)
    report = verify_database(source, target, VerifyOptions(workers=2))
    assert report.ok and {t.name for t in report.tables} == set(TABLE_NAMES)


def test_postgres_select_only_source_and_create_only_target(pg_roles):
    source, target = pg_roles
    copied(source, target)
    with PG.connect(source) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute('DELETE FROM "Votes"')
    with PG.connect(source) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute('CREATE TABLE "_sluice_probe" (id int)')


@pytest.fixture
def mariadb_users(mysql_server):
    """A source database (filled) readable by one user, a target database writable by another."""
    tag = uuid.uuid4().hex[:8]
    reader, writer = f"sluice_r_{tag}", f"sluice_w_{tag}"
    src_gen, dst_gen = _fresh(mysql_server, "sluice_lp_src"), _fresh(mysql_server, "sluice_lp_dst")
    source, target = next(src_gen), next(dst_gen)
    generate(source, SCALE)
    conn = MY.connect(mysql_server.without_database(), autocommit=True)
    cur = conn.cursor()
    grants = ((reader, "SELECT", source), (writer, MARIADB_TARGET_GRANTS, target))
    for user, privileges, db in grants:
        for host in ("%", "localhost"):
            cur.execute(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY 'least-privilege'")
            cur.execute(f"GRANT {privileges} ON {MY.quote(db.database)}.* TO '{user}'@'{host}'")
    try:
        yield as_user(source, reader), as_user(target, writer)
    finally:
        for user in (reader, writer):
            for host in ("%", "localhost"):
                cur.execute(f"DROP USER IF EXISTS '{user}'@'{host}'")
        conn.close()
        next(src_gen, None)
        next(dst_gen, None)


def test_mariadb_select_only_source_and_table_privileges_target(mariadb_users, pg_roles):
    """MariaDB -> MariaDB, then each side against PostgreSQL's least-privileged roles."""
    (my_source, my_target), (pg_source, pg_target) = mariadb_users, pg_roles
    copied(my_source, my_target)
    copied(my_source, pg_target)
    copied(pg_source, my_target)
    conn = MY.connect(my_source)
    try:
        with pytest.raises(pymysql.err.MySQLError) as info:
            conn.cursor().execute("DELETE FROM Votes")
        assert info.value.args[0] == 1142  # "DELETE command denied to user"
    finally:
        conn.close()
