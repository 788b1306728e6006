"""Read a source database's tables once, through SQLAlchemy's inspector, into `schema.Table`s.

Type mapping goes through SQLAlchemy's generic type classes first (so most engines
need nothing special), then each dialect's `reflect_overrides` for engine types
that generic classes cannot tell apart (SQL Server money vs decimal, MySQL
TINYINT(1) as boolean, unsigned integers...). A dialect that records its own exact
declarations (`Dialect.native_columns`) attaches them, and keeps a type with no neutral
kind as Kind.NATIVE (ADR 0013); elsewhere a type nothing recognises stops the run with an
error naming table and column.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import types as sat

from sluice.copy.refusals import ALL, Selection
from sluice.copy.scope import Source, resolve
from sluice.core.definition import BY_DEFAULT
from sluice.core.errors import ConnectError, UnmappableType
from sluice.core.faults import CONNECTION_LOST, where
from sluice.core.liveness import Watchdog
from sluice.core.schema import Column, ForeignKey, Index, Table, qualified_key
from sluice.core.types import Kind, SqlType
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect
from sluice.dialects.definition import key_action

ROWID_KINDS = (Kind.INTEGER, Kind.BIGINT)  # SQLite's rowid: an 8-byte integer


def neutral_type(satype: Any, overrides: dict[str, Any] | None = None) -> SqlType | None:
    """The neutral type for a reflected SQLAlchemy type, or None when unknown."""
    name = type(satype).__name__.upper()
    if overrides and name in overrides:
        return overrides[name](satype)
    length = getattr(satype, "length", None)
    precision = getattr(satype, "precision", None)
    if isinstance(satype, sat.Boolean):
        return SqlType(Kind.BOOLEAN)
    if isinstance(satype, sat.SmallInteger):
        return SqlType(Kind.SMALLINT)
    if isinstance(satype, sat.BigInteger):
        return SqlType(Kind.BIGINT)
    if isinstance(satype, sat.Integer):
        return SqlType(Kind.INTEGER)
    if isinstance(satype, sat.Float):
        single = name in ("REAL", "FLOAT4") or (precision is not None and precision <= 24)
        return SqlType(Kind.REAL if single else Kind.DOUBLE)
    if isinstance(satype, sat.Numeric):
        scale = getattr(satype, "scale", None)
        return SqlType(Kind.DECIMAL, precision=precision, scale=scale if precision else None)
    if isinstance(satype, sat.Uuid):
        return SqlType(Kind.UUID)
    if isinstance(satype, sat.JSON):
        return SqlType(Kind.JSON)
    if isinstance(satype, sat.String):
        fixed = name in ("CHAR", "NCHAR", "BPCHAR")
        return SqlType(Kind.STRING, length=length, fixed=fixed)
    if isinstance(satype, sat._Binary):
        return SqlType(Kind.BINARY, length=length, fixed=name == "BINARY")
    if isinstance(satype, sat.DateTime):
        tz = bool(getattr(satype, "timezone", False))
        return SqlType(Kind.DATETIME_TZ if tz else Kind.DATETIME, precision=precision)
    if isinstance(satype, sat.Date):
        return SqlType(Kind.DATE)
    if isinstance(satype, sat.Time):
        return SqlType(Kind.TIME, precision=precision)
    return None


def engine_for(url: DbUrl, watch: Watchdog | None = None) -> sa.Engine:
    """A SQLAlchemy engine for reflection: connect timeouts from the URL, and with `watch`,
    every statement watched for a stall (core/liveness): past the stall timeout the server
    is asked whether it is still running it, and if not, the connection is dropped and the
    statement fails (the plan stops with one line instead of waiting forever)."""
    dialect = get_dialect(url.engine)
    sa_url = url.url.set(drivername=dialect.sqlalchemy_driver)
    connect_args = dialect.connect_timeouts(url.timeouts)  # a silent server cannot hang it
    engine = sa.create_engine(sa_url, poolclass=sa.pool.NullPool, connect_args=connect_args)
    if watch is not None:
        _watch_statements(engine, dialect, url, watch)
    return engine


def _watch_statements(engine: sa.Engine, dialect, url: DbUrl, watch: Watchdog) -> None:
    def side(conn) -> str:
        return f"{url.engine} catalog #{id(conn.connection.dbapi_connection)}"

    @sa.event.listens_for(engine, "connect")
    def connected(dbapi_conn, _record) -> None:
        session = dialect.session_id(dbapi_conn)
        if session is None:
            return  # an engine that names no session: its driver's timeouts bound it
        name = f"{url.engine} catalog #{id(dbapi_conn)}"
        watch.watch(name, url.timeouts.stall, lambda: dialect.sever(dbapi_conn),
                    lambda: dialect.session_working(url, session))  # fmt: skip
        watch.rest(name)  # busy only inside a statement

    @sa.event.listens_for(engine, "before_cursor_execute")
    def before(conn, *_args) -> None:
        watch.touch(side(conn))

    @sa.event.listens_for(engine, "after_cursor_execute")
    def after(conn, *_args) -> None:
        watch.rest(side(conn))

    @sa.event.listens_for(engine, "handle_error")
    def failed(context) -> None:
        if context.connection is not None:
            watch.rest(side(context.connection))

    # a rollback (each inspector call ends its connection's transaction) waits on the server
    # like a statement: busy from it until the connection is given back
    @sa.event.listens_for(engine, "rollback")
    def rolling_back(conn) -> None:
        if not conn.invalidated:  # a dropped connection rolls nothing back on the server
            watch.touch(side(conn))

    @sa.event.listens_for(engine, "checkin")
    def given_back(dbapi_conn, _record) -> None:
        if dbapi_conn is not None:
            watch.rest(f"{url.engine} catalog #{id(dbapi_conn)}")


def reflect_tables(
    url: DbUrl,
    names: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    refused: list | None = None,
    selection: Selection = ALL,
    skipped: list | None = None,
    side: str = "source",
) -> list[Table]:
    """The base tables of the URL's database across its schemas (`copy.scope`: every one, or
    `selection`'s), or just `names` (qualified keys or patterns) without `exclude`, in schema
    then catalog order. A table outside the default schema carries its schema. Given a
    `refused` list, a table with a column of a type nothing knows is left out and its refusal
    added there (the plan reports every refusal at once); given `skipped`, every table left
    out by the selection is added there with its reason. `side` ("source", or "target" for
    sync's read of the replica) is what a failure names."""
    dialect = get_dialect(url.engine)
    dialect.require_database(url)  # reading never creates a database (SQLite would)
    watch = Watchdog()
    engine = engine_for(url, watch)
    selection = replace(selection, exclude=tuple(exclude) or selection.exclude)
    connects: list[bool] = []
    sa.event.listen(engine, "connect", lambda *_: connects.append(True))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sa.exc.SAWarning)  # unknown types: we report them
            inspector = sa.inspect(engine)
            wanted, left_out = resolve(inspector, dialect, url, names, selection, _internal)
            if skipped is not None:
                skipped.extend(left_out)
            tables = []
            for actual in dict.fromkeys(s.actual for s in wanted):
                here = [s for s in wanted if s.actual == actual]
                catalog = _Catalog(inspector, actual, [s.name for s in here], dialect)
                for source in here:
                    try:
                        tables.append(_table(inspector, catalog, dialect, source))
                    except UnmappableType as exc:
                        if refused is None:
                            raise
                        refused.append(exc)
            return tables
    except sa.exc.OperationalError as exc:
        if watch.stalled:
            what = (f"no byte moved on the connection to the {side} for "
                    f"{watch.stalled_for:.0f}s (stall timeout {url.timeouts.stall:g}s) while "
                    "its catalog was read: it stalled and was dropped")  # fmt: skip
            raise ConnectError(f"cannot read {url}: {what}").with_facts(
                fault=CONNECTION_LOST, side=side, host=where(url), what=what
            ) from None
        err = ConnectError(f"cannot read {url}: {url.redact(str(exc.orig))}")
        if connects:  # lost while reading, not refused at the door: a fault like a chunk's
            err.with_facts(fault=dialect.classify_fault(exc.orig), side=side, host=where(url))
        raise err from None
    finally:
        watch.close()
        engine.dispose()


