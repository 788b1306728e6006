"""One classification of faults, per dialect, on the drivers' own exception objects: psycopg's
by SQLSTATE, PyMySQL's by error number (and its errors on a socket it dropped), pymssql-shaped
numbers, sqlite3's by result code. Retried exactly when the fault is retryable."""

from __future__ import annotations

import sqlite3

import pytest

from sluice.core import faults as f
from sluice.core.errors import TerminalError, TransientError
from sluice.core.faults import failure_line, fault_error
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect

RETRYABLE = {f.CONNECTION_LOST, f.SERVER_SHUTDOWN, f.SERVER_BUSY, f.DEADLOCK, f.SERIALIZATION}


def test_only_the_named_faults_are_retryable():
    assert {x for x in f.ALL if x.retryable} == RETRYABLE


@pytest.mark.parametrize(
    "sqlstate, fault",
    [
        ("08006", f.CONNECTION_LOST),  # connection_failure
        ("08003", f.CONNECTION_LOST),  # connection_does_not_exist
        ("57P01", f.SERVER_SHUTDOWN),  # pg_terminate_backend, fast shutdown
        ("57P02", f.SERVER_SHUTDOWN),  # crash_shutdown
        ("57P03", f.SERVER_SHUTDOWN),  # the database system is starting up
        ("40P01", f.DEADLOCK),
        ("40001", f.SERIALIZATION),
        ("55P03", f.LOCK_TIMEOUT),
        ("57014", f.STATEMENT_TIMEOUT),
        ("53100", f.DISK_FULL),
        ("53200", f.RESOURCE_LIMIT),  # out of memory
        ("53400", f.RESOURCE_LIMIT),  # temp_file_limit
        ("42501", f.PERMISSION),
        ("28P01", f.PERMISSION),  # password authentication failed
        ("23505", f.CONSTRAINT),
        ("23503", f.CONSTRAINT),
        ("22001", f.DATA),
        ("42P01", f.OTHER),  # undefined table
    ],
)
def test_postgresql(sqlstate, fault):
    import psycopg

    d = get_dialect("postgresql")
    exc = psycopg.errors.lookup(sqlstate)("message")
    assert exc.sqlstate == sqlstate
    assert d.classify_fault(exc) is fault
    assert d.classify_error(exc) is (TransientError if fault.retryable else TerminalError)


def test_postgresql_connection_lost_without_a_sqlstate():
    """psycopg's own 'the connection is lost' / 'consuming input failed' carry no SQLSTATE."""
    import psycopg

    d = get_dialect("postgresql")
    for exc in (psycopg.OperationalError("the connection is lost"),
                psycopg.OperationalError("consuming input failed: server closed the "
                                         "connection unexpectedly")):  # fmt: skip
        assert d.classify_fault(exc) is f.CONNECTION_LOST
    assert d.classify_fault(ConnectionResetError(104, "reset")) is f.CONNECTION_LOST
    assert d.classify_fault(psycopg.ProgrammingError("bad")) is f.OTHER
    assert d.classify_fault(ValueError("bad")) is f.OTHER


@pytest.mark.parametrize(
    "kind, code, fault",
    [
        ("OperationalError", 2013, f.CONNECTION_LOST),  # lost connection during query
        ("OperationalError", 2006, f.CONNECTION_LOST),  # server has gone away
        ("OperationalError", 2003, f.CONNECTION_LOST),  # can't connect (restarting)
        ("OperationalError", 1927, f.SERVER_SHUTDOWN),  # connection was killed
        ("OperationalError", 1053, f.SERVER_SHUTDOWN),  # server shutdown in progress
        ("OperationalError", 1213, f.DEADLOCK),
        ("OperationalError", 1205, f.LOCK_TIMEOUT),
        ("OperationalError", 1969, f.STATEMENT_TIMEOUT),  # max_statement_time
        ("OperationalError", 1021, f.DISK_FULL),
        ("OperationalError", 1114, f.DISK_FULL),  # the table is full
        ("OperationalError", 1041, f.RESOURCE_LIMIT),  # out of memory
        ("OperationalError", 1142, f.PERMISSION),  # command denied
        ("OperationalError", 1045, f.PERMISSION),  # access denied
        ("IntegrityError", 1062, f.CONSTRAINT),  # duplicate entry
        ("IntegrityError", 1452, f.CONSTRAINT),  # foreign key
        ("DataError", 1406, f.DATA),  # data too long
        ("ProgrammingError", 1146, f.OTHER),  # table does not exist
    ],
)
def test_mysql(kind, code, fault):
    import pymysql

    d = get_dialect("mysql")
    exc = getattr(pymysql.err, kind)(code, "message")
    assert d.classify_fault(exc) is fault
    assert d.classify_error(exc) is (TransientError if fault.retryable else TerminalError)


def test_mysql_storage_engine_out_of_space():
    import pymysql

    exc = pymysql.err.OperationalError(1030, 'Got error 28 "No space left on device" from '
                                             "storage engine InnoDB")  # fmt: skip
    assert get_dialect("mysql").classify_fault(exc) is f.DISK_FULL


