"""Change capture from the MySQL/MariaDB binlog (docs/cdc.md, "MySQL and MariaDB"), read
with python-mysql-replication as a replica would: COM_BINLOG_DUMP from a "file:offset"
position, non-blocking (the server sends what it has, then EOF).

Nothing is created on the server: a position is a binlog file and an offset, kept by the
replica; the server keeps its files until its own expiry (binlog_expire_logs_seconds,
expire_logs_days) whoever reads them. A position whose file was purged cannot be resumed:
the replica must be copied again.

Column names, ENUM and SET members, signedness and the primary key come from each row
event's own table map, written with binlog_row_metadata=FULL (MariaDB 10.5+, MySQL
8.0.14+), which is required. The other way, names read from information_schema, gives the
table's columns of now to an event written before an ALTER: after an added or dropped
column, values land in the wrong columns without any error; and without the metadata an
unsigned BIGINT's maximum reads as -1 and ENUM/SET values as None.
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

from sluice.core.changes import CaptureStatus, Change, Commit
from sluice.core.errors import ConfigError, MissingDriver
from sluice.core.schema import Table
from sluice.core.urls import DbUrl
from sluice.dialects import mysql_driver
from sluice.dialects.capture import ChangeCapture
from sluice.dialects.mysql_binlog_ddl import statement
from sluice.dialects.mysql_binlog_values import converter, exact_temporals

# what the server must run with: variable -> (the accepted values, what to set)
REQUIRED = {
    "log_bin": ({"ON", "1"}, "start the server with log_bin (--log-bin; it cannot be "
                "switched on while the server runs), binlog_format=ROW and "
                "binlog_row_metadata=FULL"),
    "binlog_format": ({"ROW"}, "set binlog_format=ROW (SET GLOBAL binlog_format = 'ROW' "
                      "and in the server's configuration; sessions open before keep theirs)"),
    "binlog_row_metadata": ({"FULL"}, "set binlog_row_metadata=FULL (SET GLOBAL "
                            "binlog_row_metadata = 'FULL' and in the server's configuration)"),
}  # fmt: skip
ACCESS_DENIED = (1044, 1045, 1142, 1227)  # no privilege for the statement
LOG_GONE = 1236  # the binlog file asked for is no longer on the server
PARSE_ERROR = 1064
POSITION = re.compile(r"^(?P<file>.+):(?P<pos>\d+)$")


def _position(position: str) -> tuple[str, int]:
    m = POSITION.match(position or "")
    if not m:
        raise ConfigError(f"{position!r} is not a MySQL binlog position (file:offset)")
    return m.group("file"), int(m.group("pos"))


def _server_id(name: str) -> int:
    """The replica id this capture reads as: one per capture name, far above the ids people
    give servers (a second reader with the same id ends the first one's dump)."""
    return 4_000_000_000 + zlib.crc32(name.encode()) % 200_000_000


def _current(cur: Any) -> str:
    """The server's position now (SHOW BINARY LOG STATUS on MySQL 8.2+, where SHOW MASTER
    STATUS is gone; SHOW MASTER STATUS elsewhere)."""
    import pymysql

    try:
        cur.execute("SHOW BINARY LOG STATUS")
    except pymysql.err.ProgrammingError as exc:
        if not exc.args or exc.args[0] != PARSE_ERROR:
            raise
        cur.execute("SHOW MASTER STATUS")
    row = cur.fetchone()
    if not row:
        raise ConfigError("the server writes no binlog (SHOW MASTER STATUS is empty): "
                          + REQUIRED["log_bin"][1])  # fmt: skip
    return f"{row[0]}:{int(row[1])}"


def _snapshot_position(cur: Any) -> str | None:
    """MariaDB's binlog position of a consistent snapshot: every transaction before it is
    visible to reads that start later. SHOW MASTER STATUS alone can name a position past a
    transaction already in the binlog but not yet committed in InnoDB (a copy reading at
    that instant would miss it, and the log from there would not replay it). None where the
    server has no such status (MySQL)."""
    cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
    try:
        cur.execute("SHOW SESSION STATUS LIKE 'binlog_snapshot_%'")
        found = {str(k).lower(): str(v) for k, v in cur.fetchall()}
    finally:
        cur.execute("COMMIT")
    file, pos = found.get("binlog_snapshot_file"), found.get("binlog_snapshot_position")
    return f"{file}:{int(pos)}" if file and pos and pos.isdigit() else None


class MysqlCapture(ChangeCapture):
    """Mixed into `MysqlDialect` before the base mixins."""

    def _capture_user(self, url: DbUrl) -> str:
        return f"'{url.url.username or 'root'}'@'%'"

    def _stream_settings(self, url: DbUrl) -> dict[str, Any]:
        u = url.url
        return {
            "host": u.host or "localhost", "port": u.port or 3306,
            "user": u.username or "root", "password": url.password or "", "charset": "utf8mb4",
            "connect_timeout": url.timeouts.connect,
            # the server sends its events, then EOF: a silence that long is a stall
            "read_timeout": url.timeouts.stall, "write_timeout": url.timeouts.stall,
        }  # fmt: skip

    def _denied(self, url: DbUrl, exc: Exception, what: str, grant: str) -> ConfigError:
        return ConfigError(
            f"change capture cannot {what} on the MySQL source as {self._capture_user(url)} "
            f"(the server said: {exc.args[1] if len(exc.args) > 1 else exc}): "
            f"GRANT {grant} ON *.* TO {self._capture_user(url)}"
        )

    def _check_server(self, url: DbUrl, cur: Any) -> str:
        """What the server must allow, each problem named with what to set; the position."""
        import pymysql

        names = "', '".join(REQUIRED)
        cur.execute(f"SHOW GLOBAL VARIABLES WHERE Variable_name IN ('{names}', 'server_id')")
        found = {str(k).lower(): str(v) for k, v in cur.fetchall()}
        if "binlog_row_metadata" not in found:
            raise ConfigError("change capture needs MariaDB 10.5 / MySQL 8.0.14 or later: the "
                              "binlog's row metadata (binlog_row_metadata=FULL) names the "
                              "columns of each change")  # fmt: skip
        for var, (accepted, fix) in REQUIRED.items():
            if found[var].upper() not in accepted:
                raise ConfigError(f"change capture reads the binlog, but the MySQL source runs "
                                  f"with {var}={found[var]}: {fix}")  # fmt: skip
        if found.get("server_id", "0") == "0":
            raise ConfigError(
                "the MySQL source runs with server_id=0, which serves no "
                "replica: set server_id to a number of its own (server_id=1)"
            )
        try:
            return _current(cur)
        except pymysql.err.MySQLError as exc:
            if exc.args and exc.args[0] in ACCESS_DENIED:
                raise self._denied(url, exc, "read the binlog position",
                                   "BINLOG MONITOR (MariaDB 10.5+; REPLICATION CLIENT on "
                                   "MySQL and older MariaDB)") from None  # fmt: skip
            raise

    def capture_start(self, url: DbUrl, name: str, tables: Sequence[Table]) -> str:
        """Check the server (log_bin, binlog_format=ROW, binlog_row_metadata=FULL,
        server_id, the privileges: a short binlog dump is tried) and return its position
        now. Any binlog_row_image works: columns a MINIMAL or NOBLOB image leaves out are
        absent from a Change's values. Nothing is created on the server; `name` picks the
        replica id the reads use."""
        keyless = [t.key for t in tables if not t.primary_key]
        if keyless:
            raise ConfigError(
                f"change capture needs a primary key to apply updates and "
                f"deletes; these tables have none: {', '.join(keyless)}"
            )
        conn = self.connect(url)
        try:
            cur = conn.cursor()
            position = self._check_server(url, cur)
            position = _snapshot_position(cur) or position
        finally:
            conn.close()
        # the dump itself needs REPLICATION SLAVE: reading from now on shows it at once
        for _ in self.capture_changes(url, name, tables, position, 1):
            pass
        return position

    def capture_changes(
        self, url: DbUrl, name: str, tables: Sequence[Table], after: str, limit: int
    ) -> Iterator[Change | Commit]:
        """Row events of `tables` after `after`, each transaction's followed by a Commit
        whose position is the end of its XID event (or of the COMMIT statement closing
        non-transactional tables' changes). Transactions touching no captured table yield
        nothing, but the last one read is yielded as a bare Commit at the end, so that the
        position moves on. Ends at the first Commit after `limit` changes or at the end of
        the log. TRUNCATE yields a "truncate" Change; DROP or RENAME of a captured table,
        a changed primary key, or a row written in statement format stops with a
        ConfigError naming the table, after the transactions before it."""
        try:
            import pymysql
            from pymysqlreplication import BinLogStreamReader
            from pymysqlreplication.event import QueryEvent, RotateEvent, XidEvent
            from pymysqlreplication.row_event import (
                DeleteRowsEvent,
                UpdateRowsEvent,
                WriteRowsEvent,
            )
        except ImportError:
            raise MissingDriver("MySQL change capture", "mysql-replication", self.extra) from None
        exact_temporals()
        file, pos = _position(after)
        by_place = {(t.schema or url.database, t.name): t for t in tables}
        reader = BinLogStreamReader(
            connection_settings=self._stream_settings(url),
            server_id=_server_id(name),
            resume_stream=True, blocking=False, log_file=file, log_pos=pos,
            only_events=[QueryEvent, RotateEvent, XidEvent, WriteRowsEvent, UpdateRowsEvent,
                         DeleteRowsEvent],
            only_schemas=sorted({s for s, _ in by_place if s is not None}) or None,
            only_tables=sorted({n for _, n in by_place}),
            enable_logging=False,  # it would log its connection settings
            pymysql_wrapper=mysql_driver.connect,
        )  # fmt: skip
        done = in_transaction = 0
        pending: Commit | None = None  # the end of the last transaction with nothing to yield
        try:
            for ev in _events(reader, url, self, pymysql):
                if isinstance(ev, RotateEvent):
                    continue
                if isinstance(ev, (WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent)):
                    table = by_place.get((ev.schema, ev.table))
                    if table is None:
                        continue
                    for change in _row_changes(ev, table):
                        yield change
                        done += 1
                        in_transaction += 1
                    continue
                end = Commit(
                    f"{reader.log_file}:{ev.packet.log_pos}",
                    dt.datetime.fromtimestamp(ev.timestamp, dt.timezone.utc),
                )
                if isinstance(ev, QueryEvent):
                    query = ev.query.strip().rstrip(";").strip()
                    if query.upper() in ("BEGIN", "XA START", "SAVEPOINT"):
                        continue
                    if query.upper() != "COMMIT":
                        schema = ev.schema.decode() if isinstance(ev.schema, bytes) else ev.schema
                        truncated = _statement_effect(query, schema or None, by_place)
                        if truncated is not None:
                            yield Change(truncated.key, "truncate")
                            in_transaction += 1
                if in_transaction:
                    yield end
                    in_transaction, pending = 0, None
                    if done >= limit:
                        return
                else:
                    pending = end
            if pending is not None:
                yield pending
        finally:
            reader.close()

    def capture_confirm(self, url: DbUrl, name: str, position: str) -> None:
        """Nothing to free: the server keeps (and purges) its binlog files by its own
        expiry (binlog_expire_logs_seconds, expire_logs_days), whoever reads them."""
        _position(position)

    def capture_status(self, url: DbUrl, name: str, position: str | None = None) -> CaptureStatus:
        """The server's position now and, given the replica's `position`, whether its
        binlog file is still there (a purged one cannot be resumed: the replica must be
        copied again) and the bytes of binlog written since it."""
        conn = self.connect(url)
        try:
            cur = conn.cursor()
            current = self._check_server(url, cur)
            cur.execute("SHOW BINARY LOGS")
            logs = [(str(r[0]), int(r[1])) for r in cur.fetchall()]  # a few rows: one per file
        finally:
            conn.close()
        kept = "no capture state on the server: the binlog is kept by its own expiry"
        if position is None:
            return CaptureStatus(exists=True, current=current, active=None, detail=kept)
        file, offset = _position(position)
        names = [n for n, _ in logs]
        if file not in names:
            oldest = names[0] if names else "none"
            return CaptureStatus(
                exists=False, current=current, confirmed=position, active=None,
                detail=f"binlog file {file} was purged (the oldest the server keeps is "
                       f"{oldest}): the changes after the replica's position are gone; copy "
                       "the replica again (sluice copy --cdc)",
            )  # fmt: skip
        lag = sum(size for n, size in logs[names.index(file) :]) - offset
        return CaptureStatus(exists=True, current=current, confirmed=position,
                             lag_bytes=max(0, lag), active=None, detail=kept)  # fmt: skip

    def capture_stop(self, url: DbUrl, name: str) -> bool:
        """False: a binlog capture holds nothing on the server (no slot, no table, no
        registration), so there is nothing to drop; the server purges its binlog files by
        its own expiry."""
        return False

    def position_order(self, position: str) -> tuple:
        """(the binlog file's number, the offset): mysql-bin.000010 comes after .000009."""
        file, offset = _position(position)
        number = file.rsplit(".", 1)[-1]
        return (int(number) if number.isdigit() else file, offset)


def _events(reader: Any, url: DbUrl, dialect: MysqlCapture, pymysql: Any) -> Iterator[Any]:
    """The reader's events, with a purged position and a missing privilege said plainly;
    any other error (a dropped connection) is raised as PyMySQL raised it, for the
    dialect's classify_fault."""
    try:
        yield from reader
    except pymysql.err.MySQLError as exc:
        code = exc.args[0] if exc.args else None
        if code == LOG_GONE:
            raise ConfigError(f"the binlog position {reader.log_file}:{reader.log_pos} is no "
                              "longer on the MySQL source (its file was purged, or the server "
                              "was replaced): the changes after it are gone; copy the replica "
                              "again (sluice copy --cdc)") from None  # fmt: skip
        if code in ACCESS_DENIED:
            raise dialect._denied(url, exc, "read the binlog", "REPLICATION SLAVE") from None
        raise


def _statement_effect(query: str, schema: str | None, by_place: dict) -> Table | None:
    """The captured table a TRUNCATE empties, or None; raises for what capture cannot
    follow on a captured table."""
    s = statement(query)
    hit = [(by_place[(sch or schema, n)]) for sch, n in s.tables if (sch or schema, n) in by_place]
    if not hit or not s.kind:
        return None
    table = hit[0]
    if s.kind == "truncate":
        return table
    if s.kind == "dml":
        raise ConfigError(f"{table.key}: a change was written to the binlog as a statement, "
                          "not as rows (a session with binlog_format STATEMENT or MIXED): "
                          "its rows cannot be read; set binlog_format=ROW for every session "
                          "and copy the table again")  # fmt: skip
    if s.kind in ("drop", "rename"):
        done = {"drop": "dropped", "rename": "renamed"}[s.kind]
        raise ConfigError(
            f"{table.key}: the source table was {done} while captured; copy it "
            "again (sluice copy --cdc)"
        )
    keyed = set(table.primary_key)
    touched = [old for old, new in s.columns_renamed if old in keyed and new != old]
    if s.key_clause or touched:
        what = f"column {touched[0]}" if touched else "primary key or name"
        raise ConfigError(
            f"{table.key}: an ALTER TABLE changed its {what} while captured; "
            "copy it again (sluice copy --cdc)"
        )
    return None  # a new column or a wider type: the engine reconciles the next rows


def _row_changes(ev: Any, table: Table) -> Iterator[Change]:
    """One row event's Changes: values by column name, only the columns the image carries,
    as the reader returns them; `key` (the primary key's values, in its order) on upserts
    too, by which the engine nets a batch's changes per row."""
    from pymysqlreplication.bitmap import BitGet

    meta = ev.table_map[ev.table_id]
    if not meta.column_name_flag:
        raise ConfigError(
            f"{table.key}: a change in the binlog carries no column names "
            "(written while binlog_row_metadata was not FULL): "
            + REQUIRED["binlog_row_metadata"][1]
            + "; then copy the table again"
        )
    logged = ev.primary_key if isinstance(ev.primary_key, tuple) else (ev.primary_key,)
    if any(logged) and set(logged) != set(table.primary_key):
        raise ConfigError(
            f"{table.key}: its primary key is now ({', '.join(logged)}), not "
            f"({', '.join(table.primary_key)}): copy it again (sluice copy --cdc)"
        )
    columns = [(i, c.name, converter(c)) for i, c in enumerate(ev.columns)]
    key = table.primary_key

    def image(values: dict, nulls: dict, bitmap: bytes) -> dict[str, Any]:
        out = {}
        for i, col, convert in columns:
            if not BitGet(bitmap, i):
                continue  # not in this image (binlog_row_image MINIMAL or NOBLOB)
            v = values.get(col)
            if v is None:
                out[col] = "" if nulls.get(col) == "empty set" else None
            else:
                out[col] = convert(v) if convert is not None else v
        return out

    def key_of(values: dict) -> tuple:
        missing = [k for k in key if k not in values]
        if missing:
            raise ConfigError(
                f"{table.key}: a binlog row image lacks key column "
                f"{missing[0]}: is it the table's primary key on the source?"
            )
        return tuple(values[k] for k in key)

    kind = type(ev).__name__
    for row in ev.rows:
        if kind == "WriteRowsEvent":
            values = image(row["values"], row["none_sources"], ev.columns_present_bitmap)
            yield Change(table.key, "upsert", key_of(values), values)
        elif kind == "DeleteRowsEvent":
            values = image(row["values"], row["none_sources"], ev.columns_present_bitmap)
            yield Change(table.key, "delete", key=key_of(values))
        else:
            before = image(row["before_values"], row["before_none_sources"],
                           ev.columns_present_bitmap)  # fmt: skip
            after = image(row["after_values"], row["after_none_sources"],
                          ev.columns_present_bitmap2)  # fmt: skip
            old = key_of(before)
            values = {**dict(zip(key, old)), **after}
            new = key_of(values)
            if new != old:  # a new key: the old row goes
                yield Change(table.key, "delete", key=old)
            yield Change(table.key, "upsert", new, values)
