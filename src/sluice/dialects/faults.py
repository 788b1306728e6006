"""Each engine's driver errors sorted into `sluice.core.faults` (mostly data: codes to faults),
and the queries that name a session holding a lock.

A dialect's `classify_fault` calls its function here; whether a fault is retried follows from
the fault alone (`Fault.retryable`), so every engine retries the same kinds of fault.
"""

from __future__ import annotations

import logging
from typing import Any

from sluice.core import faults as f

log = logging.getLogger(__name__)

# PostgreSQL: SQLSTATE (exact, then its two-character class) -> fault
PG_STATES: dict[str, f.Fault] = {
    "08": f.CONNECTION_LOST,  # connection exception
    "57P01": f.SERVER_SHUTDOWN,  # admin_shutdown: pg_terminate_backend or a fast shutdown
    "57P02": f.SERVER_SHUTDOWN,  # crash_shutdown: another backend crashed, all are reset
    "57P03": f.SERVER_SHUTDOWN,  # cannot_connect_now: starting up or shutting down
    "57P05": f.CONNECTION_LOST,  # idle_session_timeout
    "40P01": f.DEADLOCK,
    "40001": f.SERIALIZATION,
    "55P03": f.LOCK_TIMEOUT,  # lock_not_available: lock_timeout, NOWAIT
    "57014": f.STATEMENT_TIMEOUT,  # query_canceled: statement_timeout or a cancel
    "53100": f.DISK_FULL,
    "53": f.RESOURCE_LIMIT,  # out of memory, temp_file_limit, too many connections
    "54": f.RESOURCE_LIMIT,  # program limit exceeded
    "42501": f.PERMISSION,
    "28": f.PERMISSION,  # invalid authorization
    "23": f.CONSTRAINT,
    "22": f.DATA,
}

# MySQL / MariaDB (PyMySQL's first argument): error number -> fault
MYSQL_CODES: dict[int, f.Fault] = {
    **dict.fromkeys((2006, 2013, 2055, 2003, 2002), f.CONNECTION_LOST),  # gone, lost, can't
    **dict.fromkeys((1053, 1927, 1152, 1184), f.SERVER_SHUTDOWN),  # shutdown, killed, aborted
    1213: f.DEADLOCK,
    1020: f.SERIALIZATION,  # record changed since last read
    1205: f.LOCK_TIMEOUT,  # innodb_lock_wait_timeout and lock_wait_timeout (metadata)
    **dict.fromkeys((1969, 3024, 1317), f.STATEMENT_TIMEOUT),  # max_statement_time, killed
    **dict.fromkeys((1021, 1114), f.DISK_FULL),  # disk full, table is full
    **dict.fromkeys((1037, 1038, 1041, 1226, 1040), f.RESOURCE_LIMIT),  # memory, limits
    **dict.fromkeys((1044, 1045, 1142, 1143, 1227, 1370, 1698, 1211), f.PERMISSION),
    **dict.fromkeys(
        (1062, 1451, 1452, 1048, 1216, 1217, 1557, 1586, 3819, 4025), f.CONSTRAINT
    ),  # fmt: skip
    **dict.fromkeys((1264, 1265, 1292, 1366, 1367, 1406, 1411), f.DATA),
}
# PyMySQL's own errors when the socket it held is gone: it set `_sock` / `_rfile` to None
# (then `'NoneType' object has no attribute 'sendall'`), or says InterfaceError(0, '').
_PYMYSQL_DEAD_SOCKET = ("sendall", "recv_into", "read", "settimeout", "write", "makefile")

# SQL Server (pymssql's message number) -> fault; severity 20 and above closes the connection
MSSQL_NUMBERS: dict[int, f.Fault] = {
    1205: f.DEADLOCK,
    3960: f.SERIALIZATION,  # snapshot isolation update conflict
    1222: f.LOCK_TIMEOUT,
    **dict.fromkeys(
        (1204, 701, 8645, 8651, 40197, 40501, 40613, 49918, 49919, 49920, 10928, 10929, 4221),
        f.SERVER_BUSY,
    ),  # busy, throttled, failing over
    **dict.fromkeys(
        (233, 64, 121, 10053, 10054, 10060, 20003, 20004, 20006, 20009, 20017, 20047),
        f.CONNECTION_LOST,
    ),  # fmt: skip
    **dict.fromkeys((1105, 9002), f.DISK_FULL),  # filegroup full, log full
    **dict.fromkeys((229, 230, 262, 297, 300, 916, 18456), f.PERMISSION),
    **dict.fromkeys((2627, 2601, 547, 515), f.CONSTRAINT),
    **dict.fromkeys((242, 245, 2628, 8114, 8115, 8152), f.DATA),
}

# SQLite (`sqlite_errorcode` & 0xff, the primary result code) -> fault
SQLITE_CODES: dict[int, f.Fault] = {
    5: f.LOCK_TIMEOUT,  # SQLITE_BUSY: another connection holds the database past the timeout
    6: f.LOCK_TIMEOUT,  # SQLITE_LOCKED
    13: f.DISK_FULL,  # SQLITE_FULL
    7: f.RESOURCE_LIMIT,  # SQLITE_NOMEM
    3: f.PERMISSION,  # SQLITE_PERM
    8: f.PERMISSION,  # SQLITE_READONLY
    23: f.PERMISSION,  # SQLITE_AUTH
    19: f.CONSTRAINT,
    18: f.DATA,  # SQLITE_TOOBIG
    20: f.DATA,  # SQLITE_MISMATCH
}


