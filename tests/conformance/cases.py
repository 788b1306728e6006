"""The conformance suite as data: what goes into a source engine and what must come out.

Every case runs for every (source, target) pair in `PAIRS` that it applies to. A case is
a set of source tables (per-engine CREATE TABLE text), rows to insert, and the values the
target must return. A cell is either a plain value (read back unchanged) or a `Val` with
its own expectation and the engines that can hold it.

Expectations are canonical Python values. Where an engine legitimately stores a value in
another representation (MySQL booleans are TINYINT(1), SQLite dates are ISO text), the
runner converts what the target driver returns with `READBACK` before comparing; nothing
else is coerced.

Left out on purpose, with the reason (values a pair must refuse are in `hostile_cases.py`):
* NUL characters in text: PostgreSQL `text` cannot hold U+0000 (covered in binary here; text
  with NUL is refused by key or changed by `--nul` in `hostile_cases.py`).
* NaN on MySQL and SQLite (MySQL has no NaN, SQLite stores NaN as NULL); Infinity on MySQL:
  refused by key (`hostile_cases.REFUSALS`).
* Dates and timestamps before 1000-01-01 on MySQL (outside its documented DATE range).
* 38-digit decimals and 19-digit money values on SQLite: NUMERIC there is an 8-byte integer or
  float, so only values a double holds exactly are used with SQLite.
* Single-precision floats from SQLite (it has none) and offsets on MySQL (DATETIME has none:
  the plan refuses that copy as lossy, see `FIDELITY_CASES`).
* MySQL and SQLite have no UUID type: a uuid declared there is text and arrives as text.
* JSON `null` (psycopg returns None for it, indistinguishable from SQL NULL).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sluice.core.types import Kind, SqlType

PG, MY, LITE = "postgresql", "mysql", "sqlite"
PAIRS = ((PG, PG), (PG, MY), (MY, PG), (LITE, PG), (PG, LITE))
SAME = object()  # the expected value is the inserted value


def lookup(mapping: Mapping[str, Any] | None, source: str, target: str, default: Any = None):
    """The entry for a pair: "src->dst" first, then "src->*", then "*->dst"."""
    for key in (f"{source}->{target}", f"{source}->*", f"*->{target}"):
        if mapping and key in mapping:
            return mapping[key]
    return default


@dataclass(frozen=True)
class Val:
    """One cell: what is inserted, what must come back, and where it applies.

    `expect` maps "src->dst", "src->*" or "*->dst" to the expected value (SAME otherwise).
    `engines`: both engines of a pair must be in it, else the row is left out for that pair.
    `compare`: a name in the runner's comparers ("exact", or "float4" for single precision).
    """

    value: Any
    expect: Mapping[str, Any] | None = None
    engines: frozenset[str] | None = None
    compare: str = "exact"

    def expected(self, source: str, target: str) -> Any:
        got = lookup(self.expect, source, target, SAME)
        return self.value if got is SAME else got

    def applies(self, source: str, target: str) -> bool:
        return self.engines is None or (source in self.engines and target in self.engines)


@dataclass(frozen=True)
class TableData:
    """One source table: its name, its columns (insert and read-back order) and its rows.

    `key` orders the read-back; None means the table has no key and rows compare as a
    multiset (duplicates included).
    """

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    key: tuple[str, ...] | None = ("id",)


@dataclass(frozen=True)
class Case:
    id: str
    ddl: Mapping[str, tuple[str, ...]]  # source engine -> statements creating the tables
    tables: tuple[TableData, ...]
    targets: frozenset[str] = frozenset({PG, MY, LITE})
    xfail: Mapping[str, str] = field(default_factory=dict)  # "src->dst" / "src->*" / "*->dst"
    chunk_rows: int = 3  # small, so keyed tables are copied in several chunks
    neutral: SqlType | None = None  # type cases: the column's neutral type (bulk-path test)
    canonical: bool = True  # verified client-side too (False: values Python cannot hold)

    def applies(self, source: str, target: str) -> bool:
        return source in self.ddl and target in self.targets

    def xfail_reason(self, source: str, target: str) -> str | None:
        return lookup(self.xfail, source, target)


# --- known bugs in src/ (see the report); each xfail names one -------------------------------

# Not bugs: conversions the plan flags as lossy are refused unless the user allows them.
REFUSED_SQLITE_DECIMAL = (
    "refused as lossy: SQLite keeps decimals as 8-byte floats (copy needs --allow-lossy)"
)
REFUSED_MYSQL_NUMERIC = (
    "refused as lossy: an unconstrained numeric has no exact MySQL type (needs --allow-lossy)"
)


# --- per-engine DDL for the one-column type tables ----------------------------------------

TYPE_TABLE = {
    PG: 'CREATE TABLE "{table}" ("id" integer PRIMARY KEY, "v" {decl})',
    MY: "CREATE TABLE `{table}` (`id` int PRIMARY KEY, `v` {decl}) "
    "DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
    LITE: 'CREATE TABLE "{table}" ("id" integer PRIMARY KEY, "v" {decl})',
}


def type_case(
    id: str,
    decl: Mapping[str, str],
    values: list[Any],
    *,
    neutral: SqlType | None = None,
    targets: frozenset[str] = frozenset({PG, MY, LITE}),
    xfail: Mapping[str, str] | None = None,
    compare: str = "exact",
    chunk_rows: int | None = None,
) -> Case:
    """A table `t_<id>` with an integer key and one column `v` holding each value once.

    By default the rows are copied in two chunks, so a chunk boundary is always crossed.
    With a `neutral` type the same values also go through each engine's bulk and INSERT paths.
    """
    table = f"t_{id}"
    cells = [v if isinstance(v, Val) else Val(v, compare=compare) for v in values]
    ddl = {eng: (TYPE_TABLE[eng].format(table=table, decl=d),) for eng, d in decl.items()}
    rows = tuple((i, cell) for i, cell in enumerate(cells, start=1))
    chunk_rows = chunk_rows or max(1, (len(rows) + 1) // 2)
    data = (TableData(table, ("id", "v"), rows),)
    return Case(id, ddl, data, targets, xfail or {}, chunk_rows, neutral)


NOT_MYSQL = frozenset({PG, LITE})
PG_ONLY = frozenset({PG})
NOT_SQLITE = frozenset({PG, MY})

# Characters that break hand-made escaping, each at the start, middle and end, alone, doubled.
SPECIALS = ("\t", "\n", "\r", "\r\n", "\\", "'", '"', ",", "|", ";", "%", "?", "`")
# fmt: off
HOSTILE_TEXT = [
    None, "", " ", "   ", " leading", "trailing ", "NULL", "null",
    "\\N",  # COPY text format's NULL marker
    "a\n\\.\nb",  # COPY text format's end-of-data line
    "\\x00", "%s %(name)s {0} ?",  # parameter markers of every paramstyle
    "';DROP TABLE x;--", "/* not a comment */ -- nor this", "\x01\x02\x1b\x1f\x7f",
    "non\u00a0breaking, line\u2028sep, para\u2029sep, \ufeffbom",
    "e\u0301 vs \u00e9 (not normalised)", "ǅ ß İ ﬁ ÿ", "日本語のテキスト 中文 한국어",
    "😀 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 𝄞", "עברית ומספרים 123", "مرحبا بالعالم",
    "mixed \u202eRTL override\u202c and \u200fmark",
    *(s for ch in SPECIALS for s in (ch + "x", "x" + ch + "y", "y" + ch, ch, ch * 2)),
]
# fmt: on

# A 1 MB text (1,048,576 characters; more bytes in UTF-8) mixing escapes and 4-byte characters.
LONG_TEXT = ("abc\t\\,'\"\n\r€😀 עב" * 80_000)[: 1 << 20]

# varchar(10) values at exactly 10 characters, multi-byte included.
VARCHAR_10 = [None, "", "abcdefghij", "ä😀ß€日本語🙂x\t", "          ", "\\\\\\\\\\'''''"]


def _dec(values: list[str], safe: list[str], engines=NOT_SQLITE) -> list[Val]:
    """Exact decimals where the engines allow them, plus values a double holds exactly."""
    exact = [Val(Decimal(v), engines=engines) for v in values]
    return [*exact, *(Val(Decimal(v)) for v in safe), Val(None)]


U0 = uuid.UUID("00000000-0000-0000-0000-000000000000")
U1 = uuid.UUID("ffffffff-ffff-ffff-ffff-ffffffffffff")
U2 = uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e")


def _uuid(u: uuid.UUID) -> Val:
    """MySQL and SQLite have no uuid type: declared there as text, a uuid stays text."""
    return Val(u, expect={"mysql->*": str(u), "sqlite->*": str(u)})


TS = dt.datetime
T = SqlType
TYPE_CASES = [
    type_case("text", {PG: "text", MY: "LONGTEXT", LITE: "TEXT"}, HOSTILE_TEXT,
              neutral=T(Kind.STRING)),
    type_case("long_text", {PG: "text", MY: "LONGTEXT", LITE: "TEXT"}, [LONG_TEXT],
              neutral=T(Kind.STRING)),
    type_case("varchar_10", {PG: "varchar(10)", MY: "VARCHAR(10)", LITE: "VARCHAR(10)"},
              VARCHAR_10, neutral=T(Kind.STRING, length=10)),
    type_case("smallint", {PG: "smallint", MY: "SMALLINT", LITE: "SMALLINT"},
              [-32768, 32767, 0, -1, None], neutral=T(Kind.SMALLINT)),
    type_case("integer", {PG: "integer", MY: "INT", LITE: "INTEGER"},
              [-2147483648, 2147483647, 0, None], neutral=T(Kind.INTEGER)),
    type_case("bigint", {PG: "bigint", MY: "BIGINT", LITE: "BIGINT"},
              [-9223372036854775808, 9223372036854775807, 0, None], neutral=T(Kind.BIGINT)),
    # MySQL's own integer types arrive in the next wider neutral type.
    type_case("mysql_tinyint", {MY: "TINYINT"}, [-128, 127, 0, None]),
    type_case("mysql_tinyint_unsigned", {MY: "TINYINT UNSIGNED"}, [0, 255, None]),
    type_case("mysql_smallint_unsigned", {MY: "SMALLINT UNSIGNED"}, [0, 65535, None]),
    type_case("mysql_mediumint", {MY: "MEDIUMINT"}, [-8388608, 8388607, None]),
    type_case("mysql_int_unsigned", {MY: "INT UNSIGNED"}, [0, 4294967295, None]),
    type_case(
        "mysql_bigint_unsigned", {MY: "BIGINT UNSIGNED"},
        [Val(18446744073709551615, expect={"mysql->*": Decimal(18446744073709551615)}),
         Val(0, expect={"mysql->*": Decimal(0)}), None],
    ),
    type_case(
        "decimal_38_10",
        {PG: "numeric(38,10)", MY: "DECIMAL(38,10)", LITE: "NUMERIC(38,10)"},
        _dec(["9999999999999999999999999999.9999999999",
              "-9999999999999999999999999999.9999999999",
              "0.0000000001", "-0.0000000001", "1234567890123456789.0123456789"],
             ["0.0000000000", "1.5000000000", "-2.2500000000", "1234567.1250000000"]),
        neutral=T(Kind.DECIMAL, precision=38, scale=10),
        xfail={"*->sqlite": REFUSED_SQLITE_DECIMAL},
    ),
    type_case(
        "numeric_unbounded", {PG: "numeric"},
        [Decimal("1.5"), Decimal("-0.000000000000000000000000000001"),
         Decimal("123456789012345678901234567890.5"), Decimal("0"), None],
        xfail={"*->sqlite": REFUSED_SQLITE_DECIMAL, "*->mysql": REFUSED_MYSQL_NUMERIC},
    ),
    type_case(
        "money_19_4",
        {PG: "numeric(19,4)", MY: "DECIMAL(19,4)", LITE: "NUMERIC(19,4)"},
        _dec(["922337203685477.5807", "-922337203685477.5808", "0.0001", "-0.0001"],
             ["12.3400", "-0.5000", "0.0000", "1000000.2500"]),
        neutral=T(Kind.MONEY),
        xfail={"*->sqlite": REFUSED_SQLITE_DECIMAL},
    ),
    type_case(
        "real", {PG: "real", MY: "FLOAT"},
        [0.1, 1.0, -1.5, 1.1754943508222875e-38, 123456789.0, 16777217.0, 0.0, None,
         Val(3.4028234663852886e38, engines=NOT_MYSQL, compare="float4"),
         Val(float("inf"), engines=NOT_MYSQL, compare="float4"),
         Val(float("-inf"), engines=NOT_MYSQL, compare="float4"),
         Val(float("nan"), engines=PG_ONLY, compare="float4")],
        compare="float4", neutral=T(Kind.REAL),
    ),
    type_case(
        "double", {PG: "double precision", MY: "DOUBLE", LITE: "REAL"},
        [0.1, 1 / 3, 1e308, -1e308, 1.7976931348623157e308, 2.2250738585072014e-308, 5e-324,
         123456789.12345679, 0.0, None,
         Val(-0.0, engines=PG_ONLY),
         Val(float("inf"), engines=NOT_MYSQL), Val(float("-inf"), engines=NOT_MYSQL),
         Val(float("nan"), engines=PG_ONLY)],
        neutral=T(Kind.DOUBLE),
    ),
    # MySQL's TINYINT(1) is an integer (5 and -1 are values of it): smallint elsewhere
    type_case("boolean", {PG: "boolean", MY: "TINYINT(1)", LITE: "BOOLEAN"},
              [Val(True, expect={"mysql->*": 1}), Val(False, expect={"mysql->*": 0}), None],
              neutral=T(Kind.BOOLEAN)),
    type_case(
        "date", {PG: "date", MY: "DATE", LITE: "DATE"},
        [Val(dt.date(1, 1, 1), engines=NOT_MYSQL), dt.date(1000, 1, 1), dt.date(9999, 12, 31),
         dt.date(1582, 10, 10), dt.date(1970, 1, 1), dt.date(2000, 2, 29), None],
        neutral=T(Kind.DATE),
    ),
    type_case(
        "timestamp", {PG: "timestamp(6)", MY: "DATETIME(6)", LITE: "TIMESTAMP"},
        [Val(TS(1, 1, 1), engines=NOT_MYSQL), TS(1000, 1, 1),
         TS(9999, 12, 31, 23, 59, 59, 999999), TS(1970, 1, 1), TS(2024, 2, 29, 12, 34, 56, 123456),
         TS(2000, 1, 1, 0, 0, 0, 1),
         TS(2021, 3, 28, 2, 30, 0, 500000),  # does not exist in Europe/Berlin (PGTZ in the run)
         TS(2021, 10, 31, 2, 30, 0),  # exists twice there
         None],
        neutral=T(Kind.DATETIME, precision=6),
    ),
    type_case(
        "timestamp_tz", {PG: "timestamptz"},
        [TS(2024, 2, 29, 12, 34, 56, 123456, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=45))),
         TS(1970, 1, 1, tzinfo=dt.timezone.utc),
         TS(2021, 3, 28, 2, 30, tzinfo=dt.timezone(-dt.timedelta(hours=3, minutes=30))), None],
        neutral=T(Kind.DATETIME_TZ, precision=6), targets=frozenset({PG, LITE}),
    ),
    type_case(
        "time", {PG: "time(6)", MY: "TIME(6)", LITE: "TIME"},
        # MySQL TIME is a duration: a PostgreSQL interval (mariadb_pg_cases has its edges)
        [Val(t, expect={"mysql->postgresql": dt.datetime.combine(dt.date.min, t) - dt.datetime.min})
         for t in (dt.time(0, 0), dt.time(23, 59, 59, 999999), dt.time(12, 34, 56, 1))] + [None],
        neutral=T(Kind.TIME, precision=6),
    ),
    type_case(
        "uuid", {PG: "uuid", MY: "CHAR(36) CHARACTER SET ascii", LITE: "TEXT"},
        [_uuid(U0), _uuid(U1), _uuid(U2), None], neutral=T(Kind.UUID),
    ),
    type_case(
        "binary", {PG: "bytea", MY: "VARBINARY(1000)", LITE: "BLOB"},
        [b"", None, b"\x00", b"\x00\x00\x00", b"a\x00b", bytes(range(256)), b"\\x00\\N",
         b"\xff\xfe\xfd", b"\r\n\t\\'\",", b"\x00" * 1000],
        neutral=T(Kind.BINARY),
    ),
    type_case(
        "json", {PG: "jsonb"},
        # JSON travels as its text; jsonb normalises spacing and key order, so documents are
        # compared parsed
        [json.dumps(v, ensure_ascii=False) if v is not None else None for v in
         ({"a": 1, "b": [1, 2.5, None, "é😀\t\\"], "c": {"d": True}}, [], [1, "two"],
          {"s": "text", "n": 0, "e": ""}, None, "null")],
        neutral=T(Kind.JSON), compare="json",
    ),
]  # fmt: skip


# --- structure: names, keys, empty tables -----------------------------------------------------


def ansi(*statements: str) -> dict[str, tuple[str, ...]]:
    """The same double-quoted DDL for PostgreSQL and SQLite."""
    return {PG: statements, LITE: statements}


HOSTILE_COLUMNS = ("id", "select", "Group", "MixedCase", "from", 'it\'s "q"', "Größe_名前")
_HOSTILE_ROWS = (
    (1, "a", "g1", "Mixed", "f", "q'1\"", "ä"),
    (2, None, "", "x", None, "", "日本"),
    (3, "select", "GROUP", "mixedcase", "from", "'", "😀"),
    (4, "d", "g2", None, "", None, None),
)
QUOTED_TABLE = 'Bob\'s "Shop"'  # both quote characters inside a table name

IDENTIFIERS = Case(
    "identifiers",
    ddl={
        **ansi(
            'CREATE TABLE "Order Items" ("id" integer PRIMARY KEY, "select" text, '
            '"Group" varchar(20), "MixedCase" text, "from" text, "it\'s ""q""" text, '
            '"Größe_名前" text)',
            'CREATE TABLE "Bob\'s ""Shop""" ("id" integer PRIMARY KEY, "Name" text)',
        ),
        MY: (
            "CREATE TABLE `Order Items` (`id` int PRIMARY KEY, `select` text, "
            '`Group` varchar(20), `MixedCase` text, `from` text, `it\'s "q"` text, '
            "`Größe_名前` text) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
            'CREATE TABLE `Bob\'s "Shop"` (`id` int PRIMARY KEY, `Name` text) '
            "DEFAULT CHARSET=utf8mb4",
        ),
    },
    tables=(
        TableData("Order Items", HOSTILE_COLUMNS, _HOSTILE_ROWS),
        TableData(QUOTED_TABLE, ("id", "Name"), ((1, "x"), (2, "y'\"`"))),
    ),
)

