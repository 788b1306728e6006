"""SQL Server's own types on a SQL Server target (ADR 0013): each column's exact declaration
from sys.columns (collation included), rendered verbatim only by a SQL Server dialect, and
the CLR types' write path. Compile-tested only (tests/unit/test_mssql_native.py): no SQL
Server runs where sluice is developed; tests/integration/test_mssql_live.py runs it live.

- hierarchyid, geography and geometry have no neutral kind (Kind.NATIVE): pymssql hands
  their serialised bytes over, bulk copy is not trusted with them, so a table holding one
  goes through INSERTs that CONVERT each value back from varbinary (`insert_group`).
- rowversion/timestamp takes no explicit value: it stays binary(8) (data, not a version).
- sql_variant is refused: pymssql hands over its value without its base type, precision or
  collation, so no write could restore it exactly.
- datetime2/time/datetimeoffset with 7 fractional digits stay lossy (Python holds
  microseconds), declared verbatim but planned as lossy: `--allow-lossy` asks for them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sluice.core.types import Kind, SqlType

CLR = frozenset({"hierarchyid", "geography", "geometry"})
# no explicit value can be written (rowversion) or restored (sql_variant): no declaration
NOT_CARRIED = frozenset({"timestamp", "rowversion", "sql_variant"})
_SIZED = frozenset({"varchar", "char", "varbinary", "binary", "nvarchar", "nchar"})
_FRACTION = frozenset({"datetime2", "time", "datetimeoffset"})

COLUMNS_SQL = (
    "SELECT c.name, TYPE_NAME(c.system_type_id), c.max_length, c.precision, c.scale, "
    "c.collation_name, t.is_user_defined FROM sys.columns AS c "
    "JOIN sys.types AS t ON t.user_type_id = c.user_type_id "
    "WHERE c.object_id = OBJECT_ID(:obj)"
)


def declaration(name: str, max_length: int, precision: int, scale: int,
                collation: str | None) -> str:  # fmt: skip
    """A column's type as SQL Server declares it, from sys.columns' fields."""
    name = name.lower()
    if name in _SIZED:
        n = "max" if max_length == -1 else max_length // (2 if name[0] == "n" else 1)
        text = f"{name}({n})"
    elif name in ("decimal", "numeric"):
        text = f"{name}({precision},{scale})"
    elif name in _FRACTION:
        text = f"{name}({scale})"
    elif name == "float":
        text = "float(53)" if precision == 53 else f"float({precision})"
    else:
        text = name
    if collation and name in _SIZED | {"text", "ntext"}:
        text += f" COLLATE {collation}"
    return text


def native_columns(bind: Any, qualified, schema: str | None, names) -> dict:
    """{(table, column): (declaration, type name)}; one catalog query per table."""
    import sqlalchemy as sa

    found = {}
    with bind.connect() as conn:
        for table in names:
            rows = conn.execute(sa.text(COLUMNS_SQL), {"obj": qualified(table, schema)})
            for column, name, max_length, precision, scale, collation, user_defined in rows:
                if user_defined or name is None or name.lower() in NOT_CARRIED:
                    continue  # an alias type, or a type whose values cannot be written back
                text = declaration(name, int(max_length), int(precision), int(scale), collation)
                found[(table, column)] = (text, name.lower())
    return found


def with_native(engine: str, t: SqlType | None, info: Any) -> SqlType | None:
    """The declaration attached; hierarchyid, geography and geometry become Kind.NATIVE."""
    if info is None:
        return t
    text, name = info
    if name in CLR:
        t = SqlType(Kind.NATIVE)
    if t is None:
        return None
    return replace(t, native=text, engine=engine)


def clr_type(t: SqlType) -> str | None:
    """The CLR type a Kind.NATIVE column holds (its values travel as varbinary), or None."""
    name = (t.native or "").split("(")[0].lower()
    return name if t.kind is Kind.NATIVE and name in CLR else None


def fraction_lossy(t: SqlType) -> bool:
    """Whether the declaration keeps a 7th fractional digit Python's times cannot carry."""
    return t.kind in (Kind.DATETIME, Kind.DATETIME_TZ, Kind.TIME) and (t.precision or 0) > 6


def insert_group(columns, marker: str) -> str:
    """One row's VALUES group: a CLR column's parameter converted from varbinary."""
    parts = []
    for c in columns:
        clr = clr_type(c.type)
        parts.append(f"CONVERT({clr}, {marker})" if clr else marker)
    return "(" + ", ".join(parts) + ")"
