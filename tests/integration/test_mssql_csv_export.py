"""SQL Server -> PostgreSQL moves rows SQL Server renders as CSV into COPY
(dialects/mssql_export, ADR 0028).

Without a server: for every kind the export renders, the text Microsoft documents for its
conversion style (a model written here, `sql_server_text`, from pymssql-shaped values) goes
through the export's Python side and PostgreSQL's COPY, and must store exactly what the
decoded path (psycopg's binary COPY of the same values) stores, compared by an independent
read. That checks PostgreSQL's side of every exactness claim; what SQL Server prints is the
documentation's word until the live test below runs.

With `SLUICE_TEST_MSSQL_URL` (skipped without it): a SQL Server table of every listed kind
and awkward values is copied to PostgreSQL through the CSV lines, and both sides are read
with their own drivers (pymssql, psycopg) and compared value by value.
"""

from __future__ import annotations

import datetime as dt
import math
import struct
import uuid
from decimal import Decimal

import pytest
from tests.independent import rows
from tests.integration.test_mssql_live import mssql_db, mssql_server  # noqa: F401
from tests.unit.test_mssql_export import LineCursor

from sluice.copy import CopyOptions, copy_database
from sluice.core.errors import RawRejected
from sluice.core.schema import Column, Table
from sluice.core.types import Kind, SqlType
from sluice.dialects import get_dialect
from sluice.dialects import mssql_export as me
from sluice.dialects import mssql_types as mt

PG = get_dialect("postgresql")


def f32(x: float) -> float:
    """A float as pymssql reads a SQL Server real: the single, widened to a double."""
    return struct.unpack("f", struct.pack("f", x))[0]


# every character CSV, COPY or T-SQL literals treat specially, and their neighbours; U+FF02
# (a full-width quote) is '"' to a width-insensitive collation; 4000 quotes double past the
# 8000 bytes where REPLACE of a non-max type cuts its result
AWKWARD = ["", '"', '""', ",", "\n", "\r\n", "\\", "\\N", "\\.", "a\tb", "NULL", " lead",
           "trail ", "é😀", "x" * 5000, '"quoted, with\nnewline"', "\\x41", "＂", '"' * 4000,
           "'", "N'x'"]  # fmt: skip

# (column, SQL Server declaration, pymssql-shaped values)
COLUMNS = [
    ("b", "bit", [True, False]),
    ("ti", "tinyint", [0, 255]),
    ("si", "smallint", [-32768, 32767]),
    ("i", "int", [-(2**31), 2**31 - 1]),
    ("bi", "bigint", [-(2**63), 2**63 - 1]),
    ("d", "decimal(38,10)", [Decimal("-9999999999999999999999999999.9999999999"),
                             Decimal("0.0000000001"), Decimal("0.0000000000")]),
    ("n", "numeric(5,0)", [Decimal("-99999"), Decimal("0")]),
    ("m", "money", [Decimal("-922337203685477.5808"), Decimal("922337203685477.5807"),
                    Decimal("12.3400"), Decimal("0.0001")]),
    ("sm", "smallmoney", [Decimal("-214748.3648"), Decimal("214748.3647")]),
    ("r", "real", [f32(0.1), f32(3.4028234663852886e38), f32(1.1754943508222875e-38), -0.0,
                   16777216.0, f32(1 / 3), f32(-1e-30)]),
    ("f", "float", [0.1, 1e-300, 1.7976931348623157e308, -0.0, 1 / 3, 123456789.12345679,
                    -1.5, 2.0**53 + 2]),
    ("dt", "date", [dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(2020, 2, 29)]),
    ("dtm", "datetime", [dt.datetime(1753, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59, 997000),
                         dt.datetime(2010, 1, 1, 0, 0, 0, 3000),
                         dt.datetime(2010, 1, 1, 0, 0, 0, 7000)]),
    ("sdt", "smalldatetime", [dt.datetime(1900, 1, 1), dt.datetime(2079, 6, 6, 23, 59)]),
    ("dt3", "datetime2(3)", [dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59, 999000)]),
    ("dt6", "datetime2(6)", [dt.datetime(2020, 2, 29, 12, 0, 0, 123456), dt.datetime(1, 1, 1)]),
    ("dt0", "datetime2(0)", [dt.datetime(2020, 2, 29, 12, 0, 1)]),
    ("u", "uniqueidentifier", [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1),
                               uuid.UUID("6f9619ff-8b86-d011-b42d-00c04fc964ff")]),
    ("nv", "nvarchar(max)", AWKWARD),
    ("nv40", "nvarchar(40)", ['"' * 40, "ü" * 40, ""]),
    ("vc", "varchar(100)", ["plain", "a,b", ""]),
    ("nc", "nchar(5)", ["ab   ", '"    ']),
    ("vb", "varbinary(max)", [b"", b"\x00\xff\n,\"\\", bytes(range(256)), b"x" * 9000]),
    ("bn", "binary(4)", [b"\x00\x00\x00\x00", b"\xde\xad\xbe\xef"]),
]  # fmt: skip
TABLE = Table(
    "every_kind",
    (Column("id", SqlType(Kind.INTEGER), nullable=False),
     *(Column(name, mt.parse_type(declared)) for name, declared, _ in COLUMNS)),
    ("id",),
)  # fmt: skip
N_ROWS = max(len(values) for *_, values in COLUMNS) + 1  # the last row is all NULL


