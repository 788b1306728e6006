"""One canonical encoding of every value, in the domain of the SOURCE column's type.

Verification hashes rows on both sides of a replica. Both sides are encoded by the source
column's type (its neutral type from the plan, refined by its declared type where the
neutral kind is too coarse, e.g. PostgreSQL jsonb): the source's value as what it is, the
target's value decoded back into that domain. Two values that mean the same thing there
encode alike whichever driver handed them over (a SQL Server `bit` as bool and a MySQL
`BIT(1)` as bytes, `Decimal('1.50')` and `Decimal('1.5')`, a MySQL TIME timedelta and a
PostgreSQL time); a value with no exact equivalent in the domain encodes as itself, so it
differs from every source value (5 is no boolean, 100 hours no time of day, 5.5 no integer):

- integers by value; booleans as `1`/`0`, an integer other than 0/1 as itself; decimals and
  money by value, normalised (trailing zeros dropped, no exponent, full precision); floats
  by exact value (`repr`, which round-trips every double; a real as the 4-byte float it
  holds; -0.0 is not 0.0, NaN is NaN)
- text by exact code points (no trimming, no normalisation; `char(n)` alone drops the
  pad spaces SQL adds, since engines differ on returning them)
- dates, times and naive datetimes as ISO 8601 with microseconds; a time beyond 24 h or
  negative (MySQL TIME) as signed hours; a time with an offset (timetz) with its offset;
  datetimes with an offset as the UTC instant they denote
- binary and rowversion as hex; UUIDs lower-case; JSON as its exact text, or (a source
  that normalises JSON, like jsonb) parsed as jsonb parses it (the last duplicate key
  wins) and re-serialised with sorted keys and numbers by value
- a type only its own engine has (Kind.NATIVE) as the server's text of it; between two
  databases of one engine whose catalogs declare every column identically, verification
  reads every non-key column so (`server_text`): exact there, and it holds what no driver
  value can (infinity, BC and year > 9999 dates, 24:00, a timetz's offset)
- NULL is distinct from every value, including the empty string

Values of free-text kinds are length-prefixed, so no two different rows share an encoding.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import struct
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from decimal import Context, Decimal

from sluice.core.schema import Table
from sluice.core.types import Kind, SqlType

Encoder = Callable[[object], str]

_WIDE = Context(prec=200)  # normalising must never round a decimal(38, x)
_NULL = "~"


def _foreign(v) -> str:
    """A value outside the domain: tagged, so it equals no value of the domain."""
    return f"?{type(v).__name__}:{v!r}"


def _integer(v) -> str:
    if isinstance(v, int):  # bool included: true is 1 in an integer's domain
        return str(int(v))
    try:
        d = v if isinstance(v, Decimal) else Decimal(str(v))
        if d.is_finite() and d == d.to_integral_value():
            return str(int(d))
    except ArithmeticError:  # InvalidOperation: text that is no number
        pass
    return _foreign(v)  # 5.5 is no integer: never folded to 5


def _boolean(v) -> str:
    if isinstance(v, (bytes, bytearray)):  # MySQL BIT(1) arrives as b'\x01'
        v = int.from_bytes(v, "big")
    if isinstance(v, int) and v in (0, 1):  # True/False, or 0/1 from a tinyint(1)
        return "1" if v else "0"
    return _foreign(v)  # 5 or -1 from a tinyint(1) is no boolean: never folded to true


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
    if isinstance(v, datetime):  # a date read as a datetime: midnight, else not a date
        midnight = v.tzinfo is None and v.time() == time(0)
        return v.date().isoformat() if midnight else _foreign(v)
    return v.isoformat() if isinstance(v, date) else str(v)


def _offset(off: timedelta) -> str:
    sign = "-" if off < timedelta(0) else "+"
    seconds = abs(off) // timedelta(seconds=1)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


_CLOCK = re.compile(r"(-?)(\d+):(\d\d):(\d\d)(?:\.(\d{1,6}))?")


def _time(v) -> str:
    """Signed hours:minutes:seconds.micros: PostgreSQL time (time of day) and MySQL TIME
    (a signed duration up to 838 h, as timedelta) agree within 0..24 h; 100 h stays 100 h,
    never 04:00. A timetz keeps its offset: 12:00+05 is not 12:00."""
    if isinstance(v, str) and (m := _CLOCK.fullmatch(v.strip())):  # a text time (SQLite)
        sign, h, mi, s, frac = m.groups()
        v = timedelta(hours=int(h), minutes=int(mi), seconds=int(s),
                      microseconds=int((frac or "0").ljust(6, "0")))  # fmt: skip
        v = -v if sign else v
    if isinstance(v, timedelta):  # MySQL TIME, PostgreSQL interval
        micros = v // timedelta(microseconds=1)  # exact: no float in between
        sign = "-" if micros < 0 else ""
        seconds, us = divmod(abs(micros), 1_000_000)
        minutes, s = divmod(seconds, 60)
        h, m = divmod(minutes, 60)
        off = getattr(v, "offset", None)  # timetz 24:00:00-03 (`values.DayEnd`)
        return f"{sign}{h:02d}:{m:02d}:{s:02d}.{us:06d}" + ("" if off is None else _offset(off))
    if isinstance(v, time):
        text = v.replace(tzinfo=None).isoformat(timespec="microseconds")
        off = v.utcoffset()
        return text if off is None else text + _offset(off)
    return str(v)


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


def _json_text(v) -> str:
    """JSON kept as text (PostgreSQL json, MariaDB JSON): byte for byte, so two same keys
    folded into one, reordered keys or changed spacing all differ."""
    if isinstance(v, (bytes, bytearray)):
        return v.decode("utf-8", "surrogateescape")
    return v if isinstance(v, str) else _json_value(v)


def _json_normalised(v) -> str:
    """JSON as a normalising type (jsonb) holds it: parsed (the last of two same keys wins,
    as in jsonb), keys sorted, numbers by value with their scale (1e2 is 100, 1.50 stays
    1.50, as jsonb's numeric keeps it), spacing gone."""
    if isinstance(v, (bytes, bytearray)):
        v = v.decode("utf-8")
    if isinstance(v, str):
        v = json.loads(v, parse_float=Decimal)
    return _json_value(v)


def _json_value(v) -> str:
    if isinstance(v, dict):
        items = (f"{json.dumps(k, ensure_ascii=False)}:{_json_value(v[k])}" for k in sorted(v))
        return "{" + ",".join(items) + "}"
    if isinstance(v, list):
        return "[" + ",".join(_json_value(x) for x in v) + "]"
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, float):  # a driver that parsed the document itself
        return _decimal(v) if math.isfinite(v) else repr(v)
    return json.dumps(v, ensure_ascii=False)  # str, int, bool, None


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
    Kind.TIME_TZ: _time,  # keeps its offset: 12:00+05 is not 12:00
    Kind.DURATION: _time,  # signed hours, never folded into days
    Kind.BIT: _text,
    Kind.DATETIME: _datetime,
    Kind.DATETIME_TZ: _instant,
    Kind.UUID: _uuid,
    Kind.JSON: _json_text,
    Kind.XML: _text,
    Kind.ROWVERSION: _binary,
    Kind.NATIVE: _text,
    Kind.TEXT_FORM: _text,  # the source server's text of it, stored as text: exact
    Kind.GEOMETRY: _binary,  # EWKB (a MySQL geometry decoded so), hex
}


