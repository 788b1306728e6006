"""SQL Server change capture through Change Tracking, against a real server
(`SLUICE_TEST_MSSQL_URL`, e.g. mssql+pymssql://sa:Passw0rd!@127.0.0.1:1433/master; the login
creates and drops a scratch database). Skipped without the variable: no SQL Server runs here,
so this file has never been run by sluice's own CI.

Writes go through an independent pymssql connection (autocommit), and every expectation is
read back the same way: the changes `capture_changes` yields, applied to the rows read before
the capture started, must give the rows read after, at the version it reports. The CDC
test also needs SQL Server Agent running (Docker: -e MSSQL_AGENT_ENABLED=true), and skips
with that reason when its capture job delivers nothing.
"""

from __future__ import annotations

import os
import re
import time
import uuid
import warnings
from collections.abc import Iterator

import pytest

from sluice.core.changes import Change, Commit
from sluice.core.errors import ConfigError
from sluice.core.schema import Column, Table
from sluice.core.types import Kind, SqlType
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect

pytestmark = pytest.mark.mssql

ENV = "SLUICE_TEST_MSSQL_URL"
MSSQL = get_dialect("mssql")
INT, TEXT, XML = SqlType(Kind.INTEGER), SqlType(Kind.STRING, length=None), SqlType(Kind.XML)

ITEMS = Table(
    "items",
    (Column("id", INT, False), Column("name", TEXT), Column("doc", XML)),
    ("id",),
)
LINES = Table(
    "line items]",
    (Column("order_id", INT, False), Column("line_no", INT, False), Column("qty", INT)),
    ("order_id", "line_no"),
    schema="sales",
)
READ = {  # the independent read of each table, in the columns' order, xml as text
    "items": "SELECT id, name, CAST(doc AS nvarchar(max)) FROM dbo.items",
    "sales.line items]": "SELECT order_id, line_no, qty FROM sales.[line items]]]",
}


def connect(url: DbUrl):
    import pymssql

    u = url.url
    return pymssql.connect(server=u.host, port=str(u.port or 1433), user=u.username,
                           password=url.password or "", database=url.database,
                           autocommit=True, tds_version="7.4")  # fmt: skip


def run(url: DbUrl, *statements: str) -> None:
    conn = connect(url)
    try:
        cur = conn.cursor()
        for stmt in statements:
            cur.execute(stmt)
    finally:
        conn.close()


def scalar(url: DbUrl, sql: str):
    conn = connect(url)
    try:
        cur = conn.cursor()
        cur.execute(sql)
        return cur.fetchone()[0]
    finally:
        conn.close()


def contents(url: DbUrl) -> dict[str, dict[tuple, tuple]]:
    """Every row of both tables, by table key and then by primary key."""
    conn = connect(url)
    try:
        cur, out = conn.cursor(), {}
        for table in (ITEMS, LINES):
            cur.execute(READ[table.key])
            by_key = {}
            for row in cur.fetchall():  # a handful of rows
                named = dict(zip(table.column_names, row))
                by_key[tuple(named[k] for k in table.primary_key)] = tuple(row)
            out[table.key] = by_key
        return out
    finally:
        conn.close()


def apply(rows: dict[str, dict[tuple, tuple]], changes: list) -> dict:
    """The changes applied to a copy of `rows`, as a replica would apply them."""
    out = {k: dict(v) for k, v in rows.items()}
    tables = {t.key: t for t in (ITEMS, LINES)}
    for change in changes:
        if isinstance(change, Commit):
            continue
        if change.op == "delete":
            out[change.table].pop(change.key, None)
        else:
            cols = tables[change.table].column_names
            assert set(change.values) == set(cols)  # Change Tracking carries every column
            out[change.table][change.key] = tuple(change.values[c] for c in cols)
    return out