def table_names(url: DbUrl, schemas: Sequence[str | None] = (None,)) -> list[str]:
    """The qualified keys of the base tables in `schemas` (None: the default schema) of the
    URL's database, sluice's own (state, staging) left out; a schema that is absent has none."""
    dialect = get_dialect(url.engine)
    dialect.require_database(url)
    engine = engine_for(url)
    default = dialect.url_schema(url)
    keys = []
    try:
        inspector = sa.inspect(engine)
        present = set(inspector.get_schema_names()) if dialect.caps.schemas else set()
        for schema in dict.fromkeys(schemas):
            if schema is not None and schema not in present:
                continue
            names = inspector.get_table_names(schema=default if schema is None else schema)
            keys += [qualified_key(schema, n) for n in names if not _internal(n)]
    except sa.exc.OperationalError as exc:
        raise ConnectError(f"cannot read {url}: {url.redact(str(exc.orig))}") from None
    finally:
        engine.dispose()
    return keys


def _spelled(satype: Any) -> str:
    """A type's name as SQLAlchemy reflected it; one it did not recognise is 'unknown'."""
    return "unknown to SQLAlchemy" if isinstance(satype, sat.NullType) else str(satype)


def _index_kind(ix: dict) -> str:
    """ "fulltext" or "spatial" for MySQL's own index kinds, "constraint" for the index of a
    UNIQUE constraint (PostgreSQL's: made again as the constraint), "" for an ordinary one."""
    if ix.get("unique") and ix.get("duplicates_constraint"):
        return "constraint"
    prefix = (ix.get("dialect_options") or {}).get("mysql_prefix") or ix.get("type") or ""
    return prefix.lower() if prefix.upper() in ("FULLTEXT", "SPATIAL") else ""