# domains a dialect names for a declared type whose neutral kind alone compares wrongly
# (`Dialect.verify_domains`): e.g. PostgreSQL jsonb, whose values are normalised documents
DOMAINS: dict[str, Encoder] = {"json-normalised": _json_normalised}


def value_encoder(t: SqlType, domain: str | None = None) -> Encoder:
    """The canonical text of one non-NULL value of type `t` (in `domain`, when given)."""
    if domain is not None:
        return DOMAINS[domain]
    if t.kind is Kind.STRING and t.fixed:
        return _padded_text
    return _BY_KIND[t.kind]


def encode_value(t: SqlType, value: object, domain: str | None = None) -> str:
    return _NULL if value is None else value_encoder(t, domain)(value)


# kinds whose text can hold any character: their values carry a length prefix; the others
# encode to a fixed vocabulary (digits, ISO dates, hex, ...) that never holds "|" or "~"
_FREE_TEXT = (Kind.STRING, Kind.XML, Kind.JSON, Kind.NATIVE, Kind.TEXT_FORM)


def _prefixed(enc: Encoder) -> Encoder:
    def part(v) -> str:
        s = enc(v)
        return f"{len(s)}:{s}"

    return part


def server_text(table: Table) -> Table:
    """`table` with every non-key column read as the server's text (Kind.NATIVE). Verification
    reads so when both catalogs declare every column identically and the plan holds the
    engine's own declarations (`sluice.verify.run`): exact there, and it holds what drivers
    cannot hand over (PostgreSQL infinity, BC and year > 9999 dates, 24:00, offsets of
    timetz). Key columns keep their kind: ranges and key order are computed from them."""
    as_text = tuple(
        c if c.name in table.primary_key else replace(c, type=replace(c.type, kind=Kind.NATIVE))
        for c in table.columns
    )
    return replace(table, columns=as_text)


def value_encoders(
    types: Sequence[SqlType], domains: Sequence[str | None] | None = None
) -> list[Encoder]:
    """Per column, the encoder of its part of a row (free text length-prefixed)."""
    doms = domains or [None] * len(types)
    return [
        _prefixed(value_encoder(t, d)) if t.kind in _FREE_TEXT else value_encoder(t, d)
        for t, d in zip(types, doms)
    ]


def row_encoder(
    types: Sequence[SqlType], domains: Sequence[str | None] | None = None
) -> Callable[[tuple], bytes]:
    """A function from one row (values in column order) to its canonical bytes."""
    parts = value_encoders(types, domains)

    def encode(row: tuple) -> bytes:
        text = "|".join([_NULL if v is None else p(v) for p, v in zip(parts, row)])
        # surrogatepass: an unpaired UTF-16 surrogate from SQL Server still hashes, as itself
        return text.encode("utf-8", "surrogatepass")

    return encode


def row_digest(encoded: bytes) -> int:
    """A 128-bit digest of one encoded row."""
    return int.from_bytes(hashlib.blake2b(encoded, digest_size=16).digest(), "big")


def column_digests(parts: Sequence[Encoder], row: tuple) -> bytes:
    """8 bytes per column (its encoding's digest), to name the columns of a changed row:
    compact, since a range's worth may be held while its keys are matched."""
    out = bytearray()
    for p, v in zip(parts, row):
        text = _NULL if v is None else p(v)
        out += hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return bytes(out)


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
