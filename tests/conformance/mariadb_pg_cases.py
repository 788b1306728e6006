"""MariaDB <-> PostgreSQL type edges as data: one table per case, its edge values, and the
outcome the pair must give (exact, or refused with a message naming table, column, type).

A case is a source table `e_<id>` with an integer key `id` (1, 2, ... in value order) and one
column `v` of the declared type, filled by SQL literals on the source server. After the copy,
both servers are read independently (server-side casts to text, `READ` or the case's own
expressions) and must agree row by row, up to the case's `norm` (the engines print trailing
fractional zeros differently). The type matrix (`type_matrix/`, one column per type and
every engine pair) shows these cases with it in docs/type-mapping.md; a case here is what
one column per type cannot show: an option, a session sql_mode, the values a lossy copy
changes, a refusal by key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

PG, MY = "postgresql", "mysql"
TARGET = {MY: PG, PG: MY}
READ = {PG: "{v}::text", MY: "CAST({v} AS CHAR)"}  # independent reads: the servers' own text


@dataclass(frozen=True)
class Edge:
    id: str
    source: str
    decl: str  # the source column's declaration
    values: tuple[str | None, ...]  # SQL literals (None: NULL); row keys 1, 2, ...
    target_type: str = ""  # the target catalog's type of v (format_type / COLUMN_TYPE)
    refused: tuple[str, ...] = ()  # a refusal: fragments its message must hold
    read: Mapping[str, str] = field(default_factory=dict)  # engine -> text expression of {v}
    expect: Mapping[int, str | None] = field(default_factory=dict)  # key -> target text
    options: Mapping[str, object] = field(default_factory=dict)  # CopyOptions fields
    norm: str = ""  # "fraction": trailing fractional zeros dropped; "rstrip": pad spaces
    sql_mode: str | None = None  # MariaDB session sql_mode while inserting (zero dates)
    extra: str = ""  # a second column left NULL (forces the decoded path)

    @property
    def table(self) -> str:
        return f"e_{self.id}"

    @property
    def target(self) -> str:
        return TARGET[self.source]


def _bits(n: int) -> dict[str, str]:
    return {MY: f"LPAD(BIN({{v}}), {n}, '0')"}


def refused(*fragments: str) -> tuple[str, ...]:
    return fragments


CARRY = {"carry_as_text": True}
# PostgreSQL's output function's text of a value (what psql prints; format's %s calls it)
_OUT = {PG: "CASE WHEN {v} IS NULL THEN NULL ELSE format('%s', {v}) END"}
# MariaDB's geometry as EWKB hex (its SRID, when not 0, flagged into the WKB's type word);
# PostgreSQL's bytea as hex: the two servers' own texts of the same bytes
_WKB = {MY: "LOWER(HEX(ST_AsBinary({v})))", PG: "encode({v}, 'hex')"}


# fmt: off
EDGES: list[Edge] = [
    # --- MariaDB -> PostgreSQL ---------------------------------------------------------------
    # TINYINT(1) is an integer: the width is display only
    Edge("tinyint1", MY, "TINYINT(1)", ("0", "1", "5", "-1", "-128", "127", None), "smallint"),
    Edge("tinyint1_unsigned", MY, "TINYINT(1) UNSIGNED", ("0", "1", "255", None), "smallint"),
    # TIME is a signed duration: an interval of hours, never folded into days or 24 h
    Edge("time6", MY, "TIME(6)",
         ("'-838:59:59.999999'", "'838:59:59.999999'", "'100:00:00'", "'-00:00:01'",
          "'00:00:00'", "'24:00:00'", "'23:59:59.5'", "'-00:00:00.000001'", None),
         "interval", norm="fraction"),
    Edge("time0", MY, "TIME", ("'838:59:59'", "'-838:59:59'", "'00:00:00'", None),
         "interval(0)", norm="fraction"),
    Edge("bit1", MY, "BIT(1)", ("b'0'", "b'1'", None), "bit(1)", read=_bits(1)),
    Edge("bit5", MY, "BIT(5)", ("b'00000'", "b'11111'", "b'10100'", None), "bit(5)",
         read=_bits(5)),
    Edge("bit64", MY, "BIT(64)", ("0", "18446744073709551615", "1", "9223372036854775808",
                                  None), "bit(64)", read=_bits(64)),
    # SET: wide enough for every member joined by commas (1 + 2 + 3 + 2 commas = 8)
    Edge("set", MY, "SET('a','bb','ccc')", ("'a,bb,ccc'", "''", "'bb'", "'ccc,a'", None),
         "character varying(8)"),
    Edge("enum", MY, "ENUM('x','yy','zzz')", ("'x'", "'zzz'", None), "character varying(3)"),
    # --enums type: a PostgreSQL enum, '' (the error value of an invalid one) then the members
    Edge("enum_type", MY, "ENUM('x','yy','it''s','b\\\\s')",
         ("'x'", "'it''s'", "'b\\\\s'", "'not a member'", None), "e_enum_type_v_enum",
         sql_mode="", options={"enums": "type"}),
    # MariaDB's DOUBLE stores -0e0 as 0 (no negative zero to carry); PostgreSQL -> MariaDB
    # refuses -0.0 by key (tests/conformance/hostile_cases.py)
    Edge("double", MY, "DOUBLE", ("0", "-0e0", "-1.5", "1e-300", None), "double precision"),
    Edge("bigint_unsigned", MY, "BIGINT UNSIGNED",
         ("0", "18446744073709551615", "9223372036854775808", None), "numeric(20,0)"),
    Edge("year", MY, "YEAR", ("1901", "2155", "0", None), "smallint",
         read={MY: "CAST({v} + 0 AS CHAR)"}),
    Edge("datetime6", MY, "DATETIME(6)",
         ("'1000-01-01 00:00:00'", "'9999-12-31 23:59:59.999999'", "'0001-01-01 00:00:00'",
          None), "timestamp without time zone", norm="fraction"),
    # zero dates: refused naming table, column and key unless --zero-dates null
    Edge("zero_date", MY, "DATE", ("'2020-01-01'", "'0000-00-00'"),
         sql_mode="", refused=refused("'e_zero_date'", "'v'", "key 2", "'0000-00-00'",
                                      "zero date", "--zero-dates")),
    Edge("zero_in_date", MY, "DATE", ("'2020-00-15'", "'2020-01-01'"),
         sql_mode="", refused=refused("'e_zero_in_date'", "'v'", "key 1", "'2020-00-15'")),
    Edge("zero_datetime", MY, "DATETIME", ("'2020-01-00 10:00:00'", "'2020-01-01 00:00:00'"),
         sql_mode="", refused=refused("'e_zero_datetime'", "'v'", "key 1", "zero date")),
    Edge("zero_date_null", MY, "DATE", ("'2020-01-01'", "'0000-00-00'", "'2020-00-15'", None),
         "date", sql_mode="", options={"zero_dates": "null"}, expect={2: None, 3: None}),
    # or (PostgreSQL only) as -infinity: through binary COPY, and text COPY (TIME: an interval)
    Edge("zero_date_neg_inf", MY, "DATE", ("'2020-01-01'", "'0000-00-00'", "'2020-00-15'", None),
         "date", sql_mode="", options={"zero_dates": "-infinity"},
         expect={2: "-infinity", 3: "-infinity"}),
    Edge("zero_datetime_neg_inf", MY, "DATETIME(6)",
         ("'0000-00-00 00:00:00'", "'2020-01-01 10:00:00.5'"), "timestamp without time zone",
         sql_mode="", options={"zero_dates": "-infinity"}, expect={1: "-infinity"},
         norm="fraction"),
    Edge("zero_timestamp_neg_inf", MY, "TIMESTAMP", ("'0000-00-00 00:00:00'", "'2020-01-01'"),
         "timestamp(0) without time zone", sql_mode="", options={"zero_dates": "-infinity"},
         expect={1: "-infinity"}, extra="TIME"),
    # --- PostgreSQL -> MariaDB ---------------------------------------------------------------
    Edge("pg_time", PG, "time", ("'24:00:00'", "'00:00:00'", "'23:59:59.999999'", None),
         "time(6)", norm="fraction"),
    Edge("pg_time_decoded", PG, "time(0)", ("'24:00:00'", "'00:00:00'", "'23:59:59'", None),
         "time", norm="fraction", extra="bytea"),
    Edge("pg_timetz", PG, "timetz", ("'12:00:00+05'",),
         refused=refused("e_pg_timetz.v", "time with time zone", "offset", "--allow-lossy")),
    Edge("pg_bit5", PG, "bit(5)", ("B'00000'", "B'11111'", "B'10100'", None), "bit(5)",
         read=_bits(5)),
    Edge("pg_bit64", PG, "bit(64)", ("repeat('1', 64)::bit(64)", "1::bit(64)", None),
         "bit(64)", read=_bits(64)),
    Edge("pg_bit100", PG, "bit(100)", ("repeat('1', 100)::bit(100)",),
         refused=refused("'e_pg_bit100'", "'v'", "bit(100)", "no mysql equivalent")),
    Edge("pg_varchar_long", PG, "varchar(20000)", ("repeat('é', 20000)", "''", None),
         "longtext"),
    Edge("pg_char_300", PG, "char(300)", ("'ab'", "''", None), "varchar(300)", norm="rstrip"),
    Edge("pg_timestamp_infinity", PG, "timestamp", ("'2020-01-01'", "'infinity'"),
         refused=refused("'e_pg_timestamp_infinity'", "'v'", "key 2", "infinity")),
    Edge("pg_date_bc", PG, "date", ("'0001-01-01 BC'",),
         refused=refused("'e_pg_date_bc'", "'v'", "key 1", "BC")),
    Edge("pg_double_nan", PG, "double precision", ("'NaN'",),
         refused=refused("'e_pg_double_nan'", "'v'", "key 1", "nan")),
    Edge("pg_numeric_nan", PG, "numeric(10,2)", ("'NaN'", "1.5"),
         refused=refused("'e_pg_numeric_nan'", "'v'", "key 1", "NaN")),
    Edge("pg_numeric_scale_35", PG, "numeric(40,35)", ("1.5",),
         refused=refused("e_pg_numeric_scale_35.v", "35 decimal places", "--allow-lossy")),
    # PostgreSQL types MariaDB lacks: refused naming --carry-as-text, carried with it as
    # PostgreSQL's own text (exact, read back by each type's input function)
    Edge("pg_inet_refused", PG, "inet", ("'10.0.0.1'",),
         refused=refused("'e_pg_inet_refused'", "'v'", "inet", "--carry-as-text",
                         "--skip-refused", "--exclude-tables e_pg_inet_refused")),
    Edge("pg_inet", PG, "inet",
         ("'10.0.0.1/8'", "'::ffff:1.2.3.4'", "'0.0.0.0/0'", "'::1'", "'10.0.0.1/32'", None),
         "longtext", options=CARRY, read=_OUT),
    Edge("pg_cidr", PG, "cidr", ("'10.0.0.0/8'", "'2001:db8::/32'", None), "longtext",
         options=CARRY, read=_OUT),
    Edge("pg_macaddr", PG, "macaddr", ("'08:00:2b:01:02:03'", None), "longtext",
         options=CARRY, read=_OUT),
    Edge("pg_int_array", PG, "integer[]",
         ("'{1,NULL,3}'", "'{}'", "'{{1,2},{3,4}}'", "'[0:1]={5,6}'", "'{-2147483648}'", None),
         "longtext", options=CARRY, read=_OUT),
    Edge("pg_text_array", PG, "text[]", ("'{\"a,b\",\"\",NULL,\"NULL\",\"é\"}'", "'{}'", None),
         "longtext", options=CARRY, read=_OUT),
    Edge("pg_interval", PG, "interval",
         ("'1 year 2 mons 3 days 04:05:06.5'", "'-178000000 years'", "'-1 day +01:00'",
          "'0'", None), "longtext", options=CARRY, read=_OUT),
    Edge("pg_tsrange", PG, "tsrange", ("'[2020-01-01,infinity)'", "'empty'", None),
         "longtext", options=CARRY, read=_OUT),
    Edge("pg_int4multirange", PG, "int4multirange", ("'{[1,3),[5,7)}'", "'{}'", None),
         "longtext", options=CARRY, read=_OUT),
    Edge("pg_tsvector", PG, "tsvector", ("'a:1 fat:2B cat'", "''", None), "longtext",
         options=CARRY, read=_OUT),
    Edge("pg_point", PG, "point", ("'(1.5,-2)'", None), "longtext", options=CARRY, read=_OUT),
    Edge("pg_varbit", PG, "bit varying(10)", ("B'101'", "B''", None), "longtext",
         options=CARRY, read=_OUT),
    Edge("pg_bit100_text", PG, "bit(100)", ("repeat('1', 100)::bit(100)", None), "longtext",
         options=CARRY, read=_OUT),
    # timetz: carried as its text with the offset, or (--allow-lossy) as TIME without it,
    # 24:00:00 included; verify then reports the column lossy and the values differing
    Edge("pg_timetz_text", PG, "timetz", ("'24:00:00-03'", "'12:00:00+05:30'", None),
         "longtext", options=CARRY, read=_OUT),
    Edge("pg_timetz_lossy", PG, "timetz", ("'24:00:00-03'", "'12:00:00+05'", None),
         "time(6)", options={"allow_lossy": True},
         expect={1: "24:00:00.000000", 2: "12:00:00.000000"}),
    # MariaDB geometry -> PostgreSQL: EWKB in bytea (PostGIS's own binary form; no PostGIS
    # on this server: the geometry path is compile-tested in tests/unit)
    Edge("my_point", MY, "POINT",
         ("ST_GeomFromText('POINT(1 2)')", "ST_GeomFromText('POINT(-0.5 1e300)')", None),
         "bytea", read=_WKB),
    Edge("my_geometry", MY, "GEOMETRY",
         ("ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))')",
          "ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1),LINESTRING(0 0,1 1))')",
          "ST_GeomFromText('POINT(3 4)', 4326)", None),
         "bytea", read=_WKB,
         expect={3: "0101000020e610000000000000000008400000000000001040"}),
]
# fmt: on
