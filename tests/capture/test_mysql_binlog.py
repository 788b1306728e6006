"""MySQL/MariaDB change capture from the binlog (dialects/mysql_capture.py) on a MariaDB of
the tests' own with log_bin on: what `capture_changes` yields equals what the dialect's
reader (`read_range`) returns for the same rows, transactions end with one Commit each,
`limit` cuts at commits and a resume yields the rest once, partial row images, DDL, and
the errors that say what the server must allow. Rows are written with PyMySQL directly
(tests.independent)."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pymysql
import pytest

from sluice.copy.reflect import reflect_tables
from sluice.core.changes import Change, Commit
from sluice.core.errors import ConfigError
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect
from tests import independent as ind

MY = get_dialect("mysql")
NAME = "replica_one"

VALUES_DDL = """CREATE TABLE vals (
  id INT PRIMARY KEY, ti TINYINT, su SMALLINT UNSIGNED, mi MEDIUMINT, bu BIGINT UNSIGNED,
  bs BIGINT, d65 DECIMAL(65,30), d10 DECIMAL(10,2), f FLOAT, db DOUBLE, b1 BIT(1),
  b10 BIT(10), b64 BIT(64), dd DATE, dt0 DATETIME, dt6 DATETIME(6), ts6 TIMESTAMP(6) NULL,
  t0 TIME, t2 TIME(2), t6 TIME(6), y YEAR, c10 CHAR(10), vc VARCHAR(3000),
  l1 VARCHAR(20) CHARACTER SET latin1, tx TEXT, lt LONGTEXT, bn BINARY(8),
  vb VARBINARY(100), bl BLOB, lb LONGBLOB, en ENUM('a','bé','c'), st SET('x','y','zz'),
  js JSON
)"""
LONG = "ü€𝄞" * 1000  # multi-byte text well over 2 kB
ROWS = [
    # extremes and hostile values
    "(1, -128, 65535, -8388608, 18446744073709551615, -9223372036854775808, "
    "'12345678901234567890123456789012345.123456789012345678901234567891', -99999999.99, "
    "3.4e38, -1.7976931348623157e308, b'1', b'1000000001', b'1111111111111111111111111111111111"
    "111111111111111111111111111111', '9999-12-31', '1000-01-01 00:00:00', "
    "'2024-02-29 23:59:59.999999', '2038-01-19 03:14:07.999999', '-838:59:59', "
    "'-00:00:00.01', '-12:34:56.000001', 2155, 'pad  ', "
    f"'{LONG}', 'é€ÿ', '{LONG}', '{LONG * 3}', x'00ff0000', x'000102', x'00', x'0000ff00', "
    "'bé', 'x,zz', '{\"k\": [1, 2.5, \"é\"], \"n\": null}')",
    # every nullable column NULL
    "(2" + ", NULL" * 32 + ")",
    # zero dates, empties, smallest values
    "(3, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'0', b'0', b'0', '0000-00-00', '2020-00-15 10:00:00', "
    "'0000-00-00 00:00:00', '0000-00-00 00:00:00', '00:00:00', '838:59:59.99', "
    "'-00:00:01.5', 0, '', '', '', '', '', '', '', '', '', '', '', '[]')",
]


@pytest.fixture(scope="module")
def db(binlog_mariadb) -> DbUrl:
    base = binlog_mariadb.url
    ind.execute(base, "DROP DATABASE IF EXISTS cdc", "CREATE DATABASE cdc")
    return DbUrl.parse(f"mysql+pymysql://root@127.0.0.1:{binlog_mariadb.port}/cdc")


def table(url: DbUrl, name: str):
    (t,) = reflect_tables(url, [name])
    return t


def read_all(url: DbUrl, t) -> dict:
    """The reader's rows (before decode_converters), by key."""
    conn = MY.connect(url)
    try:
        MY.begin_read(conn)
        rows = [r for batch in MY.read_range(conn, t, None, None, 100) for r in batch]
        conn.rollback()
    finally:
        conn.close()
    cols = t.column_names
    return {tuple(r[cols.index(k)] for k in t.primary_key): dict(zip(cols, r)) for r in rows}


def changes(url: DbUrl, tables, after: str, limit: int = 10**9) -> list:
    return list(MY.capture_changes(url, NAME, tables, after, limit))


