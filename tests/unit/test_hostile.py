"""Hostile values without a live server: SQL Server's pymssql-shaped values (no SQL Server
runs here: these cover the checks and the plan, not a live copy), MySQL's packet limit and
its reflected names, the NUL policy's write path."""

from __future__ import annotations

import pytest

from sluice.copy import check_lossy
from sluice.copy.plan import plan_tables
from sluice.core.errors import ConfigError, DataError, TerminalError
from sluice.core.hostile import NulPolicy, WriteGuard, diagnose
from sluice.core.schema import Column, Table
from sluice.core.types import Kind, SqlType
from sluice.dialects import get_dialect
from sluice.dialects.mssql_types import parse_type
from sluice.dialects.mysql_literals import Literals, RowTooLarge

MSSQL, PG, MY, LITE = (get_dialect(e) for e in ("mssql", "postgresql", "mysql", "sqlite"))


def _table(name: str, *types: SqlType) -> Table:
    cols = [Column("id", SqlType(Kind.INTEGER), nullable=False)]
    cols += [Column(f"v{i}", t) for i, t in enumerate(types)]
    return Table(name, tuple(cols), ("id",))


# pymssql hands nvarchar over as str: a valid pair as one code point, an unpaired surrogate
# (legal in UTF-16 nvarchar) as a lone surrogate code point
NVARCHAR_ROWS = [(1, "ok 😀"), (2, "a\ud800b"), (3, "\udc00"), (4, None), (5, "\u202eRTL")]


def test_unpaired_surrogates_are_named_by_key():
    table = _table("Posts", parse_type("nvarchar(max)"))
    original = TerminalError("Posts#0: 'utf-8' codec can't encode character '\\ud800'")
    err = diagnose(MSSQL, PG, table, lambda: iter(NVARCHAR_ROWS), list, NulPolicy(), original)
    assert isinstance(err, DataError)
    assert (err.table, err.column, err.key) == ("Posts", "v0", 2)
    assert "unpaired UTF-16 surrogate" in str(err) and "keys 2, 3" in str(err)


def test_sql_server_keeps_surrogates_so_nothing_is_blamed():
    table = _table("Posts", parse_type("nvarchar(max)"))
    original = TerminalError("some other failure")
    err = diagnose(MSSQL, MSSQL, table, lambda: iter(NVARCHAR_ROWS), list, NulPolicy(), original)
    assert err is original


def test_nul_from_sql_server_into_postgresql():
    """Default: no check on the write path (PostgreSQL refuses; the failure path names the
    rows); strip/replace change the values there and count them."""
    table = _table("Users", parse_type("nvarchar(40)"))
    assert not WriteGuard(MSSQL, PG, table, NulPolicy()).active
    guard = WriteGuard(MSSQL, PG, table, NulPolicy("replace", "?"))
    assert [guard((1, "a\x00b\x00")), guard((2, "clean")), guard((3, None))] == [
        (1, "a?b?"), (2, "clean"), (3, None),
    ]  # fmt: skip
    assert guard.changed == 1
    err = diagnose(MSSQL, PG, table, lambda: iter([(7, "x\x00")]), list, NulPolicy(),
                   TerminalError("invalid byte sequence"))  # fmt: skip
    assert (err.column, err.key) == ("v0", 7) and "NUL" in str(err)


def test_no_nul_conversion_where_the_target_holds_nul():
    table = _table("t", SqlType(Kind.STRING))
    guard = WriteGuard(MSSQL, MY, table, NulPolicy("strip"))
    assert guard((1, "a\x00")) == (1, "a\x00") and guard.changed == 0


def test_nan_into_sqlite_is_refused_on_the_write_path():
    """SQLite would store NULL without a word: the write path checks each value."""
    table = _table("m", SqlType(Kind.DOUBLE), SqlType(Kind.DECIMAL, precision=10, scale=2))
    guard = WriteGuard(PG, LITE, table, NulPolicy())
    with pytest.raises(DataError, match=r"column 'v0', key 3: nan cannot be stored in sqlite"):
        guard((3, float("nan"), None))
    assert guard((4, float("inf"), None))[1] == float("inf")


def test_nan_into_mysql_is_named_on_the_failure_path():
    """PyMySQL refuses to render NaN/Infinity (no key): the refused chunk is checked again."""
    from decimal import Decimal

    import pymysql

    assert MY.rejects_value(pymysql.err.ProgrammingError("nan can not be used with MySQL"))
    table = _table("m", SqlType(Kind.DOUBLE), SqlType(Kind.DECIMAL, precision=10, scale=2))
    guard = WriteGuard(PG, MY, table, NulPolicy())  # the write path checks -0.0 alone
    assert guard((1, float("inf"), Decimal("NaN")))[1] == float("inf")
    assert guard((2, 0.0, None))[1] == 0.0
    with pytest.raises(DataError, match=r"column 'v0', key 3: -0.0 \(a negative zero\)"):
        guard((3, -0.0, None))  # MariaDB would store 0 without a word
    rows = [(1, 1.0, Decimal("1")), (5, 1.0, Decimal("inf")), (6, float("-inf"), None)]
    err = diagnose(PG, MY, table, lambda: iter(rows), list, NulPolicy(), TerminalError("x"))
    assert (err.column, err.key) == ("v1", 5)  # the first refused value read
    assert "Infinity cannot be stored in mysql DECIMAL(10,2) (1 row(s): keys 5)" in str(err)
    assert "-inf cannot be stored in mysql DOUBLE (1 row(s): keys 6)" in str(err)