@pytest.fixture
def scratch() -> Iterator[DbUrl]:
    text = os.environ.get(ENV)
    if not text:
        pytest.skip(f"{ENV} is not set (e.g. mssql+pymssql://sa:Passw0rd!@127.0.0.1:1433/master)")
    server = DbUrl.parse(text)
    url = server.with_database(f"sluice_ct_{uuid.uuid4().hex[:10]}")
    db = MSSQL.quote(url.database)
    master = server.with_database("master")
    run(master, f"CREATE DATABASE {db}")
    run(url, "CREATE TABLE dbo.items (id int PRIMARY KEY, name nvarchar(max), doc xml)",
        "CREATE SCHEMA sales",
        "CREATE TABLE sales.[line items]]] (order_id int NOT NULL, line_no int NOT NULL, "
        "qty int, PRIMARY KEY (order_id, line_no))",
        "INSERT INTO dbo.items VALUES (1, N'one', N'<a>1</a>'), (2, N'two', NULL), "
        "(3, N'three', NULL)",
        "INSERT INTO sales.[line items]]] VALUES (1, 1, 10), (1, 2, 20)")  # fmt: skip
    yield url
    try:  # CDC's capture and cleanup jobs go with sp_cdc_disable_db, not with the database
        run(url, "IF (SELECT is_cdc_enabled FROM sys.databases WHERE database_id = DB_ID()) = 1 "
            "EXEC sys.sp_cdc_disable_db")  # fmt: skip
        run(master, f"ALTER DATABASE {db} SET SINGLE_USER WITH ROLLBACK IMMEDIATE",
            f"DROP DATABASE {db}")  # fmt: skip
    except Exception as exc:  # cleanup only: a leftover database must not fail the run
        warnings.warn(f"could not drop {url.database}: {exc}", stacklevel=1)


def enable(url: DbUrl) -> None:
    db = MSSQL.quote(url.database)
    run(url, f"ALTER DATABASE {db} SET ALLOW_SNAPSHOT_ISOLATION ON",
        MSSQL.enable_tracking_sql(url.database),
        MSSQL.track_table_sql(ITEMS), MSSQL.track_table_sql(LINES))  # fmt: skip


def test_start_names_what_the_source_must_allow(scratch):
    with pytest.raises(ConfigError) as err:
        MSSQL.capture_start(scratch, "replica", [ITEMS, LINES])
    text = str(err.value)
    assert MSSQL.enable_tracking_sql(scratch.database) in text
    assert "ALLOW_SNAPSHOT_ISOLATION ON" in text
    assert MSSQL.track_table_sql(LINES) in text
    enable(scratch)
    run(scratch, MSSQL.track_table_sql(LINES).replace("ENABLE", "DISABLE"))
    with pytest.raises(ConfigError) as err:
        MSSQL.capture_start(scratch, "replica", [ITEMS, LINES])
    assert MSSQL.track_table_sql(LINES) in str(err.value)
    assert MSSQL.track_table_sql(ITEMS) not in str(err.value)


def test_changes_bring_the_rows_before_to_the_rows_after(scratch):
    enable(scratch)
    start = MSSQL.capture_start(scratch, "replica", [ITEMS, LINES])
    assert int(start) == scalar(scratch, "SELECT CHANGE_TRACKING_CURRENT_VERSION()")
    before = contents(scratch)
    long_text = "x" * 5000
    run(scratch,
        "INSERT INTO dbo.items VALUES (4, N'four', N'<b/>')",
        f"UPDATE dbo.items SET name = N'{long_text}' WHERE id = 1",
        "UPDATE dbo.items SET name = NULL WHERE id = 2",
        "DELETE FROM dbo.items WHERE id = 3",
        "BEGIN TRAN; UPDATE dbo.items SET name = N'a' WHERE id = 4; "
        "UPDATE dbo.items SET name = N'b' WHERE id = 4; COMMIT",
        "INSERT INTO dbo.items VALUES (5, N'gone', NULL)",
        "DELETE FROM dbo.items WHERE id = 5",
        "UPDATE sales.[line items]]] SET qty = 11 WHERE order_id = 1 AND line_no = 1",
        "DELETE FROM sales.[line items]]] WHERE order_id = 1 AND line_no = 2",
        "INSERT INTO sales.[line items]]] VALUES (2, 1, 5)")  # fmt: skip
    after = contents(scratch)
    version = scalar(scratch, "SELECT CHANGE_TRACKING_CURRENT_VERSION()")
    changes = list(MSSQL.capture_changes(scratch, "replica", [ITEMS, LINES], start, 1))
    assert changes[-1] == Commit(str(version))
    assert not any(isinstance(c, Commit) for c in changes[:-1])  # one batch: the interval
    assert apply(before, changes) == after
    keys = {(c.table, c.key) for c in changes if isinstance(c, Change)}
    assert ("items", (3,)) in keys and ("sales.line items]", (1, 2)) in keys
    # nothing new: the end of the log, nothing yielded
    again = list(MSSQL.capture_changes(scratch, "replica", [ITEMS, LINES], str(version), 10))
    assert again == []
    status = MSSQL.capture_status(scratch, "replica")
    assert status.exists and status.current == str(version)