PERCENT = Case(
    "percent_in_names",
    ddl={
        **ansi('CREATE TABLE "50% off" ("id" integer PRIMARY KEY, "rate%" text)'),
        MY: ("CREATE TABLE `50% off` (`id` int PRIMARY KEY, `rate%` text)",),
    },
    tables=(TableData("50% off", ("id", "rate%"), ((1, "10%"), (2, "%s"), (3, None))),),
)

INDEXED = Case(
    "secondary_index",
    ddl={
        **ansi(
            'CREATE TABLE "indexed" ("id" integer PRIMARY KEY, "Group" text, "v" integer)',
            'CREATE INDEX "indexed by ""Group""" ON "indexed" ("Group")',
            'CREATE UNIQUE INDEX "indexed_v" ON "indexed" ("v")',
        ),
        MY: (
            "CREATE TABLE `indexed` (`id` int PRIMARY KEY, `Group` varchar(20), `v` int)",
            'CREATE INDEX `indexed by "Group"` ON `indexed` (`Group`)',
            "CREATE UNIQUE INDEX `indexed_v` ON `indexed` (`v`)",
        ),
    },
    tables=(TableData("indexed", ("id", "Group", "v"), ((1, "a", 1), (2, "a", 2), (3, None, 3))),),
)  # fmt: skip

