"""Change capture on PostgreSQL (docs/cdc.md): a publication naming the captured tables and a
logical replication slot decoding with pgoutput, PostgreSQL's own output plugin (the one its
built-in subscriptions use, present on every server from 10 on).

Changes are read with `pg_logical_slot_peek_binary_changes` on an ordinary connection: the
decoding runs in our session, so the text of every value is produced under the same settings
the copy reads with (`native.TEXT_SETTINGS`), and psycopg's loaders for the column types the
copy's reader sees turn it into the very values the reader returns. Peeking consumes nothing:
the slot moves only when the replica has committed (`capture_confirm`), so a crash replays.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import re
import struct
from collections.abc import Iterator, Sequence
from typing import Any

from sluice.core.changes import CaptureStatus, Change, Commit
from sluice.core.errors import ConfigError
from sluice.core.schema import Table
from sluice.core.urls import DbUrl
from sluice.dialects import postgresql_native as native
from sluice.dialects.capture import ChangeCapture

_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)  # PostgreSQL's timestamp origin
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,47}$")
_cursors = itertools.count()

PEEK_SQL = ("SELECT data FROM pg_logical_slot_peek_binary_changes(%s, NULL, %s, "
            "'proto_version', '1', 'publication_names', %s)")  # fmt: skip


def lsn_int(lsn: str) -> int:
    high, _, low = lsn.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def lsn_text(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(f"capture name {name!r}: use lowercase letters, digits and "
                          "underscores, at most 48, not starting with a digit")  # fmt: skip
    return name


class PostgresCapture(ChangeCapture):
    """Mixed into `PostgresDialect` (ahead of `Dialect`)."""

    def position_order(self, position: str) -> tuple:
        return (lsn_int(position),)

    # --- start and stop ---------------------------------------------------------------------
    def capture_start(self, url: DbUrl, name: str, tables: Sequence[Table]) -> str:
        check_name(name)
        with contextlib.closing(self.connect(url, autocommit=True)) as conn:
            _require_logical(conn, url)
            _require_identity(conn, self, tables)
            _drop(conn, name)
            listed = ", ".join(
                self.qualified(t) if t.partitioning is not None else f"ONLY {self.qualified(t)}"
                for t in tables
            )
            try:
                conn.execute(f"CREATE PUBLICATION {self.quote(name)} FOR TABLE {listed} "
                             "WITH (publish_via_partition_root = true)")  # fmt: skip
                row = conn.execute("SELECT lsn::text FROM pg_create_logical_replication_slot("
                                   "%s, 'pgoutput')", (name,)).fetchone()  # fmt: skip
            except Exception as exc:
                _drop(conn, name)
                raise _refused(exc, name) from None
            return row[0]

    def capture_stop(self, url: DbUrl, name: str) -> bool:
        check_name(name)
        with contextlib.closing(self.connect(url, autocommit=True)) as conn:
            return _drop(conn, name)

    # --- reading -----------------------------------------------------------------------------
    def capture_changes(
        self, url: DbUrl, name: str, tables: Sequence[Table], after: str, limit: int
    ) -> Iterator[Change | Commit]:
        check_name(name)
        self.capture_confirm(url, name, after)  # a crash after the replica committed
        conn = self.connect(url)
        try:
            for stmt in native.TEXT_SETTINGS:  # values in the text the copy's reader parses
                conn.execute(stmt)
            decoder = _Decoder(self, conn, url, tables, lsn_int(after))
            with conn.cursor(name=f"sluice_capture_{next(_cursors)}") as cur:
                cur.execute(PEEK_SQL, (name, max(1, limit), name))
                while batch := cur.fetchmany(1000):
                    for (data,) in batch:
                        yield from decoder.message(bytes(data))
            conn.rollback()
        except ConfigError:
            raise
        except Exception as exc:
            if "does not exist" in str(exc) and "slot" in str(exc):
                raise ConfigError(f"change capture {name!r}: the source has no replication slot "
                                  "of that name (dropped by hand, or never started): copy "
                                  "again with --cdc") from None  # fmt: skip
            raise
        finally:
            with contextlib.suppress(Exception):
                conn.close()

    def capture_confirm(self, url: DbUrl, name: str, position: str) -> None:
        check_name(name)
        with contextlib.closing(self.connect(url, autocommit=True)) as conn:
            row = conn.execute("SELECT confirmed_flush_lsn::text FROM pg_replication_slots "
                               "WHERE slot_name = %s", (name,)).fetchone()  # fmt: skip
            if row is None or row[0] is None:
                return  # status and the next read say what is missing
            if lsn_int(position) > lsn_int(row[0]):
                conn.execute("SELECT pg_replication_slot_advance(%s, %s::pg_lsn)",
                             (name, position))  # fmt: skip

    def capture_status(self, url: DbUrl, name: str) -> CaptureStatus:
        check_name(name)
        with contextlib.closing(self.connect(url, autocommit=True)) as conn:
            current = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
            row = conn.execute(
                "SELECT confirmed_flush_lsn::text, active, "
                "pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint, "
                "pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint, wal_status "
                "FROM pg_replication_slots WHERE slot_name = %s", (name,)
            ).fetchone()  # fmt: skip
            if row is None:
                return CaptureStatus(False, current, detail="no replication slot of that name")
            confirmed, active, behind, retained, wal_status = row
            return CaptureStatus(True, current, confirmed, int(behind or 0), bool(active),
                                 f"slot {name}: retains {int(retained or 0):,} bytes of WAL, "
                                 f"wal_status {wal_status}")  # fmt: skip


def _require_logical(conn: Any, url: DbUrl) -> None:
    level = conn.execute("SHOW wal_level").fetchone()[0]
    if level != "logical":
        raise ConfigError(
            f"change capture needs wal_level = logical on the source (it is {level!r}): set "
            "it in postgresql.conf (ALTER SYSTEM SET wal_level = logical) and restart the "
            "server; docs/cdc.md"
        )
    allowed = conn.execute("SELECT rolsuper OR rolreplication FROM pg_roles "
                           "WHERE rolname = current_user").fetchone()  # fmt: skip
    if not (allowed and allowed[0]):
        raise ConfigError(f"change capture: the source's user {url.user!r} needs the "
                          "REPLICATION attribute (ALTER ROLE ... REPLICATION) to create and "
                          "read a logical replication slot; docs/cdc.md")  # fmt: skip


def _require_identity(conn: Any, d: Any, tables: Sequence[Table]) -> None:
    """A published table without a replica identity refuses the source's own UPDATEs and
    DELETEs: never create such a publication."""
    problems = []
    for t in tables:
        row = conn.execute("SELECT relreplident FROM pg_class WHERE oid = %s::regclass",
                           (d.qualified(t),)).fetchone()  # fmt: skip
        ident = row[0] if row else "?"
        if ident == "n" or (ident == "d" and not t.primary_key) or ident == "i":
            problems.append(f"{t.key} (REPLICA IDENTITY {_IDENTITY.get(ident, ident)}"
                            f"{'' if t.primary_key else ', no primary key'})")  # fmt: skip
    if problems:
        raise ConfigError("change capture needs each table's updates and deletes to carry its "
                          "primary key (REPLICA IDENTITY DEFAULT with a primary key, or FULL); "
                          "not so for: " + ", ".join(problems))  # fmt: skip


_IDENTITY = {"d": "DEFAULT", "n": "NOTHING", "f": "FULL", "i": "USING INDEX"}


def _drop(conn: Any, name: str) -> bool:
    found = False
    row = conn.execute("SELECT active_pid FROM pg_replication_slots WHERE slot_name = %s",
                       (name,)).fetchone()  # fmt: skip
    if row is not None:
        if row[0] is not None:
            raise ConfigError(f"change capture {name!r}: its slot is in use by server process "
                              f"{row[0]} (a sync running now?)")  # fmt: skip
        conn.execute("SELECT pg_drop_replication_slot(%s)", (name,))
        found = True
    if conn.execute("SELECT 1 FROM pg_publication WHERE pubname = %s", (name,)).fetchone():
        conn.execute(f'DROP PUBLICATION "{name}"')
        found = True
    return found


def _refused(exc: Exception, name: str) -> ConfigError:
    text = " ".join(str(exc).split())
    hint = ""
    if "max_replication_slots" in text or "all replication slots are in use" in text:
        hint = ": raise max_replication_slots, or drop a forgotten slot (docs/cdc.md)"
    elif "must be owner" in text:
        hint = ": CREATE PUBLICATION needs to own the tables (or a superuser)"
    return ConfigError(f"change capture {name!r} could not start on the source: {text}{hint}")


class _Decoder:
    """pgoutput protocol version 1, message by message (PostgreSQL's "Logical Replication
    Message Formats"), into Change and Commit; transactions committed at or before `after`
    (already applied) are skipped whole."""

    def __init__(self, d: Any, conn: Any, url: DbUrl, tables: Sequence[Table], after: int):
        self.d, self.conn, self.after = d, conn, after
        default = d.url_schema(url) or "public"
        self.tables = {(t.schema or default, t.name): t for t in tables}
        self.relations: dict[int, tuple[Table | None, list[str]]] = {}
        self.loaders: dict[str, list] = {}
        self.skip = False
        self.pending: list[Change] = []

    def message(self, data: bytes) -> Iterator[Change | Commit]:
        kind = data[:1]
        if kind == b"B":
            final_lsn, _ts, _xid = struct.unpack_from("!QqI", data, 1)
            self.skip = final_lsn <= self.after
        elif kind == b"C":
            _flags, _commit, end_lsn, ts = struct.unpack_from("!BQQq", data, 1)
            if not self.skip:
                yield Commit(lsn_text(end_lsn), _EPOCH + dt.timedelta(microseconds=ts))
        elif kind == b"R":
            self._relation(data)
        elif self.skip:
            return
        elif kind == b"I":
            table, names = self._of(data)
            if table is not None:
                values, _ = self._tuple(table, names, data, 6)
                yield Change(table.key, "upsert", _key(table, values), values)
        elif kind == b"U":
            yield from self._update(data)
        elif kind == b"D":
            table, names = self._of(data)
            if table is not None:
                old, _ = self._tuple(table, names, data, 6)
                yield Change(table.key, "delete", _key(table, old))
        elif kind == b"T":
            count, _options = struct.unpack_from("!IB", data, 1)
            for i in range(count):
                (relid,) = struct.unpack_from("!I", data, 6 + 4 * i)
                table = self.relations.get(relid, (None, []))[0]
                if table is not None:
                    yield Change(table.key, "truncate")
        # "Y" (type), "O" (origin), "M" (message): nothing to apply

    def _of(self, data: bytes) -> tuple[Table | None, list[str]]:
        (relid,) = struct.unpack_from("!I", data, 1)
        return self.relations.get(relid, (None, []))

    def _update(self, data: bytes) -> Iterator[Change]:
        table, names = self._of(data)
        if table is None:
            return
        at, old = 5, None
        if data[at : at + 1] in (b"K", b"O"):
            old, at = self._tuple(table, names, data, at + 1)
        new, _ = self._tuple(table, names, data, at + 1)
        key = _key(table, new)
        if old is not None and _key(table, old) != key:  # the key itself changed
            yield Change(table.key, "delete", _key(table, old))
        yield Change(table.key, "upsert", key, new)

    def _relation(self, data: bytes) -> None:
        (relid,) = struct.unpack_from("!I", data, 1)
        at = 5
        schema, at = _string(data, at)
        name, at = _string(data, at)
        _ident, ncols = struct.unpack_from("!BH", data, at)
        at += 3
        names = []
        for _ in range(ncols):
            column, at = _string(data, at + 1)
            names.append(column)
            at += 8  # type oid, typmod
        table = self.tables.get((schema, name))
        if table is not None:
            missing = [k for k in table.primary_key if k not in names]
            if missing:
                raise ConfigError(f"change capture: table {table.key}: its key column(s) "
                                  f"{', '.join(missing)} are gone from the source: copy the "
                                  "table again")  # fmt: skip
        self.relations[relid] = (table, names)

    def _loaders(self, table: Table) -> dict[str, Any]:
        """Per column, the text loader for the type the copy's reader sees (its select
        expression's type: text for a column read as text)."""
        if table.key not in self.loaders:
            from psycopg.adapt import Transformer
            from psycopg.pq import Format

            exprs = ", ".join(self.d.select_expr(c) for c in table.columns)
            cur = self.conn.execute(f"SELECT {exprs} FROM {self.d.relation_sql(table)} "
                                    "WHERE false")  # fmt: skip
            tx = Transformer(self.conn)
            self.loaders[table.key] = {
                c.name: tx.get_loader(desc.type_code, Format.TEXT).load
                for c, desc in zip(table.columns, cur.description)
            }
        return self.loaders[table.key]

    def _tuple(self, table: Table, names: list[str], data: bytes,
               at: int) -> tuple[dict[str, Any], int]:  # fmt: skip
        """TupleData from `at`: the values by column name (a column sent as "unchanged
        TOASTed value" or unknown to the plan is left out); and the offset after it."""
        loaders = self._loaders(table)
        (ncols,) = struct.unpack_from("!H", data, at)
        at += 2
        values: dict[str, Any] = {}
        for i in range(ncols):
            flag = data[at : at + 1]
            at += 1
            column = names[i]
            if flag == b"n":
                if column in loaders:
                    values[column] = None
            elif flag == b"t":
                (size,) = struct.unpack_from("!I", data, at)
                raw = data[at + 4 : at + 4 + size]
                at += 4 + size
                if column in loaders:
                    values[column] = loaders[column](raw)
            # b"u": unchanged TOASTed value, not sent: the replica keeps its own
        return values, at


def _string(data: bytes, at: int) -> tuple[str, int]:
    end = data.index(b"\x00", at)
    return data[at:end].decode(), end + 1


def _key(table: Table, values: dict[str, Any]) -> tuple:
    return tuple(values.get(k) for k in table.primary_key)
