"""The statements behind inheritance and partitioning (issue 26), without a server: what a
read names (ONLY on PostgreSQL, never on a partitioned table), a partitioned staging table
with its partitions under staging names, and the swap giving them the source's names. The
live behaviour is tests/integration/test_inheritance_partitions.py."""

from __future__ import annotations

import json
from dataclasses import asdict

import sqlglot

from sluice.copy.staging import live_table, staging_table, sync_staging_table
from sluice.core.definition import Partitioning, partitioning_from
from sluice.core.plain import plain
from sluice.core.schema import Column, Table
from sluice.core.types import Kind, SqlType
from sluice.dialects import get_dialect

PARTS = Partitioning("range", "logdate", (("m_2020", "FOR VALUES FROM ('2020-01-01') TO "
                     "('2021-01-01')"), ("m_other", "DEFAULT")), "postgresql")  # fmt: skip
COLS = (Column("id", SqlType(Kind.INTEGER), False), Column("logdate", SqlType(Kind.DATE), False))
SUB = Partitioning("hash", "id", (("m_2020_a", "FOR VALUES WITH (modulus 2, remainder 0)"),
                                  ("m_2020_b", "FOR VALUES WITH (modulus 2, remainder 1)")),
                   "postgresql")  # fmt: skip
NESTED = Partitioning(**{**PARTS.__dict__, "subpartitions": (("m_2020", SUB),)})
PLAIN = Table("city", COLS, ("id",))
PARTITIONED = Table("m", COLS, ("id", "logdate"), partitioning=PARTS)


def test_postgres_reads_own_rows_only_but_a_partitioned_table_whole():
    pg = get_dialect("postgresql")
    assert pg.relation_sql(PLAIN) == 'ONLY "city"'
    assert pg.relation_sql(PARTITIONED) == '"m"'
    sql, _ = pg.select_range_sql(PLAIN, 1, 5)
    assert 'FROM ONLY "city" WHERE' in sql
    sql, _ = pg.select_range_sql(PARTITIONED, None, None)
    assert 'FROM "m" ORDER BY' in sql


def test_other_engines_read_the_table_as_it_is():
    for engine in ("mysql", "mssql", "sqlite"):
        d = get_dialect(engine)
        assert d.relation_sql(PLAIN) == d.qualified(PLAIN)
        assert d.relation_sql(PARTITIONED) == d.qualified(PARTITIONED)
        assert len(d.create_table_sql(PARTITIONED)) == 1  # one plain table
    tsql = get_dialect("mssql").create_table_sql(PARTITIONED)[0]
    assert "PARTITION" not in tsql
    sqlglot.parse_one(tsql, read="tsql")


def test_postgres_stages_partitions_under_staging_names_and_the_swap_names_them():
    pg = get_dialect("postgresql")
    stage, live = staging_table(pg, PARTITIONED), live_table(pg, PARTITIONED)
    assert [n for n, _ in stage.partitioning.partitions] == ["_sluice_part_m_2020",
                                                             "_sluice_part_m_other"]  # fmt: skip
    made = pg.create_table_sql(stage, primary_key=False)
    assert made[0].endswith(") PARTITION BY RANGE (logdate)")
    assert made[1:] == [
        'CREATE TABLE "public"."_sluice_part_m_2020" PARTITION OF "public"."_sluice_stage_m" '
        "FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')",
        'CREATE TABLE "public"."_sluice_part_m_other" PARTITION OF "public"."_sluice_stage_m" '
        "DEFAULT",
    ]
    swap = pg.swap_sql(stage, live, True)
    assert swap[:6] == [
        'DROP TABLE "public"."m"',
        'ALTER TABLE "public"."_sluice_stage_m" RENAME TO "m"',
        'DROP TABLE IF EXISTS "public"."m_2020"',
        'ALTER TABLE "public"."_sluice_part_m_2020" RENAME TO "m_2020"',
        'DROP TABLE IF EXISTS "public"."m_other"',
        'ALTER TABLE "public"."_sluice_part_m_other" RENAME TO "m_other"',
    ]
    assert swap[6].startswith("DO $sluice$") and "('_sluice_part_m_2020', 'm_2020')" in swap[6]
    # a sync's staging table is never partitioned (the upsert routes its rows)
    assert sync_staging_table(pg, PARTITIONED).partitioning is None
    assert len(pg.create_table_sql(sync_staging_table(pg, PARTITIONED))) == 1


def test_sub_partitions_are_made_to_any_depth_under_staging_names():
    pg = get_dialect("postgresql")
    nested = Table("m", COLS, ("id", "logdate"), partitioning=NESTED)
    assert NESTED.names() == ["m_2020", "m_2020_a", "m_2020_b", "m_other"]
    stage = staging_table(pg, nested)
    made = pg.create_table_sql(stage, primary_key=False)
    assert made[1:3] == [
        'CREATE TABLE "public"."_sluice_part_m_2020" PARTITION OF "public"."_sluice_stage_m" '
        "FOR VALUES FROM ('2020-01-01') TO ('2021-01-01') PARTITION BY HASH (id)",
        'CREATE TABLE "public"."_sluice_part_m_2020_a" PARTITION OF '
        '"public"."_sluice_part_m_2020" FOR VALUES WITH (modulus 2, remainder 0)',
    ]
    assert len(made) == 5 and made[4].endswith("DEFAULT")
    swap = pg.swap_sql(stage, live_table(pg, nested), False)
    assert 'ALTER TABLE "public"."_sluice_part_m_2020_b" RENAME TO "m_2020_b"' in swap
    assert pg.relation_sql(nested) == '"m"'  # read whole on the source
    assert pg.hierarchy_not_carried(nested) == []
    assert pg.hierarchy_not_carried(Table("capital", COLS, inherits=("city",))) == []
    mysql = get_dialect("mysql")
    kinds = [n.kind for n in mysql.hierarchy_not_carried(
        Table("capital", COLS, inherits=("city",), partitioning=PARTS))]  # fmt: skip
    assert kinds == ["inheritance", "partitioning"]


def test_partitioning_round_trips_through_plain_form():
    assert partitioning_from(json.loads(json.dumps(plain(asdict(NESTED))))) == NESTED