def test_sqlite_lengths_are_checked_on_the_write_path():
    table = _table("s", SqlType(Kind.STRING, length=5))
    guard = WriteGuard(LITE, PG, table, NulPolicy())
    assert guard((1, "ab😀de")) == (1, "ab😀de")  # five characters: fits
    with pytest.raises(DataError, match=r"key 2: value of 9 characters is longer than VARCHAR"):
        guard((2, "abc      "))  # PostgreSQL would silently cut the trailing spaces
    assert not WriteGuard(PG, MY, table, NulPolicy()).active  # the source enforced it


@pytest.mark.parametrize("decl", ["time", "time(7)", "datetimeoffset", "datetime2"])
def test_sql_server_seven_digit_times_are_refused_into_postgresql(decl):
    table = _table("Events", parse_type(decl))
    plan = plan_tables([table], {"Events": (1, 2, 2)}, "mssql", "postgresql", "s", "t")
    with pytest.raises(ConfigError, match=r"Events\.v0: .*7 fractional digits"):
        check_lossy(plan, allow=False)
    check_lossy(plan, allow=True)


def test_sql_server_offsets_with_six_digits_map_exactly():
    table = _table("Events", parse_type("datetimeoffset(6)"), parse_type("money"))
    plan = plan_tables([table], {"Events": (1, 2, 2)}, "mssql", "postgresql", "s", "t")
    assert [c.target_type for c in plan.tables[0].columns][1:] == ["TIMESTAMPTZ", "NUMERIC(19,4)"]
    check_lossy(plan, allow=False)


def test_mysql_row_over_the_packet_limit_raises_with_the_row():
    lit = Literals(repr)
    rows = [(1, "small"), (2, "x" * 5000), (3, "y")]
    with pytest.raises(RowTooLarge) as info:
        list(lit.statements(b"INSERT INTO t VALUES ", rows, "utf8", 10, 2048, limit=4096))
    assert info.value.row[0] == 2 and info.value.size > 4096


def test_mysql_reflected_names_lose_the_doubled_backtick():
    assert MY.reflected_name("c``d") == "c`d"
    assert MY.reflected_name("a````b") == "a``b"
    assert PG.reflected_name("c``d") == "c``d"


def test_nul_policy_rejects_unknown_modes():
    assert NulPolicy("strip").validate() == []
    assert NulPolicy("drop").validate() and NulPolicy("replace", "\x00").validate()


def test_sql_server_datetime_before_1753_is_named_by_key():
    """SQLite timestamps without a declared precision become SQL Server `datetime`, which
    starts in 1753; the server's error 242 names no row (checked here without a server)."""
    import datetime as dt

    assert MSSQL.render_type(SqlType(Kind.DATETIME)) == "datetime"
    assert MSSQL.rejects_value(_mssql_error(242)) and not MSSQL.rejects_value(_mssql_error(1205))
    table = _table("Log", SqlType(Kind.DATETIME), SqlType(Kind.DATETIME, precision=6))
    rows = [(1, dt.datetime(1753, 1, 1), dt.datetime(1, 1, 1)), (2, dt.datetime(1000, 5, 1), None)]
    err = diagnose(LITE, MSSQL, table, lambda: iter(rows), list, NulPolicy(), TerminalError("242"))
    assert (err.column, err.key) == ("v0", 2) and "outside mssql datetime" in str(err)


def _mssql_error(number: int) -> Exception:
    import pymssql

    return pymssql.OperationalError(number, b"message, severity 16")


STACKOVERFLOW_LIKE = (
    SqlType(Kind.STRING, length=40), SqlType(Kind.STRING), SqlType(Kind.DATETIME, precision=3),
    SqlType(Kind.BOOLEAN), SqlType(Kind.BIGINT), SqlType(Kind.DECIMAL, precision=18, scale=2),
)  # fmt: skip


@pytest.mark.parametrize("src, dst", [(PG, PG), (PG, MY), (MY, PG), (MSSQL, PG), (PG, MSSQL)])
def test_common_pairs_check_nothing_on_the_write_path(src, dst):
    """The default policy adds no per-value work where the target refuses by itself."""
    assert not WriteGuard(src, dst, _table("Posts", *STACKOVERFLOW_LIKE), NulPolicy()).active


def test_a_too_long_value_the_target_refused_is_named_on_the_failure_path():
    """PostgreSQL's "value too long for type character varying(5)" names no row."""
    table = _table("Tags", SqlType(Kind.STRING, length=5))
    rows = [(1, "short"), (9, "much too long"), (12, "x" * 6)]
    err = diagnose(MY, PG, table, lambda: iter(rows), list, NulPolicy(),
                   TerminalError("value too long for type character varying(5)"))  # fmt: skip
    assert (err.table, err.column, err.key) == ("Tags", "v0", 9)
    assert "2 row(s): keys 9, 12" in str(err) and "longer than VARCHAR(5)" in str(err)