INTERNAL = ("sluice_state", "sluice_copy_tables", "sluice_copy_chunks", "sluice_capture")


def _internal(name: str) -> bool:
    # staging, the sync state, the copy's chunk ledger and capture positions: sluice's own
    return name.startswith("_sluice") or name in INTERNAL


class _Catalog:
    """Columns, keys and indexes of many tables, asked once per kind (SQLAlchemy's multi-table
    reflection: one catalog query for all tables on PostgreSQL, instead of four per table,
    0.27 -> 0.1 s for StackOverflow2010's nine; other engines loop inside SQLAlchemy)."""

    def __init__(self, inspector, schema: str | None, names: Sequence[str], dialect):
        kw = {"schema": schema, "filter_names": list(names)}
        self.columns = inspector.get_multi_columns(**kw)
        self.pks = inspector.get_multi_pk_constraint(**kw)
        self.fks = inspector.get_multi_foreign_keys(**kw)
        self.fk_schemas = dialect.referenced_schemas(inspector.bind, schema)
        self.indexes = inspector.get_multi_indexes(**kw)
        self.native = dialect.native_columns(inspector.bind, schema, names)
        self.hierarchy = dialect.read_hierarchy(inspector.bind, schema, names)  # parents, parts
        # the rest of each table's definition (issue 26): CHECKs, comments, column facts
        self.checks = _optional(inspector.get_multi_check_constraints, kw)
        self.comments = _optional(inspector.get_multi_table_comment, kw)
        self.facts = dialect.column_facts(inspector.bind, schema, names)
        self.schema = schema

    def of(self, found: dict, name: str, default):
        return found.get((self.schema, name), default)


def _optional(read, kw: dict) -> dict:
    """A multi-table inspector call an engine may not have (SQLite keeps no comments): {}."""
    try:
        return read(**kw)
    except NotImplementedError:
        return {}