LONG_NAME = "t" * 50 + "_long_name_63"  # 63 characters: PostgreSQL's identifier limit
LONG_NAMES = Case(
    "long_table_name",
    ddl={
        **ansi(f'CREATE TABLE "{LONG_NAME}" ("id" integer PRIMARY KEY, "v" text)'),
        MY: (f"CREATE TABLE `{LONG_NAME}` (`id` int PRIMARY KEY, `v` text)",),
    },
    tables=(TableData(LONG_NAME, ("id", "v"), ((1, "a"), (2, "b"))),),
)

# Without a key sluice copies the table whole, in one chunk, whatever chunk_rows says.
NO_KEY = Case(
    "no_primary_key",
    ddl={
        **ansi('CREATE TABLE "no_key" ("a" integer, "b" text)'),
        MY: ("CREATE TABLE `no_key` (`a` int, `b` text) DEFAULT CHARSET=utf8mb4",),
    },
    tables=(
        TableData(
            "no_key", ("a", "b"),
            ((1, "x"), (1, "x"), (2, None), (None, ""), (None, None), (3, "y"), (3, "y"),
             (-5, "z"), (7, "\t")),
            key=None,
        ),
    ),
    chunk_rows=2,
)  # fmt: skip

ZERO_ROWS = Case(
    "zero_rows",
    ddl={
        **ansi(
            'CREATE TABLE "empty_keyed" ("id" integer PRIMARY KEY, "v" text)',
            'CREATE TABLE "empty_unkeyed" ("v" text)',
        ),
        MY: (
            "CREATE TABLE `empty_keyed` (`id` int PRIMARY KEY, `v` text)",
            "CREATE TABLE `empty_unkeyed` (`v` text)",
        ),
    },
    tables=(
        TableData("empty_keyed", ("id", "v"), ()),
        TableData("empty_unkeyed", ("v",), (), key=None),
    ),
)