def network(exc: BaseException) -> f.Fault | None:
    """A socket that broke under any driver."""
    return f.CONNECTION_LOST if isinstance(exc, f.NETWORK_ERRORS) else None


def postgres(exc: BaseException) -> f.Fault:
    state = getattr(exc, "sqlstate", None) or ""
    if state:
        return PG_STATES.get(state) or PG_STATES.get(state[:2]) or f.OTHER
    import psycopg

    if isinstance(exc, psycopg.OperationalError):
        return f.CONNECTION_LOST  # lost before the server could say why ("the connection is lost")
    return network(exc) or f.OTHER


def mysql(exc: BaseException) -> f.Fault:
    if isinstance(exc, AttributeError) and _pymysql_dead_socket(exc):
        return f.CONNECTION_LOST
    args = getattr(exc, "args", ())
    code = args[0] if args and isinstance(args[0], int) else None
    if code == 0 and type(exc).__name__ == "InterfaceError":
        return f.CONNECTION_LOST  # PyMySQL on a connection it already closed
    if code in (1030, 1, 3) and ("No space left" in str(exc) or "error 28" in str(exc)):
        return f.DISK_FULL  # the storage engine's errno 28 (ENOSPC)
    if code is not None and code in MYSQL_CODES:
        return MYSQL_CODES[code]
    return network(exc) or f.OTHER


def _pymysql_dead_socket(exc: AttributeError) -> bool:
    """PyMySQL used a socket it had set to None: raised inside pymysql, about NoneType."""
    text = str(exc)
    if not text.startswith("'NoneType' object has no attribute"):
        return False
    if not any(f"'{name}'" in text for name in _PYMYSQL_DEAD_SOCKET):
        return False
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    module = tb.tb_frame.f_globals.get("__name__", "") if tb is not None else ""
    return module.startswith("pymysql")


def mssql(number: int | None, severity: int | None, exc: BaseException) -> f.Fault:
    if number is not None and number in MSSQL_NUMBERS:
        return MSSQL_NUMBERS[number]
    if severity is not None and severity >= 20:
        return f.CONNECTION_LOST  # a fatal error: the server closed the connection
    return network(exc) or f.OTHER


def sqlite(exc: BaseException) -> f.Fault:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return SQLITE_CODES.get(code & 0xFF, f.OTHER)
    return network(exc) or f.OTHER


# --- who holds a lock -----------------------------------------------------------------------

PG_HOLDERS = """
SELECT DISTINCT a.pid, a.application_name, a.usename, host(a.client_addr), a.state,
       to_char(a.xact_start, 'YYYY-MM-DD HH24:MI:SS'), left(a.query, 60)
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.granted AND l.pid <> pg_backend_pid() AND l.locktype = 'relation'
  AND (l.relation = to_regclass(%(t)s)
       OR l.relation IN (SELECT conrelid FROM pg_constraint WHERE confrelid = to_regclass(%(t)s)))
ORDER BY a.pid LIMIT 5
"""


def postgres_holders(conn: Any, qualified: str) -> list[str]:
    """Sessions holding a lock on the table (or on a table whose foreign key points at it)."""
    rows = conn.execute(PG_HOLDERS, {"t": qualified}).fetchall()
    return [
        f"pid {pid} (application {app or '-'}, user {user}, from {addr or 'local socket'}, "
        f"{state}, transaction since {since or '-'})"
        for pid, app, user, addr, state, since, _query in rows
    ]


MYSQL_MDL = """
SELECT p.ID, p.USER, p.HOST, p.COMMAND, p.TIME, m.LOCK_MODE
FROM information_schema.METADATA_LOCK_INFO m JOIN information_schema.PROCESSLIST p
  ON p.ID = m.THREAD_ID
WHERE m.TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND m.TABLE_NAME = %s
  AND p.ID <> CONNECTION_ID()
ORDER BY p.ID LIMIT 5
"""
# Without the metadata_lock_info plugin, the other sessions on the table's database (or on
# the connection's: sluice's own sessions name other databases' tables qualified) that are
# not themselves waiting for a lock: the holder is among them.
MYSQL_SESSIONS = """
SELECT ID, USER, HOST, COMMAND, TIME, STATE FROM information_schema.PROCESSLIST
WHERE DB IN (COALESCE(%s, DATABASE()), DATABASE()) AND ID <> CONNECTION_ID()
  AND STATE NOT LIKE 'Waiting for%%lock%%'
ORDER BY ID LIMIT 5
"""


def mysql_holders(conn: Any, table: str, schema: str | None = None) -> list[str]:
    """Sessions holding the metadata lock of `table` in database `schema` (None: the
    connection's) with the metadata_lock_info plugin, else the other sessions on that
    database or the connection's that are not waiting themselves: the holder is one."""
    cur = conn.cursor()
    cur.execute("SELECT COUNT(*) FROM information_schema.PLUGINS WHERE "
                "PLUGIN_NAME = 'METADATA_LOCK_INFO' AND PLUGIN_STATUS = 'ACTIVE'")  # fmt: skip
    plugin = bool(cur.fetchone()[0])
    cur.execute(MYSQL_MDL if plugin else MYSQL_SESSIONS, (schema, table) if plugin else (schema,))
    out = []
    for sid, user, host, command, secs, extra in cur.fetchall():
        place = host.rsplit(":", 1)[0] if host else "-"
        what = f"lock {extra}" if plugin else (extra or "idle")
        out.append(f"id {sid} (user {user}, from {place}, {command} for {secs}s, {what})")
    return out if plugin or not out else ["one of " + ", ".join(out)]
