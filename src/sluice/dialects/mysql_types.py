"""MySQL and MariaDB types: how a reflected column becomes a neutral type, how a neutral type
is declared, and the converters between PyMySQL's values and sluice's canonical ones."""

from __future__ import annotations

import datetime as dt

from sluice.core.types import Kind, SqlType
from sluice.core.values import DAY, bits_text, duration_text, ewkb_from_mysql, mysql_from_ewkb

FIXED: dict[Kind, str] = {
    Kind.BOOLEAN: "TINYINT(1)",
    Kind.TINYINT: "TINYINT UNSIGNED",
    Kind.SMALLINT: "SMALLINT",
    Kind.INTEGER: "INT",
    Kind.BIGINT: "BIGINT",
    Kind.MONEY: "DECIMAL(19,4)",
    Kind.REAL: "FLOAT",
    Kind.DOUBLE: "DOUBLE",
    Kind.DATE: "DATE",
    Kind.UUID: "CHAR(36) CHARACTER SET ascii",
    Kind.JSON: "JSON",
    Kind.XML: "LONGTEXT",
    Kind.ROWVERSION: "BINARY(8)",
    Kind.TEXT_FORM: "LONGTEXT",
}


def _uuid(v):
    import uuid

    return v if isinstance(v, uuid.UUID) else uuid.UUID(str(v))


def _time(v):
    """A time of day stored in TIME (from a `time` elsewhere): PyMySQL returns a timedelta
    since midnight; 24:00:00 (PostgreSQL's end of day) stays the timedelta of one day."""
    if isinstance(v, dt.timedelta) and dt.timedelta(0) <= v < DAY:
        return (dt.datetime.min + v).time()
    return v


def _time_literal(v):
    """A timedelta as MySQL reads it exactly (PyMySQL renders -1 s as '-1:59:59')."""
    return duration_text(v) if isinstance(v, dt.timedelta) else v


def _bits(length: int):
    return lambda v: bits_text(v, length)


def _bit_literal(v):
    return int(v, 2) if isinstance(v, str) else v


MYSQL_DECODE = {
    Kind.BOOLEAN: bool, Kind.UUID: _uuid, Kind.TIME: _time, Kind.GEOMETRY: ewkb_from_mysql,
}  # fmt: skip
MYSQL_ENCODE = {
    Kind.UUID: str, Kind.TIME: _time_literal, Kind.DURATION: _time_literal, Kind.BIT: _bit_literal,
    Kind.TIME_TZ: _time_literal, Kind.GEOMETRY: mysql_from_ewkb,
}  # fmt: skip
# MySQL's widest types: BIT(64); a VARCHAR of utf8mb4 holds 16,383 characters at most
MAX_BITS = 64
MAX_VARCHAR = 16_383
UNSIGNED_BIGINT = SqlType(Kind.DECIMAL, precision=20, scale=0)
BIGINT_MAX = 2**63 - 1
FLOAT_MAX = 3.402823466e38  # FLOAT's range, as MariaDB documents it


def _tinyint(t) -> SqlType:
    """TINYINT(1) is an integer like any TINYINT: the width is for display only (5, -1 and
    -128 are TINYINT(1) values), so it never becomes a boolean on the way."""
    return SqlType(Kind.TINYINT if getattr(t, "unsigned", False) else Kind.SMALLINT)


def _set(t) -> SqlType:
    """SET('a','bb') holds any members joined by commas: wide enough for all of them."""
    members = list(getattr(t, "values", None) or ())
    return SqlType(Kind.STRING, length=max(1, sum(map(len, members)) + len(members) - 1))


def _enum(t) -> SqlType:
    """ENUM holds one member (or '' for an invalid value stored outside strict mode)."""
    return SqlType(Kind.STRING, length=max([1, *map(len, getattr(t, "enums", None) or ())]))


def _unsigned(kind: Kind, wider: SqlType):
    def pick(t) -> SqlType:
        return wider if getattr(t, "unsigned", False) else SqlType(kind)

    return pick


TIMES = {
    Kind.TIME: "TIME", Kind.TIME_TZ: "TIME", Kind.DURATION: "TIME", Kind.DATETIME: "DATETIME",
    Kind.DATETIME_TZ: "DATETIME",
}  # fmt: skip


REFLECT = {
    # MySQL's default fractional precision is 0 digits
    "DATETIME": lambda t: SqlType(Kind.DATETIME, precision=t.fsp or 0),
    "TIMESTAMP": lambda t: SqlType(Kind.DATETIME, precision=t.fsp or 0),
    # TIME is a signed duration (-838:59:59.999999 to 838:59:59.999999), not a time of day
    "TIME": lambda t: SqlType(Kind.DURATION, precision=t.fsp or 0),
    "TINYINT": _tinyint,
    "BIT": lambda t: SqlType(Kind.BIT, length=t.length or 1),
    "SET": _set,
    "ENUM": _enum,
    # FLOAT is 4 bytes unless declared with more than 24 bits of precision
    "FLOAT": lambda t: SqlType(Kind.DOUBLE if (t.precision or 0) > 24 else Kind.REAL),
    "SMALLINT": _unsigned(Kind.SMALLINT, SqlType(Kind.INTEGER)),
    "MEDIUMINT": _unsigned(Kind.INTEGER, SqlType(Kind.INTEGER)),
    "INTEGER": _unsigned(Kind.INTEGER, SqlType(Kind.BIGINT)),
    "BIGINT": _unsigned(Kind.BIGINT, UNSIGNED_BIGINT),
    "YEAR": lambda t: SqlType(Kind.SMALLINT),
}


def decode_converters(columns) -> list:
    return [
        _bits(c.type.length or 1) if c.type.kind is Kind.BIT else MYSQL_DECODE.get(c.type.kind)
        for c in columns
    ]
