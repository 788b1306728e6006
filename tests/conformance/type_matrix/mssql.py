"""SQL Server's data types, to every engine: compile level (no SQL Server runs here)."""

from __future__ import annotations

from sluice.core.types import Kind, SqlType
from tests.conformance.type_matrix.model import LITE, MS, MY, PG, L, R, Row, To, W, X

# fmt: off
_NEUTRAL = {  # the neutral type SQL Server reflection gives, per sys.types name
    "bigint": SqlType(Kind.BIGINT), "int": SqlType(Kind.INTEGER),
    "smallint": SqlType(Kind.SMALLINT), "tinyint": SqlType(Kind.TINYINT),
    "bit": SqlType(Kind.BOOLEAN), "float": SqlType(Kind.DOUBLE), "real": SqlType(Kind.REAL),
    "date": SqlType(Kind.DATE), "uniqueidentifier": SqlType(Kind.UUID),
    "xml": SqlType(Kind.XML), "money": SqlType(Kind.MONEY),
    "smallmoney": SqlType(Kind.MONEY, precision=10, scale=4),
    "image": SqlType(Kind.BINARY), "text": SqlType(Kind.STRING, unicode=False),
    "ntext": SqlType(Kind.STRING),
}


def ms(decl: str, name: str, neutral: SqlType | None, **to: To) -> Row:
    names = {"pg": PG, "my": MY, "lite": LITE, "ms": MS}
    return Row(MS, decl, (), {names[k]: v for k, v in to.items()}, "text", (name, neutral))


def _ms_simple(decl: str, pg_: To, my_: To, lite_: To, ms_: To | None = None) -> Row:
    return ms(decl, decl, _NEUTRAL[decl], pg=pg_, my=my_, lite=lite_, ms=ms_ or X(decl))


