"""SQL Server -> SQL Server keeps SQL Server's own types (issue 21, ADR 0013), compile-tested:
no SQL Server runs here (tests/integration/test_mssql_live.py runs it against one). Each
type's declaration, as sys.columns describes it, is rendered verbatim on a SQL Server target
and compiled by sqlglot's T-SQL parser; a table holding a CLR type (hierarchyid, geography,
geometry) is written by INSERTs that CONVERT each value from varbinary, never bulk copy;
rowversion stays binary(8), sql_variant stays refused, 7 fractional digits stay lossy."""

from __future__ import annotations

import pytest
import sqlglot
from pymssql import _mssql
from sqlglot import exp
from tests.unit.test_mssql_dialect import FakeConn

from sluice.copy.plan import plan_tables
from sluice.core.errors import UnmappableType
from sluice.core.schema import Column, Table
from sluice.core.types import Kind, SqlType
from sluice.dialects import get_dialect
from sluice.dialects import mssql_native as mn

D = get_dialect("mssql")

# (TYPE_NAME, max_length, precision, scale, collation) as sys.columns holds them -> declaration
CATALOG = [
    (("datetimeoffset", 10, 34, 7, None), "datetimeoffset(7)", Kind.DATETIME_TZ),
    (("datetimeoffset", 8, 26, 0, None), "datetimeoffset(0)", Kind.DATETIME_TZ),
    (("datetime2", 8, 27, 7, None), "datetime2(7)", Kind.DATETIME),
    (("datetime2", 6, 19, 0, None), "datetime2(0)", Kind.DATETIME),
    (("time", 5, 16, 7, None), "time(7)", Kind.TIME),
    (("datetime", 8, 23, 3, None), "datetime", Kind.DATETIME),
    (("smalldatetime", 4, 16, 0, None), "smalldatetime", Kind.DATETIME),
    (("hierarchyid", 892, 0, 0, None), "hierarchyid", Kind.NATIVE),
    (("geography", -1, 0, 0, None), "geography", Kind.NATIVE),
    (("geometry", -1, 0, 0, None), "geometry", Kind.NATIVE),
    (("xml", -1, 0, 0, None), "xml", Kind.XML),
    (("money", 8, 19, 4, None), "money", Kind.MONEY),
    (("smallmoney", 4, 10, 4, None), "smallmoney", Kind.MONEY),
    (("uniqueidentifier", 16, 0, 0, None), "uniqueidentifier", Kind.UUID),
    (("varbinary", -1, 0, 0, None), "varbinary(max)", Kind.BINARY),
    (("binary", 16, 0, 0, None), "binary(16)", Kind.BINARY),
    (("nvarchar", -1, 0, 0, "SQL_Latin1_General_CP1_CI_AS"),
     "nvarchar(max) COLLATE SQL_Latin1_General_CP1_CI_AS", Kind.STRING),
    (("nchar", 20, 0, 0, "Latin1_General_100_CS_AS_SC_UTF8"),
     "nchar(10) COLLATE Latin1_General_100_CS_AS_SC_UTF8", Kind.STRING),
    (("varchar", 8000, 0, 0, "Japanese_CI_AS"), "varchar(8000) COLLATE Japanese_CI_AS",
     Kind.STRING),
    (("image", 16, 0, 0, None), "image", Kind.BINARY),
    (("text", 16, 0, 0, "SQL_Latin1_General_CP1_CI_AS"),
     "text COLLATE SQL_Latin1_General_CP1_CI_AS", Kind.STRING),
    (("ntext", 16, 0, 0, "SQL_Latin1_General_CP1_CI_AS"),
     "ntext COLLATE SQL_Latin1_General_CP1_CI_AS", Kind.STRING),
    (("decimal", 17, 38, 10, None), "decimal(38,10)", Kind.DECIMAL),
    (("float", 8, 53, 0, None), "float(53)", Kind.DOUBLE),
    (("real", 4, 24, 0, None), "real", Kind.REAL),
    (("bit", 1, 1, 0, None), "bit", Kind.BOOLEAN),
    (("tinyint", 1, 3, 0, None), "tinyint", Kind.TINYINT),
]  # fmt: skip


def _reflected(kind: Kind, scale: int) -> SqlType | None:
    """What reflection's neutral type is before the declaration is attached (None: none);
    temporal types carry sys.columns' fractional digits (`MssqlDialect.refine_columns`)."""
    if kind is Kind.NATIVE:
        return None
    temporal = kind in (Kind.DATETIME, Kind.DATETIME_TZ, Kind.TIME)
    return SqlType(kind, precision=scale if temporal else None)