def _table(inspector, catalog: _Catalog, dialect, source: Source) -> Table:
    fix = dialect.reflected_name  # names as the engine stores them (not as its DDL quotes them)
    schema, name, key = source.actual, source.name, source.key
    columns = []
    for info in catalog.of(catalog.columns, name, []):
        t = neutral_type(info["type"], dialect.reflect_overrides)
        t = dialect.with_native(t, catalog.native.get((name, info["name"])))
        if t is None:
            raise UnmappableType(key, fix(info["name"]), _spelled(info["type"]), "neutral",
                                 hint="sluice does not know this type")  # fmt: skip
        identity = dialect.is_identity(info)
        column = Column(fix(info["name"]), t, bool(info["nullable"]), identity=identity)
        # the identity's kind, default, comment, collation (dialects.definition)
        columns.append(dialect.read_column(column, info, catalog.facts.get((name, info["name"]))))
    columns = dialect.refine_columns(inspector.bind, schema, name, columns)
    pk = catalog.of(catalog.pks, name, None) or {}
    pkey = tuple(fix(c) for c in pk.get("constrained_columns") or ())
    if dialect.rowid_key_is_identity and len(pkey) == 1:
        # an INTEGER PRIMARY KEY hands out max+1 by itself (SQLite's rowid): an identity
        columns = [
            replace(c, identity=True, identity_kind=BY_DEFAULT, default=None)
            if c.name == pkey[0] and c.type.kind in ROWID_KINDS
            else c
            for c in columns
        ]
    default = None if source.schema is None else schema  # the referring end's key schema
    fks = tuple(
        _foreign_key(fk, name, fix, source.schema,
                     _ref_schema(catalog.fk_schemas.get((name, fk["name"]),
                                 fk.get("referred_schema")), schema, default, source))
        for fk in catalog.of(catalog.fks, name, [])
    )  # fmt: skip
    indexes = tuple(
        Index(
            fix(ix["name"]),
            tuple(map(fix, ix["column_names"])),
            bool(ix.get("unique")),
            _index_kind(ix),
        )
        for ix in catalog.of(catalog.indexes, name, [])
        if ix.get("name") and all(ix.get("column_names") or [None])
    )
    facts = catalog.facts
    parents, partitioning = catalog.hierarchy.get(name, ((), None))
    checks = tuple(c for c in (dialect.read_check(ck, facts.get(("check", name, ck["name"])))
                               for ck in catalog.of(catalog.checks, name, [])) if c)  # fmt: skip
    checks = tuple(dialect.table_checks(name, list(checks), facts))  # MariaDB's column CHECKs
    comment = (catalog.of(catalog.comments, name, None) or {}).get("text") or None
    return Table(
        name, tuple(columns), primary_key=pkey, schema=source.schema, foreign_keys=fks,
        indexes=indexes, primary_key_name=pk.get("name") and fix(pk["name"]),
        checks=checks, comment=comment,
        inherits=tuple(qualified_key(None if s == source.default else s, n) for s, n in parents),
        partitioning=partitioning,
    )  # fmt: skip


def _foreign_key(fk: dict, table: str, fix, schema: str | None, ref_schema) -> ForeignKey:
    """A reflected foreign key with the source's name and behaviour (its actions, whether
    its check waits for the commit)."""
    options = fk.get("options") or {}
    return ForeignKey(
        table, tuple(map(fix, fk["constrained_columns"])), fk["referred_table"],
        tuple(map(fix, fk["referred_columns"])), schema, ref_schema,
        fix(fk["name"]) if fk.get("name") else None,
        key_action(options.get("ondelete")), key_action(options.get("onupdate")),
        bool(options.get("deferrable")),
        str(options.get("initially") or "").upper() == "DEFERRED",
    )  # fmt: skip


def _ref_schema(referred: str | None, schema: str | None, own: str | None, source: Source):
    """The referenced table's key schema: the reflected one's own when the engine names none
    (MySQL leaves out a same-database schema), None for the default schema."""
    if referred is None or referred == schema:
        return own
    return None if referred == source.default else referred