def test_pymysql_errors_on_a_killed_connection_are_connection_lost(mysql_db):
    """The issue's `'NoneType' object has no attribute 'sendall'` and `InterfaceError(0, '')`,
    raised by PyMySQL itself on a real connection whose socket it dropped (as it does when a
    read fails after a KILL), then asked to send: a LOAD DATA stream's next packet, a query."""
    import pymysql

    d = get_dialect("mysql")
    conn = d.connect(mysql_db)
    conn._force_close()  # what PyMySQL does itself on 2013 (lost connection)
    with pytest.raises(AttributeError, match="'NoneType' object has no attribute") as info:
        conn._write_bytes(b"\x00")
    assert d.classify_fault(info.value) is f.CONNECTION_LOST
    assert d.classify_error(info.value) is TransientError
    with pytest.raises(pymysql.err.InterfaceError) as info2:
        conn.query("SELECT 1")
    assert info2.value.args == (0, "")
    assert d.classify_fault(info2.value) is f.CONNECTION_LOST
    # an AttributeError of our own (a bug) stays a bug: not retried
    try:
        None.sendall(b"x")  # type: ignore[union-attr]
    except AttributeError as exc:
        assert d.classify_fault(exc) is f.OTHER


@pytest.mark.parametrize(
    "number, fault",
    [
        (1205, f.DEADLOCK),  # deadlock victim
        (3960, f.SERIALIZATION),  # snapshot update conflict
        (1222, f.LOCK_TIMEOUT),
        (40501, f.SERVER_BUSY),  # throttled
        (10054, f.CONNECTION_LOST),
        (20047, f.CONNECTION_LOST),  # DBPROCESS is dead
        (1105, f.DISK_FULL),  # filegroup full
        (9002, f.DISK_FULL),  # log full
        (229, f.PERMISSION),
        (18456, f.PERMISSION),  # login failed
        (2627, f.CONSTRAINT),
        (547, f.CONSTRAINT),
        (8152, f.DATA),  # would be truncated
        (208, f.OTHER),  # invalid object name
    ],
)
def test_mssql(number, fault):
    pymssql = pytest.importorskip("pymssql")
    exc = pymssql.OperationalError(number, f"message. severity {14}".encode())
    assert get_dialect("mssql").classify_fault(exc) is fault


def test_mssql_fatal_severity_is_connection_lost():
    pymssql = pytest.importorskip("pymssql")
    exc = pymssql.OperationalError(824, b"I/O error. DB-Lib error message 20018, severity 24")
    assert get_dialect("mssql").classify_fault(exc) is f.CONNECTION_LOST


def test_sqlite(tmp_path):
    d = get_dialect("sqlite")
    conn = sqlite3.connect(tmp_path / "x.db")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    conn.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError) as info:
        conn.execute("INSERT INTO t VALUES (1)")
    assert d.classify_fault(info.value) is f.CONSTRAINT
    conn.commit()
    other = sqlite3.connect(tmp_path / "x.db", timeout=0)
    conn.execute("BEGIN EXCLUSIVE")
    with pytest.raises(sqlite3.OperationalError) as busy:
        other.execute("SELECT * FROM t")
    assert d.classify_fault(busy.value) is f.LOCK_TIMEOUT
    conn.rollback()
    with pytest.raises(sqlite3.OperationalError) as bad:
        conn.execute("SELECT * FROM missing")
    assert d.classify_fault(bad.value) is f.OTHER


def test_failure_line_names_side_host_table_chunk_state_and_advice():
    """The line a person reads: no driver text, no password, every fact."""
    url = DbUrl.parse("postgresql://me:s3cret@db.example:5433/replica")
    err = fault_error(f.CONNECTION_LOST, "Posts#5 (10, 20]: consuming input failed: server "
                      "closed the connection unexpectedly", side="target", url=url,
                      table="Posts", chunk="#5 (10, 20]", tries=5)  # fmt: skip
    err.with_facts(target_state="untouched (no table published; staging dropped)")
    line = failure_line(err)
    assert line == (
        "target db.example:5433/replica, table Posts, chunk #5 (10, 20]: the connection to "
        "the target was lost (5 tries); target: untouched (no table published; staging "
        "dropped); next: check that the target server is up and reachable, then run the same "
        "command again"
    )
    assert "s3cret" not in line and "me@" not in line
    assert "consuming input" in str(err)  # the detail stays for the log
    assert isinstance(err, TransientError)
    assert isinstance(fault_error(f.DISK_FULL, "x", side="target"), TerminalError)


@pytest.mark.parametrize(
    "message, comes_back",
    [
        ('connection to server at "h", port 5 failed: FATAL:  the database system is '
         "shutting down", True),
        ('connection to server at "h", port 5 failed: FATAL:  terminating connection due to '
         "administrator command", True),  # a fast shutdown just after the session was accepted
        ('connection to server at "h", port 5 failed: FATAL:  the database system is not yet '
         "accepting connections", True),
        ('connection to server at "h", port 5 failed: Connection refused', True),  # no answer
        ('connection to server at "h", port 5 failed: FATAL:  password authentication failed '
         'for user "u"', False),
        ('connection to server at "h", port 5 failed: FATAL:  database "x" does not exist', False),
    ],
)  # fmt: skip
def test_postgres_connect_failures_worth_another_try(message, comes_back):
    from sluice.core.errors import ServerUnavailable
    from sluice.dialects.postgresql_liveness import connect_error

    err = connect_error(DbUrl.parse("postgresql://u:secret@h:5/x"), Exception(message))
    assert isinstance(err, ServerUnavailable) is comes_back
