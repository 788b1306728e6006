"""Text forms of values that drivers render wrongly or not at all, shared by the dialects.

A MySQL TIME is a signed duration (-838:59:59.999999 to 838:59:59.999999): PyMySQL hands it
over as a `timedelta`, but renders a negative one wrongly (-1 s as '-1:59:59'), and psycopg
writes a `timedelta` as days plus seconds ('4 days 04:00:00' for 100 hours). Both engines
read `[-]H:MM:SS.ffffff` as exactly the duration it says, hours unfolded into days nowhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

DAY = dt.timedelta(days=1)
# a date before every date, as a value on the way: what `--zero-dates -infinity` stores for a
# MySQL zero date, written by a target dialect whose dates have it (PostgreSQL)
NEG_INFINITY = "-infinity"


class DayEnd(dt.timedelta):
    """PostgreSQL's timetz 24:00:00 with its offset ('24:00:00-03'), which no `datetime.time`
    holds: one day, as a time of day (what an engine storing 24:00:00 stores), keeping the
    offset (`offset`), so verification still compares it."""

    offset: dt.timedelta


def day_end(offset: dt.timedelta) -> DayEnd:
    v = DayEnd(days=1)
    v.offset = offset
    return v


def duration_text(v: dt.timedelta) -> str:
    """`[-]H:MM:SS.ffffff`, hours not folded into days: -1 s is '-0:00:01.000000'."""
    micros = (v.days * 86_400 + v.seconds) * 1_000_000 + v.microseconds
    sign = "-" if micros < 0 else ""
    seconds, us = divmod(abs(micros), 1_000_000)
    minutes, s = divmod(seconds, 60)
    h, m = divmod(minutes, 60)
    return f"{sign}{h}:{m:02d}:{s:02d}.{us:06d}"


def time_text(v: dt.time | dt.timedelta) -> str:
    """A time of day; `timedelta(days=1)` is PostgreSQL's 24:00:00 (no `time` holds it)."""
    if isinstance(v, dt.timedelta):
        return duration_text(v)
    return v.isoformat(timespec="microseconds")


def bits_text(v: bytes | int | str, length: int) -> str:
    """A bit string of `length` '0'/'1' characters from MySQL's big-endian bytes or an int."""
    if isinstance(v, str):
        return v
    n = int.from_bytes(v, "big") if isinstance(v, (bytes, bytearray)) else int(v)
    return format(n, f"0{length}b")


# EWKB (PostGIS's binary geometry, what `geometry::bytea` gives): WKB whose first type word
# carries this flag when an SRID follows it. With SRID 0 it is plain WKB.
_EWKB_SRID = 0x20000000


def ewkb_from_mysql(v: bytes) -> bytes:
    """MySQL's stored geometry (4-byte little-endian SRID, then WKB) as EWKB: exact both
    ways, the SRID kept (flagged into the type word, as PostGIS does) unless it is 0."""
    v = bytes(v)
    srid, wkb = int.from_bytes(v[:4], "little"), v[4:]
    if srid == 0 or len(wkb) < 5:
        return wkb
    order = "little" if wkb[0] == 1 else "big"
    kind = int.from_bytes(wkb[1:5], order) | _EWKB_SRID
    return wkb[:1] + kind.to_bytes(4, order) + srid.to_bytes(4, order) + wkb[5:]


def mysql_from_ewkb(v: bytes) -> bytes:
    """The inverse of `ewkb_from_mysql`: EWKB (or plain WKB) as MySQL stores a geometry."""
    v = bytes(v)
    if len(v) < 5:
        return v
    order = "little" if v[0] == 1 else "big"
    kind = int.from_bytes(v[1:5], order)
    if not kind & _EWKB_SRID:
        return bytes(4) + v
    srid = int.from_bytes(v[5:9], order)
    wkb = v[:1] + (kind & ~_EWKB_SRID).to_bytes(4, order) + v[9:]
    return srid.to_bytes(4, "little") + wkb


def converter(funcs) -> Callable[[tuple], tuple] | None:
    """One function applying per-column converters, or None when no column needs one."""
    if not any(funcs):
        return None
    pairs = [(i, f) for i, f in enumerate(funcs) if f is not None]

    def convert(row: tuple) -> tuple:
        values = list(row)
        for i, f in pairs:
            v = values[i]
            if v is not None:
                values[i] = f(v)
        return tuple(values)

    return convert
