"""Text forms of values that drivers render wrongly or not at all, shared by the dialects.

A MySQL TIME is a signed duration (-838:59:59.999999 to 838:59:59.999999): PyMySQL hands it
over as a `timedelta`, but renders a negative one wrongly (-1 s as '-1:59:59'), and psycopg
writes a `timedelta` as days plus seconds ('4 days 04:00:00' for 100 hours). Both engines
read `[-]H:MM:SS.ffffff` as exactly the duration it says, hours unfolded into days nowhere.
"""

from __future__ import annotations

import datetime as dt

DAY = dt.timedelta(days=1)


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