_DT = Kind.DATETIME
MS_ROWS: list[Row] = [
    _ms_simple("bigint", X("BIGINT"), X("BIGINT"), X("INTEGER")),
    _ms_simple("int", X("INTEGER"), X("INT"), X("INTEGER")),
    _ms_simple("smallint", X("SMALLINT"), X("SMALLINT"), X("INTEGER")),
    _ms_simple("tinyint", W("SMALLINT"), X("TINYINT UNSIGNED"), X("INTEGER")),
    _ms_simple("bit", X("BOOLEAN"), X("TINYINT(1)"), X("BOOLEAN")),
    ms("decimal(38,10)", "decimal", SqlType(Kind.DECIMAL, precision=38, scale=10),
       pg=X("NUMERIC(38,10)"), my=X("DECIMAL(38,10)"), lite=L("NUMERIC"),
       ms=X("decimal(38,10)")),
    ms("numeric(19,4)", "numeric", SqlType(Kind.DECIMAL, precision=19, scale=4),
       pg=X("NUMERIC(19,4)"), my=X("DECIMAL(19,4)"), lite=L("NUMERIC"), ms=X("numeric(19,4)")),
    _ms_simple("money", X("NUMERIC(19,4)"), X("DECIMAL(19,4)"), L("NUMERIC")),
    _ms_simple("smallmoney", X("NUMERIC(19,4)"), X("DECIMAL(19,4)"), L("NUMERIC")),
    ms("float(53)", "float", SqlType(Kind.DOUBLE),
       pg=X("DOUBLE PRECISION"), my=X("DOUBLE"), lite=X("REAL"), ms=X("float(53)")),
    _ms_simple("real", X("REAL"), X("FLOAT"), X("REAL")),
    _ms_simple("date", X("DATE"), X("DATE"), X("DATE")),
    ms("time(7)", "time", SqlType(Kind.TIME, precision=7),
       pg=L("TIME"), my=L("TIME(6)"), lite=L("TIME"), ms=L("time(7)")),
    ms("time(3)", "time", SqlType(Kind.TIME, precision=3),
       pg=X("TIME(3)"), my=X("TIME(3)"), lite=X("TIME"), ms=X("time(3)")),
    ms("datetime2(7)", "datetime2", SqlType(_DT, precision=7),
       pg=L("TIMESTAMP"), my=L("DATETIME(6)"), lite=L("TIMESTAMP"), ms=L("datetime2(7)")),
    ms("datetime2(3)", "datetime2", SqlType(_DT, precision=3),
       pg=X("TIMESTAMP(3)"), my=X("DATETIME(3)"), lite=X("TIMESTAMP"), ms=X("datetime2(3)")),
    ms("datetime", "datetime", SqlType(_DT, precision=3),
       pg=X("TIMESTAMP(3)"), my=X("DATETIME(3)"), lite=X("TIMESTAMP"), ms=X("datetime")),
    ms("smalldatetime", "smalldatetime", SqlType(_DT, precision=0),
       pg=X("TIMESTAMP(0)"), my=X("DATETIME(0)"), lite=X("TIMESTAMP"), ms=X("smalldatetime")),
    ms("datetimeoffset(7)", "datetimeoffset", SqlType(Kind.DATETIME_TZ, precision=7),
       pg=L("TIMESTAMPTZ"), my=L("DATETIME(6)"), lite=L("TIMESTAMP"),
       ms=L("datetimeoffset(7)")),
    ms("datetimeoffset(3)", "datetimeoffset", SqlType(Kind.DATETIME_TZ, precision=3),
       pg=X("TIMESTAMPTZ(3)"), my=L("DATETIME(3)"), lite=X("TIMESTAMP"),
       ms=X("datetimeoffset(3)")),
    ms("char(10) COLLATE Latin1_General_CS_AS", "char", SqlType(Kind.STRING, length=10,
                                                                 fixed=True, unicode=False),
       pg=X("CHAR(10)"), my=X("CHAR(10)"), lite=X("VARCHAR(10)"),
       ms=X("char(10) COLLATE Latin1_General_CS_AS")),
    ms("varchar(255) COLLATE Latin1_General_CS_AS", "varchar",
       SqlType(Kind.STRING, length=255, unicode=False),
       pg=X("VARCHAR(255)"), my=X("VARCHAR(255)"), lite=X("VARCHAR(255)"),
       ms=X("varchar(255) COLLATE Latin1_General_CS_AS")),
    ms("varchar(max) COLLATE Latin1_General_CS_AS", "varchar",
       SqlType(Kind.STRING, unicode=False), pg=X("TEXT"), my=X("LONGTEXT"), lite=X("TEXT"),
       ms=X("varchar(max) COLLATE Latin1_General_CS_AS")),
    _ms_simple("text", X("TEXT"), X("LONGTEXT"), X("TEXT"),
               X("text")),
    ms("nchar(10) COLLATE Latin1_General_CS_AS", "nchar", SqlType(Kind.STRING, length=10,
                                                                   fixed=True),
       pg=X("CHAR(10)"), my=X("CHAR(10)"), lite=X("VARCHAR(10)"),
       ms=X("nchar(10) COLLATE Latin1_General_CS_AS")),
    ms("nvarchar(40) COLLATE Latin1_General_CS_AS", "nvarchar", SqlType(Kind.STRING, length=40),
       pg=X("VARCHAR(40)"), my=X("VARCHAR(40)"), lite=X("VARCHAR(40)"),
       ms=X("nvarchar(40) COLLATE Latin1_General_CS_AS")),
    ms("nvarchar(max) COLLATE Latin1_General_CS_AS", "nvarchar", SqlType(Kind.STRING),
       pg=X("TEXT"), my=X("LONGTEXT"), lite=X("TEXT"),
       ms=X("nvarchar(max) COLLATE Latin1_General_CS_AS")),
    _ms_simple("ntext", X("TEXT"), X("LONGTEXT"), X("TEXT"), X("ntext")),
    ms("binary(8)", "binary", SqlType(Kind.BINARY, length=8, fixed=True),
       pg=X("BYTEA"), my=X("VARBINARY(8)"), lite=X("BLOB"), ms=X("binary(8)")),
    ms("varbinary(16)", "varbinary", SqlType(Kind.BINARY, length=16),
       pg=X("BYTEA"), my=X("VARBINARY(16)"), lite=X("BLOB"), ms=X("varbinary(16)")),
    ms("varbinary(max)", "varbinary", SqlType(Kind.BINARY),
       pg=X("BYTEA"), my=X("LONGBLOB"), lite=X("BLOB"), ms=X("varbinary(max)")),
    _ms_simple("image", X("BYTEA"), X("LONGBLOB"), X("BLOB")),
    _ms_simple("uniqueidentifier", X("UUID"), X("CHAR(36) CHARACTER SET ascii"), X("TEXT")),
    _ms_simple("xml", X("XML"), W("LONGTEXT"), X("TEXT")),
    ms("hierarchyid", "hierarchyid", None, pg=R(), my=R(), lite=R(), ms=X("hierarchyid")),
    ms("geography", "geography", None, pg=R(), my=R(), lite=R(), ms=X("geography")),
    ms("geometry", "geometry", None, pg=R(), my=R(), lite=R(), ms=X("geometry")),
    ms("rowversion", "rowversion", SqlType(Kind.ROWVERSION),
       pg=W("BYTEA"), my=W("BINARY(8)"), lite=X("BLOB"), ms=W("binary(8)")),
    ms("sql_variant", "sql_variant", None, pg=R(), my=R(), lite=R(), ms=R()),
]
# fmt: on
