"""Hostile data for the conformance suite (issue 7): values and names production data holds
that no one planned for. Each is copied exactly by a pair, or refused by it with a message
naming table, column and key; never silently altered.

`HOSTILE_CASES` run in `test_copy_preserves_values` with the ordinary cases (copied exactly,
then verified). `REFUSALS` and `NUL_POLICY_CASES` run in `test_hostile.py`.

Already in `cases.py` and not repeated here: emoji, right-to-left text and CR/LF/tab/
backslash/quote/double-quote/comma at the start, middle and end of values (`HOSTILE_TEXT`,
through binary COPY, text COPY, CSV into LOAD DATA and multi-row INSERTs), decimal(38,10)
and money (numeric(19,4)) extremes, Infinity where the target holds it, tables with no rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.conformance.cases import LITE, MY, PG, Case, TableData, type_case

TS = dt.datetime

# --- copied exactly --------------------------------------------------------------------------


def mysql_latin1(byte: int) -> str:
    """The character MySQL's latin1 (Windows-1252, with its five holes as C1 controls)
    means by one byte."""
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)


# Every byte 0x80-0xFF in a latin1 column: the test's utf8mb4 connection sends the characters,
# the server stores their latin1 bytes (strict mode refuses any character latin1 lacks), and
# the copy must read back the characters, not the bytes (`test_latin1_bytes_are_stored`).
HIGH_BYTES = bytes(range(0x80, 0x100))
LATIN1_TEXT = "".join(mysql_latin1(b) for b in HIGH_BYTES)
LATIN1 = Case(
    "latin1_high_bytes",
    ddl={
        MY: (
            "CREATE TABLE `t_latin1` (`id` int PRIMARY KEY, `v` varchar(200), `c` char(3)) "
            "DEFAULT CHARSET=latin1",
        )
    },
    tables=(
        TableData(
            "t_latin1", ("id", "v", "c"),
            ((1, LATIN1_TEXT, "€¤ÿ"), (2, "plain ascii", "abc"), (3, "é\tà\n", None)),
        ),
    ),
    targets=frozenset({PG}),
)  # fmt: skip

WIDE_COLUMNS = tuple(["id", *(f"c{i:03d}" for i in range(1, 300))])  # 300 columns


def _wide_ddl(engine: str) -> tuple[str, ...]:
    q = "`" if engine == MY else '"'
    # varchar(10): 150 of them fit InnoDB's 8126-byte row limit in utf8mb4
    cols = ", ".join(f"{q}{c}{q} {'int' if i % 2 else 'varchar(10)'}"
                     for i, c in enumerate(WIDE_COLUMNS[1:]))  # fmt: skip
    return (f"CREATE TABLE {q}t_wide_300{q} ({q}id{q} integer PRIMARY KEY, {cols})",)


def _wide_row(k: int) -> tuple:
    return (k, *((None if (i + k) % 7 == 0 else (i * k if i % 2 else f"v{i}'\"{k}"))
                 for i in range(299)))  # fmt: skip


WIDE = Case(
    "wide_300_columns",
    ddl={eng: _wide_ddl(eng) for eng in (PG, MY, LITE)},
    tables=(TableData("t_wide_300", WIDE_COLUMNS, tuple(_wide_row(k) for k in range(1, 6))),),
    chunk_rows=2,
)

# Years MySQL documents as unsupported (before 1000) but MariaDB's DATE and DATETIME hold:
# copied exactly, read back identical (checked here on every pair).
EARLY_DATES = type_case(
    "date_before_1000",
    {PG: "date", MY: "DATE", LITE: "DATE"},
    [dt.date(1, 1, 1), dt.date(999, 12, 31), dt.date(9999, 12, 31), None],
)
EARLY_TIMESTAMPS = type_case(
    "timestamp_before_1000",
    {PG: "timestamp(6)", MY: "DATETIME(6)", LITE: "TIMESTAMP"},
    [TS(1, 1, 1), TS(999, 12, 31, 23, 59, 59, 999999), TS(9999, 12, 31, 23, 59, 59, 999999)],
)
# 'infinity', '-infinity', BC and after-9999 dates move as PostgreSQL's own bytes between
# two PostgreSQL tables. No Python value carries them: the rows get them as column defaults,
# and the comparison after the copy is the suite's verification (native and canonical).
PG_INFINITY_EXACT = Case(
    "pg_infinity_to_pg",
    ddl={
        PG: (
            'CREATE TABLE "t_pg_inf" ("id" integer PRIMARY KEY, "d" date DEFAULT \'infinity\', '
            "\"ts\" timestamp DEFAULT '-infinity', \"tz\" timestamptz DEFAULT 'infinity')",
            'CREATE TABLE "t_pg_far" ("id" integer PRIMARY KEY, '
            "\"d\" date DEFAULT '4713-01-01 BC', \"ts\" timestamp DEFAULT '294276-12-31 23:59:59')",
        )
    },
    tables=(
        TableData("t_pg_inf", ("id",), ((1,), (2,))),
        TableData("t_pg_far", ("id",), ((1,),)),
    ),
    targets=frozenset({PG}),
    canonical=False,  # psycopg cannot load them; the server-side digest compares them
)

# Identifiers that break hand-made quoting: each dialect quotes them, so they stay names.
INJECTION_TABLE = 'x"; DROP TABLE y; --'
INJECTION_COLUMNS = ("id", 'x"; DROP TABLE y; --', "a'b", "c`d", "e]f", "g.h", "Mixed Case",
                     "order", "Größe", "naïve café")  # fmt: skip


def _injection_ddl(engine: str) -> tuple[str, ...]:
    from sluice.dialects import get_dialect

    d = get_dialect(engine)
    cols = ", ".join(f"{d.quote(c)} {'integer PRIMARY KEY' if c == 'id' else 'text'}"
                     for c in INJECTION_COLUMNS)  # fmt: skip
    return tuple(f"CREATE TABLE {d.quote(t)} ({cols})" for t in (INJECTION_TABLE, "a'b.c`d]e"))


_INJECTION_ROWS = tuple(
    (k, *(f"{c}={k}" if k % 2 else None for c in INJECTION_COLUMNS[1:])) for k in range(1, 5)
)
INJECTION = Case(
    "injection_names",
    ddl={eng: _injection_ddl(eng) for eng in (PG, MY, LITE)},
    tables=(
        TableData(INJECTION_TABLE, INJECTION_COLUMNS, _INJECTION_ROWS),
        TableData("a'b.c`d]e", INJECTION_COLUMNS, _INJECTION_ROWS[:2]),
    ),
)

# At the declared length exactly (characters, not bytes): copied, not refused.
VARCHAR_5_FULL = type_case(
    "varchar_5_full",
    {PG: "varchar(5)", MY: "VARCHAR(5)", LITE: "VARCHAR(5)"},
    ["abcde", "😀😀😀😀😀", "  x  ", "ab\tde", "", "عبري5"],
)

HOSTILE_CASES: list[Case] = [LATIN1, WIDE, EARLY_DATES, EARLY_TIMESTAMPS, PG_INFINITY_EXACT,
                             INJECTION, VARCHAR_5_FULL]  # fmt: skip


# --- refused, naming table, column and key ---------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """A source table the copy must refuse for the listed pairs: the run fails, the error
    contains every fragment of `says` (table, column, key), and no table is published."""

    id: str
    ddl: Mapping[str, tuple[str, ...]]
    table: TableData
    pairs: tuple[tuple[str, str], ...]
    says: tuple[str, ...]
    options: Mapping[str, Any] = field(default_factory=dict)  # CopyOptions overrides


def _one(table: str, decl: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    out = {}
    for eng, d in decl.items():
        q = "`" if eng == MY else '"'
        out[eng] = (f"CREATE TABLE {q}{table}{q} ({q}id{q} integer PRIMARY KEY, {q}v{q} {d})",)
    return out


def _rows(*values: Any) -> tuple[tuple[Any, ...], ...]:
    return tuple((k, v) for k, v in enumerate(values, start=1))


NUL_ROWS = _rows("fine", "a\x00b", "\x00", None, "trailing\x00", "ok")
REFUSALS = [
    Refusal(
        "nul_in_text", _one("r_nul", {MY: "LONGTEXT", LITE: "TEXT"}),
        TableData("r_nul", ("id", "v"), NUL_ROWS), ((MY, PG), (LITE, PG)),
        ("'r_nul'", "column 'v'", "key 2", "NUL", "3 row(s): keys 2, 3, 5"),
    ),
    Refusal(  # SQLite does not enforce VARCHAR(5); PostgreSQL would cut trailing spaces
        "over_length", _one("r_long", {LITE: "VARCHAR(5)"}),
        TableData("r_long", ("id", "v"), _rows("abcde", "abcdefghi")), ((LITE, PG),),
        ("'r_long'", "column 'v'", "key 2", "9 characters", "VARCHAR(5)"),
    ),
    Refusal(
        "over_length_spaces", _one("r_spaces", {LITE: "VARCHAR(5)"}),
        TableData("r_spaces", ("id", "v"), _rows("ab", "abc      ")), ((LITE, PG),),
        ("'r_spaces'", "column 'v'", "key 2", "9 characters"),
    ),
    Refusal(
        "double_nan", _one("r_nan", {PG: "double precision"}),
        TableData("r_nan", ("id", "v"), _rows(1.5, float("nan"))), ((PG, MY), (PG, LITE)),
        ("'r_nan'", "column 'v'", "key 2", "nan"),
    ),
    Refusal(
        "double_infinity", _one("r_inf", {PG: "double precision"}),
        TableData("r_inf", ("id", "v"), _rows(float("-inf"), 2.0)), ((PG, MY),),
        ("'r_inf'", "column 'v'", "key 1", "-inf"),
    ),
    Refusal(  # MariaDB and SQLite store a float's negative zero as 0, without a word
        "double_negative_zero", _one("r_negzero", {PG: "double precision"}),
        TableData("r_negzero", ("id", "v"), _rows(0.0, -0.0, 1.5)), ((PG, MY), (PG, LITE)),
        ("'r_negzero'", "column 'v'", "key 2", "negative zero"),
    ),
    Refusal(
        "numeric_nan", _one("r_numnan", {PG: "numeric(10,2)"}),
        TableData("r_numnan", ("id", "v"), _rows(__import__("decimal").Decimal("NaN"))),
        ((PG, MY),), ("'r_numnan'", "column 'v'", "key 1", "NaN"),
    ),
    Refusal(  # psycopg cannot hand 'infinity' over as a Python value: PostgreSQL finds the key
        "pg_infinity", _one("r_pginf", {PG: "timestamp"}),
        TableData("r_pginf", ("id", "v"), _rows(TS(2000, 1, 1), TS(2001, 1, 1), TS(2002, 1, 1))),
        ((PG, MY), (PG, LITE)), ("'r_pginf'", "column 'v'", "key 2", "'infinity'"),
    ),
    Refusal(
        "pg_year_10000", _one("r_y10k", {PG: "date"}),
        TableData("r_y10k", ("id", "v"), _rows(dt.date(2000, 1, 1))),
        ((PG, MY), (PG, LITE)), ("'r_y10k'", "column 'v'", "key 2", "10000-01-01"),
    ),
    Refusal(  # a double column keeps the table off LOAD DATA: a 20 MB value in one INSERT
        "over_max_allowed_packet",
        {PG: ('CREATE TABLE "r_packet" ("id" integer PRIMARY KEY, "v" text, '
              '"x" double precision DEFAULT 1.5)',)},
        TableData("r_packet", ("id", "v"), _rows("small")),
        ((PG, MY),),
        ("'r_packet'", "column 'v'", "key 7", "max_allowed_packet"),
    ),
    Refusal(  # PostgreSQL's money text depends on lc_monetary: refused when planning for
        # another engine (PostgreSQL -> PostgreSQL carries it: test_pg_native_types.py)
        "pg_money", _one("r_money", {PG: "money"}),
        TableData("r_money", ("id", "v"), ()), ((PG, MY), (PG, LITE)),
        ("'r_money'", "column 'v'", "money"),
    ),
]  # fmt: skip

# Rows a Refusal's source gets by SQL after its inserts (values no Python object carries).
REFUSAL_SQL = {
    "pg_infinity": 'UPDATE "r_pginf" SET "v" = \'infinity\' WHERE "id" = 2',
    "pg_year_10000": "INSERT INTO \"r_y10k\" VALUES (2, '10000-01-01')",
    "over_max_allowed_packet": "INSERT INTO r_packet VALUES (7, repeat('x', 20000000), 2.5)",
}


# --- changed on request: --nul strip / replace -----------------------------------------------


@dataclass(frozen=True)
class NulCase:
    mode: str
    replacement: str
    expected: tuple[Any, ...]  # the values of NUL_ROWS after the copy
    changed: int


NUL_POLICY_CASES = [
    NulCase("strip", "", ("fine", "ab", "", None, "trailing", "ok"), 3),
    NulCase("replace", "\ufffd", ("fine", "a\ufffdb", "\ufffd", None, "trailing\ufffd", "ok"), 3),
    NulCase("replace", "\\0", ("fine", "a\\0b", "\\0", None, "trailing\\0", "ok"), 3),
]
