"""Schemas on SQL Server, compiled (no server here: the T-SQL is parsed with sqlglot, never
claimed to have run): the schema listing, CREATE SCHEMA, every statement of a table outside
dbo qualified by its schema, and dbo mapping to and from PostgreSQL's public (ADR 0014).
Also the pure parts of the selection: --schema-map parsing and where a schema lands."""

from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot import exp
from tests.unit.test_mssql_dialect import FakeConn, FakeCursor, string_literal, tsql

from sluice.copy.plan import plan_tables
from sluice.copy.refusals import Selection
from sluice.copy.scope import landing_schemas, parse_schema_map, target_schema
from sluice.copy.staging import live_table, staging_table
from sluice.core.errors import ConfigError
from sluice.core.schema import Column, ForeignKey, Table
from sluice.core.types import Kind, SqlType
from sluice.dialects import get_dialect
from sluice.dialects.schemas import MSSQL_SCHEMAS

D = get_dialect("mssql")
PG = get_dialect("postgresql")
ID = Column("id", SqlType(Kind.INTEGER), False)


def table(name: str, schema: str | None, fks=()) -> Table:
    return Table(name, (ID, Column("v", SqlType(Kind.STRING, length=20))), ("id",), schema,
                 foreign_keys=fks)  # fmt: skip


def test_schema_listing_leaves_out_the_system_and_role_schemas():
    select = sqlglot.parse_one(MSSQL_SCHEMAS, read="tsql")
    source = select.find(exp.Table)
    assert (source.db, source.name) == ("sys", "schemas")
    left_out = {e.name for e in select.find(exp.In).expressions}
    assert left_out == {"sys", "INFORMATION_SCHEMA", "guest"}
    assert isinstance(select.find(exp.In).parent, exp.Not)
    below = select.find(exp.LT)  # db_owner, db_datareader ...: schema_id 16384 and above
    assert (below.this.name, below.expression.name) == ("schema_id", "16384")
    assert D.schemas_query == MSSQL_SCHEMAS


def test_create_schema_runs_in_its_own_batch_when_absent():
    (sql,) = D.create_schema_sql("Sa]les")
    m = re.fullmatch(r"IF (SCHEMA_ID\((N'.*?')\)) IS NULL EXEC\((N'.*')\)", sql)
    assert m, sql
    assert string_literal(m.group(2)) == "Sa]les"
    create = tsql(string_literal(m.group(3)))
    assert isinstance(create, exp.Create) and create.args["kind"] == "SCHEMA"
    assert create.this.db == "Sa]les"


def test_a_table_outside_dbo_keeps_its_schema_in_every_statement():
    t = table("orders", "Sales")
    stage, live = staging_table(D, t), live_table(D, t)
    assert [p.name for p in tsql(D.create_table_sql(stage)[0]).this.this.parts] == [
        "Sales", "_sluice_stage_orders"]  # fmt: skip
    drop, rename, check = D.swap_sql(stage, live, True)
    assert [p.name for p in tsql(drop).find(exp.Table).parts] == ["Sales", "orders"]
    assert rename == "EXEC sp_rename N'[Sales].[_sluice_stage_orders]', N'orders', N'OBJECT'"
    assert "N'[Sales].[orders]'" in check
    sql, params = D.select_range_sql(t, 1, 9)
    assert [p.name for p in tsql(sql, params).find(exp.Table).parts] == ["Sales", "orders"]
    conn = type("C", (FakeConn,), {"cursor": lambda self: _answer(self, 7)})()
    assert D.table_exists(conn, live) is True
    ((query, params),) = conn.log
    assert "OBJECT_ID" in query
    assert params == ("[Sales].[orders]",)
    fk = ForeignKey("orders", ("a_id",), "a", ("id",), "Sales", "dbo")
    add, check = D.add_foreign_key_sql(fk, "FK_orders_a_id")
    # sqlglot cannot parse WITH NOCHECK: the two names, as T-SQL reads them, by position
    m = re.fullmatch(r"ALTER TABLE (\S+) WITH NOCHECK .* REFERENCES (\S+) \(\[id\]\)", add)
    assert m, add
    assert [p.name for p in tsql(f"SELECT 1 FROM {m.group(1)}").find(exp.Table).parts] == [
        "Sales", "orders"]  # fmt: skip
    assert [p.name for p in tsql(f"SELECT 1 FROM {m.group(2)}").find(exp.Table).parts] == [
        "dbo", "a"]  # fmt: skip
    assert check.startswith("ALTER TABLE [Sales].[orders] WITH CHECK CHECK CONSTRAINT")


def _answer(conn, value):
    cur = FakeCursor(conn)
    cur.fetchone = lambda: (value,)
    conn.rollback = lambda: None
    return cur


def test_dbo_maps_to_public_and_back_and_other_schemas_keep_their_name():
    stats = {"a": (1, 9, 9), "sales.a": (1, 9, 9)}
    fk = ForeignKey("a", ("id",), "a", ("id",), "sales", None)
    src = [table("a", "dbo"), table("a", "sales", (fk,))]
    plan = plan_tables(src, stats, "mssql", "postgresql", "s", "t",
                       defaults=("dbo", "public"))  # fmt: skip
    assert {tp.name: tp.target_schema for tp in plan.tables} == {"a": None, "sales.a": "sales"}
    assert live_table(PG, plan.table("a").target).schema == "public"
    assert [(f.table_key, f.ref_key) for f in plan.foreign_keys] == [("sales.a", "a")]
    # and back: PostgreSQL's public lands in dbo, sales stays sales
    back = plan_tables([table("a", "public"), table("a", "sales")], stats, "postgresql", "mssql",
                       "s", "t", defaults=("public", "dbo"))  # fmt: skip
    assert live_table(D, back.table("a").target).schema == "dbo"
    assert live_table(D, back.table("sales.a").target).schema == "sales"
    mapped = plan_tables(src, stats, "mssql", "postgresql", "s", "t", defaults=("dbo", "public"),
                         selection=Selection(schema_map=(("dbo", "core"),)))  # fmt: skip
    assert mapped.table("a").target_schema == "core"


def test_schema_map_values_and_landing_collisions():
    assert parse_schema_map(["sales=archive,dbo=", " hr = people "]) == (
        ("sales", "archive"), ("dbo", ""), ("hr", "people"))  # fmt: skip
    with pytest.raises(ConfigError, match="source=target"):
        parse_schema_map(["sales"])
    sel = Selection(schema_map=(("sales", "public"), ("dbo", "")))
    assert target_schema("sales", sel, "dbo", "public") is None  # the target's default
    assert target_schema(None, sel, "dbo", "public") is None
    assert target_schema("hr", sel, "dbo", "public") == "hr"
    with pytest.raises(ConfigError, match="a and sales.a would both be copied"):
        landing_schemas([table("a", None), table("a", "sales")], sel, ("dbo", "public"), PG)
    sqlite = get_dialect("sqlite")
    with pytest.raises(ConfigError, match="sqlite has no schemas to hold schema"):
        landing_schemas([table("a", "sales")], Selection(), (None, None), sqlite)
