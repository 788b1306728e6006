"""One canonical encoding of every value, the same whichever engine and driver produced it.

Verification hashes rows on both sides of a replica, so two values that mean the
same thing must encode to the same bytes even when the drivers hand them over as
different Python objects: a SQL Server `bit` (bool) and a MySQL `tinyint(1)` (int),
a `datetime` from pymssql and a `timestamp` from psycopg, `Decimal('1.50')` and
`Decimal('1.5')`. The encoding follows the column's neutral type (`sluice.core.types.Kind`)
from the plan, never the Python type alone:

- integers and booleans by value (`1`, `0`); decimals and money by value, normalised
  (trailing zeros dropped, no exponent, full precision); floats by exact value
  (`repr`, which round-trips every double; a real as the 4-byte float it holds; -0.0 is
  0.0, NaN is NaN)
- text by exact code points (no trimming, no normalisation; `char(n)` alone drops the
  pad spaces SQL adds, since engines differ on returning them)
- dates, times and naive datetimes as ISO 8601 with microseconds; datetimes with an
  offset as the UTC instant they denote (engines keep offsets differently)
- binary and rowversion as hex; UUIDs lower-case; JSON re-serialised with sorted keys
  (a key given twice is kept twice, in its order: `{"k":1,"k":2}` is not `{"k":2}`)
- a type only its own engine has (Kind.NATIVE) as the server's text of it; between two
  databases of one engine with identical declarations every non-key column is compared
  that way (`server_text`): exact there, and it holds what no driver value can
- NULL is distinct from every value, including the empty string

Values of free-text kinds are length-prefixed, so no two different rows share an encoding.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import struct
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from decimal import Context, Decimal

from sluice.core.schema import Table
from sluice.core.types import Kind, SqlType
from sluice.core.values import duration_text

Encoder = Callable[[object], str]

_WIDE = Context(prec=200)  # normalising must never round a decimal(38, x)
_NULL = "~"


def _integer(v) -> str:
    return str(int(v))


def _boolean(v) -> str:
    if isinstance(v, (bytes, bytearray)):  # MySQL BIT(1) arrives as b'\x01'
        v = int.from_bytes(v, "big")
    return "1" if v else "0"


def _decimal(v) -> str:
    d = v if isinstance(v, Decimal) else Decimal(str(v))
    if d.is_nan():
        return "NaN"
    if d.is_infinite():
        return "-Infinity" if d < 0 else "Infinity"
    if d.is_zero():
        return "0"
    return format(d.normalize(_WIDE), "f")


def _float(v) -> str:
    f = float(v)
    if f == 0.0:
        return "0.0"  # -0.0 is the same value; not every engine keeps its sign
    if math.isnan(f):
        return "nan"
    return repr(f)


def _float4(v) -> str:
    """A real is a 4-byte float: drivers widen it to a double in different ways (psycopg
    exactly, MySQL through its shortest decimal text), so compare the float it denotes."""
    f = float(v)
    with contextlib.suppress(OverflowError):  # beyond float4 range: keep the double
        f = struct.unpack("f", struct.pack("f", f))[0]
    return _float(f)


def _text(v) -> str:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).decode("utf-8", "surrogateescape")
    return v if isinstance(v, str) else str(v)


def _padded_text(v) -> str:
    return _text(v).rstrip(" ")


def _binary(v) -> str:
    if isinstance(v, str):  # an engine without a binary type stored hex
        return v.lower()
    return bytes(v).hex()


def _date(v) -> str:
    if isinstance(v, datetime):
        return v.date().isoformat()
    return v.isoformat() if isinstance(v, date) else str(v)


def _time(v) -> str:
    if isinstance(v, timedelta):  # MySQL TIME
        micros = round(v.total_seconds() * 1_000_000)
        seconds, us = divmod(micros, 1_000_000)
        minutes, s = divmod(seconds, 60)
        h, m = divmod(minutes, 60)
        return f"{h:02d}:{m:02d}:{s:02d}.{us:06d}"
    if isinstance(v, time):
        return v.replace(tzinfo=None).isoformat(timespec="microseconds")
    return str(v)


def _time_tz(v) -> str:
    """A time of day with its offset (12:00+05 and 12:00 differ)."""
    return v.isoformat(timespec="microseconds") if isinstance(v, time) else str(v)


def _duration(v) -> str:
    """A signed span in hours (MySQL TIME, kept as a PostgreSQL interval of hours)."""
    return duration_text(v) if isinstance(v, timedelta) else str(v)


def _datetime(v) -> str:
    if isinstance(v, datetime):
        return v.isoformat(timespec="microseconds")
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day).isoformat(timespec="microseconds")
    return str(v)


def _instant(v) -> str:
    """The UTC instant; a naive value (an engine that stores no offset) is taken as UTC."""
    if not isinstance(v, datetime):
        return str(v)
    if v.tzinfo is not None:
        try:
            v = v.astimezone(timezone.utc)
        except OverflowError:  # 0001-01-01 with a positive offset: no UTC datetime exists
            return v.isoformat(timespec="microseconds")
    return v.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _uuid(v) -> str:
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, (bytes, bytearray)) and len(v) == 16:
        return str(uuid.UUID(bytes=bytes(v)))
    return str(uuid.UUID(str(v)))


class _Pairs(list):
    """A JSON object as its (key, value) pairs: a key given twice stays twice."""


def _json_text(v) -> str:
    if isinstance(v, (_Pairs, dict)):
        pairs = sorted(v if isinstance(v, _Pairs) else v.items(), key=lambda p: p[0])  # stable
        inner = ",".join(json.dumps(k, ensure_ascii=False) + ":" + _json_text(x) for k, x in pairs)
        return "{" + inner + "}"
    if isinstance(v, list):
        return "[" + ",".join(_json_text(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def _json(v) -> str:
    if isinstance(v, (bytes, bytearray)):
        v = v.decode("utf-8")
    if isinstance(v, str):
        v = json.loads(v, object_pairs_hook=_Pairs)
    return _json_text(v)


_BY_KIND: dict[Kind, Encoder] = {
    Kind.BOOLEAN: _boolean,
    Kind.TINYINT: _integer,
    Kind.SMALLINT: _integer,
    Kind.INTEGER: _integer,
    Kind.BIGINT: _integer,
    Kind.DECIMAL: _decimal,
    Kind.MONEY: _decimal,
    Kind.REAL: _float4,
    Kind.DOUBLE: _float,
    Kind.STRING: _text,
    Kind.BINARY: _binary,
    Kind.DATE: _date,
    Kind.TIME: _time,
    Kind.TIME_TZ: _time_tz,
    Kind.DURATION: _duration,
    Kind.BIT: _text,
    Kind.DATETIME: _datetime,
    Kind.DATETIME_TZ: _instant,
    Kind.UUID: _uuid,
    Kind.JSON: _json,
    Kind.XML: _text,
    Kind.ROWVERSION: _binary,
    Kind.NATIVE: _text,
}


def value_encoder(t: SqlType) -> Encoder:
    """The canonical text of one non-NULL value of type `t`."""
    if t.kind is Kind.STRING and t.fixed:
        return _padded_text
    return _BY_KIND[t.kind]


def encode_value(t: SqlType, value: object) -> str:
    return _NULL if value is None else value_encoder(t)(value)


# kinds whose text can hold any character: their values carry a length prefix; the others
# encode to a fixed vocabulary (digits, ISO dates, hex, ...) that never holds "|" or "~"
_FREE_TEXT = (Kind.STRING, Kind.XML, Kind.JSON, Kind.NATIVE)


def _prefixed(enc: Encoder) -> Encoder:
    def part(v) -> str:
        s = enc(v)
        return f"{len(s)}:{s}"

    return part


def server_text(table: Table, dst) -> Table:
    """`table` with every non-key column read as the server's text (Kind.NATIVE) when the target
    dialect `dst` declares each column exactly as the source did (one engine, identical
    types): exact there, and it holds what drivers cannot hand over (PostgreSQL infinity, BC
    and year > 9999 dates, 24:00, offsets of timetz). Key columns keep their kind: ranges
    and key order are computed from them."""
    if not all(dst.render_native(c.type) is not None for c in table.columns):
        return table
    as_text = tuple(
        c if c.name in table.primary_key else replace(c, type=replace(c.type, kind=Kind.NATIVE))
        for c in table.columns
    )
    return replace(table, columns=as_text)


def row_encoder(types: Sequence[SqlType]) -> Callable[[tuple], bytes]:
    """A function from one row (values in column order) to its canonical bytes."""
    parts = [
        _prefixed(value_encoder(t)) if t.kind in _FREE_TEXT else value_encoder(t) for t in types
    ]

    def encode(row: tuple) -> bytes:
        text = "|".join([_NULL if v is None else p(v) for p, v in zip(parts, row)])
        # surrogatepass: an unpaired UTF-16 surrogate from SQL Server still hashes, as itself
        return text.encode("utf-8", "surrogatepass")

    return encode


def row_digest(encoded: bytes) -> int:
    """A 128-bit digest of one encoded row."""
    return int.from_bytes(hashlib.blake2b(encoded, digest_size=16).digest(), "big")


MASK = (1 << 128) - 1


class RangeDigest:
    """Count and order-independent sum (mod 2**128) of row digests: rows may arrive in any
    order (collations differ between engines), and a duplicated row still changes the sum."""

    __slots__ = ("rows", "total")

    def __init__(self, rows: int = 0, total: int = 0) -> None:
        self.rows = rows
        self.total = total & MASK

    def add(self, digest: int) -> None:
        self.rows += 1
        self.total = (self.total + digest) & MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RangeDigest) and (self.rows, self.total) == (
            other.rows,
            other.total,
        )

    def hex(self) -> str:
        return f"{self.total:032x}"
