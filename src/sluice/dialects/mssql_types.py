"""SQL Server's words for the neutral types, both ways, and the values pymssql can send.

Mostly data: the declarations without parameters, the size limits, the reflection
overrides keyed by SQLAlchemy's mssql class names, the fidelity notes, one small function
per kind whose values pymssql cannot send as they are, and the per-row helpers the write
paths build from them. Code only where a length, precision or offset is involved.

Round trip: `render_type(parse_type(x)) == x` for every canonical SQL Server declaration,
so SQL Server -> SQL Server keeps `nvarchar(40)` as `nvarchar(40)`. Synonyms are rendered
in their canonical spelling (`numeric(9,2)` -> `decimal(9,2)`, `float(24)` -> `real`), and
the types SQL Server itself deprecates or cannot accept explicit values for become their
exact modern supersets: `text`/`ntext`/`image` -> `varchar(max)`/`nvarchar(max)`/
`varbinary(max)`, `smalldatetime` -> `datetime2(0)`, `rowversion`/`timestamp` -> `binary(8)`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sluice.core.errors import ConfigError
from sluice.core.schema import Table
from sluice.core.types import Kind, SqlType

MAX_NCHAR = 4000  # nvarchar(n)/nchar(n); longer is nvarchar(max)
MAX_CHAR = 8000  # varchar(n)/char(n)/varbinary(n)/binary(n)
MAX_DECIMAL = 38
MAX_FRACTION = 7  # datetime2/time/datetimeoffset fractional-second digits
# the legacy datetime's range; datetime2 (what other engines' timestamps become) reaches year 1
DATETIME_RANGE = (dt.datetime(1753, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59, 997000))
UNBOUNDED_DECIMAL_SCALE = 18  # decimal(38,18) for a source numeric without precision

# Declarations without parameters -> neutral type.
PLAIN: dict[str, SqlType] = {
    "bit": SqlType(Kind.BOOLEAN),
    "tinyint": SqlType(Kind.TINYINT),
    "smallint": SqlType(Kind.SMALLINT),
    "int": SqlType(Kind.INTEGER),
    "bigint": SqlType(Kind.BIGINT),
    "money": SqlType(Kind.MONEY),
    "smallmoney": SqlType(Kind.MONEY, precision=10, scale=4),
    "real": SqlType(Kind.REAL),
    "date": SqlType(Kind.DATE),
    "datetime": SqlType(Kind.DATETIME),  # 1/300 s ticks: no digit count fits, so None
    "smalldatetime": SqlType(Kind.DATETIME, precision=0),  # whole minutes
    "uniqueidentifier": SqlType(Kind.UUID),
    "xml": SqlType(Kind.XML),
    "text": SqlType(Kind.STRING, unicode=False),
    "ntext": SqlType(Kind.STRING),
    "image": SqlType(Kind.BINARY),
    "rowversion": SqlType(Kind.ROWVERSION),
    "timestamp": SqlType(Kind.ROWVERSION),
    "sysname": SqlType(Kind.STRING, length=128),
}

# Neutral kinds with one fixed rendering.
FIXED: dict[Kind, str] = {
    Kind.BOOLEAN: "bit",
    Kind.TINYINT: "tinyint",
    Kind.SMALLINT: "smallint",
    Kind.INTEGER: "int",
    Kind.BIGINT: "bigint",
    Kind.REAL: "real",
    Kind.DOUBLE: "float",
    Kind.DATE: "date",
    Kind.UUID: "uniqueidentifier",
    Kind.JSON: "nvarchar(max)",
    Kind.XML: "xml",
    Kind.ROWVERSION: "binary(8)",  # a copied rowversion is data, not a new version
    Kind.TEXT_FORM: "nvarchar(max)",
}

# Kinds SQL Server cannot store exactly, whatever their parameters (see `fidelity`).
FIDELITY_NOTES: dict[Kind, tuple[str, str]] = {
    Kind.JSON: ("widening", "stored as nvarchar(max) text; SQL Server has no JSON type"),
    Kind.ROWVERSION: ("widening", "opaque 8 bytes kept as binary(8); no longer auto-updated"),
}

_TYPE_RE = re.compile(r"^\s*(\w+)\s*(?:\(\s*(max|\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$", re.I)
_TIMES = {"datetime2": Kind.DATETIME, "time": Kind.TIME, "datetimeoffset": Kind.DATETIME_TZ}


def parse_type(text: str) -> SqlType:
    """Parse a SQL Server type declaration such as `nvarchar(40)` or `decimal(18,2)`."""
    text = re.sub(r"(?i)^\s*double\s+precision\s*$", "float(53)", text)
    m = _TYPE_RE.match(text)
    if not m:
        raise ConfigError(f"not a SQL Server type: {text!r}")
    name, arg, arg2 = m.group(1).lower(), m.group(2), m.group(3)
    if name in PLAIN and arg is None:
        return PLAIN[name]
    n = None if arg is None or arg.lower() == "max" else int(arg)
    if name in ("nvarchar", "varchar", "nchar", "char"):
        fixed = name in ("nchar", "char")
        length = n if arg is not None else 1
        return SqlType(Kind.STRING, length=length, unicode=name.startswith("n"), fixed=fixed)
    if name in ("varbinary", "binary"):
        return SqlType(Kind.BINARY, length=n if arg is not None else 1, fixed=name == "binary")
    if name in ("decimal", "numeric"):
        return SqlType(Kind.DECIMAL, precision=n or 18, scale=int(arg2) if arg2 else 0)
    if name == "float":
        return SqlType(Kind.REAL if n is not None and n <= 24 else Kind.DOUBLE)
    if name in _TIMES:
        return SqlType(_TIMES[name], precision=MAX_FRACTION if n is None else n)
    raise ConfigError(f"unsupported SQL Server type: {text!r}")


def decimal_args(t: SqlType) -> tuple[int, int]:
    """(precision, scale) SQL Server can declare for a neutral decimal; keeps integer digits."""
    if t.precision is None:
        return MAX_DECIMAL, UNBOUNDED_DECIMAL_SCALE
    p, s = t.precision, max(0, t.scale or 0)
    if p <= MAX_DECIMAL:
        return p, min(s, p)
    whole = p - s  # too many digits: keep the integer part, give up fraction digits
    return MAX_DECIMAL, max(0, MAX_DECIMAL - whole) if whole <= MAX_DECIMAL else 0


def render_type(t: SqlType) -> str:
    k = t.kind
    if k in FIXED:
        return FIXED[k]
    if k is Kind.MONEY:
        return "smallmoney" if t.precision == 10 else "money"
    if k is Kind.STRING:
        limit = MAX_NCHAR if t.unicode else MAX_CHAR
        prefix = "n" if t.unicode else ""
        if t.length is None or t.length > limit:
            return f"{prefix}varchar(max)"  # there is no char(max): variable length holds it
        return f"{prefix}{'char' if t.fixed else 'varchar'}({t.length})"
    if k is Kind.BINARY:
        if t.length is None or t.length > MAX_CHAR:
            return "varbinary(max)"
        return f"{'binary' if t.fixed else 'varbinary'}({t.length})"
    if k is Kind.DECIMAL:
        return "decimal({},{})".format(*decimal_args(t))
    if k is Kind.DATETIME and t.precision is None:
        return "datetime"
    if k in (Kind.DATETIME, Kind.DATETIME_TZ, Kind.TIME):
        base = {Kind.DATETIME: "datetime2", Kind.DATETIME_TZ: "datetimeoffset", Kind.TIME: "time"}
        p = MAX_FRACTION if t.precision is None else min(t.precision, MAX_FRACTION)
        return f"{base[k]}({p})"
    raise NotImplementedError(k)


def fidelity(t: SqlType) -> tuple[str, str]:
    """("exact" | "widening" | "lossy", why) for storing a value of type `t` in SQL Server."""
    k = t.kind
    if k is Kind.DECIMAL and (t.precision is None or t.precision > MAX_DECIMAL):
        digits = "unbounded" if t.precision is None else f"{t.precision} digits"
        return "lossy", f"{digits}; SQL Server keeps {render_type(t)}"
    if k in (Kind.DATETIME, Kind.DATETIME_TZ, Kind.TIME) and (t.precision or 0) > 6:
        return "lossy", "7th fractional digit (100 ns) dropped: Python times carry microseconds"
    if k in (Kind.STRING, Kind.BINARY) and t.length is not None:
        limit = MAX_NCHAR if k is Kind.STRING and t.unicode else MAX_CHAR
        if t.length > limit:
            return "widening", f"length {t.length} is over {limit}: stored as {render_type(t)}"
    return FIDELITY_NOTES.get(k, ("exact", ""))


# --- reflection: SQLAlchemy's mssql type classes -> neutral types -------------------------
# Keys are `type(t).__name__.upper()` (see `sluice.copy.reflect.neutral_type`). SQLAlchemy 2.1
# reflects datetime2/time/datetimeoffset without their fractional digits (precision None),
# which SQL Server's default makes 7: the widest, so nothing can be lost.


def _length(t: Any) -> int | None:
    n = getattr(t, "length", None)
    return n if isinstance(n, int) else None


def _string(unicode: bool, fixed: bool = False) -> Callable[[Any], SqlType]:
    return lambda t: SqlType(Kind.STRING, length=_length(t), unicode=unicode, fixed=fixed)


def _binary(fixed: bool) -> Callable[[Any], SqlType]:
    return lambda t: SqlType(Kind.BINARY, length=_length(t), fixed=fixed)


def _fraction(kind: Kind) -> Callable[[Any], SqlType]:
    def pick(t: Any) -> SqlType:
        p = getattr(t, "precision", None)
        return SqlType(kind, precision=MAX_FRACTION if p is None else p)

    return pick


def _float(t: Any) -> SqlType:
    p = getattr(t, "precision", None)
    return SqlType(Kind.REAL if p is not None and p <= 24 else Kind.DOUBLE)


REFLECT_OVERRIDES: dict[str, Callable[[Any], SqlType]] = {
    "NVARCHAR": _string(True),
    "NCHAR": _string(True, fixed=True),
    "NTEXT": _string(True),
    "VARCHAR": _string(False),
    "CHAR": _string(False, fixed=True),
    "TEXT": _string(False),
    "VARBINARY": _binary(fixed=False),
    "BINARY": _binary(fixed=True),
    "IMAGE": _binary(fixed=False),
    "MONEY": lambda t: PLAIN["money"],
    "SMALLMONEY": lambda t: PLAIN["smallmoney"],
    "DATETIME": lambda t: PLAIN["datetime"],
    "SMALLDATETIME": lambda t: PLAIN["smalldatetime"],
    "DATETIME2": _fraction(Kind.DATETIME),
    "DATETIMEOFFSET": _fraction(Kind.DATETIME_TZ),
    "TIME": _fraction(Kind.TIME),
    "TINYINT": lambda t: PLAIN["tinyint"],
    "BIT": lambda t: PLAIN["bit"],
    "UNIQUEIDENTIFIER": lambda t: PLAIN["uniqueidentifier"],
    "TIMESTAMP": lambda t: PLAIN["rowversion"],
    "ROWVERSION": lambda t: PLAIN["rowversion"],
    "XML": lambda t: PLAIN["xml"],
    "REAL": lambda t: PLAIN["real"],
    "FLOAT": _float,
    "DOUBLE_PRECISION": lambda t: SqlType(Kind.DOUBLE),
}


# --- values pymssql cannot send as they are ----------------------------------------------
# pymssql's bulk copy knows bool/int/float/str/bytes/Decimal/datetime only (`DBTYPES` in
# _mssql.pyx) and turns a datetime into text with milliseconds; FreeTDS then parses that
# text client-side. So dates and times go as ISO text we control, Decimals as fixed-point
# text (pymssql's own path caps them at 33 digits), UUIDs as text. Every function accepts
# its own output, so applying one twice is harmless.


def _uuid_text(v: Any) -> Any:
    return v if isinstance(v, str) else str(v)


def _fixed_point(v: Any) -> Any:
    return format(v, "f") if isinstance(v, Decimal) else v


def _date_text(v: Any) -> Any:
    if isinstance(v, str):
        return v
    return (v.date() if isinstance(v, dt.datetime) else v).isoformat()


def _time_text(v: Any) -> Any:
    return v if isinstance(v, str) else v.isoformat(timespec="microseconds")


def _datetime2_text(v: Any) -> Any:
    return v if isinstance(v, str) else v.isoformat(" ", "microseconds")


def _datetime_text(v: Any) -> Any:
    """Legacy datetime: milliseconds, rounded (pymssql truncates, which loses 2/300 s ticks)."""
    if isinstance(v, str):
        return v
    ms = (v.microsecond + 500) // 1000
    base = v.replace(microsecond=0)
    if ms == 1000:
        base, ms = base + dt.timedelta(seconds=1), 0
    return f"{base.isoformat(' ')}.{ms:03d}"


def _datetimeoffset_text(v: Any) -> Any:
    """ISO text; ` +hh:mm` only when the offset is not zero (FreeTDS cannot parse one)."""
    if isinstance(v, str):
        return v
    off = v.utcoffset()
    if off is None or not off:
        return v.replace(tzinfo=None).isoformat(" ", "microseconds")
    minutes, seconds = divmod(int(off.total_seconds()), 60)
    if seconds:  # SQL Server offsets are whole minutes: keep the instant, in UTC
        return v.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")
    sign, minutes = ("-", -minutes) if minutes < 0 else ("+", minutes)
    local = v.replace(tzinfo=None).isoformat(" ", "microseconds")
    return f"{local} {sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _json_text(v: Any) -> Any:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


_ENCODERS: dict[Kind, Callable[[Any], Any]] = {
    Kind.UUID: _uuid_text,
    Kind.DECIMAL: _fixed_point,
    Kind.MONEY: _fixed_point,
    Kind.DATE: _date_text,
    Kind.TIME: _time_text,
    Kind.DATETIME_TZ: _datetimeoffset_text,
    Kind.JSON: _json_text,
}


def encoder(t: SqlType) -> Callable[[Any], Any] | None:
    """The function turning a canonical value of type `t` into what pymssql sends."""
    if t.kind is Kind.DATETIME:
        return _datetime_text if t.precision is None else _datetime2_text
    return _ENCODERS.get(t.kind)


def insert_literal(t: SqlType) -> Callable[[Any], Any] | None:
    """Fix-ups for pymssql's literal rendering on the plain INSERT path (after `encoder`).

    bytes that happen to be ASCII are rendered as a '...' string, which SQL Server will not
    convert to varbinary implicitly: a bytearray is always rendered 0x... . Date/time text
    gets the ISO 8601 `T` form, which no DATEFORMAT or language setting reinterprets.
    """
    if t.kind in (Kind.BINARY, Kind.ROWVERSION):
        return lambda v: v if isinstance(v, bytearray) else bytearray(v)
    if t.kind in (Kind.DATETIME, Kind.DATETIME_TZ):
        return lambda v: v.replace(" ", "T", 1).replace(" ", "") if isinstance(v, str) else v
    return None


def row_encoder(table: Table, *, literal: bool):
    """Apply the value encoders (and, for INSERT literals, `insert_literal`) to one row."""
    steps = []
    for i, c in enumerate(table.columns):
        fs = [f for f in (encoder(c.type), literal and insert_literal(c.type)) if f]
        if fs:
            steps.append((i, fs))
    if not steps:
        return lambda row: row

    def fix(row: tuple) -> tuple:
        values = list(row)
        for i, fs in steps:
            v = values[i]
            if v is not None:
                for f in fs:
                    v = f(v)
                values[i] = v
        return tuple(values)

    return fix


_DATED = (Kind.DATE, Kind.DATETIME, Kind.DATETIME_TZ)


def bcp_safe(table: Table):
    """Whether pymssql's bulk copy stores an encoded row faithfully.

    Not when it holds '' or b'' (bound with length 0, which DB-Library reads as NULL), a
    date before 1900 (FreeTDS's text parser drops years before 1753), or a non-zero offset
    (the parser reads none): the INSERT path sends those, and the server parses them.
    """
    dated = [i for i, c in enumerate(table.columns) if c.type.kind in _DATED]
    zoned = [i for i, c in enumerate(table.columns) if c.type.kind is Kind.DATETIME_TZ]

    def safe(row: tuple) -> bool:
        if "" in row or b"" in row:
            return False
        for i in dated:
            v = row[i]
            if v is not None and v < "1900":
                return False
        return all(row[i] is None or len(row[i]) <= 26 for i in zoned)

    return safe
