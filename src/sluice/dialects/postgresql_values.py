"""psycopg loaders and encoders for the PostgreSQL values Python's own types cannot hold.

* `time` '24:00:00' is a valid PostgreSQL time (the end of a day) that `datetime.time` cannot
  hold: psycopg refuses it ("can't parse time"). It is read as `timedelta(days=1)`, which the
  other dialects write back as 24:00:00 (MySQL TIME holds it).
* A MySQL TIME is a duration stored here as an `interval`: written as its text of hours
  (`100:00:00`, never psycopg's `4 days 04:00:00`), so the interval keeps the hours.
"""

from __future__ import annotations

from typing import Any

from sluice.core.types import Kind
from sluice.core.values import DAY, duration_text

_END_OF_DAY = 86_400_000_000  # 24:00:00 in microseconds


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


def _duration(v: Any) -> Any:
    return duration_text(v) if hasattr(v, "days") else v


def _bits(v: Any) -> Any:
    return v if isinstance(v, str) else str(v)


# kind -> what psycopg writes for a canonical value; kinds that need it go through text COPY
ENCODE = {Kind.DURATION: _duration, Kind.BIT: _bits}