CASES: list[Case] = [*TYPE_CASES, IDENTIFIERS, INDEXED, PERCENT, LONG_NAMES, NO_KEY, ZERO_ROWS]


# --- identities: after the copy the target hands out max(key) + 1 -----------------------------


@dataclass(frozen=True)
class IdentityCase:
    id: str
    ddl: Mapping[str, str]  # source engine -> CREATE TABLE "ident_<id>" (id <identity>, name)
    keys: tuple[int, ...]  # explicit keys inserted on the source
    xfail: Mapping[str, str] = field(default_factory=dict)

    @property
    def table(self) -> str:
        return f"ident_{self.id}"

    def xfail_reason(self, source: str, target: str) -> str | None:
        return lookup(self.xfail, source, target)


IDENTITY_CASES = [
    IdentityCase(
        "generated",
        {
            PG: 'CREATE TABLE "ident_generated" ("id" integer GENERATED BY DEFAULT AS IDENTITY '
            'PRIMARY KEY, "name" text)',
            MY: "CREATE TABLE `ident_generated` (`id` int AUTO_INCREMENT PRIMARY KEY, `name` text)",
            LITE: 'CREATE TABLE "ident_generated" ("id" integer PRIMARY KEY, "name" text)',
        },
        (1, 2, 5, 10),
        {},
    ),
    IdentityCase(
        "bigint",
        {
            PG: 'CREATE TABLE "ident_bigint" ("id" bigint GENERATED BY DEFAULT AS IDENTITY '
            'PRIMARY KEY, "name" text)',
            MY: "CREATE TABLE `ident_bigint` (`id` bigint AUTO_INCREMENT PRIMARY KEY, `name` text)",
        },
        (3, 4_000_000_000),
    ),
    IdentityCase(
        "serial",
        {PG: 'CREATE TABLE "ident_serial" ("id" serial PRIMARY KEY, "name" text)'},
        (1, 7),
        {},
    ),
    IdentityCase(
        "zero_and_negative",
        {
            PG: 'CREATE TABLE "ident_zero_and_negative" ("id" integer GENERATED BY DEFAULT AS '
            'IDENTITY PRIMARY KEY, "name" text)'
        },
        (-3, 0, 1),
        {},
    ),
]


# --- what a plan must flag: (source, target, source column declaration, fidelity) ----------


@dataclass(frozen=True)
class FidelityCase:
    source: str
    target: str
    decl: str
    fidelity: str
    xfail: str | None = None


FIDELITY_CASES = [
    FidelityCase(PG, MY, "timestamptz", "lossy"),
    FidelityCase(PG, PG, "numeric(38,10)", "exact"),
    FidelityCase(PG, MY, "numeric(38,10)", "exact"),
    FidelityCase(PG, LITE, "numeric(38,10)", "lossy"),
    FidelityCase(PG, LITE, "numeric(19,4)", "lossy"),
]


# --- bulk path vs plain INSERT path: every type case with a neutral type, on each engine ------

BULK_CASES = [c for c in TYPE_CASES if c.neutral is not None]