def test_values_equal_the_readers(db: DbUrl) -> None:
    ind.execute(db, "DROP TABLE IF EXISTS vals", VALUES_DDL)
    t = table(db, "vals")
    start = MY.capture_start(db, NAME, [t])
    ind.execute(db, *(f"INSERT INTO vals VALUES {r}" for r in ROWS), sql_mode="")
    got = changes(db, [t], start)
    read = read_all(db, t)
    inserted = [c for c in got if isinstance(c, Change)]
    assert [c.op for c in inserted] == ["upsert"] * 3
    for c in inserted:
        expected = read[(c.values["id"],)]
        assert set(c.values) == set(expected) and c.key == (c.values["id"],)
        for col, value in expected.items():  # one column at a time: the failure names it
            assert (col, c.values[col]) == (col, value)
            assert type(c.values[col]) is type(value), col
    # the hostile values really are in the table (not both sides None)
    assert read[(1,)]["bu"] == 2**64 - 1 and read[(1,)]["vc"] == LONG
    assert read[(1,)]["d65"] == Decimal(
        "12345678901234567890123456789012345.123456789012345678901234567891"
    )
    assert read[(1,)]["t2"] == -dt.timedelta(microseconds=10_000)
    assert read[(3,)]["dd"] == "0000-00-00" and read[(1,)]["bn"] == b"\x00\xff" + b"\x00" * 6

    # updates (to NULL, from NULL, zero dates to dates) and a delete, in one read
    after_insert = got[-1].position
    ind.execute(
        db,
        "UPDATE vals SET vc = NULL, js = '{\"a\": 1}', dd = '2020-01-01', y = 0, st = '', "
        "t6 = '838:59:59.999999', bn = x'01' WHERE id = 1",
        "UPDATE vals SET vc = 'back', bu = 1, en = 'c', b10 = b'0000000011' WHERE id = 2",
        "UPDATE vals SET dd = '0000-00-00', dt6 = '2020-00-00 00:00:00.5' WHERE id = 3",
        sql_mode="",
    )
    got = changes(db, [t], after_insert)
    read = read_all(db, t)
    updated = [c for c in got if isinstance(c, Change)]
    assert [c.op for c in updated] == ["upsert"] * 3
    for c in updated:
        assert c.values == read[(c.values["id"],)]
    assert read[(1,)]["st"] == "" and read[(1,)]["vc"] is None and read[(3,)]["y"] == 0
    ind.execute(db, "DELETE FROM vals WHERE id IN (1, 3)")
    got = changes(db, [t], got[-1].position)
    assert [(c.op, c.key) for c in got if isinstance(c, Change)] == [
        ("delete", (1,)), ("delete", (3,))
    ]  # fmt: skip


def test_transaction_order_and_one_commit(db: DbUrl) -> None:
    ind.execute(db, "DROP TABLE IF EXISTS tx",
                "CREATE TABLE tx (a INT, b VARCHAR(10), v TEXT, PRIMARY KEY (b, a))")  # fmt: skip
    t = table(db, "tx")
    start = MY.capture_start(db, NAME, [t])
    with ind.cursor(db) as cur:
        cur.execute("BEGIN")
        cur.execute("INSERT INTO tx VALUES (1, 'k', 'one')")
        for v in ("two", None, "three"):
            cur.execute("UPDATE tx SET v = %s WHERE a = 1", (v,))
        cur.execute("UPDATE tx SET a = 2 WHERE a = 1")  # a new key
        cur.execute("COMMIT")
        cur.execute("INSERT INTO tx VALUES (5, 'z', 'alone')")  # its own transaction
    got = changes(db, [t], start)
    assert [type(c).__name__ for c in got] == ["Change"] * 6 + ["Commit"] + ["Change", "Commit"]
    assert [c.values.get("v") for c in got[:4]] == ["one", "two", None, "three"]
    assert (got[4].op, got[4].key) == ("delete", ("k", 1))  # key in primary-key order
    assert (got[5].key, got[5].values) == (("k", 2), {"a": 2, "b": "k", "v": "three"})
    assert all(isinstance(c.at, dt.datetime) and c.at.tzinfo for c in (got[6], got[8]))
    assert MY.position_order(got[6].position) < MY.position_order(got[8].position)
    # nothing new: no change, no commit
    assert changes(db, [t], got[-1].position) == []


