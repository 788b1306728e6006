"""The canonical encoder: values that mean the same hash alike whichever driver produced them;
values that differ never do. The Python objects below are what each driver really returns
(psycopg, PyMySQL, pymssql, sqlite3), including SQL Server shapes no live server checks here."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from sluice.core.types import Kind, SqlType
from sluice.verify.canonical import (
    RangeDigest,
    column_digests,
    encode_value,
    row_digest,
    row_encoder,
    value_encoder,
    value_encoders,
)

T = SqlType


def same(t: SqlType, a, b) -> bool:
    return encode_value(t, a) == encode_value(t, b)


# (type, value from one engine/driver, the same value from another)
EQUAL = [
    # SQL Server bit (pymssql: bool) vs PostgreSQL boolean vs MySQL tinyint(1) vs BIT(1) bytes
    (T(Kind.BOOLEAN), True, 1),
    (T(Kind.BOOLEAN), False, 0),
    (T(Kind.BOOLEAN), True, b"\x01"),
    # tinyint 255 from SQL Server, smallint 255 on PostgreSQL
    (T(Kind.TINYINT), 255, 255),
    (T(Kind.BIGINT), -(2**63), -(2**63)),
    # decimals compare by value: trailing zeros and exponent forms are the same number
    (T(Kind.DECIMAL, precision=10, scale=2), Decimal("1.50"), Decimal("1.5")),
    (T(Kind.DECIMAL, precision=10, scale=2), Decimal("0.00"), Decimal("-0")),
    (T(Kind.DECIMAL, precision=10, scale=0), Decimal("1E+3"), Decimal("1000")),
    # SQL Server money (pymssql: Decimal with 4 places) vs PostgreSQL numeric(19,4)
    (T(Kind.MONEY), Decimal("922337203685477.5807"), Decimal("922337203685477.58070")),
    # decimal(38,10) extremes keep every digit (a default 28-digit context would round)
    (
        T(Kind.DECIMAL, precision=38, scale=10),
        Decimal("9999999999999999999999999999.9999999999"),
        Decimal("9999999999999999999999999999.99999999990"),
    ),
    # float: NaN equals NaN for verification
    (T(Kind.DOUBLE), float("nan"), float("nan")),
    # a real widened exactly (psycopg) or through its shortest text (MySQL CAST AS DOUBLE)
    (T(Kind.REAL), 0.10000000149011612, 0.1),
    # SQL Server datetime (pymssql datetime, 1/300 s ticks as microseconds) vs PG timestamp
    (T(Kind.DATETIME), datetime(2010, 1, 1, 12, 0, 0, 3000), datetime(2010, 1, 1, 12, 0, 0, 3000)),
    # a date read as datetime by one driver, as date by another
    (T(Kind.DATE), date(1, 1, 1), datetime(1, 1, 1)),
    # datetimeoffset: the same instant in two offsets (PostgreSQL keeps only the instant)
    (
        T(Kind.DATETIME_TZ),
        datetime(2010, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))),
        datetime(2010, 6, 1, 12, 0, tzinfo=timezone.utc),
    ),
    # MySQL TIME comes back as timedelta
    (
        T(Kind.TIME, precision=6),
        time(23, 59, 59, 999999),
        timedelta(hours=23, minutes=59, seconds=59.999999),
    ),
    # uniqueidentifier (pymssql: UUID) vs uuid text vs BINARY(16)
    (
        T(Kind.UUID),
        uuid.UUID("6F9619FF-8B86-D011-B42D-00C04FC964FF"),
        "6f9619ff-8b86-d011-b42d-00c04fc964ff",
    ),
    (T(Kind.UUID), uuid.UUID(int=7), uuid.UUID(int=7).bytes),
    # varbinary (bytes) vs bytea (memoryview)
    (T(Kind.BINARY), b"\x00\xff", memoryview(b"\x00\xff")),
    (T(Kind.ROWVERSION), b"\x00\x00\x00\x00\x00\x00\x07\xd1", bytearray(b"\0\0\0\0\0\0\x07\xd1")),
    # nchar(5): engines differ on returning the pad spaces
    (T(Kind.STRING, length=5, fixed=True), "ab   ", "ab"),
]

JSONB = "json-normalised"  # the domain PostgreSQL's jsonb (and MySQL's JSON) name

# (type, domain, source value, a target value that is the same in the source type's domain)
SAME_IN_DOMAIN = [
    # jsonb: key order, spacing and duplicate keys (the last wins) are not part of a value
    (T(Kind.JSON), JSONB, '{"b": 1, "a": [1, 2]}', {"a": [1, 2], "b": 1}),
    (T(Kind.JSON), JSONB, '{"k": 2}', '{"k":1,"k":2}'),
    (T(Kind.JSON), JSONB, '{"n": 100}', '{"n": 1e2}'),
    # an integer source read back from a boolean target: true is 1 in the integer's domain
    (T(Kind.SMALLINT), None, 1, True),
    # a MySQL TIME within 0..24 h is a PostgreSQL time of day; an interval is a duration
    (T(Kind.TIME, precision=6), None, timedelta(hours=4), time(4)),
    (T(Kind.TIME, precision=6), None, timedelta(hours=100), timedelta(days=4, hours=4)),
    (T(Kind.TIME, precision=6), None, "-01:00:00", timedelta(hours=-1)),
    (T(Kind.INTEGER), None, 5, Decimal("5.000")),
]

# (type, domain, source value, a target value a wrong mapping made of it): all must differ
FOLDED = [
    (T(Kind.BOOLEAN), None, 5, True),  # MariaDB TINYINT(1) 5 as boolean true
    (T(Kind.BOOLEAN), None, -1, True),
    (T(Kind.BOOLEAN), None, -128, True),
    (T(Kind.SMALLINT), None, 5, True),  # the same, reflected as the integer it is
    (T(Kind.TIME, precision=6), None, timedelta(hours=100), time(4)),  # modulo 24 h
    (T(Kind.TIME, precision=6), None, timedelta(hours=-1), time(23)),
    (  # timetz to a time without offset
        T(Kind.TIME, precision=6), None,
        time(12, tzinfo=timezone(timedelta(hours=5))), time(12),
    ),
    (  # the offset kept, the clock shifted to UTC: a different timetz
        T(Kind.TIME, precision=6), None,
        time(12, tzinfo=timezone(timedelta(hours=5))), time(7, tzinfo=timezone.utc),
    ),
    (T(Kind.JSON), None, '{"k":1,"k":2}', '{"k": 2}'),  # json kept as text: jsonb folded it
    (T(Kind.JSON), None, '{"b":1,"a":2}', '{"a": 2, "b": 1}'),
    (T(Kind.JSON), JSONB, '{"n": 1.50}', '{"n": 1.5}'),  # jsonb keeps a number's scale
    (T(Kind.JSON), JSONB, '{"a": 1}', '{"a": 1, "b": null}'),
    (T(Kind.INTEGER), None, 5, 5.5),  # never truncated to 5
    (T(Kind.INTEGER), None, 5, Decimal("5.1")),
    (T(Kind.DATE), None, date(2020, 1, 1), datetime(2020, 1, 1, 13, 0)),
    (T(Kind.STRING), None, "ab  ", "ab"),  # trailing spaces trimmed
    (T(Kind.STRING), None, "", None),
    (T(Kind.DECIMAL, precision=12, scale=4), None, Decimal("1.2345"), Decimal("1.23")),
    (
        T(Kind.DATETIME_TZ), None,
        datetime(2020, 1, 1, 12, tzinfo=timezone.utc),
        datetime(2020, 1, 1, 13, tzinfo=timezone.utc),
    ),
]  # fmt: skip

DIFFERENT = [
    # a float's negative zero is its own value where the source type holds one (PostgreSQL)
    (T(Kind.DOUBLE), 0.0, -0.0),
    (T(Kind.REAL), 0.0, -0.0),
    (T(Kind.STRING), "", None),  # empty string is not NULL
    (T(Kind.STRING), "a", "A"),  # exact code points: no case folding
    (T(Kind.STRING), "café", "cafe\u0301"),  # no Unicode normalisation either
    (T(Kind.STRING), "a ", "a"),  # varchar keeps trailing spaces
    (T(Kind.STRING), "tab\there", "tab here"),
    (T(Kind.DATETIME), datetime(2010, 1, 1, 12, 0, 0), datetime(2010, 1, 1, 12, 0, 1)),
    (T(Kind.DATETIME), datetime(2010, 1, 1, 12, 0, 0), datetime(2010, 1, 1, 12, 0, 0, 1)),
    (T(Kind.DOUBLE), 0.1, 0.1 + 2**-56),  # one ulp apart
    (T(Kind.DOUBLE), 0.1, 0.10000000149011612),  # a double is not the float4 near it
    (T(Kind.REAL), 0.1, 0.1000001),  # neighbouring float4 values differ
    (T(Kind.DECIMAL), Decimal("1.5"), Decimal("1.51")),
    (T(Kind.BOOLEAN), True, False),
    (T(Kind.BINARY), b"", None),
    (T(Kind.INTEGER), 0, None),
    (
        T(Kind.DATETIME_TZ),
        datetime(2010, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))),
        datetime(2010, 6, 1, 12, 0, tzinfo=timezone.utc),
    ),
]


@pytest.mark.parametrize("t, a, b", EQUAL, ids=lambda x: repr(x)[:40])
def test_same_value_same_encoding(t, a, b):
    assert same(t, a, b), (encode_value(t, a), encode_value(t, b))


@pytest.mark.parametrize("t, a, b", DIFFERENT, ids=lambda x: repr(x)[:40])
def test_different_values_differ(t, a, b):
    assert not same(t, a, b)


@pytest.mark.parametrize("t, domain, a, b", SAME_IN_DOMAIN, ids=lambda x: repr(x)[:40])
def test_a_value_that_round_trips_into_the_source_domain_is_the_same(t, domain, a, b):
    assert encode_value(t, a, domain) == encode_value(t, b, domain)


@pytest.mark.parametrize("t, domain, a, b", FOLDED, ids=lambda x: repr(x)[:40])
def test_a_value_folded_by_a_wrong_mapping_differs(t, domain, a, b):
    assert encode_value(t, a, domain) != encode_value(t, b, domain)


def test_time_beyond_a_day_and_negative_keep_their_hours():
    t = T(Kind.TIME, precision=6)
    assert encode_value(t, timedelta(hours=838, minutes=59, seconds=59.999999)) == (
        "838:59:59.999999"
    )
    assert encode_value(t, -timedelta(hours=838, minutes=59, seconds=59)) == "-838:59:59.000000"
    assert encode_value(t, time(12, tzinfo=timezone(timedelta(hours=-3, minutes=-30)))) == (
        "12:00:00.000000-03:30"
    )


def test_column_digests_name_the_differing_column():
    types = [T(Kind.INTEGER), T(Kind.STRING), T(Kind.BOOLEAN)]
    parts = value_encoders(types)
    a = column_digests(parts, (1, "x", 1))
    b = column_digests(parts, (1, "x", 5))
    assert len(a) == 24 and a[:16] == b[:16] and a[16:] != b[16:]
    assert column_digests(parts, (1, None, 1)) != column_digests(parts, (1, "", 1))


def test_decimal_encoding_is_plain_and_exact():
    t = T(Kind.DECIMAL, precision=38, scale=10)
    assert encode_value(t, Decimal("-0.0000000001")) == "-0.0000000001"
    assert encode_value(t, Decimal("1E+3")) == "1000"


def test_naive_datetime_is_never_shifted():
    assert encode_value(T(Kind.DATETIME), datetime(2010, 3, 28, 2, 30)) == (
        "2010-03-28T02:30:00.000000"
    )


def test_row_encoding_is_unambiguous():
    enc = row_encoder([T(Kind.STRING), T(Kind.STRING)])
    # separators inside values cannot make two rows collide
    assert enc(("a|", "b")) != enc(("a", "|b"))
    assert enc(("1:a", "")) != enc(("", "1:a"))
    assert enc((None, "")) != enc(("", None))
    assert enc(("~", None)) != enc((None, None))


def test_unpaired_surrogate_hashes_as_itself():
    # SQL Server nvarchar can hold a lone UTF-16 surrogate; it must hash, and differ from U+FFFD
    enc = row_encoder([T(Kind.STRING)])
    assert row_digest(enc(("\ud800",))) != row_digest(enc(("\ufffd",)))


def test_range_digest_is_order_independent_but_counts_duplicates():
    enc = row_encoder([T(Kind.INTEGER), T(Kind.STRING)])
    rows = [(1, "a"), (2, "b"), (3, "c")]
    forward, backward, doubled = RangeDigest(), RangeDigest(), RangeDigest()
    for r in rows:
        forward.add(row_digest(enc(r)))
    for r in reversed(rows):
        backward.add(row_digest(enc(r)))
    for r in [*rows, rows[0]]:
        doubled.add(row_digest(enc(r)))
    assert forward == backward
    assert doubled != forward
    # a duplicated row minus another row keeps the count but not the sum
    swapped = RangeDigest()
    for r in [rows[0], rows[0], rows[2]]:
        swapped.add(row_digest(enc(r)))
    assert swapped.rows == forward.rows and swapped != forward


def test_every_kind_has_an_encoder():
    for kind in Kind:
        assert callable(value_encoder(T(kind)))
        assert encode_value(T(kind), None) == "~"