def test_history_lost_names_the_table(scratch):
    enable(scratch)
    start = MSSQL.capture_start(scratch, "replica", [ITEMS, LINES])
    run(scratch, "UPDATE dbo.items SET name = N'later' WHERE id = 1")
    # switching tracking off and on again drops the table's history, as cleanup would
    run(scratch, MSSQL.track_table_sql(ITEMS).replace("ENABLE", "DISABLE"),
        MSSQL.track_table_sql(ITEMS))  # fmt: skip
    with pytest.raises(ConfigError, match=r"table \[dbo\]\.\[items\]: changes before version"):
        list(MSSQL.capture_changes(scratch, "replica", [ITEMS, LINES], start, 10))


# --- CDC, where the database owner switched it on (SQL Server Agent runs its capture job) ---


def wait_for(check, seconds: float = 60.0):
    """`check()`'s first answer that is not None, asked once a second."""
    deadline = time.monotonic() + seconds
    while True:
        answer = check()
        if answer is not None or time.monotonic() > deadline:
            return answer
        time.sleep(1)


def test_cdc_changes_come_per_transaction_in_commit_order(scratch):
    run(scratch, "EXEC sys.sp_cdc_enable_db",
        "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'items', "
        "@role_name = NULL",
        "EXEC sys.sp_cdc_enable_table @source_schema = N'sales', "
        "@source_name = N'line items]', @role_name = NULL")  # fmt: skip

    def started():
        try:
            return MSSQL.capture_start(scratch, "replica", [ITEMS, LINES])
        except ConfigError as exc:
            assert "SQL Server Agent" in str(exc), exc  # nothing captured yet, nothing else
            return None

    start = wait_for(started)
    if start is None:
        pytest.skip("SQL Server Agent does not run CDC's capture job on this server")
    assert re.fullmatch(r"0x[0-9A-F]{20}", start)  # CDC chosen: every table is captured
    before = contents(scratch)
    run(scratch,
        "INSERT INTO dbo.items VALUES (4, N'four', N'<b/>')",
        "BEGIN TRAN; UPDATE dbo.items SET name = N'a' WHERE id = 4; "
        "DELETE FROM sales.[line items]]] WHERE order_id = 1 AND line_no = 2; COMMIT",
        "UPDATE dbo.items SET name = NULL WHERE id = 2",
        "DELETE FROM dbo.items WHERE id = 3")  # fmt: skip
    after = contents(scratch)

    def caught_up():
        changes = list(MSSQL.capture_changes(scratch, "replica", [ITEMS, LINES], start, 1000))
        return changes if apply(before, changes) == after else None

    changes = wait_for(caught_up)
    assert changes is not None, "CDC did not deliver the changes within 60 s"
    commits = [c.position for c in changes if isinstance(c, Commit)]
    assert commits == sorted(commits, key=MSSQL.position_order)
    # the two-statement transaction: its two changes, then its own Commit
    i = changes.index(Change("sales.line items]", "delete", (1, 2)))
    assert isinstance(changes[i + 1], Commit) and changes[i - 1].table == "items"
    # a limit of 1 stops at the first transaction's commit
    first = list(MSSQL.capture_changes(scratch, "replica", [ITEMS, LINES], start, 1))
    assert isinstance(first[-1], Commit) and sum(isinstance(c, Commit) for c in first) == 1