def test_limit_splits_at_commits_and_resumes_once(db: DbUrl) -> None:
    ind.execute(db, "DROP TABLE IF EXISTS lim", "CREATE TABLE lim (id INT PRIMARY KEY, n INT)")
    t = table(db, "lim")
    start = MY.capture_start(db, NAME, [t])
    with ind.cursor(db) as cur:
        for tx in range(10):  # 10 transactions of 3 rows
            cur.execute("BEGIN")
            for i in range(3):
                cur.execute("INSERT INTO lim VALUES (%s, %s)", (tx * 3 + i, tx))
            cur.execute("COMMIT")
    seen, position, batches = [], start, []
    while True:
        batch = changes(db, [t], position, limit=4)
        if not batch:
            break
        assert isinstance(batch[-1], Commit)
        batches.append(sum(isinstance(c, Change) for c in batch))
        seen += [c.values["id"] for c in batch if isinstance(c, Change)]
        position = batch[-1].position
    assert batches == [6, 6, 6, 6, 6]  # 4 changes reached inside the second transaction
    assert seen == list(range(30))


def test_minimal_row_image_gives_partial_values(db: DbUrl) -> None:
    ind.execute(db, "DROP TABLE IF EXISTS mini",
                "CREATE TABLE mini (id INT PRIMARY KEY, a TEXT, b INT, c BLOB)",
                "INSERT INTO mini VALUES (1, 'x', 1, x'00')")  # fmt: skip
    t = table(db, "mini")
    start = MY.capture_start(db, NAME, [t])
    with ind.cursor(db) as cur:
        cur.execute("SET SESSION binlog_row_image = 'MINIMAL'")
        cur.execute("UPDATE mini SET b = 2 WHERE id = 1")
        cur.execute("UPDATE mini SET id = 7 WHERE id = 1")
        cur.execute("DELETE FROM mini WHERE id = 7")
    got = [c for c in changes(db, [t], start) if isinstance(c, Change)]
    assert [(c.op, c.key, c.values) for c in got] == [
        ("upsert", (1,), {"id": 1, "b": 2}),
        ("delete", (1,), {}),
        ("upsert", (7,), {"id": 7}),
        ("delete", (7,), {}),
    ]


def test_errors_say_what_to_set(db: DbUrl, binlog_mariadb) -> None:
    # the machine's MariaDB service: log_bin off
    service = DbUrl.parse("mysql+pymysql://root@127.0.0.1:3306/mysql")
    if ind.rows(service, "SELECT @@log_bin")[0][0]:
        pytest.skip("the MariaDB service at 3306 writes a binlog")
    with pytest.raises(ConfigError, match=r"log_bin=OFF: start the server with log_bin"):
        MY.capture_start(service, NAME, [])
    ind.execute(db, "SET GLOBAL binlog_format = 'MIXED'")
    try:
        with pytest.raises(ConfigError, match=r"binlog_format=MIXED: set binlog_format=ROW"):
            MY.capture_start(db, NAME, [])
    finally:
        ind.execute(db, "SET GLOBAL binlog_format = 'ROW'")
    ind.execute(
        db, "DROP USER IF EXISTS reader@'%'", "CREATE USER reader@'%' IDENTIFIED BY 's3cret'",
        "GRANT SELECT ON cdc.* TO reader@'%'",
    )  # fmt: skip
    reader = DbUrl.parse(f"mysql+pymysql://reader:s3cret@127.0.0.1:{binlog_mariadb.port}/cdc")
    with pytest.raises(ConfigError, match=r"GRANT BINLOG MONITOR .*ON \*\.\* TO 'reader'") as e:
        MY.capture_start(reader, NAME, [])
    assert "s3cret" not in str(e.value)
    ind.execute(db, "GRANT BINLOG MONITOR ON *.* TO reader@'%'")
    with pytest.raises(ConfigError, match=r"GRANT REPLICATION SLAVE ON \*\.\* TO 'reader'"):
        MY.capture_start(reader, NAME, [])
    ind.execute(db, "GRANT REPLICATION SLAVE ON *.* TO reader@'%'")
    assert MY.position_order(MY.capture_start(reader, NAME, []))[1] > 0


def test_truncate_then_drop(db: DbUrl) -> None:
    ind.execute(db, "DROP TABLE IF EXISTS gone", "CREATE TABLE gone (id INT PRIMARY KEY)",
                "DROP TABLE IF EXISTS other",
                "CREATE TABLE other (id INT PRIMARY KEY)")  # fmt: skip
    t = table(db, "gone")
    start = MY.capture_start(db, NAME, [t])
    ind.execute(db, "INSERT INTO gone VALUES (1)", "TRUNCATE TABLE gone",
                "ALTER TABLE gone ADD COLUMN extra INT", "INSERT INTO gone VALUES (2, 20)",
                "TRUNCATE TABLE other", "DROP TABLE other", "DROP TABLE gone")  # fmt: skip
    got, error = [], None
    try:
        for c in MY.capture_changes(db, NAME, [t], start, 10**9):
            got.append(c)
    except ConfigError as exc:
        error = str(exc)
    assert [(type(c).__name__, getattr(c, "op", None)) for c in got] == [
        ("Change", "upsert"), ("Commit", None), ("Change", "truncate"), ("Commit", None),
        ("Change", "upsert"), ("Commit", None),
    ]  # fmt: skip
    assert got[4].values == {"id": 2, "extra": 20}  # a new column: carried on
    assert error is not None and error.startswith("gone: the source table was dropped")
    # resuming after the last commit meets the DROP again, at once
    with pytest.raises(ConfigError, match="gone: the source table was dropped"):
        changes(db, [t], got[-1].position)


