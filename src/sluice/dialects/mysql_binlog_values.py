"""Binlog row values as sluice's MySQL reader returns them (PyMySQL over a utf8mb4 session in
UTC, `MysqlDialect.read_range`): change capture (mysql_capture) yields what a copy reads.

python-mysql-replication decodes most types as PyMySQL does; where it differs:
- zero dates ('0000-00-00', '2020-00-15', '0000-01-01 10:00:00'): it returns None, which
  cannot be told from NULL; PyMySQL returns the server's text. `exact_temporals` makes it
  read DATE and DATETIME(n) as the reader does: the value, else the server's text.
- negative TIME(n) with 1 to 4 fractional digits: it reads the fraction apart from its
  sign (-00:00:00.01 came out as -00:00:00.99). `exact_temporals` reads TIME(n) whole.
- YEAR 0000 comes out as 1900; a zero TIMESTAMP as 1970-01-01 00:00:00; BIT(n) as a text
  of '0'/'1'; BINARY(n) without its trailing zero bytes; an empty binary value as '';
  SET as a Python set (None when empty); MySQL's binary JSON as Python objects:
  `converter` turns each into the reader's.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from typing import Any

# python-mysql-replication's FIELD_TYPE numbers (MySQL's enum_field_types)
DATE, TIMESTAMP2, DATETIME2, TIME2, YEAR, BIT, SET, STRING, JSON, VARCHAR, BLOB = (
    10, 17, 18, 19, 13, 16, 248, 254, 245, 15, 252,
)  # fmt: skip
TIMEF_INT_OFS = 0x800000
TIMEF_OFS = 0x800000000000
DATETIMEF_INT_OFS = 0x8000000000


def _fraction(data: bytes, fsp: int) -> int:
    """The fraction after the integer part (unsigned), in the units it is stored in."""
    size = (fsp + 1) // 2
    return int.from_bytes(data[:size], "big") if size else 0


def _micro(frac: int, fsp: int) -> int:
    return frac * 10 ** (6 - 2 * ((fsp + 1) // 2)) if fsp else 0


def time2(data: bytes, fsp: int) -> dt.timedelta:
    """TIME(n)'s binlog form (MySQL's my_time_packed_from_binary): a packed signed value of
    hours, minutes, seconds (24 bits) and microseconds (24 bits)."""
    if fsp >= 5:
        packed = int.from_bytes(data[:6], "big") - TIMEF_OFS
    else:
        intpart = int.from_bytes(data[:3], "big") - TIMEF_INT_OFS
        frac = _fraction(data[3:], fsp)
        if intpart < 0 and frac:  # the fraction of a negative time counts up to it
            intpart += 1
            frac -= 1 << (8 * ((fsp + 1) // 2))
        packed = (intpart << 24) + _micro(frac, fsp)
    sign, packed = (-1, -packed) if packed < 0 else (1, packed)
    hms, micro = packed >> 24, packed & 0xFFFFFF
    span = dt.timedelta(hours=(hms >> 12) & 0x3FF, minutes=(hms >> 6) & 0x3F,
                        seconds=hms & 0x3F, microseconds=micro)  # fmt: skip
    return span * sign


def _text_fraction(micro: int, fsp: int) -> str:
    return f".{micro // 10 ** (6 - fsp):0{fsp}d}" if fsp else ""


def datetime2(data: bytes, fsp: int) -> dt.datetime | str:
    """DATETIME(n)'s binlog form; a date PyMySQL cannot make a datetime of comes as the
    server's text ('0000-00-00 00:00:00.000000'), as the reader returns it."""
    intpart = int.from_bytes(data[:5], "big") - DATETIMEF_INT_OFS
    micro = _micro(_fraction(data[5:], fsp), fsp)
    ymd, hms = intpart >> 17, intpart & 0x1FFFF
    year, month, day = (ymd >> 5) // 13, (ymd >> 5) % 13, ymd & 0x1F
    hour, minute, second = hms >> 12, (hms >> 6) & 0x3F, hms & 0x3F
    try:
        return dt.datetime(year, month, day, hour, minute, second, micro)
    except ValueError:
        return (f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{second:02d}"
                + _text_fraction(micro, fsp))  # fmt: skip


def date3(data: bytes) -> dt.date | str:
    v = int.from_bytes(data[:3], "little")
    year, month, day = v >> 9, (v >> 5) & 0x0F, v & 0x1F
    try:
        return dt.date(year, month, day)
    except ValueError:
        return f"{year:04d}-{month:02d}-{day:02d}"


@functools.cache
def exact_temporals() -> None:
    """Read DATE, DATETIME(n) and TIME(n) with the decoders above (once per process). The
    library's row reader calls these three private readers by their mangled names; the
    pinned version (constraints.txt) is checked to have them."""
    from pymysqlreplication.row_event import RowsEvent

    for name in ("_RowsEvent__read_date", "_RowsEvent__read_datetime2",
                 "_RowsEvent__read_time2"):  # fmt: skip
        if not callable(getattr(RowsEvent, name, None)):
            raise RuntimeError(f"python-mysql-replication lacks {name}: use the pinned version")

    def read_date(self):
        return date3(self.packet.read(3))

    def read_datetime2(self, column):
        return datetime2(self.packet.read(5 + (column.fsp + 1) // 2), column.fsp)

    def read_time2(self, column):
        return time2(self.packet.read(3 + (column.fsp + 1) // 2), column.fsp)

    RowsEvent._RowsEvent__read_date = read_date
    RowsEvent._RowsEvent__read_datetime2 = read_datetime2
    RowsEvent._RowsEvent__read_time2 = read_time2


def _mysql_json_text(value: Any) -> str:
    """MySQL's binary JSON as the server prints it (keys and strings come as bytes)."""

    def plain(v: Any) -> Any:
        if isinstance(v, bytes):
            return v.decode("utf-8", "surrogateescape")
        if isinstance(v, dict):
            return {plain(k): plain(x) for k, x in v.items()}
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v

    return json.dumps(plain(value), ensure_ascii=False, separators=(", ", ": "), default=str)


def converter(column: Any) -> Callable[[Any], Any] | None:
    """How one binlog column's decoded value becomes the reader's, or None: as it is."""
    kind = column.type
    if kind == YEAR:
        return lambda v: 0 if v == 1900 else v  # YEAR holds 1901-2155 and 0000
    if kind == BIT:
        size = column.bytes
        return lambda v: int(v, 2).to_bytes(size, "big") if isinstance(v, str) else v
    if kind == SET:
        members = list(column.set_values or ())
        return lambda v: ",".join(m for m in members if m in v) if v else ""
    if kind == TIMESTAMP2:
        zero = "0000-00-00 00:00:00" + _text_fraction(0, column.fsp)
        first = dt.datetime(1970, 1, 1, 0, 0, 1)  # TIMESTAMP's range starts here: 0 is zero
        return lambda v: zero if isinstance(v, dt.datetime) and v < first else v
    if getattr(column, "character_set_name", None) == "binary" and kind in (STRING, VARCHAR, BLOB):
        # bytes, but an empty value comes as '' (Python decodes b"" with any codec name);
        # BINARY(n) without the trailing zero bytes the binlog drops
        width = column.max_length if kind == STRING else 0
        return lambda v: (v if isinstance(v, bytes) else b"").ljust(width, b"\0")
    if kind == JSON:
        return lambda v: v if isinstance(v, str) else _mysql_json_text(v)
    return None
