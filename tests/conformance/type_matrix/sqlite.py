"""SQLite's storage classes and type affinities (declared names picking each), to every
engine."""

from __future__ import annotations

from tests.conformance.type_matrix.model import L, Row, W, X, lite

# fmt: off
_OTHER = ("'abc'", "1.5")  # values of another storage class
_I64 = ["-9223372036854775808", "9223372036854775807", "0", *_OTHER, None]
LITE_ROWS: list[Row] = [
    # a column holds a value of any storage class: text or a float in INTEGER is refused
    *(lite(d, _I64, "int", pg=X("BIGINT", *_OTHER), my=X("BIGINT", *_OTHER), lite=X("INTEGER"),
           ms=X("bigint"))
      for d in ("INTEGER", "INT", "TINYINT", "SMALLINT", "MEDIUMINT", "BIGINT",
                "UNSIGNED BIG INT", "INT8")),
    *(lite(d, ["1.7976931348623157e308", "-2.2250738585072014e-308", "5e-324", "0.1", "0",
               "9e999", "-9e999", None], "float",
           pg=X("DOUBLE PRECISION"), my=X("DOUBLE", "9e999", "-9e999"), lite=X("REAL"),
           ms=X("float"))
      for d in ("REAL", "DOUBLE", "DOUBLE PRECISION", "FLOAT")),
    lite("NUMERIC", ["1.5", "123456789012345678", "0", None], "decimal",
         pg=X("NUMERIC"), my=L("DECIMAL(65,30)"), lite=L("NUMERIC"), ms=L("decimal(38,18)")),
    lite("DECIMAL(10,5)", ["12345.6789", "-0.5", "0", None], "decimal",
         pg=X("NUMERIC(10,5)"), my=X("DECIMAL(10,5)"), lite=L("NUMERIC"),
         ms=X("decimal(10,5)")),
    lite("BOOLEAN", ["1", "0", "5", None], "bool",
         pg=X("BOOLEAN", "5"), my=X("TINYINT(1)", "5"), lite=X("BOOLEAN"), ms=X("bit")),
    lite("DATE", ["'0001-01-01'", "'9999-12-31'", None],
         pg=X("DATE"), my=X("DATE"), lite=X("DATE"), ms=X("date")),
    lite("DATETIME", ["'1000-01-01 00:00:00'", "'9999-12-31 23:59:59.999999'", None],
         "fraction", pg=X("TIMESTAMP"), my=X("DATETIME(6)"), lite=X("TIMESTAMP"),
         ms=X("datetime2(6)")),
    lite("TIMESTAMP", ["'2000-01-01 00:00:00.000001'", None], "fraction",
         pg=X("TIMESTAMP"), my=X("DATETIME(6)"), lite=X("TIMESTAMP"), ms=X("datetime2(6)")),
    lite("TIME", ["'00:00:00'", "'23:59:59.999999'", None], "fraction",
         pg=X("TIME"), my=X("TIME(6)"), lite=X("TIME"), ms=X("time(6)")),
    *(lite(d, ["''", "'😀 𝄞'", "'line' || char(10) || 'break'", None],
           pg=X("TEXT"), my=X("LONGTEXT"), lite=X("TEXT"), ms=X("nvarchar(max)"))
      for d in ("TEXT", "CLOB")),
    *(lite(d, ["'abcdefghij'", "''", None], pg=X(f"VARCHAR({n})"), my=X(f"VARCHAR({n})"),
           lite=X(f"VARCHAR({n})"), ms=X(f"nvarchar({n})"))
      for d, n in (("VARCHAR(255)", 255), ("CHARACTER(20)", 20), ("VARYING CHARACTER(255)", 255),
                   ("NATIVE CHARACTER(70)", 70), ("NVARCHAR(100)", 100))),
    lite("NCHAR(55)", ["'abcdefghij'", "''", None], "rstrip",
         pg=X("CHAR(55)"), my=X("CHAR(55)"), lite=X("VARCHAR(55)"), ms=X("nchar(55)")),
    lite("BLOB", ["x''", "x'00ff'", None], "bytes",
         pg=X("BYTEA"), my=X("LONGBLOB"), lite=X("BLOB"), ms=X("varbinary(max)")),
    lite("JSON", ["'{\"k\":1,\"k\":2}'", "' [1, 2.50] '", None],
         pg=X("JSON"), my=X("JSON"), lite=X("TEXT"), ms=W("nvarchar(max)")),
]
# fmt: on
