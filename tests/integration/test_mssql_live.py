"""SQL Server as source and target, against a real server (`SLUICE_TEST_MSSQL_URL`).

StackOverflow2010 at scale 0.001 is generated into a fresh database, then copied to
PostgreSQL and to a second SQL Server database: counts, content, declared lengths
(nvarchar(40) stays nvarchar(40)), primary-key names and identity continuation are checked.
A second test pushes hostile values through both write paths (bulk copy and INSERT).
See docs/sqlserver.md for running a server in Docker. Skipped without the variable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
import warnings
from collections.abc import Iterator
from decimal import Decimal

import pytest
from tests.integration.test_copy_stackoverflow import canonical

from sluice.copy import CopyOptions, copy_database
from sluice.core.schema import Column, Table
from sluice.core.types import Kind, SqlType
from sluice.core.urls import DbUrl
from sluice.datasets.stackoverflow import TABLE_NAMES, TABLES
from sluice.datasets.stackoverflow.generate import generate, row_counts
from sluice.datasets.stackoverflow.schema import MSSQL_TYPES
from sluice.dialects import get_dialect
from sluice.verify import VerifyOptions, verify_database

pytestmark = pytest.mark.mssql

SCALE = 0.001
ENV = "SLUICE_TEST_MSSQL_URL"
MSSQL = get_dialect("mssql")


@pytest.fixture(scope="module")
def mssql_server() -> DbUrl:
    text = os.environ.get(ENV)
    if not text:
        pytest.skip(f"{ENV} is not set (e.g. mssql+pymssql://sa:Passw0rd!@127.0.0.1:1433/master)")
    return DbUrl.parse(text)


def _fresh_mssql(server: DbUrl, prefix: str) -> Iterator[DbUrl]:
    url = server.with_database(f"{prefix}_{uuid.uuid4().hex[:10]}")
    MSSQL.ensure_database(url)
    yield url
    conn = MSSQL.connect(server.with_database("master"), autocommit=True)
    try:
        conn.cursor().execute(f"DROP DATABASE {MSSQL.quote(url.database)}")
    except Exception as exc:  # cleanup only: a leftover database must not fail the run
        warnings.warn(f"could not drop {url.database}: {exc}", stacklevel=1)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def mssql_source(mssql_server) -> Iterator[DbUrl]:
    gen = _fresh_mssql(mssql_server, "sluice_src")
    url = next(gen)
    generate(url, SCALE)
    yield url
    next(gen, None)


@pytest.fixture
def mssql_db(mssql_server) -> Iterator[DbUrl]:
    yield from _fresh_mssql(mssql_server, "sluice_test")


def digest(url: DbUrl, table: str) -> tuple[int, str]:
    """Row count and sha256 over every row in key order, read through the dialect."""
    d = get_dialect(url.engine)
    conn = d.connect(url)
    try:
        h, n = hashlib.sha256(), 0
        for batch in d.read_range(conn, TABLES[table], None, None, 1000):
            for row in batch:
                h.update("|".join(canonical(v) for v in row).encode())
                n += 1
        conn.rollback()
        return n, h.hexdigest()
    finally:
        conn.close()


def query(url: DbUrl, sql: str, params=None) -> list[tuple]:
    conn = MSSQL.connect(url)
    try:
        cur = conn.cursor()
        if params is None:
            cur.execute(sql)
        else:
            cur.execute(sql, params)
        rows = cur.fetchall()
        conn.rollback()
        return rows
    finally:
        conn.close()


def declared_types(url: DbUrl) -> dict[tuple[str, str], str]:
    """(table, column) -> declaration as INFORMATION_SCHEMA tells it: nvarchar(40), int ..."""
    rows = query(
        url,
        "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH "
        "FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'dbo'",
    )
    out = {}
    for table, column, data_type, length in rows:
        if length is None:
            out[(table, column)] = data_type
        else:
            out[(table, column)] = f"{data_type}({'max' if length == -1 else length})"
    return out


def test_generated_source_has_the_documented_schema(mssql_source):
    counts = row_counts(SCALE)
    for table in TABLE_NAMES:
        assert digest(mssql_source, table)[0] == counts[table], table
    assert declared_types(mssql_source) == MSSQL_TYPES


def test_sql_server_to_postgres(mssql_source, pg_db):
    result = copy_database(mssql_source, pg_db, CopyOptions(chunk_rows=500, workers=3))
    assert result.ok, result.failures
    # the canonical encoding makes SQL Server datetime/bit/nvarchar hash like their PostgreSQL
    # counterparts: the replica verifies clean, range by range
    report = verify_database(mssql_source, pg_db, VerifyOptions(chunk_rows=2_000, rows=True))
    assert report.ok, [(t.name, [r.to_dict() for r in t.mismatches]) for t in report.tables]
    for table in TABLE_NAMES:
        assert digest(pg_db, table) == digest(mssql_source, table), table


def test_sql_server_to_sql_server_keeps_declarations_keys_and_identities(mssql_source, mssql_db):
    options = CopyOptions(chunk_rows=500, workers=3)
    result = copy_database(mssql_source, mssql_db, options)
    assert result.ok, result.failures
    assert verify_database(mssql_source, mssql_db, VerifyOptions(chunk_rows=2_000)).ok
    assert len(result.plan.table("Votes").chunks) > 1  # parallel chunks into one staging heap
    for table in TABLE_NAMES:
        assert digest(mssql_db, table) == digest(mssql_source, table), table
    assert declared_types(mssql_db) == declared_types(mssql_source) == MSSQL_TYPES

    keys = {r[0] for r in query(mssql_db, "SELECT name FROM sys.key_constraints WHERE type = 'PK'")}
    assert keys == {f"PK_{t}__Id" for t in TABLE_NAMES}
    left = query(mssql_db, "SELECT name FROM sys.tables WHERE name LIKE '[_]sluice%'")
    assert left == []

    # a second run swaps over existing tables (DROP + sp_rename inside one transaction)
    again = copy_database(mssql_source, mssql_db, CopyOptions(tables=["Users", "VoteTypes"]))
    assert again.ok, again.failures
    assert digest(mssql_db, "Users") == digest(mssql_source, "Users")

    conn = MSSQL.connect(mssql_db)
    try:
        cur = conn.cursor()
        for table in ("VoteTypes", "Users"):
            cur.execute(f"SELECT MAX([Id]) FROM [dbo].[{table}]")
            top = cur.fetchone()[0]
            if table == "VoteTypes":
                cur.execute("INSERT INTO [dbo].[VoteTypes] ([Name]) VALUES ('Extra')")
            else:
                cur.execute(
                    "INSERT INTO [dbo].[Users] ([CreationDate], [DisplayName], [DownVotes], "
                    "[LastAccessDate], [Reputation], [UpVotes], [Views]) "
                    "VALUES ('2011-01-01T00:00:00', N'new', 0, '2011-01-01T00:00:00', 1, 0, 0)"
                )
            cur.execute(f"SELECT MAX([Id]) FROM [dbo].[{table}]")
            assert cur.fetchone()[0] == top + 1, table  # the identity continues at max + 1
        conn.rollback()
    finally:
        conn.close()


# --- both write paths, hostile values --------------------------------------------------------

PLUS2 = dt.timezone(dt.timedelta(hours=2))
MINUS_0330 = dt.timezone(-dt.timedelta(hours=3, minutes=30))

HOSTILE = Table(
    "hostile",
    (
        Column("Id", SqlType(Kind.INTEGER), False, identity=True),
        Column("s", SqlType(Kind.STRING)),
        Column("a", SqlType(Kind.STRING, length=50, unicode=False)),
        Column("b", SqlType(Kind.BINARY)),
        Column("d", SqlType(Kind.DATE)),
        Column("t", SqlType(Kind.DATETIME)),
        Column("t2", SqlType(Kind.DATETIME, precision=6)),
        Column("z", SqlType(Kind.DATETIME_TZ, precision=6)),
        Column("tm", SqlType(Kind.TIME, precision=6)),
        Column("n", SqlType(Kind.DECIMAL, precision=38, scale=10)),
        Column("m", SqlType(Kind.MONEY)),
        Column("g", SqlType(Kind.UUID)),
        Column("f", SqlType(Kind.BOOLEAN)),
    ),
    ("Id",),
    "dbo",
)

ROWS = [
    (1, "", "", b"", dt.date(1, 1, 1), dt.datetime(1753, 1, 1), dt.datetime(1, 1, 1),
     dt.datetime(2010, 5, 6, 7, 8, 9, 123456, tzinfo=PLUS2), dt.time(0, 0),
     Decimal("9999999999999999999999999999.9999999999"), Decimal("922337203685477.5807"),
     uuid.UUID(int=1), True),
    (2, None, None, None, None, None, None, None, None, None, None, None, None),
    (3, "O'Brien é中𝄞 ", "plain", bytes(range(256)), dt.date(1752, 12, 31),
     dt.datetime(2010, 1, 1, 12, 34, 56, 3333), dt.datetime(2010, 1, 1, 12, 34, 56, 123456),
     dt.datetime(2010, 1, 1, tzinfo=MINUS_0330), dt.time(23, 59, 59, 999999),
     Decimal("-0.0000000001"), Decimal("-922337203685477.5808"), uuid.UUID(int=2**128 - 1),
     False),
    (4, "x", "y", b"\x00\x01", dt.date(9999, 12, 31), dt.datetime(9999, 12, 31, 23, 59, 59, 996666),
     dt.datetime(9999, 12, 31, 23, 59, 59, 999999), dt.datetime(2010, 1, 1, tzinfo=dt.timezone.utc),
     dt.time(12, 0, 0, 1), Decimal("1.5000000000"), Decimal("12.3400"), uuid.uuid4(), True),
    (5, "tick", "tick", b"x", dt.date(2010, 1, 1), dt.datetime(2010, 1, 1, 0, 0, 0, 6666),
     dt.datetime(1900, 1, 1), dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc), dt.time(1, 2, 3),
     Decimal("0"), Decimal("0"), uuid.UUID(int=3), False),
]  # fmt: skip


def _read(url: DbUrl, table: Table) -> list[tuple]:
    conn = MSSQL.connect(url)
    try:
        rows = [r for b in MSSQL.read_range(conn, table, None, None, 100) for r in b]
        conn.rollback()
        return rows
    finally:
        conn.close()


def _same(a, b) -> bool:
    if isinstance(a, dt.datetime) and a.tzinfo is not None:  # offset kept, not only instant
        return b is not None and (a, a.utcoffset()) == (b, b.utcoffset())
    return a == b


def test_bulk_copy_and_insert_paths_store_the_same_hostile_rows(mssql_db):
    bulk = HOSTILE
    plain = Table("hostile_insert", HOSTILE.columns, ("Id",), "dbo")
    encode = MSSQL.encode_converters(bulk)
    rows = [tuple(f(v) if f and v is not None else v for f, v in zip(encode, r)) for r in ROWS]
    conn = MSSQL.connect(mssql_db)
    try:
        cur = conn.cursor()
        for table in (bulk, plain):
            for stmt in MSSQL.create_table_sql(table):
                cur.execute(stmt)
        conn.commit()
        with MSSQL.identity_insert(conn, bulk):
            assert MSSQL.bulk_load(conn, bulk, iter(rows)) == len(rows)
        with MSSQL.identity_insert(conn, plain):
            assert MSSQL.insert_rows(conn, plain, iter(rows)) == len(rows)
        conn.commit()
    finally:
        conn.close()
    for table in (bulk, plain):
        got = _read(mssql_db, table)
        assert len(got) == len(ROWS), table.name
        for want, have in zip(ROWS, got):
            for col, w, h in zip(table.column_names, want, have):
                assert _same(w, h), f"{table.name}.{col} (Id {want[0]}): sent {w!r}, got {h!r}"


# --- SQL Server's own types (issue 21, ADR 0013; compile-tested in tests/unit/test_mssql_native)

NATIVE_DDL = [
    """CREATE TABLE dbo.t_native (id int PRIMARY KEY, dto datetimeoffset(6), dt2 datetime2(6),
        t time(6), h hierarchyid, gg geography, gm geometry, x xml, m money, sm smallmoney,
        u uniqueidentifier, vb varbinary(max), nv nvarchar(max) COLLATE Latin1_General_CS_AS,
        im image, tx text COLLATE SQL_Latin1_General_CP1_CI_AS, ntx ntext, rv rowversion)""",
    """INSERT INTO dbo.t_native (id, dto, dt2, t, h, gg, gm, x, m, sm, u, vb, nv, im, tx, ntx)
     VALUES (1, '0001-01-01 00:00:00.000000 -14:00', '0001-01-01', '00:00:00',
      hierarchyid::GetRoot(), geography::STGeomFromText('POINT(-122.35 47.65)', 4326),
      geometry::STGeomFromText('POLYGON((0 0, 3 0, 3 3, 0 0))', 0), '<a b="1">t</a>',
      -922337203685477.5808, -214748.3648, '00000000-0000-0000-0000-000000000000', 0x,
      N'', 0x00, '', N''),
     (2, '9999-12-31 23:59:59.999999 +14:00', '9999-12-31 23:59:59.999999', '23:59:59.999999',
      hierarchyid::Parse('/1/2.5/3/'), geography::STGeomFromText('LINESTRING(0 0, 1 1)', 4269),
      geometry::STGeomFromText('POINT(1e300 -1e-300)', 3857), '<!-- c --><r/>',
      922337203685477.5807, 214748.3647, 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', 0x00FF,
      N'Ω😀 ', 0xFFFF, 'x  ', N'ü'),
     (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
      NULL)""",
]
NATIVE_READ = (
    "SELECT CONCAT_WS('|', id, CONVERT(nvarchar(40), dto, 127), CONVERT(nvarchar(40), dt2, 121),"
    " CONVERT(nvarchar(20), t, 114), h.ToString(), CONVERT(varchar(max), CAST(gg AS"
    " varbinary(max)), 1), CONVERT(varchar(max), CAST(gm AS varbinary(max)), 1),"
    " CONVERT(nvarchar(max), x), CONVERT(nvarchar(40), m, 2), CONVERT(nvarchar(40), sm, 2),"
    " CONVERT(nvarchar(40), u), CONVERT(varchar(max), vb, 1), CONVERT(varchar(max),"
    " CAST(nv AS varbinary(max)), 1), CONVERT(varchar(max), CAST(im AS varbinary(max)), 1),"
    " CONVERT(varchar(max), CAST(CAST(tx AS varchar(max)) AS varbinary(max)), 1),"
    " CONVERT(varchar(max), CAST(CAST(ntx AS nvarchar(max)) AS varbinary(max)), 1),"
    " CONVERT(varchar(max), CAST(rv AS varbinary(8)), 1)) FROM dbo.t_native ORDER BY id"
)
TYPES_READ = (
    "SELECT c.name, TYPE_NAME(c.system_type_id), c.max_length, c.precision, c.scale,"
    " c.collation_name FROM sys.columns c WHERE c.object_id = OBJECT_ID('dbo.t_native')"
    " ORDER BY c.column_id"
)


def test_sql_server_types_copy_exactly_to_sql_server(mssql_server, mssql_db):
    """Every SQL Server type keeps its declaration (collations too) and every value, read
    independently as the server's text or bytes; rowversion arrives as binary(8) holding the
    source's values; sql_variant is refused by name."""
    for source in _fresh_mssql(mssql_server, "sluice_native"):
        conn = MSSQL.connect(source, autocommit=True)
        try:
            for stmt in NATIVE_DDL:
                conn.cursor().execute(stmt)
        finally:
            conn.close()
        result = copy_database(source, mssql_db, CopyOptions())
        assert result.ok, result.failures
        assert query(mssql_db, NATIVE_READ) == query(source, NATIVE_READ)
        theirs, ours = query(source, TYPES_READ), query(mssql_db, TYPES_READ)
        assert [r for r in ours if r[0] != "rv"] == [r for r in theirs if r[0] != "rv"]
        assert [r[1:3] for r in ours if r[0] == "rv"] == [("binary", 8)]
        report = verify_database(source, mssql_db, VerifyOptions(checks=False))
        assert report.ok
        conn = MSSQL.connect(source, autocommit=True)
        try:
            conn.cursor().execute("CREATE TABLE dbo.t_variant (id int PRIMARY KEY, v sql_variant)")
        finally:
            conn.close()
        with pytest.raises(Exception) as err:
            copy_database(source, mssql_db, CopyOptions(tables=["t_variant"]))
        assert "'t_variant'" in str(err.value) and "sql_variant" in str(err.value)
