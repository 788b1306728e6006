"""Pieces of the cross-engine options that need no server: EWKB <-> MySQL's stored geometry,
the PostGIS path (compile level: this machine's PostgreSQL has no PostGIS), timetz 24:00:00
keeping its offset for verification, and --exclude-tables' parsing."""

from __future__ import annotations

import datetime as dt

from sluice.cli.options import exclude_list
from sluice.core.schema import Column, Table
from sluice.core.types import Kind, SqlType
from sluice.core.values import day_end, ewkb_from_mysql, mysql_from_ewkb
from sluice.dialects import get_dialect
from sluice.verify.canonical import encode_value

POINT_WKB = bytes.fromhex("0101000000000000000000084000000000000010" + "40")  # POINT(3 4)


def test_geometry_with_srid_becomes_ewkb_and_back():
    stored = (4326).to_bytes(4, "little") + POINT_WKB
    ewkb = ewkb_from_mysql(stored)
    assert ewkb.hex() == "0101000020e610000000000000000008400000000000001040"  # PostGIS's
    assert mysql_from_ewkb(ewkb) == stored


def test_geometry_without_srid_is_plain_wkb_and_big_endian_works():
    assert ewkb_from_mysql(bytes(4) + POINT_WKB) == POINT_WKB
    big = bytes.fromhex("00" + "00000001" + "4008000000000000" + "4010000000000000")
    stored = (3857).to_bytes(4, "little") + big
    ewkb = ewkb_from_mysql(stored)
    assert ewkb[1:5] == (0x20000001).to_bytes(4, "big")
    assert ewkb[5:9] == (3857).to_bytes(4, "big")
    assert mysql_from_ewkb(ewkb) == stored


def test_postgis_target_declares_geometry_and_writes_hex_ewkb():
    pg = get_dialect("postgresql")
    plain = SqlType(Kind.GEOMETRY, native="point", engine="mysql")
    assert pg.render_type(plain) == "BYTEA"
    postgis = SqlType(Kind.GEOMETRY, native='"public".geometry', engine="postgresql")
    assert pg.render_type(postgis) == '"public".geometry'
    table = Table("g", (Column("id", SqlType(Kind.INTEGER), False), Column("p", postgis, True)),
                  ("id",))  # fmt: skip
    encode = pg.encode_converters(table)[1]
    assert encode(POINT_WKB) == POINT_WKB.hex()
    assert pg.encode_converters(replace_type(table, plain))[1] is None  # bytes into bytea


def replace_type(table: Table, t: SqlType) -> Table:
    from dataclasses import replace

    return replace(table, columns=(table.columns[0], replace(table.columns[1], type=t)))


def test_timetz_end_of_day_keeps_its_offset_for_verification():
    t = SqlType(Kind.TIME_TZ, precision=6)
    value = day_end(dt.timedelta(hours=-3))
    assert encode_value(t, value) == "24:00:00.000000-03:00"
    assert encode_value(t, dt.timedelta(days=1)) == "24:00:00.000000"  # the offset dropped
    assert encode_value(t, value) != encode_value(t, dt.timedelta(days=1))


def test_exclude_tables_parsing():
    assert exclude_list(None) == ()
    assert exclude_list(" A, B ,,") == ("A", "B")