def test_key_change_stops(db: DbUrl) -> None:
    ind.execute(db, "DROP TABLE IF EXISTS rekey", "CREATE TABLE rekey (id INT PRIMARY KEY, b INT)")
    t = table(db, "rekey")
    start = MY.capture_start(db, NAME, [t])
    ind.execute(db, "ALTER TABLE rekey DROP PRIMARY KEY, ADD PRIMARY KEY (b)")
    with pytest.raises(ConfigError, match=r"rekey: an ALTER TABLE changed its primary key"):
        changes(db, [t], start)


def test_status_lag_and_purged_position(db: DbUrl) -> None:
    ind.execute(db, "DROP TABLE IF EXISTS lag", "CREATE TABLE lag (id INT PRIMARY KEY, v TEXT)")
    t = table(db, "lag")
    start = MY.capture_start(db, NAME, [t])
    assert MY.capture_status(db, NAME, start).lag_bytes == 0
    ind.execute(db, "INSERT INTO lag VALUES (1, REPEAT('x', 5000))")
    status = MY.capture_status(db, NAME, start)
    assert status.exists and status.lag_bytes > 5000 and status.current != start
    assert MY.capture_stop(db, NAME) is False
    MY.capture_confirm(db, NAME, start)  # nothing to free: no error
    # the server moves to a new file and purges the old ones: the position is gone
    ind.execute(db, "FLUSH BINARY LOGS")
    (current,) = ind.rows(db, "SHOW MASTER STATUS")
    end = time.monotonic() + 30
    while start.split(":")[0] in [r[0] for r in ind.rows(db, "SHOW BINARY LOGS")]:
        # MariaDB keeps a file until InnoDB's binlog checkpoint has passed it
        assert time.monotonic() < end, "the server kept the old binlog file"
        ind.execute(db, f"PURGE BINARY LOGS TO '{current[0]}'")
        time.sleep(0.2)
    status = MY.capture_status(db, NAME, start)
    assert not status.exists and "was purged" in status.detail and "copy" in status.detail
    with pytest.raises(ConfigError, match="no longer on the MySQL source"):
        changes(db, [t], start)


def test_dropped_connection_surfaces_for_classify_fault(db: DbUrl) -> None:
    """A server that is not there: PyMySQL's error comes through unwrapped, and the
    dialect classifies it as a fault to retry."""
    gone = DbUrl.parse("mysql+pymysql://root@127.0.0.1:9/cdc")
    with pytest.raises(pymysql.err.OperationalError) as e:
        changes(gone, [], "binlog.000001:4")
    assert MY.classify_fault(e.value).retryable


def test_statement_format_rows_and_keyless_tables_are_refused(db: DbUrl) -> None:
    ind.execute(db, "DROP TABLE IF EXISTS stmt", "CREATE TABLE stmt (id INT PRIMARY KEY)",
                "DROP TABLE IF EXISTS nokey", "CREATE TABLE nokey (v INT)")  # fmt: skip
    t = table(db, "stmt")
    with pytest.raises(ConfigError, match="need a primary key|needs a primary key.*: nokey"):
        MY.capture_start(db, NAME, [t, table(db, "nokey")])
    start = MY.capture_start(db, NAME, [t])
    with ind.cursor(db) as cur:
        cur.execute("INSERT INTO stmt VALUES (1)")
        cur.execute("SET SESSION binlog_format = 'STATEMENT'")
        cur.execute("INSERT INTO stmt VALUES (2)")
    got = []
    with pytest.raises(ConfigError, match="stmt: a change was written to the binlog as a stat"):
        for c in MY.capture_changes(db, NAME, [t], start, 10**9):
            got.append(c)
    assert [getattr(c, "values", None) for c in got] == [{"id": 1}, None]  # then the stop
