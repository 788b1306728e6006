"""Incremental sync on real databases: after a copy, rows inserted, updated (one of them to the
previous maximum of its watermark) and deleted in the source are exactly what `sync` moves;
the replica then verifies equal, and a second sync moves nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.conftest import stackoverflow_db

from sluice.copy import CopyOptions, copy_database
from sluice.dialects import get_dialect
from sluice.state import store as sync_state
from sluice.sync import sync_database, watermarks
from sluice.verify import VerifyOptions, verify_database

SCALE = 0.01


@pytest.fixture
def pg_source(pg_server):
    yield from stackoverflow_db(pg_server, "sluice_syncsrc", SCALE)


@pytest.fixture
def mysql_source(mysql_server):
    yield from stackoverflow_db(mysql_server, "sluice_syncsrc", SCALE)


def _run(url, *statements) -> None:
    d = get_dialect(url.engine)
    conn = d.connect(url)
    try:
        cur = conn.cursor()
        for sql, params in statements:
            cur.execute(d.finalize(sql), d.bind(params))
        conn.commit()
    finally:
        conn.close()


def _one(url, sql: str, params=()):
    d = get_dialect(url.engine)
    conn = d.connect(url)
    try:
        cur = conn.cursor()
        cur.execute(d.finalize(sql), d.bind(list(params)))
        return cur.fetchone()
    finally:
        conn.rollback()
        conn.close()


def change_source(url) -> dict[str, tuple[int, int, int]]:
    """Insert, update and delete rows; returns (inserted, updated, deleted) per table."""
    d = get_dialect(url.engine)
    q, P = d.quote, "\x00"
    ins = " OVERRIDING SYSTEM VALUE" if url.engine == "postgresql" else ""
    top_vote = _one(url, f"SELECT MAX({q('Id')}) FROM {q('Votes')}")[0]
    top_user = _one(url, f"SELECT MAX({q('Id')}) FROM {q('Users')}")[0]
    last_activity = _one(url, f"SELECT MAX({q('LastActivityDate')}) FROM {q('Posts')}")[0]
    posts = _one(url, f"SELECT MIN({q('Id')}), MAX({q('Id')}) FROM {q('Posts')}")
    comments = _one(url, f"SELECT MIN({q('Id')}), MAX({q('Id')}) FROM {q('Comments')}")
    if isinstance(last_activity, str):  # SQLite keeps datetimes as text
        last_activity = dt.datetime.fromisoformat(last_activity)
    later = last_activity + dt.timedelta(days=1)
    vote_cols = f"({q('Id')}, {q('PostId')}, {q('VoteTypeId')}, {q('CreationDate')})"
    user_cols = ", ".join(
        q(c)
        for c in (
            "Id",
            "Reputation",
            "CreationDate",
            "DisplayName",
            "LastAccessDate",
            "Views",
            "UpVotes",
            "DownVotes",
        )
    )
    user_cols = f"({user_cols})"
    _run(
        url,
        *[(f"INSERT INTO {q('Votes')} {vote_cols}{ins} VALUES ({P}, 1, 2, {P})",
           [top_vote + i, later]) for i in (1, 2, 3)],
        (f"INSERT INTO {q('Users')} {user_cols}{ins} VALUES ({P}, 1, {P}, 'new', {P}, 0, 0, 0)",
         [top_user + 1, later, later]),
        (f"UPDATE {q('Posts')} SET {q('Score')} = {q('Score')} + 1, "
         f"{q('LastActivityDate')} = {P} WHERE {q('Id')} IN ({P}, {P})",
         [later, posts[0], posts[1]]),
        # the previous maximum of the watermark, on another row: must not be skipped
        (f"UPDATE {q('Posts')} SET {q('Title')} = 'same instant', "
         f"{q('LastActivityDate')} = {P} WHERE {q('Id')} = "
         f"(SELECT {q('Id')} FROM (SELECT MIN({q('Id')}) AS {q('Id')} FROM {q('Posts')} "
         f"WHERE {q('Id')} > {P}) x)", [last_activity, posts[0]]),
        (f"DELETE FROM {q('Comments')} WHERE {q('Id')} IN ({P}, {P})", list(comments)),
        (f"DELETE FROM {q('Users')} WHERE {q('Id')} = {P}", [top_user]),
    )  # fmt: skip
    return {"Votes": (3, 0, 0), "Users": (1, 0, 1), "Posts": (0, 3, 0), "Comments": (0, 0, 2)}


def moved(result) -> dict[str, tuple[int, int, int]]:
    return {t.table: (t.inserted, t.updated, t.deleted) for t in result.tables if t.moved}


def check_round(source, target) -> None:
    first = sync_database(source, target)
    assert moved(first) == {}, "a sync right after a copy moves nothing"
    expected = change_source(source)
    second = sync_database(source, target)
    assert moved(second) == expected
    report = verify_database(source, target, VerifyOptions(checks=False))
    assert report.ok, [m.chunk.label for t in report.tables for m in t.mismatches]
    third = sync_database(source, target)
    assert moved(third) == {}, "nothing changed since: nothing moves"


def test_postgres_to_postgres(pg_source, pg_db):
    assert copy_database(pg_source, pg_db, CopyOptions(workers=2)).ok
    check_round(pg_source, pg_db)
    d = get_dialect("postgresql")
    conn = d.connect(pg_db)
    state = sync_state.read(d, conn, "Posts")
    conn.close()
    assert state.runs == 3 and state.kind == "column" and state.rows_updated == 0
    assert watermarks.decode(state.watermark) > dt.datetime(2000, 1, 1)


@pytest.mark.mysql
def test_mariadb_to_postgres(mysql_source, pg_db):
    assert copy_database(mysql_source, pg_db, CopyOptions(workers=2)).ok
    check_round(mysql_source, pg_db)


@pytest.mark.mysql
def test_postgres_to_mariadb(pg_source, mysql_db):
    assert copy_database(pg_source, mysql_db, CopyOptions(workers=2)).ok
    check_round(pg_source, mysql_db)


def test_postgres_to_sqlite(pg_source, sqlite_db):
    assert copy_database(pg_source, sqlite_db, CopyOptions(workers=1)).ok
    check_round(pg_source, sqlite_db)


def test_sqlite_to_postgres(pg_source, sqlite_db, pg_db):
    assert copy_database(pg_source, sqlite_db, CopyOptions(workers=1)).ok
    assert copy_database(sqlite_db, pg_db, CopyOptions(workers=1)).ok
    check_round(sqlite_db, pg_db)