def source_rows() -> list[tuple]:
    out = []
    for i in range(N_ROWS - 1):
        out.append((i + 1, *(values[i % len(values)] for *_, values in COLUMNS)))
    out.append((N_ROWS, *([None] * len(COLUMNS))))
    return out


def sql_server_text(v, t: SqlType, real_digits: int) -> str:
    """The field `mssql_export` makes SQL Server print for the value pymssql would read, as
    Microsoft documents each CONVERT style (a model: the live test holds the server to it)."""
    k = t.kind
    if v is None:
        return ""
    if k is Kind.BOOLEAN:
        return "1" if v else "0"
    if k is Kind.MONEY:
        return f"{v:.4f}"  # style 2: four decimals, no commas
    if k is Kind.DECIMAL:
        return format(v, "f")  # the declared scale's digits, no exponent
    if k is Kind.DOUBLE:
        return f"{v:.16E}"  # style 3: 17 significant digits
    if k is Kind.REAL:
        return f"{v:.{real_digits - 1}E}"
    if k is Kind.DATE:
        return v.isoformat()  # style 23
    if k is Kind.DATETIME:  # style 121: the type's fractional digits (3 for datetime)
        digits = 3 if t.precision is None else min(t.precision, 6)
        return v.isoformat(" ", "microseconds")[: 20 + digits] if digits else v.isoformat(" ")
    if k is Kind.UUID:
        return str(v).upper()
    if k is Kind.BINARY:
        return "\\x" + bytes(v).hex().upper()  # style 2
    if k is Kind.STRING:
        return '"' + v.replace('"', '""') + '"'
    return str(v)  # integers


def lines(table: Table, data: list[tuple], real_digits: int = 17) -> list[str]:
    types = [c.type for c in table.columns]
    return [",".join(sql_server_text(v, t, real_digits) for v, t in zip(row, types)) + "\n"
            for row in data]  # fmt: skip


def _load(url, table: Table, data: list[tuple] | None = None, text: list[str] | None = None):
    """`table` created and loaded the decoded way (`data`) or from CSV lines (`text`)."""
    conn = PG.connect(url)
    try:
        for stmt in PG.create_table_sql(table):
            conn.execute(stmt)
        if text is None:  # the decoded path: PostgreSQL's encoders, then binary COPY
            encode = PG.encode_converters(table)
            assert not any(encode)  # nothing to convert for these kinds
            PG.bulk_load(conn, table, iter(data))
        else:
            blocks = me.csv_blocks(LineCursor(text), table)
            assert PG.raw_write(conn, table, blocks, "postgresql-csv") == len(text)
        conn.commit()
    finally:
        conn.close()


def _as_text(url, name: str) -> list[tuple]:
    """Every row as PostgreSQL's own text of it (floats: shortest exact, -0 kept)."""
    return rows(url, f'SELECT id, (t.*)::text FROM "{name}" AS t ORDER BY id')


@pytest.mark.parametrize("real_digits", [9, 17])
def test_documented_renderings_store_what_the_decoded_path_stores(pg_db, real_digits):
    """Style 3 is documented as 17 digits for float and real; 9 are enough for a real, and
    either form must land on the same single."""
    data = source_rows()
    decoded = Table("decoded", TABLE.columns, ("id",))
    rendered = Table("rendered", TABLE.columns, ("id",))
    _load(pg_db, decoded, data=data)
    _load(pg_db, rendered, text=lines(TABLE, data, real_digits))
    want = _as_text(pg_db, "decoded")
    assert len(want) == N_ROWS
    assert _as_text(pg_db, "rendered") == want
    # and an awkward value or two as psycopg reads them back, beside the text compare
    got = rows(pg_db, 'SELECT f, r, nv FROM "rendered" WHERE id = 4')
    assert math.copysign(1, got[0][0]) == -1 and math.copysign(1, got[0][1]) == -1
    assert got[0][2] == AWKWARD[3]