@pytest.mark.parametrize(("fields", "declared", "kind"), CATALOG, ids=[c[1] for c in CATALOG])
def test_each_type_is_declared_verbatim_on_a_sql_server_target(fields, declared, kind):
    assert mn.declaration(*fields) == declared
    t = mn.with_native("mssql", _reflected(kind, fields[3]), (declared, fields[0]))
    assert t.kind is kind and D.render_type(t) == declared
    create = sqlglot.parse_one(f"CREATE TABLE [t] ([c] {declared} NOT NULL)", read="tsql")
    assert isinstance(create, exp.Create)
    (cdef,) = [e for e in create.this.expressions if isinstance(e, exp.ColumnDef)]
    base = declared.split(" COLLATE ")[0]
    kind_sql = cdef.args["kind"].sql("tsql")
    if base == "hierarchyid":  # sqlglot keeps it as a user-defined type name
        assert kind_sql == "hierarchyid"
    else:
        assert cdef.args["kind"] == exp.DataType.build(base, dialect="tsql")
    collation = cdef.find(exp.CollateColumnConstraint)
    assert (collation.this.name if collation else None) == fields[4]
    lossy = kind in (Kind.DATETIME, Kind.DATETIME_TZ, Kind.TIME) and declared.endswith("(7)")
    assert D.fidelity(t)[0] == ("lossy" if lossy else "exact")  # microseconds in Python


@pytest.mark.parametrize("name", ["timestamp", "rowversion", "sql_variant"])
def test_rowversion_and_sql_variant_get_no_declaration(name):
    assert name in mn.NOT_CARRIED  # rowversion stays binary(8); sql_variant stays refused
    assert mn.with_native("mssql", None, None) is None


def _clr_table() -> Table:
    cols = [Column("id", SqlType(Kind.INTEGER), False)]
    for name in ("hierarchyid", "geography", "geometry"):
        t = mn.with_native("mssql", None, (name, name))
        cols.append(Column(name[:4], t))
    cols.append(
        Column("s", mn.with_native("mssql", SqlType(Kind.STRING), ("nvarchar(max)", "nvarchar")))
    )
    return Table("clr", tuple(cols), ("id",), "dbo")


def test_clr_types_are_inserted_through_convert_from_varbinary_never_bulk_copied():
    table = _clr_table()
    conn = FakeConn()
    point = bytes.fromhex("E6100000010C000000000000F03F0000000000000040")
    rows = [(1, b"\x58", point, b"\x00\x00\x00\x00\x01\x04", "x"), (2, None, None, None, None)]
    assert D.bulk_load(conn, table, iter(rows)) == 2
    assert conn.bulk == []
    ((sql, params),) = conn.log
    insert = sqlglot.parse_one(_mssql.substitute_params(sql, tuple(params)).decode(),
                               read="tsql")  # fmt: skip
    assert isinstance(insert, exp.Insert)
    first, second = insert.expression.expressions
    converted = [e for e in first.expressions if isinstance(e, exp.Convert)]
    assert [c.this.sql("tsql").lower() for c in converted] == ["hierarchyid", "geography",
                                                              "geometry"]  # fmt: skip
    assert isinstance(converted[1].expression, exp.HexString)  # the bytes, as varbinary
    assert converted[1].expression.this.upper() == point.hex().upper()
    assert [type(e) for e in second.expressions][1:4] == [exp.Convert] * 3  # NULL converted
    assert "CONVERT(geography, %s)" in sql


def test_plain_tables_keep_the_bulk_path():
    t = mn.with_native("mssql", SqlType(Kind.INTEGER), ("int", "int"))
    table = Table("plain", (Column("id", t, False),), ("id",), "dbo")
    conn = FakeConn()
    assert D.bulk_load(conn, table, iter([(1,), (2,)])) == 2
    assert len(conn.bulk) == 1 and conn.log == []


def test_sql_server_types_to_another_engine_are_refused_by_name():
    table = _clr_table()
    stats = {"clr": (1, 2, 2)}
    with pytest.raises(UnmappableType) as err:
        plan_tables([table], stats, "mssql", "postgresql", "s", "t")
    said = str(err.value)
    assert "column 'hier'" in said and "hierarchyid (mssql)" in said and "geography" in said
    plan = plan_tables([table], stats, "mssql", "mssql", "s", "t")
    assert [m.target_type for m in plan.tables[0].columns] == [
        "int", "hierarchyid", "geography", "geometry", "nvarchar(max)"]  # fmt: skip
    assert {m.fidelity for m in plan.tables[0].columns} == {"exact"}
