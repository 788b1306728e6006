"""`--identifiers snake` on real databases (ADR 0017): StackOverflow2010's shape (scale 0.01,
plus a declared foreign key and two indexes) copied PostgreSQL -> PostgreSQL and PostgreSQL ->
MariaDB. Checked by reading the target's catalog and rows directly (psycopg, pymysql), not
through sluice: every table and column snake_case, keys, indexes, the foreign key and the
identity under their new names, counts and values equal to the source's; `sluice verify
--identifiers snake` says MATCH, and a sync after a source change moves exactly that change.
A collision stops the copy before anything is written."""

from __future__ import annotations

import subprocess
import sys

import pytest
from tests.conftest import stackoverflow_db
from tests.independent import connect, execute, rows
from tests.integration.test_copy_stackoverflow import canonical
from tests.sync.test_sync import change_source, moved

from sluice.copy import CopyOptions, copy_database
from sluice.core.errors import ConfigError
from sluice.core.naming import snake
from sluice.core.urls import DbUrl
from sluice.datasets.stackoverflow import TABLE_NAMES, TABLES
from sluice.state import store as sync_state
from sluice.sync import SyncOptions, sync_database
from sluice.verify import VerifyOptions, verify_database

SCALE = 0.004
EXTRA = [  # a declared key and indexes the dataset lacks, to see them renamed
    'ALTER TABLE "Comments" ADD CONSTRAINT "FK_Comments_PostId" FOREIGN KEY ("PostId") '
    'REFERENCES "Posts" ("Id") NOT VALID',
    'CREATE INDEX "IX_Posts_OwnerUserId" ON "Posts" ("OwnerUserId", "CreationDate")',
    'CREATE UNIQUE INDEX "UX_VoteTypes_Name" ON "VoteTypes" ("Name")',
]