def test_text_postgresql_refuses_rejects_the_chunk(pg_db):
    t = Table("nul", (Column("id", SqlType(Kind.INTEGER)), Column("s", SqlType(Kind.STRING))),
              ("id",))  # fmt: skip
    conn = PG.connect(pg_db)
    try:
        for stmt in PG.create_table_sql(t):
            conn.execute(stmt)
        conn.commit()
        with pytest.raises(RawRejected, match="COPY refused a value"):
            PG.raw_write(conn, t, me.csv_blocks(LineCursor(['1,"a\x00b"\n']), t),
                         "postgresql-csv")  # fmt: skip
    finally:
        conn.close()


# --- against a live SQL Server -----------------------------------------------------------------


def _pymssql_connect(url, autocommit: bool = False):
    """pymssql itself, not sluice's connection code: the independent side."""
    import pymssql

    u = url.url
    return pymssql.connect(server=u.host or "localhost", port=str(u.port or 1433),
                           user=u.username or "", password=url.password or "",
                           database=u.database, autocommit=autocommit,
                           tds_version="7.4")  # fmt: skip


def _literal(v, declared: str) -> str:
    """A T-SQL literal of a value, in a form no session setting reinterprets."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):  # repr: the shortest text of exactly this double
        return f"CAST({'-0e0' if v == 0 and math.copysign(1, v) < 0 else repr(v)} AS {declared})"
    if isinstance(v, int | Decimal):
        return f"CAST({v} AS {declared})"
    if isinstance(v, dt.datetime):
        return f"CAST('{v.isoformat('T', 'microseconds')[:26]}' AS datetime2(7))"
    if isinstance(v, dt.date):
        return f"CAST('{v.isoformat()}' AS date)"
    if isinstance(v, uuid.UUID):
        return f"CAST('{v}' AS uniqueidentifier)"
    if isinstance(v, bytes):
        return "0x" + v.hex()
    return "N'" + v.replace("'", "''") + "'"


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(b, memoryview):
        b = bytes(b)
    return a == b


@pytest.mark.mssql
def test_every_listed_kind_arrives_exactly_through_csv_lines(mssql_db, pg_db):  # noqa: F811
    decl = ", ".join(f"[{n}] {d}" for n, d, _ in COLUMNS)
    data = source_rows()
    inserts = [
        "INSERT INTO dbo.every_kind VALUES ("
        + ", ".join([str(row[0])] + [_literal(v, d) for v, (_, d, _) in zip(row[1:], COLUMNS)])
        + ")"
        for row in data
    ]
    conn = _pymssql_connect(mssql_db, autocommit=True)
    try:
        cur = conn.cursor()
        cur.execute(f"CREATE TABLE dbo.every_kind (id int PRIMARY KEY, {decl})")
        for stmt in inserts:
            cur.execute(stmt)
        cur.execute("SELECT * FROM dbo.every_kind ORDER BY id")
        theirs = [tuple(r) for r in cur.fetchall()]
    finally:
        conn.close()
    result = copy_database(mssql_db, pg_db, CopyOptions(chunk_rows=3))
    assert result.ok, result.failures
    assert result.plan.table("every_kind").raw_format == "postgresql-csv"
    assert result.tables["every_kind"].decoded_again == 0
    ours = rows(pg_db, "SELECT * FROM every_kind ORDER BY id")
    assert len(ours) == len(theirs) == N_ROWS
    names = ["id", *(n for n, *_ in COLUMNS)]
    for want, have in zip(theirs, ours):
        for name, w, h in zip(names, want, have):
            assert _same(w, h), f"every_kind.{name} (id {want[0]}): {w!r} became {h!r}"


@pytest.mark.mssql
def test_a_nul_character_sends_the_chunk_decoded_where_nul_applies(mssql_db, pg_db):  # noqa: F811
    conn = _pymssql_connect(mssql_db, autocommit=True)
    try:
        cur = conn.cursor()
        cur.execute("CREATE TABLE dbo.n (id int PRIMARY KEY, s nvarchar(20))")
        cur.execute("INSERT INTO dbo.n VALUES (1, N'a' + NCHAR(0) + N'b'), (2, N'plain')")
    finally:
        conn.close()
    result = copy_database(mssql_db, pg_db, CopyOptions(nul="strip"))
    assert result.ok, result.failures
    assert result.plan.table("n").raw_format == "postgresql-csv"
    assert result.tables["n"].decoded_again == 1  # COPY refused the NUL
    assert result.nul_changed == 1
    assert rows(pg_db, "SELECT id, s FROM n ORDER BY id") == [(1, "ab"), (2, "plain")]
