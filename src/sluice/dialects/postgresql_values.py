"""psycopg loaders and encoders for the PostgreSQL values Python's own types cannot hold.

* `time` '24:00:00' is a valid PostgreSQL time (the end of a day) that `datetime.time` cannot
  hold: psycopg refuses it ("can't parse time"). It is read as `timedelta(days=1)`, which the
  other dialects write back as 24:00:00 (MySQL TIME holds it).
* A MySQL TIME is a duration stored here as an `interval`: written as its text of hours
  (`100:00:00`, never psycopg's `4 days 04:00:00`), so the interval keeps the hours.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sluice.core.types import Kind
from sluice.core.values import DAY, NEG_INFINITY, day_end, duration_text

_DATED = (Kind.DATE, Kind.DATETIME, Kind.DATETIME_TZ)

_END_OF_DAY = 86_400_000_000  # 24:00:00 in microseconds


def register_adapters(conn: Any) -> None:
    """What every PostgreSQL connection of sluice reads and writes beyond psycopg's own."""
    register_time_loaders(conn)
    register_infinity_dumpers(conn)


def register_time_loaders(conn: Any) -> None:
    """Read `time` 24:00:00 as `timedelta(days=1)` (text and binary results alike)."""
    from psycopg.types.datetime import TimeBinaryLoader, TimeLoader

    class EndOfDayLoader(TimeLoader):
        def load(self, data):
            if bytes(data).startswith(b"24:00:00"):
                return DAY
            return super().load(data)

    class EndOfDayBinaryLoader(TimeBinaryLoader):
        def load(self, data):
            if int.from_bytes(bytes(data), "big", signed=True) == _END_OF_DAY:
                return DAY
            return super().load(data)

    conn.adapters.register_loader("time", EndOfDayLoader)
    conn.adapters.register_loader("time", EndOfDayBinaryLoader)
    register_timetz_loaders(conn)


_TZ_END = re.compile(rb"24:00:00(?:\.0+)?([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?")


def register_timetz_loaders(conn: Any) -> None:
    """Read timetz '24:00:00-03' as `day_end(offset)`: 24:00:00 keeping its offset."""
    from psycopg.types.datetime import TimetzBinaryLoader, TimetzLoader

    class EndOfDayTzLoader(TimetzLoader):
        def load(self, data):
            if m := _TZ_END.fullmatch(bytes(data)):
                sign, h, mi, s = m.groups()
                off = dt.timedelta(hours=int(h), minutes=int(mi or 0), seconds=int(s or 0))
                return day_end(-off if sign == b"-" else off)
            return super().load(data)

    class EndOfDayTzBinaryLoader(TimetzBinaryLoader):
        def load(self, data):
            raw = bytes(data)
            if int.from_bytes(raw[:8], "big", signed=True) == _END_OF_DAY:
                # the offset is stored in seconds west of UTC
                return day_end(dt.timedelta(seconds=-int.from_bytes(raw[8:], "big", signed=True)))
            return super().load(data)

    conn.adapters.register_loader("timetz", EndOfDayTzLoader)
    conn.adapters.register_loader("timetz", EndOfDayTzBinaryLoader)


def register_infinity_dumpers(conn: Any) -> None:
    """Binary COPY of date, timestamp and timestamptz (`Copy.set_types` picks dumpers by type)
    writes '-infinity' as PostgreSQL's own binary -infinity: the lowest int4 of days or int8
    of microseconds. Text COPY and parameters pass the string, which the server reads."""
    from psycopg.types.datetime import (
        DateBinaryDumper,
        DatetimeBinaryDumper,
        DatetimeNoTzBinaryDumper,
    )

    def infinite(base: type, lowest: bytes) -> type:
        class Dumper(base):
            def dump(self, obj):
                if isinstance(obj, str):  # any other text (a zero date) is refused, by key
                    if obj == NEG_INFINITY:
                        return lowest
                    raise TypeError(f"{obj!r} is not a date")
                return super().dump(obj)

        return Dumper

    conn.adapters.register_dumper(None, infinite(DateBinaryDumper, b"\x80\0\0\0"))
    for base in (DatetimeBinaryDumper, DatetimeNoTzBinaryDumper):
        conn.adapters.register_dumper(None, infinite(base, b"\x80" + b"\0" * 7))


def _duration(v: Any) -> Any:
    return duration_text(v) if hasattr(v, "days") else v


def _bits(v: Any) -> Any:
    return v if isinstance(v, str) else str(v)


# kind -> what psycopg writes for a canonical value; kinds that need it go through text COPY
ENCODE = {Kind.DURATION: _duration, Kind.BIT: _bits}


def unreadable_dates(d: Any, conn: Any, table: Any, lo: Any, hi: Any) -> list[tuple]:
    """(column, key, why) of dates and timestamps Python cannot hold ('infinity', BC, after
    9999) in a range, for `Dialect.locate_unreadable` of the PostgreSQL dialect `d`."""
    dated = [c for c in table.columns if c.type.kind in _DATED]
    if not dated or not table.primary_key:
        return []
    key = ", ".join(d.quote(k) for k in table.primary_key)
    where, params = d.read_predicate(table, lo, hi)
    found = []
    with conn.cursor() as cur:
        for c in dated:
            col = d.quote(c.name)
            if c.type.kind is Kind.DATETIME_TZ:  # as psycopg sees it: in the session zone
                col = f"({col} AT TIME ZONE current_setting('TimeZone'))"
            bad = f"(NOT isfinite({col}) OR {col} < '0001-01-01' OR {col} >= '10000-01-01')"
            cond = f"{where} AND {bad}" if where else f" WHERE {bad}"
            sql = f"SELECT {key}, {col}::text FROM {d.relation_sql(table)}{cond} LIMIT 100"
            cur.execute(d.finalize(sql), d.bind(params))
            for *k, text in cur.fetchall():
                why = f"{text!r} has no equivalent outside PostgreSQL (years 1 to 9999 only)"
                found.append((c.name, k[0] if len(k) == 1 else tuple(k), why))
    conn.rollback()
    return found


def geometry_hex(v: Any) -> Any:
    """EWKB bytes as the hex text PostGIS's geometry input reads."""
    return bytes(v).hex() if isinstance(v, (bytes, bytearray, memoryview)) else v