# engine -> (its tables but sluice's own, a table's columns in order) from its catalog
CATALOG = {
    "postgresql": ("SELECT table_name FROM information_schema.tables WHERE "
                   "table_schema = 'public' AND table_name NOT LIKE 'sluice\\_%'",
                   "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                   "ORDER BY ordinal_position"),
    "mysql": ("SELECT table_name FROM information_schema.tables WHERE "
              "table_schema = DATABASE() AND table_name NOT LIKE 'sluice\\_%'",
              "SELECT column_name FROM information_schema.columns WHERE "
              "table_schema = DATABASE() AND table_name = %s ORDER BY ordinal_position"),
}  # fmt: skip


@pytest.fixture
def pg_source(pg_server):
    for url in stackoverflow_db(pg_server, "sluice_names", SCALE):
        execute(url, *EXTRA)
        yield url


def same_values(source: DbUrl, target: DbUrl) -> None:
    """Every table's rows, in key order, equal value by value (one text form per value)."""
    for table in TABLE_NAMES:
        theirs = rows(source, f'SELECT * FROM "{table}" ORDER BY "Id"')
        ours = rows(target, f"SELECT * FROM {snake(table)} ORDER BY id")
        assert len(ours) == len(theirs), table
        for a, b in zip(theirs, ours):
            assert [canonical(v) for v in a] == [canonical(v) for v in b], table


def copy_snake(source: DbUrl, target: DbUrl) -> None:
    """Copy with `--identifiers snake`; the target's tables, and each one's columns in order,
    are then the source's in snake_case."""
    result = copy_database(source, target, CopyOptions(workers=2, identifiers="snake"))
    assert result.ok, result.failures
    tables_sql, columns_sql = CATALOG[target.engine]
    assert sorted(t for (t,) in rows(target, tables_sql)) == sorted(snake(t) for t in TABLE_NAMES)
    for table in TABLE_NAMES:
        cols = rows(target, columns_sql, (snake(table),))
        assert [c for (c,) in cols] == [snake(c.name) for c in TABLES[table].columns], table


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sluice.cli", *args], capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def verify_and_sync(source: DbUrl, target: DbUrl) -> None:
    """`sluice verify --identifiers snake` matches (and without it the tables are missing);
    a sync after a source change moves exactly it; the replica then verifies equal."""
    ends = ["--source", source.render_secret(), "--target", target.render_secret()]
    done = cli("verify", *ends, "--identifiers", "snake")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "MATCH" in done.stdout and "MISMATCH" not in done.stdout
    wrong = cli("verify", *ends, "--no-checks")  # preserve: looks for "Posts", finds "posts"
    assert wrong.returncode != 0 and "missing" in wrong.stdout + wrong.stderr
    options = SyncOptions(identifiers="snake")
    assert moved(sync_database(source, target, options)) == {}, "nothing changed yet"
    expected = change_source(source)
    assert moved(sync_database(source, target, options)) == expected
    report = verify_database(source, target, VerifyOptions(identifiers="snake"))
    assert report.ok, [(t.name, t.error, t.mismatches) for t in report.tables if not t.ok]
    assert moved(sync_database(source, target, options)) == {}


def test_snake_postgres_to_postgres(pg_source, pg_db):
    copy_snake(pg_source, pg_db)
    keys = rows(pg_db, "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                       "FROM pg_constraint WHERE contype IN ('p', 'f') "
                       "AND connamespace = 'public'::regnamespace")  # fmt: skip
    found = {(t, n): d for t, n, d in keys}
    assert found[("posts", "pk_posts__id")] == "PRIMARY KEY (id)"
    assert found[("comments", "fk_comments_post_id")].startswith(
        "FOREIGN KEY (post_id) REFERENCES posts(id)")  # fmt: skip
    assert len([k for k in found if k[1].startswith("pk_")]) == len(TABLE_NAMES)
    indexes = dict(rows(pg_db, "SELECT indexname, indexdef FROM pg_indexes "
                               "WHERE schemaname = 'public'"))  # fmt: skip
    assert indexes["ix_posts_owner_user_id"].endswith("ON public.posts USING btree "
                                                      "(owner_user_id, creation_date)")  # fmt: skip
    assert "UNIQUE INDEX ux_vote_types_name" in indexes["ux_vote_types_name"]
    # sluice's own tables (the copy's ledger, ADR 0018) keep their names
    assert not [n for n in indexes if n != n.lower() and "_sluice_copy_" not in n]
    (seq,) = rows(pg_db, "SELECT pg_get_serial_sequence('posts', 'id')")[0]
    assert seq == "public.posts_id_seq"
    (top,) = rows(pg_db, "SELECT MAX(id) FROM vote_types")[0]
    with connect(pg_db) as conn, conn.transaction(force_rollback=True):  # max + 1 next
        (new,) = conn.execute("INSERT INTO vote_types (name) VALUES ('x') RETURNING id").fetchone()
    assert new == top + 1
    same_values(pg_source, pg_db)
    verify_and_sync(pg_source, pg_db)
    (watermark,) = rows(pg_db, "SELECT watermark FROM sluice_state WHERE table_name = 'Posts'")
    assert watermark  # the state row of the table, as the plan keys it
    same_values(pg_source, pg_db)


@pytest.mark.mysql
def test_snake_postgres_to_mariadb(pg_source, mysql_db):
    copy_snake(pg_source, mysql_db)
    stats = rows(mysql_db, "SELECT table_name, index_name, column_name, non_unique "
                           "FROM information_schema.statistics WHERE table_schema = DATABASE() "
                           "ORDER BY table_name, index_name, seq_in_index")  # fmt: skip
    by_index: dict[tuple[str, str], list[str]] = {}
    for t, ix, col, _ in stats:
        by_index.setdefault((t, ix), []).append(col)
    assert by_index[("posts", "PRIMARY")] == ["id"]
    assert by_index[("posts", "ix_posts_owner_user_id")] == ["owner_user_id", "creation_date"]
    assert by_index[("vote_types", "ux_vote_types_name")] == ["name"]
    refs = rows(mysql_db, "SELECT constraint_name, table_name, column_name, "
                          "referenced_table_name, referenced_column_name FROM "
                          "information_schema.key_column_usage WHERE table_schema = DATABASE() "
                          "AND referenced_table_name IS NOT NULL")  # fmt: skip
    assert refs == [("fk_comments_post_id", "comments", "post_id", "posts", "id")]
    (extra,) = rows(mysql_db, "SELECT extra FROM information_schema.columns WHERE "
                              "table_schema = DATABASE() AND table_name = 'posts' "
                              "AND column_name = 'id'")[0]  # fmt: skip
    assert "auto_increment" in extra
    same_values(pg_source, mysql_db)
    verify_and_sync(pg_source, mysql_db)
    same_values(pg_source, mysql_db)


def test_a_collision_is_refused_before_anything_is_written(pg_db, pg_server):
    for source in stackoverflow_db(pg_server, "sluice_clash", 1e-9):
        execute(source, 'ALTER TABLE "Badges" ADD COLUMN "user_id" integer',
                'CREATE TABLE "post_links" ("Id" integer PRIMARY KEY)')  # fmt: skip
        with pytest.raises(ConfigError) as err:
            copy_database(source, pg_db, CopyOptions(identifiers="snake"))
        text = str(err.value)
        assert "'UserId' and 'user_id' both become 'user_id'" in text
        assert "PostLinks and table post_links both become" in text and "'post_links'" in text
        assert rows(pg_db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]
        done = cli("plan", "--source", source.render_secret(), "--target",
                   pg_db.render_secret(), "--identifiers", "snake")  # fmt: skip
        assert done.returncode != 0 and "both become" in done.stdout + done.stderr
        assert sync_state.STATE.name == "sluice_state"
